//! Where a container's cgroup is, and whether the container really runs.
//!
//! Podman's own stats read `/proc/<pid>/cgroup` of the container's init process and cut the
//! path after the container's own component; we do the same, and treat a pid that is gone
//! or lives in another cgroup (a stale database after a reboot, a reused pid) as a container
//! that does not run. A hand-made snapshot without `/proc` gets the path podman would have
//! asked the runtime for (from `cgroupParent` and the manager) when that cgroup exists.

use std::path::Path;

use super::model::{CgroupManager, Container, ContainerId, ContainerState};
use crate::cgroup::CgroupPath;
use crate::host::HostRoot;

/// What the database says about a container's cgroup beyond the [`Container`] fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupHints {
    /// `cgroupsMode`: `enabled`, `disabled`, `no-conmon` or `split`.
    pub cgroups_mode: Option<String>,
    /// `noCgroups`: the container has no cgroup of its own.
    pub no_cgroups: bool,
    /// The pod's cgroup (`PodState.cgroupPath`), for pod members.
    pub pod_cgroup: Option<String>,
    /// The pod puts its members under its cgroup (`sharesCgroup`).
    pub shares_pod_cgroup: bool,
}

impl CgroupHints {
    /// True when podman put the container in no cgroup of its own.
    pub fn cgroupless(&self) -> bool {
        self.no_cgroups || self.cgroups_mode.as_deref() == Some("disabled")
    }
}

/// The container's cgroup from the lines of its init process's `/proc/<pid>/cgroup`, given
/// as `(controllers, path)` pairs: the longest path of a non-named hierarchy, cut after the
/// last component that names this container (`libpod-<id>.scope`, `libpod-<id>`,
/// `libpod-payload-<id>`, or the bare `<id>`: crun's own name when podman gives it no cgroup
/// path, as rootless podman does under the cgroupfs manager on cgroup v2). `None` when no
/// such component exists: the process is not this container's.
pub fn container_cgroup_from_lines<'a, I>(lines: I, id: &ContainerId) -> Option<CgroupPath>
where
    I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
{
    let mut longest: Option<&[u8]> = None;
    for (controllers, path) in lines {
        if controllers.contains(&b'=') {
            continue;
        }
        if longest.is_none_or(|l| path.len() > l.len()) {
            longest = Some(path);
        }
    }
    let path = std::str::from_utf8(longest?).ok()?;
    cut_after_container(path, id)
}

/// `path` cut after the last component naming container `id`, or `None` (also when `path`
/// is not a [`CgroupPath`]).
pub fn cut_after_container(path: &str, id: &ContainerId) -> Option<CgroupPath> {
    let path = CgroupPath::new(path).ok()?;
    let id = id.as_str();
    let mut end = None;
    let mut offset = 0usize;
    for comp in path.split('/') {
        offset += comp.len();
        if names_container(comp, id) {
            end = Some(offset);
        }
        offset += 1;
    }
    // A prefix of a valid path that ends at a component's end is valid.
    end.and_then(|e| CgroupPath::new(path.get(..e)?).ok())
}

fn names_container(comp: &str, id: &str) -> bool {
    comp == id
        || comp.strip_prefix("libpod-").is_some_and(|rest| {
            rest == id
                || rest.strip_suffix(".scope") == Some(id)
                || rest.strip_prefix("payload-") == Some(id)
        })
}

/// The `(controllers, path)` pairs of `/proc/<pid>/cgroup` text; malformed lines are
/// skipped, as podman skips lines without three fields.
pub fn proc_cgroup_pairs(text: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    crate::parse::proc_cgroup::iter(text)
        .filter_map(Result::ok)
        .map(|line| (line.controllers, line.path))
}

/// What `/proc/<pid>` says about a container's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidCgroup {
    /// The process exists and its cgroup names the container: the container's cgroup.
    Container(CgroupPath),
    /// The process exists but no cgroup component names the container (a reused pid, or
    /// a rootless container on cgroup v1, which has no cgroup of its own).
    Foreign {
        /// Its `/proc/<pid>/cgroup` lists v1 controller hierarchies (a v1 or hybrid host).
        v1_host: bool,
    },
    /// No such process.
    Gone,
}

