//! `cpuacct.usage_all`: a `cpu user system` header, then one `cpu user system` row of
//! nanosecond counters per possible cpu.

use nom::bytes::complete::tag;
use nom::character::complete::{space1, u32 as decimal_u32};
use nom::Parser;

use super::{decimal_u64, parse_line, Lines, ParseError};

/// One cpu's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageAllRow {
    /// The cpu number.
    pub cpu: u32,
    /// User time in ns.
    pub user_ns: u64,
    /// System time in ns.
    pub system_ns: u64,
}

/// Iterates the rows; the header line is checked, not yielded.
pub fn iter(data: &[u8]) -> UsageAll<'_> {
    UsageAll {
        lines: Lines::new(data),
        header_seen: false,
    }
}

/// The rows of `cpuacct.usage_all`; see [`iter`].
#[derive(Debug, Clone)]
pub struct UsageAll<'a> {
    lines: Lines<'a>,
    header_seen: bool,
}

impl Iterator for UsageAll<'_> {
    type Item = Result<UsageAllRow, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        if !self.header_seen {
            self.header_seen = true;
            let header = (
                tag(&b"cpu"[..]),
                space1,
                tag(&b"user"[..]),
                space1,
                tag(&b"system"[..]),
            );
            if let Err(e) = parse_line(header, no, line, "the header `cpu user system`") {
                return Some(Err(e));
            }
            let (no, line) = self.lines.next()?;
            return Some(row(no, line));
        }
        Some(row(no, line))
    }
}

fn row(no: usize, line: &[u8]) -> Result<UsageAllRow, ParseError> {
    parse_line(
        (decimal_u32, space1, decimal_u64, space1, decimal_u64).map(
            |(cpu, _, user_ns, _, system_ns)| UsageAllRow {
                cpu,
                user_ns,
                system_ns,
            },
        ),
        no,
        line,
        "`cpu user system`",
    )
}

/// User and system ns summed over all cpus.
pub fn totals(data: &[u8]) -> Result<(u64, u64), ParseError> {
    let (mut user, mut system) = (0u64, 0u64);
    for r in iter(data) {
        let r = r?;
        user = user.saturating_add(r.user_ns);
        system = system.saturating_add(r.system_ns);
    }
    Ok((user, system))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_after_the_header() {
        let data = b"cpu user system\n0 100 20\n1 300 40\n";
        let rows: Vec<_> = iter(data).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            rows[1],
            UsageAllRow {
                cpu: 1,
                user_ns: 300,
                system_ns: 40
            }
        );
        assert_eq!(totals(data), Ok((400, 60)));
        assert_eq!(totals(b"cpu user system\n"), Ok((0, 0)));
    }

    #[test]
    fn header_and_rows_are_checked() {
        assert_eq!(totals(b"0 1 2\n").unwrap_err().line, 1);
        let err = totals(b"cpu user system\n0 1 2\n1 2\n").unwrap_err();
        assert_eq!((err.line, err.found.as_str()), (3, "1 2"));
    }
}
