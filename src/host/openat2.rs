//! `openat2(2)` with `RESOLVE_IN_ROOT`: the kernel resolves a host path under the snapshot
//! root with the same rules as the userland walk (`..` stops at the root, absolute symlink
//! targets start at the root, more than 40 links is `ELOOP`), in one system call instead of
//! one `lstat` per component, and with no window between resolving and opening.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The kernel's `struct open_how` (linux/openat2.h); `libc::open_how` cannot be built
/// outside libc (it is `#[non_exhaustive]`), and the layout is the kernel's ABI.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Confined to the root like a chroot; `/proc/<pid>/fd/*`-style magic links, which could
/// jump anywhere, are refused (`ELOOP`).
const RESOLVE: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;

/// Opens `path` relative to `root` (an absolute path starts at `root`), resolved by the
/// kernel without ever leaving `root`. `flags` are `open(2)` flags; `O_CLOEXEC` is added.
pub(super) fn open_in_root(root: BorrowedFd<'_>, path: &CStr, flags: i32) -> io::Result<OwnedFd> {
    let how = OpenHow {
        // Non-negative flag bits; the kernel wants them as an unsigned 64-bit field.
        flags: u64::from((flags | libc::O_CLOEXEC).cast_unsigned()),
        mode: 0,
        resolve: RESOLVE,
    };
    // SAFETY: `path` is NUL-terminated and `how` is a live `open_how` whose size is passed
    // along, both only read by the kernel for the duration of the call; `root` is an open
    // descriptor borrowed for the call. The call creates no Rust-visible state but the
    // returned descriptor, which is owned exactly once below.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: a non-negative return of openat2 is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
