//! Pressure stall information (`cpu.pressure`, `memory.pressure`, `io.pressure`):
//! `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and, except for cpu before 5.13, a
//! `full ...` line of the same shape.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1};
use nom::character::complete::space1;
use nom::combinator::{map_opt, value};
use nom::sequence::preceded;
use nom::Parser;

use super::{decimal_u64, parse_line, Lines, ParseError};
use crate::cgroup::stats::{Psi, PsiLine};

const EXPECTED: &str = "`some|full avg10=N avg60=N avg300=N total=N`";

/// Which line of a PSI file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Some,
    Full,
}

/// Parses a whole PSI file. The `some` line is required; `full` is optional; other line
/// kinds a later kernel might add are skipped.
pub fn parse(data: &[u8]) -> Result<Psi, ParseError> {
    let mut some = None;
    let mut full = None;
    for (no, line) in Lines::new(data) {
        let word = line
            .trim_ascii_start()
            .split(|b| b.is_ascii_whitespace())
            .next()
            .unwrap_or_default();
        if word != b"some" && word != b"full" {
            // A line kind a later kernel may add: skipped if it looks like one.
            if !word.is_empty() && word.iter().all(u8::is_ascii_lowercase) {
                continue;
            }
            return Err(ParseError::new(no, EXPECTED, line));
        }
        let (kind, psi) = parse_line(psi_line, no, line, EXPECTED)?;
        match kind {
            Kind::Some => some = Some(psi),
            Kind::Full => full = Some(psi),
        }
    }
    let some = some.ok_or_else(|| ParseError::new(1, "a `some` line", data))?;
    Ok(Psi { some, full })
}

fn psi_line(input: &[u8]) -> nom::IResult<&[u8], (Kind, PsiLine)> {
    let kind = alt((
        value(Kind::Some, tag(&b"some"[..])),
        value(Kind::Full, tag(&b"full"[..])),
    ));
    (
        kind,
        preceded((space1, tag(&b"avg10="[..])), ratio),
        preceded((space1, tag(&b"avg60="[..])), ratio),
        preceded((space1, tag(&b"avg300="[..])), ratio),
        preceded((space1, tag(&b"total="[..])), decimal_u64),
    )
        .map(|(kind, avg10, avg60, avg300, total_us)| {
            (
                kind,
                PsiLine {
                    avg10,
                    avg60,
                    avg300,
                    total_us,
                },
            )
        })
        .parse(input)
}

/// A percentage such as `12.34`: digits with an optional fraction, no sign or exponent.
fn ratio(input: &[u8]) -> nom::IResult<&[u8], f64> {
    map_opt(take_till1(|b: u8| b.is_ascii_whitespace()), |t: &[u8]| {
        let plain = t.first().is_some_and(u8::is_ascii_digit)
            && t.iter().all(|b| b.is_ascii_digit() || *b == b'.');
        if !plain {
            return None;
        }
        std::str::from_utf8(t).ok()?.parse::<f64>().ok()
    })
    .parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_and_full() {
        let data = b"some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n\
full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n";
        let psi = parse(data).unwrap();
        assert_eq!(psi.some.avg10, 1.5);
        assert_eq!(psi.some.avg60, 0.25);
        assert_eq!(psi.some.total_us, 123456);
        assert_eq!(psi.full.unwrap().total_us, 42);
    }

    #[test]
    fn cpu_before_5_13_has_no_full_line() {
        let psi = parse(b"some avg10=0.00 avg60=0.00 avg300=0.00 total=0").unwrap();
        assert_eq!(psi.full, None);
    }

    #[test]
    fn malformed_files() {
        assert_eq!(parse(b"").unwrap_err().line, 1);
        let err = parse(b"some avg10=0.00 avg60=x avg300=0.00 total=0\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(parse(b"some avg10=0.00\n").is_err());
        assert!(parse(b"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").is_err());
        assert!(parse(b"some avg10=1e5 avg60=0.00 avg300=0.00 total=0\n").is_err());
        assert!(parse(b"12 x\n").is_err());
        assert!(parse(b"some\tavg10=0.00 avg60=0.00 avg300=0.00 total=0\n").is_ok());
        let later = b"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nnewkind x=1\n";
        assert_eq!(parse(later).unwrap().some.total_us, 1);
    }
}
