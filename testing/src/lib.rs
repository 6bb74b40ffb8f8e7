//! Testing container-metrics code without the hosts: replay captured hosts, or build
//! synthetic ones from typed values.
//!
//! Two halves, one output:
//!
//! - [`Capture`]: a snapshot or series recorded on a real host (`libpod-stats capture`, or
//!   the ones bundled under `fixtures/`). [`Capture::replay`] runs the same
//!   [`Collector`](libpod_stats::Collector) the CLI and the collectd plugin use
//!   over each step and returns a [`Replay`]: per step, [`Samples`] sorted by name then id,
//!   pod totals and problems, all `Serialize` for insta. [`VOLATILE_FIELDS`] are the insta
//!   selectors of what changes from one capture to the next (ids, cgroup paths, network
//!   namespaces, times).
//! - [`HostBuilder`]: a whole snapshot directory from a description of a host (its cgroup
//!   [`Layout`], memory, cpus, time) and its container stores ([`StoreSpec`]) with pods
//!   ([`PodSpec`]) and containers ([`ContainerSpec`]) in any state, each with the
//!   [`Counters`] its cgroup shows. A [`Series`] writes it step after step, with the counters
//!   advanced in between. A unit test needs no capture at all.
//!
//! # A snapshot test over a captured host
//!
//! The bundled series `fixtures/cgroupv1/series-podman` was captured from real podman 4.3.1:
//! three steps one second apart, an idle container and a cpu burner. This is the whole test
//! (the core's `tests/integration/downstream_insta.rs` in the repository is the same code);
//! for your own capture, point it at your directory and review the first snapshot with `cargo insta review`
//! (`cargo install cargo-insta`; or run once with `INSTA_UPDATE=always` and read the `.snap`
//! file it writes). The test needs, in your `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! libpod-stats-testing = "0.1"
//! insta = { version = "1", features = ["yaml"] }
//! ```
//!
//! and a capture: `libpod-stats capture --out tests/captures/my-host --count 3 --interval 1`
//! on a host running podman (redacted by default: only the fields the readers use are kept,
//! see the README's `capture` section).
//!
//! ```
//! use libpod_stats_testing::{volatile_redactions, Capture};
//!
//! let series = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/cgroupv1/series-podman");
//! let replay = Capture::open(series)?.replay()?;
//!
//! // Plain assertions: the burner uses about one core between steps, never at the first.
//! let burner = replay.of("lpstest-burner");
//! assert_eq!(burner.len(), 3);
//! assert_eq!(burner[0].cpu_percent, None);
//! assert!(burner[2].cpu_percent.is_some_and(|p| p > 20.0));
//!
//! // The whole replay as a reviewed golden file. The redactions are only needed when the
//! // capture is remade now and then (new ids, times): `volatile_redactions()` (the default
//! // feature `insta`) hides VOLATILE_FIELDS and keeps a null a null.
//! volatile_redactions().bind(|| insta::assert_yaml_snapshot!("series_podman", replay));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A unit test with no capture
//!
//! [`HostBuilder::build`] writes everything the library reads, exactly where it reads it:
//!
//! - `snapshot.json`, `proc/self/mountinfo`, `proc/meminfo`, the cgroup hierarchy roots;
//! - per store: `etc/containers/storage.conf` (root store) or an `etc/passwd` user (rootless),
//!   podman's database (BoltDB or SQLite, by
//!   [`libpod_stats::write_state`]) with
//!   podman's JSON keys, `<driver>-containers/containers.json` (or
//!   `volatile-containers.json` for `--rm`), each bundle's `config.json` and run dir pidfile;
//! - per running or paused container: its cgroup in every hierarchy with the counters in
//!   the layout's file formats, `proc/<pid>/cgroup` and `proc/<pid>/net/dev`.
//!
//! A time series is a [`Series`]: push the builder, change counters (or
//! [`HostBuilder::advance`] them all), push again: `000/`, `001/`, ... . Open it with
//! [`Series::capture`] and replay it like a real capture:
//!
//! ```
//! use libpod_stats::ContainerState;
//! use libpod_stats_testing::{ContainerSpec, HostBuilder, Layout, Series};
//!
//! let dir = tempfile::tempdir()?;
//! let mut host = HostBuilder::new()
//!     .layout(Layout::V2)
//!     .container(ContainerSpec::new("web").with_counters(|c| c.cpu_ns = 5_000_000_000))
//!     .container(ContainerSpec::new("done").state(ContainerState::Exited));
//! let mut series = Series::new(dir.path());
//! let built = series.push(&host)?;
//! assert!(built.container("web").unwrap().cgroup.as_deref().unwrap().starts_with("/libpod_parent/libpod-"));
//!
//! // One second later, every container used half a cpu and moved 1 MiB.
//! host.advance(1_000_000_000, |c| c.counters.advance(500_000_000, 1 << 20, 1 << 20));
//! series.push(&host)?;
//!
//! let replay = series.capture()?.replay()?;
//! let web = replay.of("web");
//! assert_eq!(web[1].cpu_ns, Some(5_500_000_000));
//! assert_eq!(web[1].cpu_percent, Some(50.0));
//! // Exited containers have no cgroup: they are not sampled.
//! assert_eq!(replay.last().unwrap().samples.names(), ["web"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capture;
mod cgroupfs;
mod libpod_files;
mod spec;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[cfg(feature = "insta")]
pub use capture::volatile_redactions;
pub use capture::{Capture, Replay, Samples, Step, VOLATILE_FIELDS, VOLATILE_PLACEHOLDER};
pub use cgroupfs::{meminfo, mountinfo, net_dev, proc_cgroup, V1_UNLIMITED};
pub use libpod_files::{go_time, image_id, slice_path};
pub use spec::{
    id_from_name, Backend, ContainerSpec, Counters, Layout, PodSpec, ProcEntry, StoreSpec,
};
pub use write::{BuildError, Out};

