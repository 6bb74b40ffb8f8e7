//! Per-cpu lists: `cpuacct.usage_percpu`, `cpuacct.usage_percpu_user`/`_sys`, one line of
//! space-separated counters, one per possible cpu.

use super::{token_u64, ParseError};

/// Iterates the counters in cpu order.
pub fn iter(data: &[u8]) -> PerCpu<'_> {
    PerCpu {
        rest: data,
        line: 1,
        failed: false,
    }
}

/// The counters of a per-cpu list; see [`iter`].
#[derive(Debug, Clone)]
pub struct PerCpu<'a> {
    rest: &'a [u8],
    line: usize,
    failed: bool,
}

impl Iterator for PerCpu<'_> {
    type Item = Result<u64, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let first = self.rest.first()?;
            if *first == b'\n' {
                self.line += 1;
                self.rest = &self.rest[1..];
            } else if first.is_ascii_whitespace() {
                self.rest = &self.rest[1..];
            } else {
                break;
            }
        }
        let end = self
            .rest
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(token_u64(token).ok_or_else(|| {
            self.failed = true;
            ParseError::new(self.line, "an unsigned number", token)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_in_cpu_order() {
        let got: Vec<u64> = iter(b"123 456 0 \n").collect::<Result<_, _>>().unwrap();
        assert_eq!(got, vec![123, 456, 0]);
        assert_eq!(iter(b"").count(), 0);
        assert_eq!(iter(b"7").collect::<Result<Vec<_>, _>>(), Ok(vec![7]));
    }

    #[test]
    fn bad_counter_stops_the_iteration() {
        let got: Vec<_> = iter(b"1 x 3\n").collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_ref().unwrap_err().found, "x");
        assert_eq!(iter(b"1\n\n2 y").nth(2).unwrap().unwrap_err().line, 3);
    }
}
