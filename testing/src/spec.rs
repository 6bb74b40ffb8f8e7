//! The typed description of a synthetic host: its cgroup layout, stores, pods, containers
//! and their counters. Every type has defaults and chainable setters, so a test names only
//! what it cares about.

use std::collections::BTreeMap;
use std::path::PathBuf;

use libpod_stats::{CgroupManager, ContainerState};

/// How the host mounts cgroupfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// cgroup v1 only, one mount per controller (`cpu` and `cpuacct` apart).
    V1,
    /// cgroup v1 only, `cpu,cpuacct` co-mounted with `cpu` and `cpuacct` symlinks beside it,
    /// as most distributions do.
    V1CoMounted,
    /// cgroup v2 only, one unified hierarchy at `/sys/fs/cgroup`.
    V2,
    /// This project's machines: v1 controllers mounted apart plus a v2 hierarchy at
    /// `/sys/fs/cgroup/unified` that only has `cpu.stat` and pressure files.
    #[default]
    Hybrid,
}

impl Layout {
    /// True when container stats come from v1 controller hierarchies.
    pub fn is_v1(self) -> bool {
        !matches!(self, Layout::V2)
    }
}

/// Which libpod database a store has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// `<graphroot>/libpod/bolt_state.db` (podman up to 4.x, and 5.x on old hosts).
    #[default]
    Bolt,
    /// `<graphroot>/db.sql` (podman 5).
    Sqlite,
    /// No database: only containers/storage's `containers.json`.
    None,
}

/// One container store (graph root, run root, driver) with its pods and containers.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSpec {
    /// The graph root (a host path).
    pub graph_root: PathBuf,
    /// The run root (a host path).
    pub run_root: PathBuf,
    /// The storage driver (`overlay`, `vfs`).
    pub driver: String,
    /// Which database to write.
    pub backend: Backend,
    /// The owner, for a rootless store: user name and uid (added to `/etc/passwd`).
    pub rootless_user: Option<(String, u32)>,
    /// The pods.
    pub pods: Vec<PodSpec>,
    /// The containers.
    pub containers: Vec<ContainerSpec>,
}

impl StoreSpec {
    /// The root store at podman's default paths, overlay driver, BoltDB state.
    pub fn root() -> Self {
        StoreSpec {
            graph_root: PathBuf::from("/var/lib/containers/storage"),
            run_root: PathBuf::from("/run/containers/storage"),
            driver: "overlay".to_string(),
            backend: Backend::Bolt,
            rootless_user: None,
            pods: Vec::new(),
            containers: Vec::new(),
        }
    }

    /// A user's rootless store at the default place under `/home/<user>`.
    pub fn rootless(user: &str, uid: u32) -> Self {
        StoreSpec {
            graph_root: PathBuf::from(format!("/home/{user}/.local/share/containers/storage")),
            run_root: PathBuf::from(format!("/run/user/{uid}/containers")),
            rootless_user: Some((user.to_string(), uid)),
            ..StoreSpec::root()
        }
    }

    /// Sets the graph root.
    pub fn graph_root(mut self, path: impl Into<PathBuf>) -> Self {
        self.graph_root = path.into();
        self
    }

    /// Sets the run root.
    pub fn run_root(mut self, path: impl Into<PathBuf>) -> Self {
        self.run_root = path.into();
        self
    }

    /// Sets the storage driver.
    pub fn driver(mut self, driver: &str) -> Self {
        self.driver = driver.to_string();
        self
    }

    /// Sets the database kind.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Adds a pod.
    pub fn pod(mut self, pod: PodSpec) -> Self {
        self.pods.push(pod);
        self
    }

    /// Adds a container.
    pub fn container(mut self, container: ContainerSpec) -> Self {
        self.containers.push(container);
        self
    }

    /// True for a rootless store.
    pub fn is_rootless(&self) -> bool {
        self.rootless_user.is_some()
    }
}