use libpod_files::Placement;
use libpod_stats::{
    write_state, RawContainer, RawPod, RawState, RuntimeConfig, SnapshotMeta, StateFormat,
};

/// pid 1's `ns/net` link text when [`HostBuilder::netns_links`] is on.
const HOST_NETNS: &str = "net:[4026531840]";

/// A stable `ns/net` link text for the namespace of a container or pod id.
fn netns_link(owner_id: &str) -> String {
    let n = libpod_files::fnv1a64(owner_id.as_bytes()) % 1_000_000;
    format!("net:[{}]", 4_026_532_000 + n)
}

/// The first pid handed to a running container without one; the next get +10 each.
const FIRST_PID: u32 = 1000;

/// A whole synthetic host; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBuilder {
    /// The cgroup layout.
    pub layout: Layout,
    /// What `snapshot.json` says.
    pub meta: SnapshotMeta,
    /// The host's memory (`MemTotal`), bytes.
    pub mem_total: u64,
    /// The stores; [`HostBuilder::container`] and [`HostBuilder::pod`] add to the first
    /// one, creating the root store when there is none.
    pub stores: Vec<StoreSpec>,
    /// Files written after everything else (host path, content), replacing what the
    /// builder wrote: a broken database, an odd `storage.conf`.
    pub extra_files: Vec<(PathBuf, Vec<u8>)>,
    /// Host paths removed at the end (files or whole directories): a missing
    /// `memory.stat`, a vanished cgroup.
    pub removed: Vec<PathBuf>,
    /// Whether to write `proc/<pid>/ns/net` links (each container its own network
    /// namespace, a pod's members one for the pod, pid 1 the host's), without which the
    /// collector cannot tell a container's traffic from the host's and reports `null`.
    pub netns_links: bool,
}

impl Default for HostBuilder {
    fn default() -> Self {
        HostBuilder {
            layout: Layout::default(),
            meta: SnapshotMeta {
                // 2026-11-25T00:00:00Z
                taken_at_ns: 1_795_564_800_000_000_000,
                online_cpus: 2,
                hostname: "testhost".to_string(),
                kernel: "6.1.0-test-amd64".to_string(),
                extra_stores: Vec::new(),
                store_owners: Default::default(),
            },
            mem_total: 4 << 30,
            stores: Vec::new(),
            extra_files: Vec::new(),
            removed: Vec::new(),
            netns_links: false,
        }
    }
}

