//! `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`, one user per line.

use std::path::PathBuf;

use nom::bytes::complete::take_till;
use nom::character::complete::{char, digit1};
use nom::combinator::map_res;
use nom::IResult;
use nom::Parser;

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// The user name.
    pub name: String,
    /// The uid.
    pub uid: u32,
    /// The home directory.
    pub home: PathBuf,
}

fn field(input: &str) -> IResult<&str, &str> {
    take_till(|c| c == ':').parse(input)
}

fn passwd_line(input: &str) -> IResult<&str, PasswdEntry> {
    let (input, (name, _, _pw, _, uid, _, _gid, _, _gecos, _, home)) = (
        field,
        char(':'),
        field,
        char(':'),
        map_res(digit1, str::parse::<u32>),
        char(':'),
        field,
        char(':'),
        field,
        char(':'),
        field,
    )
        .parse(input)?;
    Ok((
        input,
        PasswdEntry {
            name: name.to_string(),
            uid,
            home: PathBuf::from(home),
        },
    ))
}

/// The entries of an `/etc/passwd` text; comments, NIS `+`/`-` lines and malformed lines
/// are skipped (a user we cannot parse simply has no store found).
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
        .filter_map(|l| passwd_line(l).ok().map(|(_, e)| e))
        .filter(|e| !e.name.is_empty() && e.home.is_absolute())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    pub(crate) const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        bob:x:1001:1001::/home/bob:/bin/sh\n\
        broken line\n\
        carol:x:notanumber:1:c:/home/carol:/bin/sh\n";

    #[test]
    fn passwd_entries() {
        let users = parse_passwd(PASSWD_TEXT);
        let names: Vec<_> = users.iter().map(|u| (u.name.as_str(), u.uid)).collect();
        assert_eq!(names, [("root", 0), ("alice", 1000), ("bob", 1001)]);
        assert_eq!(users[1].home, Path::new("/home/alice"));
    }
}