/// Reads `/proc/<pid>/cgroup` under `root` and finds container `id`'s cgroup in it.
pub fn pid_cgroup(root: &HostRoot, pid: u32, id: &ContainerId) -> PidCgroup {
    let path = format!("/proc/{pid}/cgroup");
    match root.read(&path) {
        Ok(text) => match container_cgroup_from_lines(proc_cgroup_pairs(&text), id) {
            Some(cgroup) => PidCgroup::Container(cgroup),
            None => PidCgroup::Foreign {
                v1_host: crate::parse::proc_cgroup::iter(&text)
                    .filter_map(Result::ok)
                    .any(|line| !line.is_unified() && !line.is_named()),
            },
        },
        Err(_) => PidCgroup::Gone,
    }
}

/// True when `pid`'s parent (`/proc/<pid>/stat`) is the container's conmon: how a rootless
/// container on a cgroup v1 host, which runs in its user's cgroups since rootless podman
/// cannot create v1 cgroups, is told from a stranger that reused its pid.
pub fn is_child_of_conmon(root: &HostRoot, pid: u32, conmon_pid: Option<u32>) -> bool {
    conmon_pid.is_some()
        && root
            .read(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| crate::parse::proc_stat::parent_pid(&stat).ok())
            == conmon_pid
}

/// True when `/proc` under `root` was captured: the live host, or a snapshot with at least
/// one numeric `proc/<pid>/` directory. Without it, pids cannot be checked.
pub fn proc_captured(root: &HostRoot) -> bool {
    if root.is_live() {
        return true;
    }
    // Stops at the first pid: a captured /proc of a busy host has thousands.
    root.any_dir_entry("/proc", |n| {
        let n = n.as_encoded_bytes();
        !n.is_empty() && n.iter().all(u8::is_ascii_digit)
    })
    .unwrap_or(false)
}

/// True when the cgroup (a path relative to the controller root) exists under `root`, in
/// any hierarchy the cgroup reader uses (the layout from mountinfo, as the collector will
/// read it); without a detectable layout, in the v1 `memory` or `cpuacct` hierarchy or the
/// unified v2 hierarchy.
pub fn cgroup_exists(root: &HostRoot, cgroup: &CgroupPath) -> bool {
    if let Ok(reader) = crate::cgroup::reader::CgroupReader::new(root.clone()) {
        return reader.exists_path(cgroup);
    }
    let rel = cgroup.relative();
    let v1 = ["memory", "cpuacct", "cpu,cpuacct", "cpuacct,cpu"];
    if v1.iter().any(|c| {
        let dir = Path::new("/sys/fs/cgroup").join(c);
        root.exists(&dir) && root.exists(dir.join(rel))
    }) {
        return true;
    }
    root.exists("/sys/fs/cgroup/cgroup.controllers")
        && root.exists(Path::new("/sys/fs/cgroup").join(rel))
}

/// The cgroups podman would have asked the runtime for, most likely first (both managers
/// when the record does not say which). `rootless_uid` is the store owner when not root.
pub fn derived_cgroups(
    c: &Container,
    hints: &CgroupHints,
    rootless_uid: Option<u32>,
) -> Vec<CgroupPath> {
    if hints.cgroupless() || hints.cgroups_mode.as_deref() == Some("split") {
        return Vec::new();
    }
    let parent = c
        .cgroup_parent
        .clone()
        .or_else(|| hints.pod_cgroup.clone().filter(|_| hints.shares_pod_cgroup));
    let managers: &[CgroupManager] = match c.cgroup_manager {
        Some(CgroupManager::Cgroupfs) => &[CgroupManager::Cgroupfs],
        Some(CgroupManager::Systemd) => &[CgroupManager::Systemd],
        None => &[CgroupManager::Systemd, CgroupManager::Cgroupfs],
    };
    let mut out = Vec::new();
    for manager in managers {
        let path = match manager {
            CgroupManager::Cgroupfs => cgroupfs_path(parent.as_deref(), &c.id, rootless_uid),
            CgroupManager::Systemd => systemd_path(parent.as_deref(), &c.id, rootless_uid),
        };
        if let Some(p) = path.and_then(|p| CgroupPath::new(p).ok()) {
            out.push(p);
        }
    }
    out
}