/// What [`HostBuilder::build`] made, for a test's assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The snapshot directory.
    pub dir: PathBuf,
    /// Every container, in store then spec order.
    pub containers: Vec<BuiltContainer>,
}

/// One container as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltContainer {
    /// The name.
    pub name: String,
    /// The id.
    pub id: String,
    /// The pod id, when in a pod.
    pub pod_id: Option<String>,
    /// The pid (running and paused containers).
    pub pid: Option<u32>,
    /// The cgroup (relative to a controller root) of a running or paused container.
    pub cgroup: Option<String>,
    /// The store's graph root.
    pub graph_root: PathBuf,
}

impl Built {
    /// The container named `name`.
    pub fn container(&self, name: &str) -> Option<&BuiltContainer> {
        self.containers.iter().find(|c| c.name == name)
    }
}

impl HostBuilder {
    /// A hybrid (this machine's) host with 2 cpus, 4 GiB and no stores.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the cgroup layout.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Sets the snapshot time (ns since the epoch).
    pub fn taken_at_ns(mut self, ns: u64) -> Self {
        self.meta.taken_at_ns = ns;
        self
    }

    /// Sets the number of online cpus.
    pub fn online_cpus(mut self, cpus: u32) -> Self {
        self.meta.online_cpus = cpus;
        self
    }

    /// Sets the host's memory.
    pub fn mem_total(mut self, bytes: u64) -> Self {
        self.mem_total = bytes;
        self
    }

    /// Writes `content` at `host_path` after everything else (replacing a built file).
    pub fn file(mut self, host_path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) -> Self {
        self.extra_files.push((host_path.into(), content.into()));
        self
    }

    /// Removes `host_path` (a file or a whole directory) after everything else is written.
    pub fn remove(mut self, host_path: impl Into<PathBuf>) -> Self {
        self.removed.push(host_path.into());
        self
    }

    /// Writes `proc/<pid>/ns/net` links so that the network counters
    /// ([`Counters::rx_bytes`], [`Counters::tx_bytes`]) reach the samples. The members of a
    /// pod share one namespace, whose counters are those of the pod's first listed member.
    pub fn with_netns_links(mut self) -> Self {
        self.netns_links = true;
        self
    }

    /// Adds a store.
    pub fn store(mut self, store: StoreSpec) -> Self {
        self.stores.push(store);
        self
    }

    fn first_store(&mut self) -> &mut StoreSpec {
        if self.stores.is_empty() {
            self.stores.push(StoreSpec::root());
        }
        &mut self.stores[0]
    }

    /// Adds a container to the first store (the root store when there is none yet).
    pub fn container(mut self, container: ContainerSpec) -> Self {
        self.first_store().containers.push(container);
        self
    }

    /// Adds a pod to the first store.
    pub fn pod(mut self, pod: PodSpec) -> Self {
        self.first_store().pods.push(pod);
        self
    }

    /// The container named `name`, in any store, to change between the steps of a series.
    pub fn container_mut(&mut self, name: &str) -> Option<&mut ContainerSpec> {
        self.stores
            .iter_mut()
            .flat_map(|s| s.containers.iter_mut())
            .find(|c| c.name == name)
    }

    /// Moves time on by `ns` and lets `work` change every container (typically
    /// [`Counters::advance`]).
    ///
    /// A container without an explicit [`ContainerSpec::started_ns`] (or a pod's infra
    /// container without [`PodSpec::infra_started_ns`]) gets its start pinned to the one it
    /// had so far (a minute before the snapshot), so that it stays the same
    /// instance for the collector instead of looking restarted.
    pub fn advance(&mut self, ns: u64, mut work: impl FnMut(&mut ContainerSpec)) {
        let default_start = self.meta.taken_at_ns.saturating_sub(60_000_000_000);
        self.meta.taken_at_ns += ns;
        for pod in self.stores.iter_mut().flat_map(|s| s.pods.iter_mut()) {
            pod.infra_started_ns.get_or_insert(default_start);
        }
        for c in self.stores.iter_mut().flat_map(|s| s.containers.iter_mut()) {
            c.started_ns.get_or_insert(default_start);
            work(c);
        }
    }

