//! Real cgroups on this machine's cgroupfs, read through a synthesized host.
//!
//! [`LiveHost::create`] makes `lpstest-<tag>-<pid>/libpod-<id>` cgroups (no processes) in the
//! v1 `cpu`, `cpuacct`, `memory`, `pids` and `blkio` hierarchies and in `unified`, builds a
//! snapshot whose libpod state and `/proc/<pid>/cgroup` files name exactly those cgroups,
//! and bind-mounts the real `/sys/fs/cgroup` over the snapshot's, in a mount namespace of
//! this thread only (`unshare(CLONE_NEWNS)`, every mount private), so nothing outside the
//! process sees it. The collector reading that root discovers the synthetic state and reads
//! the real kernel files. Dropping it (also on panic) unmounts, removes the cgroups, and
//! only then removes the snapshot: a snapshot still mounted over cgroupfs is left behind
//! rather than walked by `remove_dir_all`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use libpod_stats::HostRoot;
use libpod_stats_testing::{Built, ContainerSpec, HostBuilder, Layout};

/// The hierarchies the cgroups are made in (this machine's hybrid layout).
pub const HIERARCHIES: &[&str] = &["cpu", "cpuacct", "memory", "pids", "blkio", "unified"];

/// Real cgroups behind a synthesized snapshot; see the module docs.
pub struct LiveHost {
    root: HostRoot,
    built: Built,
    /// Cgroup directories made, parents first (removed in reverse).
    made: Vec<PathBuf>,
    /// The bind mount's target, while mounted.
    mount: Option<PathBuf>,
    /// The snapshot directory; taken (and so removed) only once unmounted.
    dir: Option<tempfile::TempDir>,
}

fn cstr(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_bytes()).map_err(|e| e.to_string())
}

fn errno() -> String {
    std::io::Error::last_os_error().to_string()
}

/// Moves this thread into a mount namespace of its own whose mounts do not propagate, so
/// the bind mounts that follow are seen by this thread only and vanish with it.
pub fn enter_private_mount_namespace() -> Result<(), String> {
    let root = cstr(Path::new("/"))?;
    // SAFETY: plain syscalls with a valid NUL-terminated path; they change only this
    // thread's mount namespace (a fresh one, then private).
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(format!("unshare(CLONE_NEWNS): {}", errno()));
        }
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(format!("making mounts private: {}", errno()));
        }
    }
    Ok(())
}

/// Bind-mounts `source` (with what is mounted below it) over `target`, in the thread's
/// private namespace ([`enter_private_mount_namespace`] first).
pub fn bind_mount(source: &Path, target: &Path) -> Result<(), String> {
    let (source_c, target_c) = (cstr(source)?, cstr(target)?);
    // SAFETY: valid NUL-terminated paths; only this thread's private namespace changes.
    let rc = unsafe {
        libc::mount(
            source_c.as_ptr(),
            target_c.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "bind-mounting {} over {}: {}",
            source.display(),
            target.display(),
            errno()
        ));
    }
    Ok(())
}

impl LiveHost {
    /// `n` running containers whose cgroups are real. `Err` (a note) when this process
    /// cannot make cgroups or mounts (not root, cgroupfs read-only, another layout).
    pub fn create(tag: &str, n: usize) -> Result<LiveHost, String> {
        for h in HIERARCHIES {
            let dir = Path::new("/sys/fs/cgroup").join(h);
            if !dir.join("cgroup.procs").exists() {
                return Err(format!("{} is not a cgroup hierarchy here", dir.display()));
            }
        }
        let parent = format!("lpstest-{tag}-{}", std::process::id());
        let mut builder = HostBuilder::new().layout(Layout::Hybrid);
        for i in 0..n {
            builder = builder.container(
                ContainerSpec::new(&format!("{tag}-{i:05}")).cgroup_parent(&format!("/{parent}")),
            );
        }
        let tmp = tempfile::Builder::new()
            .prefix("lpstest-live-")
            .tempdir_in(shm_or_tmp())
            .map_err(|e| format!("tempdir: {e}"))?;
        let built = builder
            .build(tmp.path())
            .map_err(|e| format!("building the snapshot: {e}"))?;
        let snapshot_dir = tmp.path().to_path_buf();
        let mut live = LiveHost {
            root: HostRoot::new(tmp.path()).map_err(|e| e.to_string())?,
            built,
            made: Vec::new(),
            mount: None,
            dir: Some(tmp),
        };
        for h in HIERARCHIES {
            let base = Path::new("/sys/fs/cgroup").join(h);
            live.mkdir(base.join(&parent))?;
            let cgroups: Vec<String> = live
                .built
                .containers
                .iter()
                .filter_map(|c| c.cgroup.clone())
                .collect();
            for cg in cgroups {
                live.mkdir(base.join(cg.trim_start_matches('/')))?;
            }
        }
        live.mount_cgroupfs()?;
        // Made again now: a snapshot root holds its directory open from construction and
        // resolves in the mount namespace it was opened in (the one without the bind mount).
        live.root = HostRoot::new(&snapshot_dir).map_err(|e| e.to_string())?;
        Ok(live)
    }

    fn mkdir(&mut self, dir: PathBuf) -> Result<(), String> {
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        self.made.push(dir);
        Ok(())
    }

    fn mount_cgroupfs(&mut self) -> Result<(), String> {
        let target = self
            .dir
            .as_ref()
            .map(|d| d.path().join("sys/fs/cgroup"))
            .ok_or("no snapshot")?;
        enter_private_mount_namespace()?;
        bind_mount(Path::new("/sys/fs/cgroup"), &target)?;
        self.mount = Some(target);
        Ok(())
    }

    /// The snapshot root (real cgroupfs under `sys/fs/cgroup`).
    pub fn root(&self) -> &HostRoot {
        &self.root
    }

    /// What was built (containers, their cgroups).
    pub fn built(&self) -> &Built {
        &self.built
    }

    /// The real directory of container `i`'s cgroup in hierarchy `h`.
    pub fn cgroup_dir(&self, h: &str, i: usize) -> Option<PathBuf> {
        let cg = self.built.containers.get(i)?.cgroup.as_deref()?;
        Some(
            Path::new("/sys/fs/cgroup")
                .join(h)
                .join(cg.trim_start_matches('/')),
        )
    }

    /// Removes container `i`'s cgroups (as a container stopping does).
    pub fn remove_container_cgroup(&self, i: usize) {
        for h in HIERARCHIES {
            if let Some(dir) = self.cgroup_dir(h, i) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

impl Drop for LiveHost {
    fn drop(&mut self) {
        let mut unmounted = true;
        if let Some(target) = self.mount.take() {
            unmounted = cstr(&target).is_ok_and(|t| {
                // SAFETY: a valid NUL-terminated path.
                unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) == 0 }
            });
            if !unmounted {
                eprintln!(
                    "lpstest: could not unmount {} ({}); leaving the snapshot in place",
                    target.display(),
                    errno()
                );
            }
        }
        for dir in self.made.iter().rev() {
            // rmdir only: a cgroup directory holds no removable files.
            if let Err(e) = std::fs::remove_dir(dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    eprintln!("lpstest: rmdir {}: {e}", dir.display());
                }
            }
        }
        if let Some(dir) = self.dir.take() {
            if unmounted {
                drop(dir);
            } else {
                let _ = dir.keep();
            }
        }
    }
}

/// `/dev/shm` (tmpfs) when it exists, else the temp dir.
pub fn shm_or_tmp() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}
