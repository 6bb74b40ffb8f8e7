//! Nested keyed files: `io.stat`, one device per line as `MAJ:MIN key=value key=value ...`.
//!
//! Values are handed back as bytes because not all of them are counters: with iocost the
//! kernel adds `cost.vrate=135.29`, with iolatency `depth=max`. Callers take the keys they
//! know ([`NestedLine::get_u64`]); unknown keys never fail a parse.

use nom::bytes::complete::take_till;
use nom::character::complete::{char, space0, u32 as decimal_u32};
use nom::sequence::separated_pair;

use super::{parse_line, token_u64, Lines, ParseError};

/// Iterates the device lines of a nested keyed file.
pub fn iter(data: &[u8]) -> NestedKeyed<'_> {
    NestedKeyed {
        lines: Lines::new(data),
    }
}

/// The device lines of a nested keyed file; see [`iter`].
#[derive(Debug, Clone)]
pub struct NestedKeyed<'a> {
    lines: Lines<'a>,
}

/// One device's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestedLine<'a> {
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// 1-based line number, for errors about a value.
    pub line: usize,
    fields: &'a [u8],
}

impl<'a> NestedLine<'a> {
    /// The `key=value` pairs of the line, in order.
    pub fn pairs(&self) -> Pairs<'a> {
        Pairs {
            rest: self.fields,
            line: self.line,
        }
    }

    /// The value of `key` as a counter; `Ok(None)` when the line has no such key, an error when
    /// it has one that is not an unsigned decimal.
    pub fn get_u64(&self, key: &[u8]) -> Result<Option<u64>, ParseError> {
        for pair in self.pairs() {
            let (k, v) = pair?;
            if k == key {
                return token_u64(v)
                    .map(Some)
                    .ok_or_else(|| ParseError::new(self.line, "an unsigned number", v));
            }
        }
        Ok(None)
    }
}

/// The `key=value` pairs of one line; see [`NestedLine::pairs`].
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    rest: &'a [u8],
    line: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.trim_ascii_start();
        if rest.is_empty() {
            self.rest = rest;
            return None;
        }
        let end = rest
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        self.rest = after;
        match token.iter().position(|&b| b == b'=') {
            Some(eq) if eq > 0 => Some(Ok((&token[..eq], &token[eq + 1..]))),
            _ => {
                self.rest = &[];
                Some(Err(ParseError::new(self.line, "`key=value`", token)))
            }
        }
    }
}

impl<'a> Iterator for NestedKeyed<'a> {
    type Item = Result<NestedLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        let device = separated_pair(decimal_u32, char(':'), decimal_u32);
        let parsed = parse_line(
            (device, space0, take_till(|_| false)),
            no,
            line,
            "`MAJ:MIN key=value ...`",
        );
        Some(parsed.and_then(
            |((major, minor), sep, fields): ((u32, u32), &[u8], &[u8])| {
                if !fields.is_empty() && sep.is_empty() {
                    return Err(ParseError::new(no, "`MAJ:MIN key=value ...`", line));
                }
                Ok(NestedLine {
                    major,
                    minor,
                    line: no,
                    fields,
                })
            },
        ))
    }
}

/// Sums the counters named `keys` over all devices: `out[i]` is the sum of `keys[i]`, `None`
/// when no device has that key. Sums saturate rather than wrap.
pub fn sum_keys<const N: usize>(
    data: &[u8],
    keys: [&[u8]; N],
) -> Result<[Option<u64>; N], ParseError> {
    let mut out = [None; N];
    for line in iter(data) {
        let line = line?;
        for pair in line.pairs() {
            let (k, v) = pair?;
            if let Some(i) = keys.iter().position(|want| *want == k) {
                let v = token_u64(v)
                    .ok_or_else(|| ParseError::new(line.line, "an unsigned number", v))?;
                out[i] = Some(out[i].unwrap_or(0u64).saturating_add(v));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IO_STAT: &[u8] = b"254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n\
8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0 cost.vrate=135.29 cost.usage=10 depth=max\n";

    #[test]
    fn sums_over_devices_and_ignores_unknown_keys() {
        let [r, w, ri, wi, missing] =
            sum_keys(IO_STAT, [b"rbytes", b"wbytes", b"rios", b"wios", b"nope"]).unwrap();
        assert_eq!(
            (r, w, ri, wi, missing),
            (Some(4196), Some(8392), Some(4), Some(6), None)
        );
    }

    #[test]
    fn lines_give_device_numbers_and_pairs() {
        let lines: Vec<_> = iter(IO_STAT).collect::<Result<_, _>>().unwrap();
        assert_eq!((lines[1].major, lines[1].minor), (8, 0));
        assert_eq!(lines[1].get_u64(b"wios"), Ok(Some(4)));
        assert!(lines[1].get_u64(b"depth").is_err());
        assert_eq!(lines[0].get_u64(b"cost.usage"), Ok(None));
    }

    #[test]
    fn empty_file_and_device_without_pairs() {
        assert_eq!(sum_keys(b"", [b"rbytes"]), Ok([None]));
        assert_eq!(sum_keys(b"8:0\n", [b"rbytes"]), Ok([None]));
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert_eq!(
            iter(b"8:0 rbytes=1\nsda rbytes=1\n")
                .nth(1)
                .unwrap()
                .unwrap_err()
                .line,
            2
        );
        assert!(sum_keys(b"8:0 rbytes\n", [b"rbytes"]).is_err());
        assert!(sum_keys(b"8:0 rbytes=x\n", [b"rbytes"]).is_err());
        assert!(iter(b"8:0rbytes=1\n").next().unwrap().is_err());
    }
}