    /// Writes the snapshot into `dir` (created if needed).
    pub fn build(&self, dir: &Path) -> Result<Built, BuildError> {
        let out = Out::new(dir);
        out.dir("/")?;
        self.meta
            .write(dir)
            .map_err(|e| BuildError::Spec(e.to_string()))?;
        out.write("/proc/self/mountinfo", mountinfo(self.layout))?;
        out.write("/proc/meminfo", meminfo(self.mem_total))?;
        cgroupfs::write_roots(&out, self.layout)?;
        self.write_passwd(&out)?;
        if self.netns_links {
            out.symlink(HOST_NETNS, "/proc/1/ns/net")?;
        }

        let mut next_pid = FIRST_PID;
        let mut built = Vec::new();
        let mut root_conf_written = false;
        for store in &self.stores {
            if !store.is_rootless() && !root_conf_written {
                out.write(
                    "/etc/containers/storage.conf",
                    format!(
                        "[storage]\ndriver = \"{}\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                        store.driver,
                        store.graph_root.display(),
                        store.run_root.display()
                    ),
                )?;
                root_conf_written = true;
            }
            built.extend(self.write_store(&out, store, &mut next_pid)?);
        }
        for (path, content) in &self.extra_files {
            out.write(path, content)?;
        }
        for path in &self.removed {
            out.remove(path)?;
        }
        Ok(Built {
            dir: dir.to_path_buf(),
            containers: built,
        })
    }

    fn write_passwd(&self, out: &Out) -> Result<(), BuildError> {
        let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
        for store in &self.stores {
            if let Some((user, uid)) = &store.rootless_user {
                passwd.push_str(&format!("{user}:x:{uid}:{uid}::/home/{user}:/bin/sh\n"));
            }
        }
        out.write("/etc/passwd", passwd)
    }

    /// The containers of `store` with the pods' infra containers added.
    fn containers_of(store: &StoreSpec) -> Vec<ContainerSpec> {
        let mut all = store.containers.clone();
        for pod in store.pods.iter().filter(|p| p.infra) {
            let mut infra =
                ContainerSpec::new(&format!("{}-infra", pod.id.get(..12).unwrap_or(&pod.id)))
                    .id(&id_from_name(&format!("infra/{}", pod.id)))
                    .pod(&pod.name)
                    .image("localhost/podman-pause:4.3.1");
            infra.infra = true;
            infra.started_ns = pod.infra_started_ns;
            all.push(infra);
        }
        all
    }