/// A pod. Its members name it with [`ContainerSpec::pod`].
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpec {
    /// The pod's name.
    pub name: String,
    /// The 64-hex id; derived from the name unless set.
    pub id: String,
    /// The cgroup parent of the pod; podman's default for the manager when `None`.
    pub cgroup_parent: Option<String>,
    /// Whether to add a running infra container (`<id12>-infra`, `pause: true`).
    pub infra: bool,
    /// The infra container's start, ns since the epoch; a minute before the snapshot when
    /// `None` ([`HostBuilder::advance`](super::HostBuilder::advance) pins it).
    pub infra_started_ns: Option<u64>,
}

impl PodSpec {
    /// A pod with an id derived from its name, no infra container.
    pub fn new(name: &str) -> Self {
        PodSpec {
            name: name.to_string(),
            id: id_from_name(&format!("pod/{name}")),
            cgroup_parent: None,
            infra: false,
            infra_started_ns: None,
        }
    }

    /// Sets the id (64 lowercase hex).
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    /// Sets the cgroup parent.
    pub fn cgroup_parent(mut self, parent: &str) -> Self {
        self.cgroup_parent = Some(parent.to_string());
        self
    }

    /// Adds a running infra container, as `podman pod create` does by default.
    pub fn with_infra(mut self) -> Self {
        self.infra = true;
        self
    }
}

/// What the snapshot's `/proc/<pid>` says about a container's pid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProcEntry {
    /// `proc/<pid>/cgroup` names the container's cgroup (and `net/dev` has its counters).
    #[default]
    Present,
    /// No `proc/<pid>/`: the process is gone (a stale database after a reboot).
    Missing,
    /// The pid now belongs to another process in this cgroup (a reused pid).
    Foreign(String),
}

/// A container, in any state, with the counters its cgroup shows while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// The name.
    pub name: String,
    /// The 64-hex id; derived from the name unless set.
    pub id: String,
    /// The pod's name ([`PodSpec::name`]), when in one.
    pub pod: Option<String>,
    /// The image name podman shows.
    pub image: String,
    /// The state in the database.
    pub state: ContainerState,
    /// The init process's pid; one is assigned to running and paused containers when unset.
    pub pid: Option<u32>,
    /// The cgroup manager recorded in the config.
    pub cgroup_manager: CgroupManager,
    /// The cgroup parent; podman's default for the manager (and pod) when `None`.
    pub cgroup_parent: Option<String>,
    /// A sub-cgroup the process sits in below the container's (`/container`, as crun's
    /// systemd driver does on v2).
    pub subgroup: Option<String>,
    /// Started time, ns since the epoch; a minute before the snapshot when `None`.
    pub started_ns: Option<u64>,
    /// `--rm`: listed in `volatile-containers.json` instead of `containers.json`.
    pub auto_remove: bool,
    /// The pod's infra container.
    pub infra: bool,
    /// What `/proc/<pid>` shows.
    pub proc_entry: ProcEntry,
    /// Whether the container's cgroup directories and files exist (when it has a cgroup).
    pub cgroup_files: bool,
    /// The counters.
    pub counters: Counters,
}

impl ContainerSpec {
    /// A running container with an id derived from its name and the default counters.
    pub fn new(name: &str) -> Self {
        ContainerSpec {
            name: name.to_string(),
            id: id_from_name(name),
            pod: None,
            image: "localhost/bb:latest".to_string(),
            state: ContainerState::Running,
            pid: None,
            cgroup_manager: CgroupManager::Cgroupfs,
            cgroup_parent: None,
            subgroup: None,
            started_ns: None,
            auto_remove: false,
            infra: false,
            proc_entry: ProcEntry::Present,
            cgroup_files: true,
            counters: Counters::default(),
        }
    }

    /// Sets the id (64 lowercase hex).
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    /// Puts the container in the pod named `pod`.
    pub fn pod(mut self, pod: &str) -> Self {
        self.pod = Some(pod.to_string());
        self
    }

    /// Sets the image name.
    pub fn image(mut self, image: &str) -> Self {
        self.image = image.to_string();
        self
    }

    /// Sets the state.
    pub fn state(mut self, state: ContainerState) -> Self {
        self.state = state;
        self
    }

    /// Sets the pid.
    pub fn pid(mut self, pid: u32) -> Self {
        self.pid = Some(pid);
        self
    }

