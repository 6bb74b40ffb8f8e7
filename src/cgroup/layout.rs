//! Which cgroup file systems a host has mounted, and where.
//!
//! Read from `/proc/self/mountinfo` under the host root: a v2 host has one `cgroup2` mount; a
//! v1 host has a `cgroup` mount per controller (or per group of co-mounted controllers, such as
//! `cpu,cpuacct`, which many distributions mount once with `cpu` and `cpuacct` symlinks beside
//! it, while this project's hosts mount them separately); a hybrid host has the v1 mounts plus
//! a `cgroup2` mount at `/sys/fs/cgroup/unified`. Snapshots without `mountinfo` fall back to
//! what `/sys/fs/cgroup` looks like.

use std::path::{Path, PathBuf};

use super::error::CgroupError;
use crate::host::HostRoot;
use crate::parse::mountinfo;

/// Where the layout is read from.
pub const MOUNTINFO_PATH: &str = "/proc/self/mountinfo";
/// Where cgroup file systems are mounted by convention; the fallback without mountinfo.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The v1 controllers this library reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    /// `cpu`: throttling (`cpu.stat`).
    Cpu,
    /// `cpuacct`: cpu time.
    Cpuacct,
    /// `memory`.
    Memory,
    /// `pids`.
    Pids,
    /// `blkio`: block I/O.
    Blkio,
}

impl Controller {
    /// All of them, in a fixed order.
    pub const ALL: [Controller; 5] = [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Pids,
        Controller::Blkio,
    ];

    /// The kernel's name, as in mount options and `/proc/<pid>/cgroup`.
    pub const fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Blkio => "blkio",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// A hierarchy a cgroup file can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hierarchy {
    /// The v2 hierarchy (the whole tree on v2, `unified` on a hybrid host).
    Unified,
    /// A v1 controller's hierarchy.
    V1(Controller),
}

/// The kind of layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    /// Only cgroup v2.
    V2,
    /// Only cgroup v1 controllers.
    V1,
    /// v1 controllers plus a v2 hierarchy (`/sys/fs/cgroup/unified`); v1 is where the
    /// controllers are.
    Hybrid,
}

/// A host's cgroup mounts, as host paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupLayout {
    kind: LayoutKind,
    v1: [Option<PathBuf>; 5],
    unified: Option<PathBuf>,
}

impl CgroupLayout {
    /// Reads the layout of the host under `root`: from `/proc/self/mountinfo` when it exists,
    /// else from the directories in `/sys/fs/cgroup`.
    pub fn detect(root: &HostRoot) -> Result<CgroupLayout, CgroupError> {
        match root.read(MOUNTINFO_PATH) {
            Ok(data) => {
                let layout = Self::from_mountinfo(&data).map_err(|source| {
                    CgroupError::parse(root.dir(), Path::new(MOUNTINFO_PATH), source)
                })?;
                layout.ok_or_else(|| CgroupError::NoCgroupMounts {
                    root: root.dir().to_path_buf(),
                })
            }
            Err(e) if e.is_not_found() => Self::from_directories(root),
            Err(e) => Err(e.into()),
        }
    }

    /// The layout a mountinfo file describes, `None` when it has no cgroup mount this library
    /// can read. When a controller is mounted more than once, the mount of the hierarchy's
    /// root (`/`) under `/sys/fs/cgroup` wins, then the first one listed.
    pub fn from_mountinfo(data: &[u8]) -> Result<Option<CgroupLayout>, crate::parse::ParseError> {
        let mut v1: [Option<(u8, PathBuf)>; 5] = Default::default();
        let mut unified: Option<(u8, PathBuf)> = None;
        for mount in mountinfo::cgroup_mounts(data) {
            let mount = mount?;
            let score = u8::from(mount.root.eq_unescaped(b"/")) * 2
                + u8::from(
                    mount
                        .mount_point
                        .starts_with_unescaped(CGROUP_ROOT.as_bytes()),
                );
            let better =
                |slot: &Option<(u8, PathBuf)>| slot.as_ref().is_none_or(|(s, _)| score > *s);
            match mount.fs_type {
                b"cgroup2" if better(&unified) => {
                    unified = Some((score, mount.mount_point.to_path_buf()));
                }
                b"cgroup" => {
                    for c in Controller::ALL {
                        if mount.has_super_option(c.name().as_bytes()) && better(&v1[c.index()]) {
                            v1[c.index()] = Some((score, mount.mount_point.to_path_buf()));
                        }
                    }
                }
                _ => {}
            }
        }
        let v1 = v1.map(|slot| slot.map(|(_, p)| p));
        Ok(Self::build(v1, unified.map(|(_, p)| p)))
    }

