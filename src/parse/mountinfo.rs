//! `/proc/<pid>/mountinfo`: one mount per line,
//! `id parent maj:min root mount-point mount-options [optional-fields...] - fstype source super-options`.
//!
//! Paths are written with octal escapes for space, tab, newline and backslash (`\040`, `\011`,
//! `\012`, `\134`). Fields stay borrowed and escaped as [`Escaped`]; unescaping happens only
//! when a caller compares or copies one.

use std::path::PathBuf;

use nom::bytes::complete::take_till1;
use nom::character::complete::{char, space1, u32 as decimal_u32};
use nom::sequence::separated_pair;
use nom::Parser;

use super::{parse_line, Lines, ParseError};

const EXPECTED: &str =
    "`id parent maj:min root mount-point options [optional...] - fstype source super-options`";

/// A mountinfo field as written, with the kernel's octal escapes still in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a [u8]);

impl<'a> Escaped<'a> {
    /// The raw bytes, escapes included.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The unescaped bytes one by one (`\NNN` with three octal digits becomes one byte; any
    /// other backslash stays as it is).
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (&first, tail) = rest.split_first()?;
            if first == b'\\' {
                if let Some(byte) = octal3(tail) {
                    rest = &tail[3..];
                    return Some(byte);
                }
            }
            rest = tail;
            Some(first)
        })
    }

    /// True when the unescaped field equals `plain`, without allocating.
    pub fn eq_unescaped(&self, plain: &[u8]) -> bool {
        self.bytes().eq(plain.iter().copied())
    }

    /// True when the unescaped field starts with `prefix`.
    pub fn starts_with_unescaped(&self, prefix: &[u8]) -> bool {
        let mut it = self.bytes();
        prefix.iter().all(|p| it.next() == Some(*p))
    }

    /// Appends the unescaped bytes to `out`.
    pub fn unescape_into(&self, out: &mut Vec<u8>) {
        out.extend(self.bytes());
    }

    /// The unescaped field as a path (allocates; for layout detection, not hot paths).
    pub fn to_path_buf(self) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        let mut v = Vec::with_capacity(self.0.len());
        self.unescape_into(&mut v);
        PathBuf::from(std::ffi::OsString::from_vec(v))
    }
}

/// The byte `\NNN` stands for, when `s` starts with three octal digits that fit a byte.
fn octal3(s: &[u8]) -> Option<u8> {
    let d = s.get(..3)?;
    if !d.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    let v = u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0');
    u8::try_from(v).ok()
}

/// One mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountInfo<'a> {
    /// Unique mount id.
    pub mount_id: u32,
    /// Id of the parent mount.
    pub parent_id: u32,
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// The directory of the file system that forms this mount's root (for a cgroup mount, the
    /// cgroup shown at the mount point; `/` on the host).
    pub root: Escaped<'a>,
    /// Where it is mounted.
    pub mount_point: Escaped<'a>,
    /// Per-mount options (`rw,relatime`).
    pub mount_options: &'a [u8],
    /// Optional fields (`shared:1 master:2`), space-separated, possibly empty.
    pub optional_fields: &'a [u8],
    /// File system type (`cgroup`, `cgroup2`, `fuse.sshfs`).
    pub fs_type: &'a [u8],
    /// Mount source (`cgroup`, `/dev/sda1`, `none`).
    pub source: Escaped<'a>,
    /// Per-superblock options; for cgroup v1 these name the controllers (`rw,cpu,cpuacct`).
    pub super_options: &'a [u8],
}

impl<'a> MountInfo<'a> {
    /// The super options one by one.
    pub fn super_option_names(&self) -> impl Iterator<Item = &'a [u8]> {
        self.super_options
            .split(|&b| b == b',')
            .filter(|o| !o.is_empty())
    }

    /// True when the super options contain `option` exactly.
    pub fn has_super_option(&self, option: &[u8]) -> bool {
        self.super_option_names().any(|o| o == option)
    }
}

/// Iterates the mounts of a mountinfo file.
pub fn iter(data: &[u8]) -> Mounts<'_> {
    Mounts {
        lines: Lines::new(data),
    }
}

/// The mounts of a mountinfo file; see [`iter`].
#[derive(Debug, Clone)]
pub struct Mounts<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Mounts<'a> {
    type Item = Result<MountInfo<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (no, line) = self.lines.next()?;
        Some(parse_mount(no, line))
    }
}

/// Iterates the mounts whose file system is `cgroup` or `cgroup2`, for layout detection:
/// other lines are skipped after a search for their ` - cgroup` separator, without parsing,
/// since on a busy host (every container adds its overlay and shm mounts) mountinfo is tens
/// of KiB of which only a dozen lines matter. A line without the ` - ` separator at all is
/// still parsed, so a file that is not mountinfo is an error as before.
pub fn cgroup_mounts(data: &[u8]) -> impl Iterator<Item = Result<MountInfo<'_>, ParseError>> {
    Lines::new(data).filter_map(move |(no, line)| {
        match find_separator(line) {
            // The first ` - ` is the separator: no field before it can be a lone `-`
            // (paths start with `/` and escape blanks, options and tags have no blank).
            Some(dash) if !line[dash + 2..].starts_with(b"cgroup") => None,
            _ => Some(parse_mount(no, line)),
        }
    })
}

fn field(input: &[u8]) -> nom::IResult<&[u8], &[u8]> {
    take_till1(|b: u8| b == b' ' || b == b'\t').parse(input)
}

