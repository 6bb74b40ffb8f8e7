//! `/proc/meminfo`: `Key:   N kB` lines (values in KiB), and a few counters with no unit
//! (`HugePages_Total:       0`).

use nom::bytes::complete::{tag, take_till1};
use nom::character::complete::{char, space0, space1};
use nom::combinator::opt;
use nom::sequence::preceded;

use super::{decimal_u64, parse_line, Lines, ParseError};

const EXPECTED: &str = "`Key: N [kB]`";

/// One meminfo entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeminfoLine<'a> {
    /// The key without its colon (`MemTotal`, `Active(anon)`).
    pub key: &'a [u8],
    /// The value: bytes for `kB` lines, the bare count for lines without a unit.
    pub value: u64,
    /// True when the line had the `kB` unit (the value was multiplied by 1024).
    pub in_bytes: bool,
}

/// Iterates the entries of a meminfo file.
pub fn iter(data: &[u8]) -> Meminfo<'_> {
    Meminfo {
        lines: Lines::new(data),
    }
}

/// The entries of a meminfo file; see [`iter`].
#[derive(Debug, Clone)]
pub struct Meminfo<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Meminfo<'a> {
    type Item = Result<MeminfoLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        let entry = (
            take_till1(|b: u8| b == b':' || b.is_ascii_whitespace()),
            char(':'),
            space0,
            decimal_u64,
            opt(preceded(space1, tag(&b"kB"[..]))),
        );
        Some(
            parse_line(entry, no, line, EXPECTED).and_then(|(key, _, _, n, unit)| {
                let (value, in_bytes) = match unit {
                    Some(_) => (
                        n.checked_mul(1024)
                            .ok_or_else(|| ParseError::new(no, "a size below 2^64 bytes", line))?,
                        true,
                    ),
                    None => (n, false),
                };
                Ok(MeminfoLine {
                    key,
                    value,
                    in_bytes,
                })
            }),
        )
    }
}

/// The value of `key` (bytes for `kB` lines), `None` when the file lacks it.
pub fn get(data: &[u8], key: &[u8]) -> Result<Option<u64>, ParseError> {
    for entry in iter(data) {
        let entry = entry?;
        if entry.key == key {
            return Ok(Some(entry.value));
        }
    }
    Ok(None)
}

/// `MemTotal` in bytes: what podman clamps an unlimited memory limit to.
pub fn mem_total_bytes(data: &[u8]) -> Result<Option<u64>, ParseError> {
    get(data, b"MemTotal")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &[u8] = b"MemTotal:        2030100 kB\nMemFree:          123456 kB\n\
Active(anon):      1000 kB\nHugePages_Total:       0\nHugePages_Free:        0\n\
Hugepagesize:       2048 kB\n";

    #[test]
    fn kilobytes_become_bytes() {
        assert_eq!(mem_total_bytes(MEMINFO), Ok(Some(2030100 * 1024)));
        assert_eq!(get(MEMINFO, b"Active(anon)"), Ok(Some(1000 * 1024)));
        assert_eq!(get(MEMINFO, b"Hugepagesize"), Ok(Some(2048 * 1024)));
    }

    #[test]
    fn lines_without_unit_are_counts() {
        let e = iter(MEMINFO).nth(3).unwrap().unwrap();
        assert_eq!(
            (e.key, e.value, e.in_bytes),
            (&b"HugePages_Total"[..], 0, false)
        );
        assert_eq!(get(MEMINFO, b"Nope"), Ok(None));
        assert_eq!(mem_total_bytes(b""), Ok(None));
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(
            get(b"MemTotal: 1 kB\nMemFree 2 kB\n", b"x")
                .unwrap_err()
                .line,
            2
        );
        assert!(get(b"MemTotal: 1 MB\n", b"x").is_err());
        assert!(get(b"MemTotal: 18446744073709551615 kB\n", b"MemTotal").is_err());
    }
}