    /// The layout guessed from `/sys/fs/cgroup` alone, for snapshots without mountinfo:
    /// `cgroup.controllers` at the top means v2; otherwise each `/sys/fs/cgroup/<controller>`
    /// directory (or symlink to a co-mounted one) is a v1 mount, and
    /// `/sys/fs/cgroup/unified/cgroup.controllers` makes it hybrid.
    pub fn from_directories(root: &HostRoot) -> Result<CgroupLayout, CgroupError> {
        let base = Path::new(CGROUP_ROOT);
        if root.exists(base.join("cgroup.controllers")) {
            return Ok(CgroupLayout {
                kind: LayoutKind::V2,
                v1: Default::default(),
                unified: Some(base.to_path_buf()),
            });
        }
        let v1 = Controller::ALL.map(|c| {
            let dir = base.join(c.name());
            root.metadata(&dir).is_ok_and(|m| m.is_dir()).then_some(dir)
        });
        let unified = base.join("unified");
        let unified = root
            .exists(unified.join("cgroup.controllers"))
            .then_some(unified);
        Self::build(v1, unified).ok_or_else(|| CgroupError::NoCgroupMounts {
            root: root.dir().to_path_buf(),
        })
    }

    fn build(v1: [Option<PathBuf>; 5], unified: Option<PathBuf>) -> Option<CgroupLayout> {
        let has_v1 = v1.iter().any(Option::is_some);
        let kind = match (has_v1, unified.is_some()) {
            (true, true) => LayoutKind::Hybrid,
            (true, false) => LayoutKind::V1,
            (false, true) => LayoutKind::V2,
            (false, false) => return None,
        };
        Some(CgroupLayout { kind, v1, unified })
    }

    /// A v2 layout with its hierarchy mounted at `mount` (for tests and tools).
    pub fn v2(mount: impl Into<PathBuf>) -> CgroupLayout {
        CgroupLayout {
            kind: LayoutKind::V2,
            v1: Default::default(),
            unified: Some(mount.into()),
        }
    }

    /// V1, V2 or hybrid.
    pub fn kind(&self) -> LayoutKind {
        self.kind
    }

    /// Where a v1 controller is mounted (co-mounted controllers share one path).
    pub fn v1_mount(&self, controller: Controller) -> Option<&Path> {
        self.v1[controller.index()].as_deref()
    }

    /// Where the v2 hierarchy is mounted (`/sys/fs/cgroup` on v2, `.../unified` on hybrid).
    pub fn unified_mount(&self) -> Option<&Path> {
        self.unified.as_deref()
    }

    /// Where a hierarchy is mounted.
    pub fn mount(&self, hierarchy: Hierarchy) -> Option<&Path> {
        match hierarchy {
            Hierarchy::Unified => self.unified_mount(),
            Hierarchy::V1(c) => self.v1_mount(c),
        }
    }