    fn write_store(
        &self,
        out: &Out,
        store: &StoreSpec,
        next_pid: &mut u32,
    ) -> Result<Vec<BuiltContainer>, BuildError> {
        let taken = self.meta.taken_at_ns;
        let pods: BTreeMap<&str, &PodSpec> =
            store.pods.iter().map(|p| (p.name.as_str(), p)).collect();
        let mut raw = RawState {
            runtime: RuntimeConfig {
                graph_root: Some(store.graph_root.clone()),
                run_root: Some(store.run_root.clone()),
                static_dir: Some(store.graph_root.join("libpod")),
                tmp_dir: Some(match &store.rootless_user {
                    Some((_, uid)) => PathBuf::from(format!("/run/user/{uid}/libpod/tmp")),
                    None => PathBuf::from("/run/libpod"),
                }),
                graph_driver: Some(store.driver.clone()),
            },
            ..RawState::default()
        };
        let mut storage = Vec::new();
        let mut volatile = Vec::new();
        let mut built = Vec::new();
        let mut infra_ids: BTreeMap<String, String> = BTreeMap::new();

        for c in Self::containers_of(store) {
            let pod = match &c.pod {
                Some(name) => Some(*pods.get(name.as_str()).ok_or_else(|| {
                    BuildError::Spec(format!("container {}: no pod named {name}", c.name))
                })?),
                None => None,
            };
            let assigned = (c.has_cgroup() && c.pid.is_none()).then(|| {
                let pid = *next_pid;
                *next_pid += 10;
                pid
            });
            let place = libpod_files::place(store, &c, pod, assigned, taken);
            if c.infra {
                if let Some(pod) = pod {
                    infra_ids.insert(pod.id.clone(), c.id.clone());
                }
            }
            raw.containers.push(RawContainer {
                id: c.id.clone(),
                name: Some(c.name.clone()),
                pod_id: place.pod_id.clone(),
                config_json: libpod_files::config_json(store, &c, &place)
                    .to_string()
                    .into_bytes(),
                state_json: libpod_files::state_json(store, &c, &place)
                    .to_string()
                    .into_bytes(),
            });
            let entry = libpod_files::storage_entry(&c, &place);
            if c.auto_remove {
                volatile.push(entry);
            } else {
                storage.push(entry);
            }
            self.write_container_files(out, store, &c, &place)?;
            built.push(BuiltContainer {
                name: c.name.clone(),
                id: c.id.clone(),
                pod_id: place.pod_id.clone(),
                pid: place.pid,
                cgroup: place.cgroup.clone(),
                graph_root: store.graph_root.clone(),
            });
        }

        for pod in &store.pods {
            let manager = store
                .containers
                .iter()
                .find(|c| c.pod.as_deref() == Some(pod.name.as_str()))
                .map_or(libpod_stats::CgroupManager::Cgroupfs, |c| c.cgroup_manager);
            let (parent, path) = libpod_files::pod_cgroup(pod, manager);
            raw.pods.push(RawPod {
                id: pod.id.clone(),
                name: Some(pod.name.clone()),
                config_json: libpod_files::pod_config_json(pod, &parent, taken - 120_000_000_000)
                    .to_string()
                    .into_bytes(),
                state_json: libpod_files::pod_state_json(
                    &path,
                    infra_ids.get(&pod.id).map(String::as_str),
                )
                .to_string()
                .into_bytes(),
            });
        }

        let containers_dir = store
            .graph_root
            .join(format!("{}-containers", store.driver));
        out.write(
            containers_dir.join("containers.json"),
            serde_json::Value::Array(storage).to_string(),
        )?;
        if !volatile.is_empty() {
            out.write(
                containers_dir.join("volatile-containers.json"),
                serde_json::Value::Array(volatile).to_string(),
            )?;
        }
        self.write_database(out, store, &raw)?;
        Ok(built)
    }

    fn write_database(
        &self,
        out: &Out,
        store: &StoreSpec,
        raw: &RawState,
    ) -> Result<(), BuildError> {
        let (file, format) = match store.backend {
            Backend::Bolt => (
                store.graph_root.join("libpod/bolt_state.db"),
                StateFormat::Bolt,
            ),
            Backend::Sqlite => (store.graph_root.join("db.sql"), StateFormat::Sqlite),
            Backend::None => return Ok(()),
        };
        out.dir(file.parent().unwrap_or(&store.graph_root))?;
        let real = out.path(&file);
        write_state(raw, format, &real).map_err(|source| BuildError::Io { path: real, source })
    }

    /// What `net/dev` shows for `c`: its own counters, or with [`HostBuilder::netns_links`]
    /// on, a pod member's namespace is the pod's, counted by its first listed member (so
    /// every member, the infra container too, reads the same numbers, as on a real host).
    fn net_counters(&self, store: &StoreSpec, c: &ContainerSpec) -> (u64, u64) {
        let shared = match (&c.pod, self.netns_links) {
            (Some(pod), true) => store
                .containers
                .iter()
                .find(|m| m.pod.as_ref() == Some(pod))
                .map(|m| &m.counters),
            _ => None,
        };
        let counters = shared.unwrap_or(&c.counters);
        (counters.rx_bytes, counters.tx_bytes)
    }

