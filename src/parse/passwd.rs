//! `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`, one user per line (passwd(5)).
//!
//! Unlike the kernel's files, a line that is not an entry is skipped, not an error: comments,
//! NIS `+`/`-` lines and malformed lines mean only that this user has no store found.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nom::bytes::complete::take_till;
use nom::character::complete::{char, u32 as decimal_u32};
use nom::IResult;
use nom::Parser;

use super::Lines;

/// One `/etc/passwd` entry, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    /// The user name (never empty).
    pub name: &'a [u8],
    /// The uid.
    pub uid: u32,
    /// The home directory (always absolute: it starts with `/`).
    pub home: &'a [u8],
}

impl<'a> PasswdEntry<'a> {
    /// The home directory as a path.
    pub fn home_path(&self) -> &'a Path {
        Path::new(OsStr::from_bytes(self.home))
    }
}

/// Iterates the entries of an `/etc/passwd` file.
pub fn iter(data: &[u8]) -> impl Iterator<Item = PasswdEntry<'_>> {
    Lines::new(data)
        .map(|(_, line)| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|l| !matches!(l.first(), Some(b'#' | b'+' | b'-')))
        .filter_map(|l| entry(l).ok().map(|(_, e)| e))
        .filter(|e| !e.name.is_empty() && e.home.first() == Some(&b'/'))
}

fn field(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till(|c| c == b':').parse(input)
}

/// The fields up to the home directory; the shell and anything after it are not read.
fn entry(input: &[u8]) -> IResult<&[u8], PasswdEntry<'_>> {
    let (input, (name, _, _pw, _, uid, _, _gid, _, _gecos, _, home)) = (
        field,
        char(':'),
        field,
        char(':'),
        decimal_u32,
        char(':'),
        field,
        char(':'),
        field,
        char(':'),
        field,
    )
        .parse(input)?;
    Ok((input, PasswdEntry { name, uid, home }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        bob:x:1001:1001::/home/bob:/bin/sh\n\
        broken line\n\
        carol:x:notanumber:1:c:/home/carol:/bin/sh\n";

    #[test]
    fn passwd_entries() {
        let users: Vec<_> = iter(PASSWD_TEXT.as_bytes()).collect();
        let names: Vec<_> = users.iter().map(|u| (u.name, u.uid)).collect();
        assert_eq!(
            names,
            [
                (&b"root"[..], 0),
                (&b"alice"[..], 1000),
                (&b"bob"[..], 1001)
            ]
        );
        assert_eq!(users[1].home_path(), Path::new("/home/alice"));
    }

    #[test]
    fn odd_lines_are_skipped() {
        let text = b"+nis::0:0::/x:\n-nis2:x:0:0::/x:\n:x:1:1::/nameless:\n\
            rel:x:2:2::home:\nbig:x:4294967296:0::/h:\nneg:x:-1:0::/h:\n\
            short:x:3\ncrlf:x:5:5::/home/crlf\r\nnoshell:x:6:6::/home/n\n\
            \xffbytes:x:7:7::/home/\xfe:/bin/sh";
        let got: Vec<_> = iter(text).map(|e| (e.name, e.uid, e.home)).collect();
        assert_eq!(
            got,
            [
                (&b"crlf"[..], 5, &b"/home/crlf"[..]),
                (&b"noshell"[..], 6, &b"/home/n"[..]),
                (&b"\xffbytes"[..], 7, &b"/home/\xfe"[..]),
            ]
        );
    }
}
