//! `openat2(2)` with `RESOLVE_IN_ROOT`: the kernel resolves a host path under the snapshot
//! root with the same rules as the userland walk (`..` stops at the root, absolute symlink
//! targets start at the root, more than 40 links is `ELOOP`), in one system call instead of
//! one `lstat` per component, and with no window between resolving and opening.

use std::ffi::CStr;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags, ResolveFlags};

/// Confined to the root like a chroot; `/proc/<pid>/fd/*`-style magic links, which could
/// jump anywhere, are refused (`ELOOP`).
const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// Opens `path` relative to `root` (an absolute path starts at `root`), resolved by the
/// kernel without ever leaving `root`. `flags` are `open(2)` flags; `O_CLOEXEC` is added.
pub(super) fn open_in_root(root: BorrowedFd<'_>, path: &CStr, flags: i32) -> io::Result<OwnedFd> {
    let flags = OFlags::from_bits_retain(flags.cast_unsigned()) | OFlags::CLOEXEC;
    Ok(rustix::fs::openat2(
        root,
        path,
        flags,
        Mode::empty(),
        RESOLVE,
    )?)
}

/// True when the error says openat2 itself is not available here (a kernel before 5.6,
/// a seccomp filter that refuses it, a kernel that does not know the flags), so the
/// caller should resolve in userland instead.
pub(super) fn unsupported(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::E2BIG)
    )
}
