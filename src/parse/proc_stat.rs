//! `/proc/<pid>/stat`: `pid (comm) state ppid pgrp ...` on one line. Only the parent pid is
//! read (to tell a container's process from a stranger that reused its pid). `comm` may hold
//! spaces and parentheses, so the fields start after the *last* `)`.

use nom::bytes::complete::take_while1;
use nom::character::complete::{space1, u32 as decimal_u32};
use nom::combinator::rest;
use nom::Parser;

use super::{parse_line, ParseError};

/// The parent pid (the fourth field) of a `/proc/<pid>/stat` text.
pub fn parent_pid(data: &[u8]) -> Result<u32, ParseError> {
    const EXPECTED: &str = "`pid (comm) state ppid ...`";
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let Some(close) = line.iter().rposition(|&b| b == b')') else {
        return Err(ParseError::new(1, EXPECTED, line));
    };
    let after_comm = &line[close + 1..];
    // `parse_line` trims the space after `)`.
    let fields = (
        take_while1(|b: u8| b.is_ascii_alphabetic()),
        space1,
        decimal_u32,
        rest,
    )
        .map(|(_, _, ppid, _)| ppid);
    parse_line(fields, 1, after_comm, EXPECTED).map_err(|_| ParseError::new(1, EXPECTED, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parent_after_the_last_parenthesis() {
        let text = b"15973 (sleep) S 15963 15973 15973 0 -1 4194560 98 0 0 0 0 0 0 0 20 0 1 0\n";
        assert_eq!(parent_pid(text), Ok(15963));
        let odd = b"42 (a) b (c)) R 7 42 42 0 -1\n";
        assert_eq!(parent_pid(odd), Ok(7));
    }

    #[test]
    fn refuses_what_is_not_a_stat_line() {
        for bad in [
            &b""[..],
            b"42 sleep S 1",
            b"42 (x)",
            b"42 (x) S notanumber",
            b"42 (x) 7",
        ] {
            let err = parent_pid(bad).unwrap_err();
            assert_eq!(err.line, 1, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data: Vec<u8>) {
            let _ = parent_pid(&data);
        }

        #[test]
        fn round_trips(pid: u32, ppid: u32, comm in "[ -~]{0,16}", state in "[A-Za-z]") {
            let text = format!("{pid} ({comm}) {state} {ppid} 1 1 0 -1\n");
            proptest::prop_assert_eq!(parent_pid(text.as_bytes()), Ok(ppid));
        }
    }
}
