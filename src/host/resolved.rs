//! A host path resolved once under its root, for the checks a collector repeats every cycle:
//! the stamp (`stat(2)`), the file-system type (`statfs(2)`) and a link's target
//! (`readlink(2)`). Each is one system call on a C string held from the start: no
//! allocation and no confined resolution again.
//!
//! The path is resolved when it is made, so a symlink inside a snapshot changed later is not
//! followed anew; what it names being removed or made again is what these checks see.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::stamp::{FileStamp, Kind, Raw};

/// A host path resolved under its [`HostRoot`](super::HostRoot), ready for allocation-free
/// system calls ([`HostRoot::resolved`](super::HostRoot::resolved),
/// [`HostRoot::resolved_link`](super::HostRoot::resolved_link)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath(CString);

/// The file systems whose held files answer `ENODEV` once their object is gone, or keep
/// following it: cgroupfs (v1 and v2) and procfs.
const KERNEL_FS_MAGIC: [i64; 3] = [
    0x0027_e0eb, // CGROUP_SUPER_MAGIC
    0x6367_7270, // CGROUP2_SUPER_MAGIC
    0x9fa0,      // PROC_SUPER_MAGIC
];

impl ResolvedPath {
    /// `None` for a path with a NUL byte (no file has one).
    pub(super) fn new(real: &Path) -> Option<Self> {
        CString::new(real.as_os_str().as_bytes())
            .ok()
            .map(ResolvedPath)
    }

    /// The path's stamp now, symlinks followed: as [`HostRoot::stamp`](super::HostRoot::stamp)
    /// gives it. `None` when it cannot be stat'ed.
    pub fn stamp(&self) -> Option<FileStamp> {
        self.stat(Kind::File)
    }

    /// The stamp of the directory's listing now, as
    /// [`HostRoot::listing_stamp`](super::HostRoot::listing_stamp) gives it; `None` when it
    /// is not a directory.
    pub fn listing_stamp(&self) -> Option<FileStamp> {
        self.stat(Kind::Listing)
    }

    #[allow(clippy::unnecessary_cast)] // the field types differ between architectures
    fn stat(&self, kind: Kind) -> Option<FileStamp> {
        let st = rustix::fs::stat(self.0.as_c_str()).ok()?;
        let raw = Raw {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            is_dir: rustix::fs::FileType::from_raw_mode(st.st_mode as _).is_dir(),
            size: u64::try_from(st.st_size as i64).unwrap_or(0),
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
        };
        FileStamp::new(raw, kind)
    }

    /// True when the path is on cgroupfs or procfs, whose held files answer `ENODEV` or keep
    /// following their object (so no identity check is needed); false when it is elsewhere
    /// or cannot be asked.
    pub fn on_kernel_fs(&self) -> bool {
        #[allow(clippy::unnecessary_cast)] // the field type differs between architectures
        rustix::fs::statfs(self.0.as_c_str())
            .is_ok_and(|st| KERNEL_FS_MAGIC.contains(&(st.f_type as i64)))
    }

    /// The target of the symlink the path names, read into `buf`; `None` when it is not a
    /// link or the target does not fit (or is empty).
    pub fn read_link<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let len = buf.len();
        let n = rustix::fs::readlinkat_raw(rustix::fs::CWD, self.0.as_c_str(), &mut *buf).ok()?;
        if n == 0 || n >= len {
            return None;
        }
        buf.get(..n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::HostRoot;

    /// The collector's stamps (`stat(2)` on a resolved path) must equal discovery's
    /// (`statx(2)` through the root), or a cached discovery would never be trusted.
    #[test]
    fn stamps_agree_with_the_roots_and_follow_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/f"), b"one").unwrap();
        std::os::unix::fs::symlink("/d/f", dir.path().join("link")).unwrap();
        for root in [
            HostRoot::new(dir.path()).unwrap(),
            HostRoot::new_walking(dir.path()).unwrap(),
        ] {
            let file = root.resolved("/d/f").unwrap();
            let via_link = root.resolved("/link").unwrap();
            let d = root.resolved("/d").unwrap();
            assert_eq!(file.stamp(), root.stamp("/d/f"));
            assert_eq!(via_link.stamp(), root.stamp("/d/f"));
            assert_eq!(d.stamp(), root.stamp("/d"));
            assert_eq!(d.listing_stamp(), root.listing_stamp("/d"));
            let (f, l) = (file.stamp().unwrap(), d.listing_stamp().unwrap());
            assert_eq!((f.size, d.stamp().unwrap().mtime_ns), (3, 0));
            assert_ne!(l.mtime_ns, 0);
            assert_eq!(file.listing_stamp(), None);
            assert_eq!(root.listing_stamp("/d/f"), None);
            let mut buf = [0u8; 64];
            let link = root.resolved_link("/link").unwrap();
            assert_eq!(link.read_link(&mut buf), Some(&b"/d/f"[..]));
            assert_eq!(file.read_link(&mut buf), None);
            assert!(!file.on_kernel_fs());
        }
        let root = HostRoot::new(dir.path()).unwrap();
        let (file, d) = (root.resolved("/d/f").unwrap(), root.resolved("/d").unwrap());
        let (before, listing) = (file.stamp(), d.listing_stamp());
        std::fs::write(dir.path().join("d/f"), b"two!").unwrap();
        assert_ne!(file.stamp(), before);
        assert_eq!(file.stamp(), root.stamp("/d/f"));
        std::fs::write(dir.path().join("d/new"), b"").unwrap();
        assert_ne!(d.listing_stamp(), listing);
        std::fs::remove_file(dir.path().join("d/f")).unwrap();
        assert_eq!(file.stamp(), None);
        // A target longer than the buffer is refused, not cut.
        let mut small = [0u8; 4];
        let link = root.resolved_link("/link").unwrap();
        assert_eq!(link.read_link(&mut small), None);
    }

    #[test]
    fn procfs_is_a_kernel_file_system() {
        let root = HostRoot::live();
        assert!(root.resolved("/proc/self/stat").unwrap().on_kernel_fs());
        assert!(!root
            .resolved("/proc/does/not/exist")
            .unwrap()
            .on_kernel_fs());
        let own = root.resolved_link("/proc/self/ns/net").unwrap();
        let mut buf = [0u8; 128];
        let target = own.read_link(&mut buf).unwrap();
        assert!(target.starts_with(b"net:["), "{target:?}");
    }
}
