//! The entry names of a directory already open as a descriptor (`getdents64(2)`): std can
//! only list a directory by path, which would resolve the path again, outside the
//! confinement the descriptor was opened with.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Bytes asked for per call: a few hundred entries.
const BUF_LEN: usize = 32 * 1024;

/// Offsets inside a `struct linux_dirent64`: `d_ino` u64, `d_off` i64, `d_reclen` u16,
/// `d_type` u8, then the NUL-terminated name.
const RECLEN_AT: usize = 16;
const NAME_AT: usize = 19;

/// Every entry name of the directory `dir` (opened for reading), without `.` and `..`, in
/// the order the file system gives them.
pub(super) fn names(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let mut buf = vec![0u8; BUF_LEN];
    let mut names = Vec::new();
    loop {
        let filled = getdents64(dir, &mut buf)?;
        if filled == 0 {
            return Ok(names);
        }
        let mut records = buf.get(..filled).unwrap_or(&[]);
        while !records.is_empty() {
            let (name, rest) = record(records)?;
            if name != b"." && name != b".." {
                names.push(OsString::from_vec(name.to_vec()));
            }
            records = rest;
        }
    }
}

/// Bytes asked for per call by [`any`]: a few dozen entries, so that a match among the
/// first entries of a big directory costs the kernel only those.
const SMALL_BUF_LEN: usize = 2 * 1024;

/// True when some entry of the directory `dir` (not `.` or `..`) satisfies `pred`; reads
/// no further than the batch holding the first match.
pub(super) fn any(dir: &OwnedFd, mut pred: impl FnMut(&OsStr) -> bool) -> io::Result<bool> {
    let mut buf = vec![0u8; SMALL_BUF_LEN];
    loop {
        let filled = getdents64(dir, &mut buf)?;
        if filled == 0 {
            return Ok(false);
        }
        let mut records = buf.get(..filled).unwrap_or(&[]);
        while !records.is_empty() {
            let (name, rest) = record(records)?;
            if name != b"." && name != b".." && pred(OsStr::from_bytes(name)) {
                return Ok(true);
            }
            records = rest;
        }
    }
}

/// The name of the first record in `bytes` and the records after it.
fn record(bytes: &[u8]) -> io::Result<(&[u8], &[u8])> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed getdents64 record");
    let reclen = bytes
        .get(RECLEN_AT..RECLEN_AT + 2)
        .map(|b| usize::from(u16::from_ne_bytes([b[0], b[1]])))
        .ok_or_else(bad)?;
    let this = bytes
        .get(..reclen)
        .filter(|r| r.len() > NAME_AT)
        .ok_or_else(bad)?;
    let name_field = &this[NAME_AT..];
    let len = name_field.iter().position(|&b| b == 0).ok_or_else(bad)?;
    Ok((&name_field[..len], &bytes[reclen..]))
}

fn getdents64(dir: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which is valid
        // and exclusively borrowed for the call; `dir` is an open descriptor.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if ret >= 0 {
            return usize::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EIO));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &[u8]) -> Vec<u8> {
        let reclen = (NAME_AT + name.len() + 1).next_multiple_of(8);
        let mut r = vec![0u8; reclen];
        r[RECLEN_AT..RECLEN_AT + 2].copy_from_slice(&u16::try_from(reclen).unwrap().to_ne_bytes());
        r[NAME_AT..NAME_AT + name.len()].copy_from_slice(name);
        r
    }

    #[test]
    fn records_are_split_by_their_length() {
        let mut bytes = rec(b"a");
        bytes.extend(rec(b"longer-name"));
        let (first, rest) = record(&bytes).unwrap();
        assert_eq!(first, b"a");
        let (second, rest) = record(rest).unwrap();
        assert_eq!((second, rest.len()), (&b"longer-name"[..], 0));
    }

    #[test]
    fn a_truncated_record_is_an_error_not_a_panic() {
        let bytes = rec(b"name");
        for cut in 0..bytes.len() {
            let _ = record(&bytes[..cut]);
        }
        let mut zero = rec(b"x");
        zero[RECLEN_AT..RECLEN_AT + 2].copy_from_slice(&0u16.to_ne_bytes());
        assert!(record(&zero).is_err());
    }

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