fn cgroupfs_path(parent: Option<&str>, id: &str, rootless_uid: Option<u32>) -> Option<String> {
    let parent = match parent {
        Some(p) => p.trim_end_matches('/'),
        // Rootless cgroupfs containers get no cgroup of their own.
        None if rootless_uid.is_some() => return None,
        None => "/libpod_parent",
    };
    let parent = parent.trim_start_matches('/');
    if parent.is_empty() {
        Some(format!("/libpod-{id}"))
    } else {
        Some(format!("/{parent}/libpod-{id}"))
    }
}

fn systemd_path(parent: Option<&str>, id: &str, rootless_uid: Option<u32>) -> Option<String> {
    let default = if rootless_uid.is_some() {
        "user.slice"
    } else {
        "machine.slice"
    };
    let parent = parent.unwrap_or(default).trim_end_matches('/');
    // Podman passes `basename(cgroupParent):libpod:<id>`; systemd nests the slice.
    let slice = parent.rsplit('/').next().unwrap_or(parent);
    let mut path = match rootless_uid {
        Some(uid) => format!("/user.slice/user-{uid}.slice/user@{uid}.service"),
        None => String::new(),
    };
    path.push_str(&expand_slice(slice)?);
    path.push_str(&format!("/libpod-{id}.scope"));
    Some(path)
}