    /// Sets the cgroup manager.
    pub fn cgroup_manager(mut self, manager: CgroupManager) -> Self {
        self.cgroup_manager = manager;
        self
    }

    /// Sets the cgroup parent.
    pub fn cgroup_parent(mut self, parent: &str) -> Self {
        self.cgroup_parent = Some(parent.to_string());
        self
    }

    /// Puts the process in a sub-cgroup of the container's (e.g. `container`).
    pub fn subgroup(mut self, name: &str) -> Self {
        self.subgroup = Some(name.trim_matches('/').to_string());
        self
    }

    /// Sets the started time (ns since the epoch).
    pub fn started_ns(mut self, ns: u64) -> Self {
        self.started_ns = Some(ns);
        self
    }

    /// Marks it `--rm`.
    pub fn auto_remove(mut self) -> Self {
        self.auto_remove = true;
        self
    }

    /// Sets what `/proc/<pid>` shows.
    pub fn proc_entry(mut self, entry: ProcEntry) -> Self {
        self.proc_entry = entry;
        self
    }

    /// Leaves out the cgroup directories (a cgroup removed under a stale database).
    pub fn without_cgroup_files(mut self) -> Self {
        self.cgroup_files = false;
        self
    }

    /// Sets all counters.
    pub fn counters(mut self, counters: Counters) -> Self {
        self.counters = counters;
        self
    }

    /// Edits the counters in place.
    pub fn with_counters(mut self, edit: impl FnOnce(&mut Counters)) -> Self {
        edit(&mut self.counters);
        self
    }

    /// True when podman would give it a live cgroup (running or paused).
    pub fn has_cgroup(&self) -> bool {
        self.state.has_cgroup()
    }
}

/// What a container's cgroup and network namespace count, in the units of the model
/// (ns, bytes); the writer converts to each file's unit (µs on v2, ticks in
/// `cpuacct.stat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// Total cpu time, ns.
    pub cpu_ns: u64,
    /// User cpu time, ns.
    pub user_ns: u64,
    /// System cpu time, ns.
    pub system_ns: u64,
    /// Throttling periods, throttled periods, throttled ns.
    pub throttling: (u64, u64, u64),
    /// Memory in use, bytes (`memory.current` / `memory.usage_in_bytes`).
    pub memory_usage: u64,
    /// The memory limit, bytes; unlimited when `None`.
    pub memory_limit: Option<u64>,
    /// Extra `memory.stat` keys (v2 spelling; v1 also gets `total_<key>`), over defaults
    /// derived from the usage (anon 3/4, file 1/4, inactive_file 1/8).
    pub memory_stat: BTreeMap<String, u64>,
    /// OOM kills.
    pub oom_kills: u64,
    /// Processes in the cgroup.
    pub pids: u64,
    /// The pids limit; unlimited when `None`.
    pub pids_limit: Option<u64>,
    /// Bytes read from block devices.
    pub io_read_bytes: u64,
    /// Bytes written to block devices.
    pub io_write_bytes: u64,
    /// Read operations.
    pub io_read_ops: u64,
    /// Write operations.
    pub io_write_ops: u64,
    /// Bytes received on the container's interfaces (`eth0` in `/proc/<pid>/net/dev`).
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Pressure stall totals, µs, of `cpu`, `memory` and `io` (`some`; `full` is half);
    /// written on v2 and in a hybrid host's unified hierarchy.
    pub pressure_us: [u64; 3],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            cpu_ns: 1_500_000_000,
            user_ns: 1_000_000_000,
            system_ns: 500_000_000,
            throttling: (0, 0, 0),
            memory_usage: 8 << 20,
            memory_limit: None,
            memory_stat: BTreeMap::new(),
            oom_kills: 0,
            pids: 1,
            pids_limit: None,
            io_read_bytes: 4096,
            io_write_bytes: 0,
            io_read_ops: 1,
            io_write_ops: 0,
            rx_bytes: 1000,
            tx_bytes: 500,
            pressure_us: [0; 3],
        }
    }
}

