//! The entry names of a directory already open as a descriptor (`getdents64(2)`): std can
//! only list a directory by path, which would resolve the path again, outside the
//! confinement the descriptor was opened with.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use rustix::fs::RawDir;

/// Bytes asked for per call: a few hundred entries.
const BUF_LEN: usize = 32 * 1024;

/// Every entry name of the directory `dir` (opened for reading), without `.` and `..`, in
/// the order the file system gives them.
pub(super) fn names(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    each(dir, BUF_LEN, |name| {
        names.push(OsString::from_vec(name.to_vec()));
        false
    })?;
    Ok(names)
}

/// Bytes asked for per call by [`any`]: a few dozen entries, so that a match among the
/// first entries of a big directory costs the kernel only those.
const SMALL_BUF_LEN: usize = 2 * 1024;

/// True when some entry of the directory `dir` (not `.` or `..`) satisfies `pred`; reads
/// no further than the batch holding the first match.
pub(super) fn any(dir: &OwnedFd, mut pred: impl FnMut(&OsStr) -> bool) -> io::Result<bool> {
    each(dir, SMALL_BUF_LEN, |name| pred(OsStr::from_bytes(name)))
}

/// Calls `f` with each entry name but `.` and `..`, `buf_len` bytes of entries per
/// `getdents64(2)`, until `f` says stop (true, returned) or the directory ends (false).
fn each(dir: &OwnedFd, buf_len: usize, mut f: impl FnMut(&[u8]) -> bool) -> io::Result<bool> {
    let mut buf: Vec<u8> = Vec::with_capacity(buf_len);
    let mut entries = RawDir::new(dir, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            // Nothing was read: the next call asks again.
            Err(e) if e == rustix::io::Errno::INTR => continue,
            Err(e) => return Err(e.into()),
        };
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." && f(name) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_a_directory_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..2000 {
            std::fs::write(dir.path().join(format!("entry-{i:04}")), b"").unwrap();
        }
        let fd = OwnedFd::from(std::fs::File::open(dir.path()).unwrap());
        let mut got = names(&fd).unwrap();
        got.sort();
        let want: Vec<OsString> = (0..2000).map(|i| format!("entry-{i:04}").into()).collect();
        assert_eq!(got, want);
        // `any` stops at the first match and still sees the last entry past many batches.
        let fd = OwnedFd::from(std::fs::File::open(dir.path()).unwrap());
        let mut seen = 0;
        assert!(any(&fd, |_| {
            seen += 1;
            true
        })
        .unwrap());
        assert_eq!(seen, 1);
        for (wanted, found) in [("entry-1999", true), ("entry-2000", false), (".", false)] {
            let fd = OwnedFd::from(std::fs::File::open(dir.path()).unwrap());
            assert_eq!(any(&fd, |n| n == wanted).unwrap(), found, "{wanted}");
        }
    }
}