    fn write_container_files(
        &self,
        out: &Out,
        store: &StoreSpec,
        c: &ContainerSpec,
        place: &Placement,
    ) -> Result<(), BuildError> {
        let driver_dir = format!("{}-containers", store.driver);
        let bundle = store
            .graph_root
            .join(&driver_dir)
            .join(&c.id)
            .join("userdata");
        out.write(
            bundle.join("config.json"),
            libpod_files::oci_spec(c, place).to_string(),
        )?;
        let run = store
            .run_root
            .join(&driver_dir)
            .join(&c.id)
            .join("userdata");
        out.dir(&run)?;
        let Some(pid) = place.pid else {
            return Ok(());
        };
        out.write(run.join("pidfile"), format!("{pid}"))?;
        out.write(run.join("conmon.pid"), format!("{}", pid.saturating_sub(1)))?;
        let proc_cgroup_path = match (&place.cgroup, &c.subgroup) {
            (Some(cg), Some(sub)) => Some(format!("{cg}/{sub}")),
            (Some(cg), None) => Some(cg.clone()),
            (None, _) => None,
        };
        match &c.proc_entry {
            ProcEntry::Missing => {}
            ProcEntry::Present => {
                let cg = proc_cgroup_path
                    .clone()
                    .unwrap_or_else(|| match &store.rootless_user {
                        Some((_, uid)) => format!("/user.slice/user-{uid}.slice/session-1.scope"),
                        None => "/".to_string(),
                    });
                out.write(format!("/proc/{pid}/cgroup"), proc_cgroup(self.layout, &cg))?;
                let (rx, tx) = self.net_counters(store, c);
                out.write(format!("/proc/{pid}/net/dev"), net_dev(rx, tx))?;
                if self.netns_links {
                    let owner = place.pod_id.as_deref().unwrap_or(&c.id);
                    out.symlink(&netns_link(owner), format!("/proc/{pid}/ns/net"))?;
                }
            }
            ProcEntry::Foreign(cg) => {
                out.write(format!("/proc/{pid}/cgroup"), proc_cgroup(self.layout, cg))?;
                out.write(format!("/proc/{pid}/net/dev"), net_dev(0, 0))?;
            }
        }
        if let (Some(cg), Some(proc_cg), true) = (&place.cgroup, &proc_cgroup_path, c.cgroup_files)
        {
            let procs: Vec<u32> = if c.proc_entry == ProcEntry::Present {
                vec![pid]
            } else {
                Vec::new()
            };
            cgroupfs::write_cgroup(
                out,
                self.layout,
                cg,
                proc_cg,
                &procs,
                &c.counters,
                self.meta.online_cpus,
            )?;
        }
        Ok(())
    }
}

/// A series of snapshots (`000/`, `001/`, ...) written one step at a time.
#[derive(Debug, Clone)]
pub struct Series {
    dir: PathBuf,
    steps: usize,
}

impl Series {
    /// A series in `dir` (created if needed), empty so far.
    pub fn new(dir: &Path) -> Self {
        Series {
            dir: dir.to_path_buf(),
            steps: 0,
        }
    }

    /// Writes `host` as the next step and returns what was built.
    pub fn push(&mut self, host: &HostBuilder) -> Result<Built, BuildError> {
        let step = self.dir.join(libpod_stats::series_step_name(self.steps));
        let built = host.build(&step)?;
        self.steps += 1;
        Ok(built)
    }

    /// The series directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The steps written so far, opened for [`Capture::replay`].
    pub fn capture(&self) -> Result<Capture, libpod_stats::SnapshotError> {
        Capture::open(&self.dir)
    }

    /// The number of steps written.
    pub fn len(&self) -> usize {
        self.steps
    }

    /// True before the first step.
    pub fn is_empty(&self) -> bool {
        self.steps == 0
    }
}

#[cfg(test)]
mod tests;