impl Counters {
    /// Sets the cpu time, split 2/3 user, 1/3 system.
    pub fn cpu(mut self, ns: u64) -> Self {
        self.cpu_ns = ns;
        self.user_ns = ns / 3 * 2;
        self.system_ns = ns - self.user_ns;
        self
    }

    /// Sets the memory usage.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory_usage = bytes;
        self
    }

    /// Adds elapsed work: `cpu_ns` more cpu time (split like [`Counters::cpu`]), and
    /// `io_bytes`/`net_bytes` more read/written and received/sent.
    pub fn advance(&mut self, cpu_ns: u64, io_bytes: u64, net_bytes: u64) {
        let user = cpu_ns / 3 * 2;
        self.cpu_ns += cpu_ns;
        self.user_ns += user;
        self.system_ns += cpu_ns - user;
        self.io_read_bytes += io_bytes;
        self.io_write_bytes += io_bytes;
        self.io_read_ops += io_bytes.div_ceil(4096);
        self.io_write_ops += io_bytes.div_ceil(4096);
        self.rx_bytes += net_bytes;
        self.tx_bytes += net_bytes;
    }

    /// The whole `memory.stat` map in v2 spelling: defaults from the usage, then the
    /// explicit keys.
    pub fn memory_stat_v2(&self) -> BTreeMap<String, u64> {
        let usage = self.memory_usage;
        let file = usage / 4;
        let mut m: BTreeMap<String, u64> = [
            ("anon", usage - file),
            ("file", file),
            ("kernel_stack", 16384),
            ("shmem", 0),
            ("file_mapped", 0),
            ("file_dirty", 0),
            ("file_writeback", 0),
            ("inactive_anon", usage - file),
            ("active_anon", 0),
            ("inactive_file", file / 2),
            ("active_file", file - file / 2),
            ("unevictable", 0),
            ("pgfault", 1000),
            ("pgmajfault", 0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        m.extend(self.memory_stat.clone());
        m
    }

    /// The `memory.stat` map in v1 spelling (`cache`, `rss`, then `total_*` copies and
    /// `hierarchical_memory_limit`).
    pub fn memory_stat_v1(&self, unlimited: u64) -> Vec<(String, u64)> {
        let v2 = self.memory_stat_v2();
        let get = |k: &str| v2.get(k).copied().unwrap_or(0);
        let mut own: Vec<(String, u64)> = vec![
            ("cache".into(), get("file")),
            ("rss".into(), get("anon")),
            ("rss_huge".into(), 0),
            ("shmem".into(), get("shmem")),
            ("mapped_file".into(), get("file_mapped")),
            ("dirty".into(), get("file_dirty")),
            ("writeback".into(), get("file_writeback")),
            ("pgfault".into(), get("pgfault")),
            ("pgmajfault".into(), get("pgmajfault")),
            ("inactive_anon".into(), get("inactive_anon")),
            ("active_anon".into(), get("active_anon")),
            ("inactive_file".into(), get("inactive_file")),
            ("active_file".into(), get("active_file")),
            ("unevictable".into(), get("unevictable")),
        ];
        for (k, v) in &self.memory_stat {
            if !own.iter().any(|(o, _)| o == k) && !v2_only(k) {
                own.push((k.clone(), *v));
            }
        }
        let mut out = own.clone();
        out.push((
            "hierarchical_memory_limit".into(),
            self.memory_limit.unwrap_or(unlimited),
        ));
        out.extend(own.into_iter().map(|(k, v)| (format!("total_{k}"), v)));
        out
    }
}

/// Keys only v2's `memory.stat` has, left out of the v1 file.
fn v2_only(key: &str) -> bool {
    matches!(
        key,
        "anon" | "file" | "kernel_stack" | "file_mapped" | "file_dirty" | "file_writeback"
    )
}

/// A stable 64-hex id from a name, so the same spec always gives the same paths.
pub fn id_from_name(name: &str) -> String {
    (0u8..4)
        .map(|i| {
            let mut seed = name.as_bytes().to_vec();
            seed.push(i);
            format!("{:016x}", crate::libpod_files::fnv1a64(&seed))
        })
        .collect()
}
