//! v1 blkio files (`blkio.throttle.io_service_bytes[_recursive]`, `..._io_serviced`): lines
//! `MAJ:MIN Op value` per device and operation, then a `Total value` line.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1};
use nom::character::complete::{char, space1, u32 as decimal_u32};
use nom::combinator::map;
use nom::sequence::{preceded, separated_pair};

use super::{decimal_u64, parse_line, Lines, ParseError};

const EXPECTED: &str = "`MAJ:MIN Op value` or `Total value`";

/// One line of a blkio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlkioLine<'a> {
    /// A per-device counter.
    Device {
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
        /// The operation as written: `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`.
        op: &'a [u8],
        /// The counter.
        value: u64,
    },
    /// The file's closing `Total value` line.
    Total(u64),
}

/// Iterates the lines of a blkio file.
pub fn iter(data: &[u8]) -> Blkio<'_> {
    Blkio {
        lines: Lines::new(data),
    }
}

/// The lines of a blkio file; see [`iter`].
#[derive(Debug, Clone)]
pub struct Blkio<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Blkio<'a> {
    type Item = Result<BlkioLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        let total = map(
            preceded((tag(&b"Total"[..]), space1), decimal_u64),
            BlkioLine::Total,
        );
        let device = map(
            (
                separated_pair(decimal_u32, char(':'), decimal_u32),
                space1,
                take_till1(|b: u8| b.is_ascii_whitespace()),
                space1,
                decimal_u64,
            ),
            |((major, minor), _, op, _, value)| BlkioLine::Device {
                major,
                minor,
                op,
                value,
            },
        );
        Some(parse_line(alt((total, device)), no, line, EXPECTED))
    }
}

/// Sums the per-device `Read` and `Write` counters (case-insensitive, as podman does); the
/// per-device and file `Total` lines are skipped. A file with no device lines gives zeros:
/// the kernel writes only `Total 0` when nothing was done.
pub fn sum_read_write(data: &[u8]) -> Result<(u64, u64), ParseError> {
    let (mut read, mut write) = (0u64, 0u64);
    for line in iter(data) {
        if let BlkioLine::Device { op, value, .. } = line? {
            if op.eq_ignore_ascii_case(b"read") {
                read = read.saturating_add(value);
            } else if op.eq_ignore_ascii_case(b"write") {
                write = write.saturating_add(value);
            }
        }
    }
    Ok((read, write))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE_BYTES: &[u8] = b"8:16 Read 4096\n8:16 Write 1024\n8:16 Sync 5120\n\
8:16 Async 0\n8:16 Discard 0\n8:16 Total 5120\n8:0 Read 10\n8:0 Write 20\n8:0 Total 30\n\
Total 5150\n";

    #[test]
    fn sums_read_and_write_skipping_totals() {
        assert_eq!(sum_read_write(SERVICE_BYTES), Ok((4106, 1044)));
        assert_eq!(sum_read_write(b"Total 0\n"), Ok((0, 0)));
        assert_eq!(sum_read_write(b""), Ok((0, 0)));
    }

    #[test]
    fn lines_in_order() {
        let lines: Vec<_> = iter(b"8:0 Read 1\nTotal 1")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            lines,
            vec![
                BlkioLine::Device {
                    major: 8,
                    minor: 0,
                    op: b"Read",
                    value: 1
                },
                BlkioLine::Total(1)
            ]
        );
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = sum_read_write(b"8:0 Read 1\n8:0 Read\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.found, "8:0 Read");
        assert!(sum_read_write(b"Total\n").is_err());
        assert!(sum_read_write(b"8:0 Read 1 2\n").is_err());
    }
}