/// systemd's nesting of a slice name: `a-b-c.slice` is `/a.slice/a-b.slice/a-b-c.slice`;
/// `-.slice` is the root. `None` for a name that is not a slice.
pub fn expand_slice(slice: &str) -> Option<String> {
    if slice == "-.slice" {
        return Some(String::new());
    }
    let stem = slice.strip_suffix(".slice")?;
    if stem.is_empty() || stem.starts_with('-') || stem.ends_with('-') || stem.contains("--") {
        return None;
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push('/');
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Some(out)
}

/// The OCI bundle's `linux.cgroupsPath` as a path relative to the controller root: the
/// cgroupfs form is a path already, the systemd form `slice:prefix:name` becomes
/// `<expanded slice>/<prefix>-<name>.scope`.
pub fn oci_cgroups_path(cgroups_path: &str, rootless_uid: Option<u32>) -> Option<CgroupPath> {
    let path = if cgroups_path.starts_with('/') {
        cgroups_path.to_string()
    } else {
        let mut parts = cgroups_path.splitn(3, ':');
        let (slice, prefix, name) = (parts.next()?, parts.next()?, parts.next()?);
        let mut out = match rootless_uid {
            Some(uid) => format!("/user.slice/user-{uid}.slice/user@{uid}.service"),
            None => String::new(),
        };
        out.push_str(&expand_slice(if slice.is_empty() {
            "-.slice"
        } else {
            slice
        })?);
        out.push_str(&format!("/{prefix}-{name}.scope"));
        out
    };
    CgroupPath::new(path).ok()
}

/// Settles a database record against the host: a running or paused container keeps its
/// state only when its process exists in its own cgroup (or, without a captured /proc, when
/// the cgroup podman asked for exists); otherwise it is `exited` with no pid. Fills
/// [`Container::cgroup`].
pub fn settle(
    root: &HostRoot,
    proc_captured: bool,
    c: &mut Container,
    hints: &CgroupHints,
    rootless_uid: Option<u32>,
) {
    c.cgroup = None;
    if !c.state.has_cgroup() {
        return;
    }
    let alive = if proc_captured {
        match c.pid {
            None => false,
            Some(pid) if hints.cgroupless() => root.exists(format!("/proc/{pid}")),
            Some(pid) => match pid_cgroup(root, pid, &c.id) {
                PidCgroup::Container(cgroup) => {
                    c.cgroup = Some(cgroup);
                    true
                }
                PidCgroup::Foreign { v1_host: true } if rootless_uid.is_some() => {
                    is_child_of_conmon(root, pid, c.conmon_pid)
                }
                PidCgroup::Foreign { .. } | PidCgroup::Gone => false,
            },
        }
    } else if hints.cgroupless() {
        // Nothing to check against: believe the database.
        true
    } else {
        match derived_cgroups(c, hints, rootless_uid)
            .into_iter()
            .find(|p| cgroup_exists(root, p))
        {
            Some(cgroup) => {
                c.cgroup = Some(cgroup);
                true
            }
            None => false,
        }
    };
    if !alive {
        // Its conmon is gone with it: podman would clean both up on its next refresh.
        c.state = ContainerState::Exited;
        c.pid = None;
        c.conmon_pid = None;
        c.cgroup = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::model::Source;

    const ID: &str = "37fb6904b64d4d14e59f3ba577a0344e655eaf6da198033ae8fa686ccc0f4220";
    const POD: &str = "d259df7fc775ee42db4703f204743d512fd6c1ca7549a9aea08630f140872358";

    fn container(state: ContainerState, pid: Option<u32>) -> Container {
        Container {
            id: ID.parse().unwrap(),
            name: "c".into(),
            pod_id: None,
            pod_name: None,
            image: None,
            state,
            pid,
            conmon_pid: None,
            cgroup: None,
            created_at_ns: None,
            started_at_ns: None,
            source: Source::Bolt,
            uid: Some(0),
            graph_root: None,
            is_infra: false,
            netns: None,
            cgroup_manager: Some(CgroupManager::Cgroupfs),
            cgroup_parent: Some("/libpod_parent".into()),
            labels: Default::default(),
            systemd_unit: None,
            exit_code: None,
            restart_count: None,
            health_log: None,
            health: None,
            health_code: None,
            health_failing_streak: None,
        }
    }

    fn cg(text: &str) -> Option<String> {
        container_cgroup_from_lines(proc_cgroup_pairs(text.as_bytes()), &ID.parse().unwrap())
            .map(String::from)
    }

    #[test]
    fn v1_lines_take_the_longest_non_named_path() {
        let text = format!(
            "12:name=systemd:/libpod_parent/libpod-{ID}/much/longer/named/path\n\
             11:memory:/libpod_parent/libpod-{ID}\n\
             10:cpu,cpuacct:/libpod_parent/libpod-{ID}\n\
             0::/\n"
        );
        assert_eq!(cg(&text), Some(format!("/libpod_parent/libpod-{ID}")));
    }

    #[test]
    fn crun_sub_cgroups_are_cut_after_the_last_container_component() {
        assert_eq!(
            cg(&format!("0::/machine.slice/libpod-{ID}.scope/container\n")),
            Some(format!("/machine.slice/libpod-{ID}.scope"))
        );
        assert_eq!(
            cg(&format!("0::/a/libpod-{ID}/b/libpod-{ID}/init\n")),
            Some(format!("/a/libpod-{ID}/b/libpod-{ID}"))
        );
        assert_eq!(
            cg(&format!("0::/user.slice/x.service/libpod-payload-{ID}\n")),
            Some(format!("/user.slice/x.service/libpod-payload-{ID}"))
        );
    }

    /// Rootless podman 5 under `--cgroup-manager=cgroupfs` on v2 hands crun no cgroup path;
    /// crun then makes `<its own cgroup>/<id>` (seen in the trixie and sid guests).
    #[test]
    fn crun_names_a_cgroup_by_the_bare_id_when_podman_gives_no_path() {
        let user = "/user.slice/user-1500.slice/user@1500.service/user.slice";
        assert_eq!(
            cg(&format!("0::{user}/{ID}\n")),
            Some(format!("{user}/{ID}"))
        );
        assert_eq!(cg(&format!("0::{user}/{ID}x\n")), None);
    }

    #[test]
    fn a_path_without_the_container_is_foreign() {
        assert_eq!(cg("0::/user.slice/session-1.scope\n"), None);
        assert_eq!(cg(&format!("0::/libpod_parent/libpod-{ID}x\n")), None);
        assert_eq!(
            cg(&format!("0::/libpod_parent/libpod-conmon-{ID}.scope\n")),
            None
        );
        assert_eq!(cg(&format!("0::/libpod-payload-{ID}.scope\n")), None);
        assert_eq!(cg("garbage"), None);
        assert_eq!(cg(&format!("0::/../../libpod-{ID}\n")), None);
        assert_eq!(cg(""), None);
    }

    #[test]
    fn slices_nest() {
        assert_eq!(expand_slice("machine.slice").unwrap(), "/machine.slice");
        assert_eq!(
            expand_slice("machine-libpod_pod_x.slice").unwrap(),
            "/machine.slice/machine-libpod_pod_x.slice"
        );
        assert_eq!(
            expand_slice("a-b-c.slice").unwrap(),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        assert_eq!(expand_slice("-.slice").unwrap(), "");
        assert_eq!(expand_slice("a--b.slice"), None);
        assert_eq!(expand_slice("../x"), None);
    }

    #[test]
    fn derived_paths_follow_podman() {
        let c = container(ContainerState::Running, Some(1));
        let h = CgroupHints::default();
        assert_eq!(
            derived_cgroups(&c, &h, None),
            vec![format!("/libpod_parent/libpod-{ID}")]
        );
        let mut s = c.clone();
        s.cgroup_manager = Some(CgroupManager::Systemd);
        s.cgroup_parent = Some(format!("machine.slice/machine-libpod_pod_{POD}.slice"));
        assert_eq!(
            derived_cgroups(&s, &h, None),
            vec![format!(
                "/machine.slice/machine-libpod_pod_{POD}.slice/libpod-{ID}.scope"
            )]
        );
        s.cgroup_parent = None;
        assert_eq!(
            derived_cgroups(&s, &h, Some(1000)),
            vec![format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
            )]
        );
        let mut rootless = c.clone();
        rootless.cgroup_parent = None;
        assert!(derived_cgroups(&rootless, &h, Some(1000)).is_empty());
        let mut evil = c.clone();
        evil.cgroup_parent = Some("/../../etc".into());
        assert!(derived_cgroups(&evil, &h, None).is_empty());
    }

    #[test]
    fn oci_paths() {
        assert_eq!(
            oci_cgroups_path(&format!("machine.slice:libpod:{ID}"), None).unwrap(),
            format!("/machine.slice/libpod-{ID}.scope")
        );
        assert_eq!(
            oci_cgroups_path(&format!("/libpod_parent/libpod-{ID}"), None).unwrap(),
            format!("/libpod_parent/libpod-{ID}")
        );
        assert_eq!(oci_cgroups_path("/a/../b", None), None);
    }

    fn snapshot() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn settle_with_proc() {
        let (dir, root) = snapshot();
        let p = dir.path();
        std::fs::create_dir_all(p.join("proc/100")).unwrap();
        std::fs::write(
            p.join("proc/100/cgroup"),
            format!("5:memory:/libpod_parent/libpod-{ID}\n0::/\n"),
        )
        .unwrap();
        std::fs::create_dir_all(p.join("proc/200")).unwrap();
        std::fs::write(p.join("proc/200/cgroup"), "5:memory:/user.slice\n").unwrap();
        assert!(proc_captured(&root));
        let h = CgroupHints::default();

        let mut c = container(ContainerState::Running, Some(100));
        settle(&root, true, &mut c, &h, None);
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(
            c.cgroup.as_deref(),
            Some(&*format!("/libpod_parent/libpod-{ID}"))
        );

        for pid in [Some(200), Some(300), None] {
            let mut c = container(ContainerState::Paused, pid);
            settle(&root, true, &mut c, &h, None);
            assert_eq!(
                (c.state, c.pid, c.cgroup),
                (ContainerState::Exited, None, None)
            );
        }

        let mut created = container(ContainerState::Initialized, Some(100));
        settle(&root, true, &mut created, &h, None);
        assert_eq!(created.state, ContainerState::Initialized);
        assert_eq!(created.cgroup, None);
    }

    /// Rootless podman on cgroup v1 (measured here with podman 4.3.1): the container's
    /// process stays in its user's cgroups, its parent is the container's conmon.
    #[test]
    fn a_rootless_container_on_v1_runs_without_a_cgroup() {
        let (dir, root) = snapshot();
        let p = dir.path();
        let user_cgroups = "9:name=systemd:/\n8:pids:/\n4:memory:/\n0::/process_api/ebce06ce\n";
        for (pid, parent, cgroups) in [
            (100, 90, user_cgroups),
            (200, 1, user_cgroups),
            (300, 90, "0::/user.slice/user-1001.slice/session-3.scope\n"),
        ] {
            std::fs::create_dir_all(p.join(format!("proc/{pid}"))).unwrap();
            std::fs::write(p.join(format!("proc/{pid}/cgroup")), cgroups).unwrap();
            std::fs::write(
                p.join(format!("proc/{pid}/stat")),
                format!("{pid} (sleep) S {parent} {pid} {pid} 0 -1\n"),
            )
            .unwrap();
        }
        let h = CgroupHints::default();
        let settled = |pid, conmon, uid| {
            let mut c = container(ContainerState::Running, Some(pid));
            c.conmon_pid = conmon;
            settle(&root, true, &mut c, &h, uid);
            (c.state, c.pid, c.cgroup)
        };
        let exited = (ContainerState::Exited, None, None);
        assert_eq!(
            settled(100, Some(90), Some(1001)),
            (ContainerState::Running, Some(100), None)
        );
        // A root container is never without its cgroup; a stranger's pid (another parent),
        // an unknown conmon, or a v2 host (where rootless podman does make cgroups) mean the
        // record is stale.
        assert_eq!(settled(100, Some(90), None), exited);
        assert_eq!(settled(200, Some(90), Some(1001)), exited);
        assert_eq!(settled(100, None, Some(1001)), exited);
        assert_eq!(settled(300, Some(90), Some(1001)), exited);
    }

    #[test]
    fn settle_without_proc_derives_and_checks() {
        let (dir, root) = snapshot();
        let p = dir.path();
        std::fs::create_dir_all(p.join(format!("sys/fs/cgroup/memory/libpod_parent/libpod-{ID}")))
            .unwrap();
        assert!(!proc_captured(&root));
        let h = CgroupHints::default();
        let mut c = container(ContainerState::Running, Some(100));
        settle(&root, false, &mut c, &h, None);
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(
            c.cgroup.as_deref(),
            Some(&*format!("/libpod_parent/libpod-{ID}"))
        );

        let mut other = container(ContainerState::Running, Some(100));
        other.cgroup_parent = Some("/elsewhere".into());
        settle(&root, false, &mut other, &h, None);
        assert_eq!(other.state, ContainerState::Exited);
    }

    proptest::proptest! {
        /// Whatever /proc says, the cgroup found is safe and ends with this container.
        #[test]
        fn found_cgroups_are_safe_and_name_the_container(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(format!("libpod-{ID}")),
                    proptest::strategy::Just(format!("libpod-{ID}.scope")),
                    proptest::strategy::Just("..".to_string()),
                    proptest::strategy::Just("".to_string()),
                    "[a-z.:=-]{1,12}",
                ],
                0..8,
            ),
            controllers in "[a-z,=]{0,12}",
        ) {
            let text = format!("3:{controllers}:/{}\n", parts.join("/"));
            if let Some(cg) = cg(&text) {
                let below = CgroupPath::new(cg.as_str()).unwrap().relative().components().all(
                    |c| matches!(c, std::path::Component::Normal(_)),
                );
                proptest::prop_assert!(below, "{}", cg);
                let last = cg.rsplit('/').next().unwrap_or("");
                proptest::prop_assert!(names_container(last, ID), "{}", cg);
            }
        }
    }
}
