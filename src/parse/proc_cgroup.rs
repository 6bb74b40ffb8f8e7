//! `/proc/<pid>/cgroup`: one `hierarchy-id:controllers:path` line per hierarchy. v1 lists a
//! line per mounted hierarchy (`4:memory:/libpod_parent/libpod-<id>`), named hierarchies carry
//! `name=...` (`1:name=systemd:/...`), and v2 has the single line `0::/path`.

use nom::bytes::complete::take_till;
use nom::character::complete::{char, u32 as decimal_u32};
use nom::combinator::rest;
use nom::Parser;

use super::{parse_line, Lines, ParseError};

/// One line of `/proc/<pid>/cgroup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcCgroupLine<'a> {
    /// The hierarchy id (`0` for the v2 unified hierarchy).
    pub hierarchy_id: u32,
    /// Comma-separated controllers (`cpu,cpuacct`), `name=...` for a named hierarchy, empty
    /// for v2.
    pub controllers: &'a [u8],
    /// The cgroup path as seen from the reader's cgroup namespace. Everything after the second
    /// `:`, so a path that itself holds `:` is kept whole.
    pub path: &'a [u8],
}

impl<'a> ProcCgroupLine<'a> {
    /// The controllers one by one (nothing for v2's empty list).
    pub fn controller_names(&self) -> impl Iterator<Item = &'a [u8]> {
        self.controllers
            .split(|&b| b == b',')
            .filter(|c| !c.is_empty())
    }

    /// True for a named hierarchy such as `name=systemd`, which holds no resource controller.
    pub fn is_named(&self) -> bool {
        self.controller_names().any(|c| c.starts_with(b"name="))
    }

    /// True for the v2 unified hierarchy's line (`0::/path`).
    pub fn is_unified(&self) -> bool {
        self.hierarchy_id == 0 && self.controllers.is_empty()
    }

    /// True when the line lists `controller` (`memory`, `cpuacct`, ...).
    pub fn has_controller(&self, controller: &[u8]) -> bool {
        self.controller_names().any(|c| c == controller)
    }
}

/// Iterates the lines of `/proc/<pid>/cgroup`.
pub fn iter(data: &[u8]) -> ProcCgroup<'_> {
    ProcCgroup {
        lines: Lines::new(data),
    }
}

/// The lines of `/proc/<pid>/cgroup`; see [`iter`].
#[derive(Debug, Clone)]
pub struct ProcCgroup<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for ProcCgroup<'a> {
    type Item = Result<ProcCgroupLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        let fields = (
            decimal_u32,
            char(':'),
            take_till(|b| b == b':'),
            char(':'),
            rest,
        )
            .map(|(hierarchy_id, _, controllers, _, path)| ProcCgroupLine {
                hierarchy_id,
                controllers,
                path,
            });
        Some(
            parse_line(fields, no, line, "`id:controllers:path`").and_then(|l| {
                if l.path.first() == Some(&b'/') {
                    Ok(l)
                } else {
                    Err(ParseError::new(no, "an absolute cgroup path", line))
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &[u8] = b"12:pids:/libpod_parent/libpod-ab\n11:cpuacct:/libpod_parent/libpod-ab\n\
10:cpu,cpuacct:/x\n1:name=systemd:/user.slice\n0::/\n";

    #[test]
    fn v1_lines_with_named_and_unified() {
        let lines: Vec<_> = iter(V1).collect::<Result<_, _>>().unwrap();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].hierarchy_id, 12);
        assert_eq!(lines[0].path, b"/libpod_parent/libpod-ab");
        assert!(lines[2].has_controller(b"cpu") && lines[2].has_controller(b"cpuacct"));
        assert!(lines[3].is_named() && !lines[3].is_unified());
        assert!(lines[4].is_unified() && !lines[4].is_named());
        assert_eq!(lines[4].controller_names().count(), 0);
    }

    #[test]
    fn v2_single_line_and_colons_in_paths() {
        let l = iter(b"0::/machine.slice/libpod-ab.scope/container")
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(l.path, b"/machine.slice/libpod-ab.scope/container");
        let l = iter(b"0::/a:b\n").next().unwrap().unwrap();
        assert_eq!(l.path, b"/a:b");
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(iter(b"0::/\nx::/\n").nth(1).unwrap().unwrap_err().line, 2);
        assert!(iter(b"1:cpu\n").next().unwrap().is_err());
        assert!(iter(b"1:cpu:\n").next().unwrap().is_err());
        assert!(iter(b"1:cpu:relative\n").next().unwrap().is_err());
    }
}
