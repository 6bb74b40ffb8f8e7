//! Parsers for the kernel's text files: cgroupfs, `/proc/<pid>/cgroup`, mountinfo, meminfo,
//! `net/dev`.
//!
//! Each module knows one file family and nothing about paths: it takes the bytes a file held
//! and hands back borrowed values, through iterators or small lookups that do not allocate, so
//! a collector can parse every file of every container on each cycle without touching the heap.
//! Only a failure allocates (the [`ParseError`] keeps an excerpt of the offending line).
//!
//! Every parser is lenient where kernels differ and strict where the bytes are wrong: unknown
//! keys are passed through or skipped, blank lines (including trailing ones) are ignored, a
//! missing final newline is fine, but a line that does not have the family's shape is an
//! error naming its 1-based line number and what was found there.

pub mod blkio;
pub mod flat_keyed;
pub mod json_keys;
pub mod meminfo;
pub mod mountinfo;
pub mod nested_keyed;
pub mod net_dev;
pub mod passwd;
pub mod percpu;
pub mod proc_cgroup;
pub mod proc_stat;
pub mod psi;
pub(crate) mod search;
pub mod single;
pub mod usage_all;

/// How many bytes of the offending line an error keeps.
const EXCERPT_LEN: usize = 64;

/// A file did not have the shape its family promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, found `{found}`")]
pub struct ParseError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What the parser wanted there, e.g. "`key value`".
    pub expected: &'static str,
    /// An excerpt of what was there (lossy UTF-8, control characters escaped, shortened).
    pub found: String,
}

impl ParseError {
    /// An error at `line` (1-based) whose text was `found`.
    pub fn new(line: usize, expected: &'static str, found: &[u8]) -> Self {
        ParseError {
            line,
            expected,
            found: excerpt(found),
        }
    }
}

/// A short, printable rendering of `bytes` for an error message.
fn excerpt(bytes: &[u8]) -> String {
    let bytes = trim_ascii(bytes);
    let cut = bytes.len().min(EXCERPT_LEN);
    let mut out = String::with_capacity(cut + 3);
    for chunk in bytes[..cut].utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > cut {
        out.push('…');
    }
    out
}

/// `bytes` without leading and trailing ASCII whitespace.
pub(crate) fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// The non-blank lines of a file with their 1-based numbers; a missing final newline and
/// trailing blank lines are not errors.
#[derive(Debug, Clone)]
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    line: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Lines {
            rest: data,
            line: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            self.line += 1;
            let (line, rest) = match search::find_byte(b'\n', self.rest) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &self.rest[self.rest.len()..]),
            };
            self.rest = rest;
            if !line.trim_ascii().is_empty() {
                return Some((self.line, line));
            }
        }
    }
}

/// Runs a nom parser over a whole line (surrounding whitespace allowed) and turns any failure,
/// including unconsumed input, into a [`ParseError`] for that line.
pub(crate) fn parse_line<'a, O, P>(
    mut parser: P,
    line_no: usize,
    line: &'a [u8],
    expected: &'static str,
) -> Result<O, ParseError>
where
    P: nom::Parser<&'a [u8], Output = O, Error = nom::error::Error<&'a [u8]>>,
{
    let trimmed = line.trim_ascii();
    match parser.parse(trimmed) {
        Ok((rest, out)) if rest.trim_ascii().is_empty() => Ok(out),
        _ => Err(ParseError::new(line_no, expected, line)),
    }
}

/// Parses an unsigned decimal, as the kernel prints counters.
pub(crate) fn decimal_u64(input: &[u8]) -> nom::IResult<&[u8], u64> {
    nom::character::complete::u64(input)
}

/// Parses a whole token as an unsigned decimal, `None` when it is anything else.
pub(crate) fn token_u64(token: &[u8]) -> Option<u64> {
    match decimal_u64(token) {
        Ok(([], v)) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_count_from_one() {
        let got: Vec<_> = Lines::new(b"a\n\n  \nb\nc").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (4, &b"b"[..]), (5, &b"c"[..])]);
        assert_eq!(Lines::new(b"").count(), 0);
        assert_eq!(Lines::new(b"\n\n").count(), 0);
    }

    #[test]
    fn errors_show_a_short_printable_excerpt() {
        let err = ParseError::new(7, "`key value`", b"total_cache\n");
        assert_eq!(
            err.to_string(),
            "line 7: expected `key value`, found `total_cache`"
        );
        let err = ParseError::new(1, "x", b"a\tb\xff");
        assert_eq!(err.found, "a\\tb\\xff");
        let long = [b'x'; 200];
        assert!(ParseError::new(1, "x", &long).found.ends_with('…'));
    }

    #[test]
    fn token_u64_takes_whole_tokens_only() {
        assert_eq!(token_u64(b"42"), Some(42));
        assert_eq!(token_u64(b"42x"), None);
        assert_eq!(token_u64(b""), None);
        assert_eq!(token_u64(b"-1"), None);
        assert_eq!(token_u64(b"18446744073709551616"), None);
    }
}