    /// The hierarchies the reader uses on this layout: the unified one on v2, the v1
    /// controllers (and `unified`, for what v1 lacks) otherwise.
    pub fn hierarchies(&self) -> impl Iterator<Item = Hierarchy> + '_ {
        let v1 = Controller::ALL
            .into_iter()
            .filter(|c| self.v1_mount(*c).is_some())
            .map(Hierarchy::V1);
        let unified = self.unified.is_some().then_some(Hierarchy::Unified);
        v1.chain(unified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(mountinfo: &str) -> CgroupLayout {
        CgroupLayout::from_mountinfo(mountinfo.as_bytes())
            .unwrap()
            .unwrap()
    }

    const THIS_HOST: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_with_separate_cpu_and_cpuacct() {
        let l = layout(THIS_HOST);
        assert_eq!(l.kind(), LayoutKind::Hybrid);
        assert_eq!(
            l.v1_mount(Controller::Cpu),
            Some(Path::new("/sys/fs/cgroup/cpu"))
        );
        assert_eq!(
            l.v1_mount(Controller::Cpuacct),
            Some(Path::new("/sys/fs/cgroup/cpuacct"))
        );
        assert_eq!(l.unified_mount(), Some(Path::new("/sys/fs/cgroup/unified")));
        assert_eq!(l.hierarchies().count(), 6);
    }

    #[test]
    fn v1_co_mounted_cpu_cpuacct() {
        let l = layout(
            "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw shared:8 - cgroup cgroup rw,cpu,cpuacct\n\
             26 24 0:23 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n\
             27 24 0:24 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n",
        );
        assert_eq!(l.kind(), LayoutKind::V1);
        assert_eq!(l.v1_mount(Controller::Cpu), l.v1_mount(Controller::Cpuacct));
        assert_eq!(
            l.v1_mount(Controller::Cpu),
            Some(Path::new("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(l.v1_mount(Controller::Pids), None);
        assert_eq!(l.unified_mount(), None);
    }

    #[test]
    fn pure_v2_and_bind_mounts() {
        let l = layout(
            "30 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n\
             90 80 0:26 /machine.slice /var/lib/x/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        assert_eq!(l.kind(), LayoutKind::V2);
        assert_eq!(l.unified_mount(), Some(Path::new("/sys/fs/cgroup")));
        // A later, better mount replaces an earlier bind mount of a sub-tree.
        let l = layout(
            "90 80 0:26 /machine.slice /var/lib/x/cgroup rw - cgroup2 cgroup2 rw\n\
             30 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n",
        );
        assert_eq!(l.unified_mount(), Some(Path::new("/sys/fs/cgroup")));
    }

    #[test]
    fn no_cgroup_mounts() {
        let none = CgroupLayout::from_mountinfo(b"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n").unwrap();
        assert_eq!(none, None);
        // Only a named hierarchy is not enough.
        let none = CgroupLayout::from_mountinfo(
            b"40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n",
        )
        .unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn detect_reads_mountinfo_under_the_root_and_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        assert!(matches!(
            CgroupLayout::detect(&root),
            Err(CgroupError::NoCgroupMounts { .. })
        ));
        // Fallback: v1 directories, with a co-mounted cpu,cpuacct behind symlinks.
        let cg = dir.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(cg.join("cpu,cpuacct")).unwrap();
        std::fs::create_dir_all(cg.join("memory")).unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", cg.join("cpu")).unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", cg.join("cpuacct")).unwrap();
        let l = CgroupLayout::detect(&root).unwrap();
        assert_eq!(l.kind(), LayoutKind::V1);
        assert_eq!(
            l.v1_mount(Controller::Cpu),
            Some(Path::new("/sys/fs/cgroup/cpu"))
        );
        assert_eq!(l.v1_mount(Controller::Blkio), None);
        std::fs::create_dir_all(cg.join("unified")).unwrap();
        std::fs::write(cg.join("unified/cgroup.controllers"), b"").unwrap();
        assert_eq!(
            CgroupLayout::detect(&root).unwrap().kind(),
            LayoutKind::Hybrid
        );
        // Fallback: v2.
        std::fs::write(cg.join("cgroup.controllers"), b"cpu memory\n").unwrap();
        assert_eq!(CgroupLayout::detect(&root).unwrap().kind(), LayoutKind::V2);
        // mountinfo wins when present; a malformed one is an error naming it.
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        std::fs::write(dir.path().join("proc/self/mountinfo"), THIS_HOST).unwrap();
        assert_eq!(
            CgroupLayout::detect(&root).unwrap().kind(),
            LayoutKind::Hybrid
        );
        std::fs::write(dir.path().join("proc/self/mountinfo"), "garbage\n").unwrap();
        let err = CgroupLayout::detect(&root).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/proc/self/mountinfo") && text.contains("line 1"),
            "{text}"
        );
    }
}
