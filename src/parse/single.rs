//! Files that hold one value: `memory.current`, `cpuacct.usage`, `pids.current`, and the
//! limits `memory.max` / `pids.max` that may say `max` instead of a number; the CPU quota
//! files, v2 `cpu.max` (`$MAX $PERIOD`) and v1 `cpu.cfs_quota_us` (`-1` for none).

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::space1;
use nom::combinator::{map, value};
use nom::sequence::separated_pair;

use super::{decimal_u64, parse_line, Lines, ParseError};
use crate::cgroup::stats::Limit;

/// Parses a file holding one unsigned decimal (surrounding whitespace and blank lines allowed).
pub fn u64(data: &[u8]) -> Result<u64, ParseError> {
    only_line(data, "a number").and_then(|(no, line)| parse_line(decimal_u64, no, line, "a number"))
}

/// Parses a file holding a number or the word `max` (v2 limits, v1 `pids.max`).
pub fn limit(data: &[u8]) -> Result<Limit, ParseError> {
    const EXPECTED: &str = "a number or `max`";
    only_line(data, EXPECTED).and_then(|(no, line)| {
        parse_line(
            alt((
                value(Limit::Max, tag(&b"max"[..])),
                map(decimal_u64, Limit::Value),
            )),
            no,
            line,
            EXPECTED,
        )
    })
}

/// Parses a v1 limit such as `memory.limit_in_bytes`, where "unlimited" is written as a huge
/// number: the kernel's `PAGE_COUNTER_MAX` rounded down to whole pages
/// (9223372036854771712 with 4 KiB pages, less with larger pages). Any value at or above
/// `unlimited_from` is taken as [`Limit::Max`]; `max` is accepted too.
pub fn limit_v1(data: &[u8], unlimited_from: u64) -> Result<Limit, ParseError> {
    Ok(match limit(data)? {
        Limit::Value(v) if v >= unlimited_from => Limit::Max,
        other => other,
    })
}

/// Parses v2 `cpu.max`: the quota (`max` or microseconds) and the period in microseconds.
pub fn cpu_max(data: &[u8]) -> Result<(Limit, u64), ParseError> {
    const EXPECTED: &str = "`max PERIOD` or `QUOTA PERIOD`";
    only_line(data, EXPECTED).and_then(|(no, line)| {
        parse_line(
            separated_pair(
                alt((
                    value(Limit::Max, tag(&b"max"[..])),
                    map(decimal_u64, Limit::Value),
                )),
                space1,
                decimal_u64,
            ),
            no,
            line,
            EXPECTED,
        )
    })
}

/// Parses v1 `cpu.cfs_quota_us`: microseconds per period, or `-1` for no quota.
pub fn cfs_quota(data: &[u8]) -> Result<Limit, ParseError> {
    const EXPECTED: &str = "a number or `-1`";
    only_line(data, EXPECTED).and_then(|(no, line)| {
        parse_line(
            alt((
                value(Limit::Max, tag(&b"-1"[..])),
                map(decimal_u64, Limit::Value),
            )),
            no,
            line,
            EXPECTED,
        )
    })
}

/// The one non-blank line of `data`, or an error naming the first extra line or the empty file.
fn only_line<'a>(data: &'a [u8], expected: &'static str) -> Result<(usize, &'a [u8]), ParseError> {
    let mut lines = Lines::new(data);
    let first = lines
        .next()
        .ok_or_else(|| ParseError::new(1, expected, b"an empty file"))?;
    if let Some((no, extra)) = lines.next() {
        return Err(ParseError::new(no, "end of file", extra));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_and_without_newline() {
        assert_eq!(u64(b"123\n"), Ok(123));
        assert_eq!(u64(b"0"), Ok(0));
        assert_eq!(u64(b"  42  \n\n"), Ok(42));
        assert_eq!(u64(b"18446744073709551615\n"), Ok(u64::MAX));
    }

    #[test]
    fn bad_numbers_name_the_line() {
        let err = u64(b"12ab\n").unwrap_err();
        assert_eq!(err.to_string(), "line 1: expected a number, found `12ab`");
        assert_eq!(u64(b"").unwrap_err().line, 1);
        assert_eq!(u64(b"1\n2\n").unwrap_err().line, 2);
        assert!(u64(b"18446744073709551616").is_err());
        assert!(u64(b"-1").is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(b"max\n"), Ok(Limit::Max));
        assert_eq!(limit(b"1073741824\n"), Ok(Limit::Value(1 << 30)));
        assert!(limit(b"maximum\n").is_err());
        assert!(limit(b"\n").is_err());
    }

    #[test]
    fn cpu_quotas() {
        assert_eq!(cpu_max(b"max 100000\n"), Ok((Limit::Max, 100_000)));
        assert_eq!(
            cpu_max(b"20000 100000\n"),
            Ok((Limit::Value(20_000), 100_000))
        );
        assert!(cpu_max(b"20000\n").is_err());
        assert!(cpu_max(b"max max\n").is_err());
        assert_eq!(cfs_quota(b"-1\n"), Ok(Limit::Max));
        assert_eq!(cfs_quota(b"20000\n"), Ok(Limit::Value(20_000)));
        assert!(cfs_quota(b"-2\n").is_err());
        assert!(cfs_quota(b"\n").is_err());
    }

    #[test]
    fn v1_limits_treat_page_counter_max_as_unlimited() {
        let from = 1 << 62;
        assert_eq!(limit_v1(b"9223372036854771712\n", from), Ok(Limit::Max));
        assert_eq!(limit_v1(b"9223372036854710272\n", from), Ok(Limit::Max));
        assert_eq!(limit_v1(b"268435456\n", from), Ok(Limit::Value(268435456)));
        assert_eq!(limit_v1(b"max\n", from), Ok(Limit::Max));
    }
}
