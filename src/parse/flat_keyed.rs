//! Flat keyed files, one `key value` pair per line: `cpu.stat`, `memory.stat`, `cpuacct.stat`,
//! `memory.events`, v1 `memory.oom_control`.
//!
//! Keys are passed through as the kernel wrote them, so keys a newer kernel adds (`memory.stat`
//! grew many in 5.x and 6.x; `cpu.stat` has `nr_periods` only with the cpu controller) never
//! fail a parse: the caller picks the keys it knows and a missing one is `None`.

use nom::bytes::complete::take_till1;
use nom::character::complete::space1;
use nom::sequence::separated_pair;

use super::{decimal_u64, parse_line, Lines, ParseError};

const EXPECTED: &str = "`key value`";

/// Iterates the `(key, value)` pairs of a flat keyed file, in file order, without allocating.
pub fn iter(data: &[u8]) -> FlatKeyed<'_> {
    FlatKeyed {
        lines: Lines::new(data),
    }
}

/// The value of `key`, `None` when the file does not have it. The whole file is checked, so a
/// malformed line anywhere is an error.
pub fn get(data: &[u8], key: &[u8]) -> Result<Option<u64>, ParseError> {
    let mut found = None;
    for pair in iter(data) {
        let (k, v) = pair?;
        if k == key && found.is_none() {
            found = Some(v);
        }
    }
    Ok(found)
}

/// Calls `f` with each pair in file order; stops at the first malformed line.
pub fn for_each(data: &[u8], mut f: impl FnMut(&[u8], u64)) -> Result<(), ParseError> {
    for pair in iter(data) {
        let (k, v) = pair?;
        f(k, v);
    }
    Ok(())
}

/// The pairs of a flat keyed file; see [`iter`].
#[derive(Debug, Clone)]
pub struct FlatKeyed<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for FlatKeyed<'a> {
    type Item = Result<(&'a [u8], u64), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        Some(parse_line(
            separated_pair(
                take_till1(|b: u8| b.is_ascii_whitespace()),
                space1,
                decimal_u64,
            ),
            no,
            line,
            EXPECTED,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU_STAT_V2_NO_CPU_CONTROLLER: &[u8] =
        b"usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n";
    const CPU_STAT_V2_6X: &[u8] = b"usage_usec 2000\nuser_usec 1500\nsystem_usec 500\n\
core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 2\nthrottled_usec 3000\n\
nr_bursts 0\nburst_usec 0\n";

    #[test]
    fn cpu_stat_with_and_without_the_cpu_controller() {
        assert_eq!(
            get(CPU_STAT_V2_NO_CPU_CONTROLLER, b"usage_usec"),
            Ok(Some(1234))
        );
        assert_eq!(get(CPU_STAT_V2_NO_CPU_CONTROLLER, b"nr_periods"), Ok(None));
        assert_eq!(get(CPU_STAT_V2_6X, b"nr_throttled"), Ok(Some(2)));
        assert_eq!(get(CPU_STAT_V2_6X, b"burst_usec"), Ok(Some(0)));
    }

    #[test]
    fn oom_control_and_cpuacct_stat() {
        let oom = b"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(get(oom, b"oom_kill"), Ok(Some(3)));
        // Before 4.13 the kernel has no oom_kill line.
        assert_eq!(
            get(b"oom_kill_disable 0\nunder_oom 0\n", b"oom_kill"),
            Ok(None)
        );
        let stat = b"user 120\nsystem 30";
        let pairs: Vec<_> = iter(stat).collect::<Result<_, _>>().unwrap();
        assert_eq!(pairs, vec![(&b"user"[..], 120), (&b"system"[..], 30)]);
    }

    #[test]
    fn blank_trailing_lines_and_tabs() {
        assert_eq!(get(b"a 1\nb\t2\n\n\n", b"b"), Ok(Some(2)));
    }

    #[test]
    fn malformed_lines_name_the_line_and_what_was_found() {
        let data = b"cache 1\nrss 2\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\ntotal_cache\n";
        let err = get(data, b"cache").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 7: expected `key value`, found `total_cache`"
        );
        assert_eq!(get(b"a 1 2\n", b"a").unwrap_err().line, 1);
        assert_eq!(get(b"a -1\n", b"a").unwrap_err().line, 1);
    }

    #[test]
    fn for_each_sees_every_pair() {
        let mut sum = 0;
        for_each(b"a 1\nb 2\n", |_, v| sum += v).unwrap();
        assert_eq!(sum, 3);
    }
}