fn parse_mount(no: usize, line: &[u8]) -> Result<MountInfo<'_>, ParseError> {
    let err = || ParseError::new(no, EXPECTED, line);
    let trimmed = line.trim_ascii();
    // The optional fields end at a lone `-`; everything before and after has a fixed shape.
    let dash = find_separator(trimmed).ok_or_else(err)?;
    let (head, tail) = (&trimmed[..dash], &trimmed[dash + 1..]);
    let mut fixed = (
        decimal_u32,
        space1,
        decimal_u32,
        space1,
        separated_pair(decimal_u32, char(':'), decimal_u32),
        space1,
        field,
        space1,
        field,
        space1,
        field,
    );
    let (
        optional,
        (mount_id, _, parent_id, _, (major, minor), _, root, _, mount_point, _, mount_options),
    ) = fixed.parse(head).map_err(|_| err())?;
    let (fs_type, source, super_options) = parse_line(
        (field, space1, field, space1, field).map(|(a, _, b, _, c)| (a, b, c)),
        no,
        tail,
        EXPECTED,
    )
    .map_err(|_| err())?;
    Ok(MountInfo {
        mount_id,
        parent_id,
        major,
        minor,
        root: Escaped(root),
        mount_point: Escaped(mount_point),
        mount_options,
        optional_fields: optional.trim_ascii(),
        fs_type,
        source: Escaped(source),
        super_options,
    })
}

/// The index of the ` - ` token that ends the optional fields (a lone `-` between blanks).
fn find_separator(line: &[u8]) -> Option<usize> {
    let blank = |at: Option<usize>| {
        at.and_then(|i| line.get(i))
            .is_some_and(u8::is_ascii_whitespace)
    };
    let mut from = 0;
    while let Some(i) = line
        .get(from..)
        .and_then(|rest| super::search::find_byte(b'-', rest))
    {
        let dash = from + i;
        if blank(dash.checked_sub(1)) && blank(Some(dash + 1)) {
            return Some(dash);
        }
        from = dash + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &[u8] = b"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 master:2 - cgroup cgroup rw,cpu\n\
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n\
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn host_cgroup_mounts() {
        let mounts: Vec<_> = iter(HOST).collect::<Result<_, _>>().unwrap();
        assert_eq!(mounts.len(), 4);
        let cpu = mounts[1];
        assert_eq!(
            (cpu.mount_id, cpu.parent_id, cpu.major, cpu.minor),
            (32, 31, 0, 29)
        );
        assert!(cpu.mount_point.eq_unescaped(b"/sys/fs/cgroup/cpu"));
        assert_eq!(cpu.optional_fields, b"shared:9 master:2");
        assert_eq!(cpu.fs_type, b"cgroup");
        assert!(cpu.has_super_option(b"cpu") && !cpu.has_super_option(b"cpuacct"));
        assert!(mounts[2].has_super_option(b"name=systemd"));
        assert_eq!(mounts[3].fs_type, b"cgroup2");
        assert_eq!(mounts[0].optional_fields, b"");
    }

    #[test]
    fn cgroup_mounts_skip_other_file_systems_but_not_garbage() {
        let text = [
            HOST,
            b"50 31 0:40 / /var/lib/x\\040-\\040cgroup rw - overlay overlay rw\n".as_slice(),
        ]
        .concat();
        let all: Vec<_> = iter(&text).collect::<Result<_, _>>().unwrap();
        let cgroup: Vec<_> = cgroup_mounts(&text).collect::<Result<_, _>>().unwrap();
        let want: Vec<_> = all
            .iter()
            .filter(|m| m.fs_type.starts_with(b"cgroup"))
            .copied()
            .collect();
        assert_eq!((cgroup.len(), cgroup), (3, want));
        let err = cgroup_mounts(b"garbage\n").next().unwrap().unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn octal_escapes_are_unescaped() {
        let line = b"50 1 8:1 /a\\040b /mnt/with\\040space\\011tab\\012nl\\134bs rw - ext4 /dev/sd\\040a rw\n";
        let m = iter(line).next().unwrap().unwrap();
        assert!(m.mount_point.eq_unescaped(b"/mnt/with space\ttab\nnl\\bs"));
        assert!(m.root.eq_unescaped(b"/a b"));
        assert!(m.source.eq_unescaped(b"/dev/sd a"));
        assert_eq!(
            m.mount_point.to_path_buf(),
            PathBuf::from("/mnt/with space\ttab\nnl\\bs")
        );
        assert!(m.mount_point.starts_with_unescaped(b"/mnt/with "));
        // A backslash not followed by three octal digits stays as it is.
        assert!(Escaped(b"a\\9b\\").eq_unescaped(b"a\\9b\\"));
        assert!(Escaped(b"\\777").eq_unescaped(b"\\777"));
    }

    #[test]
    fn dash_inside_a_path_is_not_the_separator() {
        let line = b"60 1 0:50 / /mnt/a-b rw - tmpfs my-tmp rw\n";
        let m = iter(line).next().unwrap().unwrap();
        assert!(m.mount_point.eq_unescaped(b"/mnt/a-b"));
        assert_eq!(m.source.raw(), b"my-tmp");
    }

    #[test]
    fn malformed_lines() {
        let err = iter(b"31 23 0:28 / /x rw - tmpfs tmpfs rw\nbroken line\n")
            .nth(1)
            .unwrap()
            .unwrap_err();
        assert_eq!((err.line, err.found.as_str()), (2, "broken line"));
        assert!(iter(b"31 23 0:28 / /x rw tmpfs tmpfs rw\n")
            .next()
            .unwrap()
            .is_err());
        assert!(iter(b"31 23 0:28 / /x rw - tmpfs tmpfs\n")
            .next()
            .unwrap()
            .is_err());
    }
}
