//! The collector: one call, one read cycle over every container.
//!
//! A [`Collector`] owns what survives between cycles: the discovered containers (re-read
//! only when libpod's state files change, by device, inode, size and mtime), each container
//! instance's previous CPU reading, the host's MemTotal, online CPUs and network namespace.
//! [`Collector::collect`] reads each running or paused container's cgroup and fills the
//! caller's buffer with one [`Sample`] per container, overwriting the samples already there
//! so a steady state reuses their strings.
//!
//! Which metric groups are read is chosen in [`CollectorOptions::metrics`]: `net` skips the
//! `/proc` reads, and each cgroup group opens only its own files.
//!
//! Time is passed in: live callers use [`Timestamp::now`] (rates on the monotonic clock, so
//! a wall-clock jump cannot produce a spike); a replay passes each snapshot's `taken_at_ns`.
//!
//! CPU percent compares two readings of the same container *instance*, identified by id,
//! cgroup and start time: a restarted container (new cgroup, counters from zero) starts over
//! with `null` instead of a negative number or a spike.
//!
//! ## The hot path
//!
//! A steady-state cycle makes no heap allocation and costs little more than the `pread`s it
//! needs (`BENCHMARKS.md` has the numbers):
//!
//! - each container's cgroup files are held open ([`OpenCgroup`]) and re-read with `pread`
//!   at offset 0; only the files the selected [`MetricGroups`] need are opened
//!   ([`MetricGroups::cgroup_files`]), and the slow-moving limits ([`SLOW_FILES`]) are
//!   re-read every [`SLOW_FILES_EVERY`] cycles and whenever a handle is opened;
//!   `/proc/<pid>/net/dev` is held the same way;
//! - `ns/net` is read with `readlink` when `net/dev` is opened, and kept while it is held;
//! - a held file answering ENODEV means the cgroup was removed: the handle is dropped, a
//!   cgroup recreated under the same path is opened at once, and when there is none the
//!   next cycle re-discovers. Snapshot files do not answer ENODEV, so under a snapshot root
//!   the cgroup directory's and `net/dev`'s identity (`stat` device and inode) is checked
//!   each cycle instead: a removed cgroup is a vanished container, one made again under the
//!   same path is read afresh at once (its counters from zero restart the rate);
//! - discovery is cached: each cycle only re-stamps the state files ([`StateWatch`]);
//! - the descriptors held are bounded ([`CollectorOptions::max_open_files`]); containers
//!   past the bound are read with open/read/close every cycle.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cgroup::error::CgroupError;
use crate::cgroup::files::{CgroupFile, FileSet};
use crate::cgroup::handle::OpenCgroup;
use crate::cgroup::memory_stat::SAMPLE_KEYS;
use crate::cgroup::reader::CgroupReader;
use crate::cgroup::stats::{CgroupStats, Limit};
use crate::cgroup::CgroupPath;
use crate::host::{FileId, FileStamp, HostRoot, ResolvedPath};
use crate::libpod::discover::{
    discover_stores, fingerprint_of, DiscoveryError, DiscoveryOptions, StateFingerprint,
};
use crate::libpod::filter::ContainerFilter;
use crate::libpod::health::{self, Health};
use crate::libpod::model::Container;
use crate::libpod::stores::find_stores;
use crate::parse::{meminfo, net_dev};
use crate::stats::cpu_rate::CpuRate;
use crate::stats::metrics;
use crate::stats::pod::pod_samples;
use crate::stats::pod_cgroup::PodCgroups;
use crate::stats::state_watch::StateWatch;
use crate::stats::{MemoryEvents, NetCounters, PodSample, Sample};

use crate::stats::problem::{ContainerProblem, ProblemCause};

use crate::stats::clock::{online_cpus_live, Timestamp};
use crate::stats::metric_groups::MetricGroups;

/// Files whose values rarely change (limits): re-read every [`SLOW_FILES_EVERY`] cycles and
/// whenever a container's files are (re)opened; their last values stand in between.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub const SLOW_FILES: FileSet = FileSet::of(&[
    CgroupFile::MemoryMax,
    CgroupFile::MemoryLimitInBytes,
    CgroupFile::PidsMaxV2,
    CgroupFile::PidsMaxV1,
    CgroupFile::CpuMax,
    CgroupFile::CpuCfsQuotaUs,
    CgroupFile::CpuCfsPeriodUs,
]);

/// How often, in cycles, the [`SLOW_FILES`] are re-read.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub const SLOW_FILES_EVERY: u64 = 10;

/// The default bound on held descriptors: half the soft `RLIMIT_NOFILE` (the other half is
/// left to the host process: collectd's other plugins, sockets, logs), at most 16384.
pub(crate) fn default_max_open_files() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    (soft / 2).min(16_384)
}

/// What the first CPU percent of a container instance is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FirstCpuPercent {
    /// Nothing: the first sample's CPU percent is `null` (streams, the plugin).
    #[default]
    Null,
    /// The container's start: the average since start, as `podman stats --no-stream`.
    SinceStart,
}

/// How a collector discovers and what it reads.
#[derive(Debug, Clone, Default)]
pub struct CollectorOptions {
    /// Which stores discovery looks at.
    pub discovery: DiscoveryOptions,
    /// Also report containers that are not running or paused (identity only, no numbers).
    pub all: bool,
    /// Which metric groups to read.
    pub metrics: MetricGroups,
    /// What the first CPU percent of an instance is.
    pub first_cpu_percent: FirstCpuPercent,
    /// Only containers this filter matches (podman's `--filter`, container arguments); the
    /// empty filter matches all.
    pub filter: ContainerFilter,
    /// The most file descriptors held open over all containers (`N` containers x the
    /// files their metrics need must stay within `RLIMIT_NOFILE`); `None` is
    /// `default_max_open_files`. Containers past the bound are read with open, read and
    /// close every cycle.
    pub max_open_files: Option<usize>,
}

/// A fatal collector error: the host cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The cgroup layout could not be detected.
    #[error("cgroup layout: {0}")]
    Cgroup(#[from] CgroupError),
    /// The snapshot's metadata is unreadable.
    #[error("snapshot metadata: {0}")]
    Snapshot(#[from] crate::snapshot::SnapshotError),
}

/// What a cycle did besides producing samples.
#[derive(Debug, Clone, Default)]
pub struct CycleReport {
    /// True when this cycle re-read libpod's state (first cycle, or the state changed).
    pub rediscovered: bool,
    /// Containers that could not be read (a missing file other than a vanished cgroup, a
    /// file that does not parse). The plugin logs each once.
    pub errors: Vec<ContainerProblem>,
    /// Containers whose cgroup vanished since discovery (stopped between the state read and
    /// the cgroup read): expected, not an error; they are left out of the samples.
    pub vanished: Vec<ContainerProblem>,
    /// Problems of this cycle's discovery (only on cycles that re-discovered).
    pub discovery_errors: Vec<DiscoveryError>,
}

/// One container the collector follows, with what it keeps between cycles.
#[derive(Debug)]
struct Tracked {
    container: Container,
    rate: CpuRate,
    /// The last cgroup read, reused from cycle to cycle; of `memory.stat` it keeps only the
    /// keys the samples need ([`SAMPLE_KEYS`]).
    stats: CgroupStats,
    /// The cgroup's files held open (opened on the first read, dropped when it vanishes).
    handle: Option<OpenCgroup>,
    /// The cgroup's directory in one hierarchy, resolved, to notice with `stat` that it was
    /// removed or recreated (a held file of a removed snapshot directory still reads).
    cgroup_dir: Option<ResolvedPath>,
    /// That directory's identity when `handle` was opened.
    cgroup_dir_id: Option<FileId>,
    /// `/proc/<pid>/net/dev` as a host path.
    net_dev: Option<PathBuf>,
    /// `net/dev` held open and re-read with `pread` (opened on the first read).
    net_file: Option<File>,
    /// `net/dev` resolved, to notice that the process (or the snapshot file) went away.
    net_dev_real: Option<ResolvedPath>,
    /// The held cgroup files are not cgroupfs files (a snapshot): their directory's
    /// identity is checked each cycle, since no ENODEV will say it was removed.
    check_cgroup_dir: bool,
    /// Likewise for `net/dev` when it is not a procfs file.
    check_net_dev: bool,
    /// Its identity when `net_file` was opened.
    net_file_id: Option<FileId>,
    /// `/proc/<pid>/ns/net` resolved under the root, ready for `readlink`.
    ns_link: Option<ResolvedPath>,
    /// The link's text when `net_file` was opened (`ns_len` bytes; 0: none kept). A held
    /// procfs `net/dev` reads the namespace it was opened in, so while it is held this text
    /// stands for it, and `readlink` (a path walk through `/proc/<pid>`, the costliest
    /// call of a steady cycle after the reads) is not made again.
    ns_text: [u8; NS_LINK_MAX],
    ns_len: usize,
    /// Its files did not fit the descriptor budget: read by path each cycle.
    unheld: bool,
    /// The health log resolved, to re-read it only when its stamp moves.
    health_log: Option<ResolvedPath>,
    /// The health log's stamp at the last read (`None`: not there).
    health_stamp: Option<FileStamp>,
    /// What the health log said at the last read.
    health: Option<Health>,
}

/// The container's cgroup directory in the first hierarchy that has it (or the first one).
fn cgroup_dir(root: &HostRoot, reader: &CgroupReader, cgroup: &CgroupPath) -> Option<ResolvedPath> {
    let rel = cgroup.relative();
    let layout = reader.layout();
    let dirs: Vec<PathBuf> = layout
        .hierarchies()
        .filter_map(|h| layout.mount(h).map(|m| m.join(rel)))
        .collect();
    let existing = dirs
        .iter()
        .find(|d| root.metadata(d).is_ok_and(|m| m.is_dir()));
    root.resolved(existing.or(dirs.first())?)
}

impl Tracked {
    /// `watch` is false for a single cycle: the identity checks that compare one cycle's
    /// files with the next need nothing resolved then.
    fn new(
        root: &HostRoot,
        reader: &CgroupReader,
        facts: &HostFacts,
        container: Container,
        watch: bool,
    ) -> Self {
        let (net_dev, ns_link) = match container.pid {
            Some(pid) if container.state.has_cgroup() => (
                Some(PathBuf::from(format!("/proc/{pid}/net/dev"))),
                root.resolved_link(format!("/proc/{pid}/ns/net")),
            ),
            _ => (None, None),
        };
        // On cgroupfs and procfs a held file says itself that its object is gone (ENODEV,
        // or it follows its process): nothing to resolve, `stat` or `statfs` per container.
        let cgroup_dir = match (&container.cgroup, container.state.has_cgroup()) {
            (Some(cg), true) if watch && !facts.kernel_cgroupfs => cgroup_dir(root, reader, cg),
            _ => None,
        };
        let net_dev_real = net_dev
            .as_deref()
            .filter(|_| watch && !facts.kernel_procfs)
            .and_then(|p| root.resolved(p));
        let health_log = container
            .health_log
            .as_deref()
            .and_then(|p| root.resolved(p));
        let check_cgroup_dir = cgroup_dir.as_ref().is_some_and(|d| !d.on_kernel_fs());
        let check_net_dev = net_dev_real.as_ref().is_some_and(|d| !d.on_kernel_fs());
        Tracked {
            container,
            rate: CpuRate::new(),
            stats: CgroupStats::default(),
            handle: None,
            cgroup_dir,
            cgroup_dir_id: None,
            net_dev,
            net_file: None,
            net_dev_real,
            net_file_id: None,
            check_cgroup_dir,
            check_net_dev,
            ns_link,
            ns_text: [0; NS_LINK_MAX],
            ns_len: 0,
            unheld: false,
            health_log,
            health_stamp: None,
            health: None,
        }
    }

    /// Re-reads the health log when its stamp moved since the last read (a `stat` per
    /// cycle; a read, which allocates, only after podman wrote it). A log that exists but
    /// cannot be used is reported once per change.
    fn refresh_health(&mut self, root: &HostRoot, buf: &mut Vec<u8>, report: &mut CycleReport) {
        let Some(log) = &self.health_log else {
            return;
        };
        let stamp = log.stamp();
        if stamp == self.health_stamp {
            return;
        }
        self.health_stamp = stamp;
        self.health = None;
        let Some(path) = self
            .container
            .health_log
            .as_deref()
            .filter(|_| stamp.is_some())
        else {
            return;
        };
        match health::read(root, path, self.container.uid, buf) {
            Ok(h) => self.health = Some(h),
            Err(e) if e.is_expected() => {}
            Err(e) => report.errors.push(problem(
                &self.container,
                ProblemCause::HealthLog {
                    path: path.to_path_buf(),
                    error: Arc::new(e),
                },
            )),
        }
    }

    /// Descriptors this container holds.
    fn open_files(&self) -> usize {
        self.handle.as_ref().map_or(0, OpenCgroup::open_files)
            + usize::from(self.net_file.is_some())
    }

    /// True when `other` is the same instance: same id, cgroup and start.
    fn same_instance(&self, other: &Container) -> bool {
        self.container.id == other.id
            && self.container.cgroup == other.cgroup
            && self.container.started_at_ns == other.started_at_ns
    }
}

/// Facts about the host that do not change between cycles over one root.
#[derive(Debug, Default)]
struct HostFacts {
    mem_total_bytes: Option<u64>,
    online_cpus: Option<u32>,
    /// pid 1's `ns/net` link text (ours on a live host where pid 1's cannot be read).
    host_netns: Option<Vec<u8>>,
    /// Every hierarchy the reader uses is mounted cgroupfs under this root (a live host, or
    /// a snapshot with the real cgroupfs bound in): asked once per root, not per container.
    kernel_cgroupfs: bool,
    /// `/proc` under this root is procfs.
    kernel_procfs: bool,
}

impl HostFacts {
    fn read(root: &HostRoot, reader: &CgroupReader) -> Result<Self, CollectError> {
        let layout = reader.layout();
        let mut mounts = layout
            .hierarchies()
            .filter_map(|h| layout.mount(h))
            .peekable();
        let kernel_cgroupfs = mounts.peek().is_some()
            && mounts.all(|m| root.resolved(m).is_some_and(|r| r.on_kernel_fs()));
        let kernel_procfs = root.resolved("/proc").is_some_and(|r| r.on_kernel_fs());
        let mem_total_bytes = root
            .read("/proc/meminfo")
            .ok()
            .and_then(|text| meminfo::mem_total_bytes(&text).ok().flatten());
        let online_cpus = match root.snapshot_meta()? {
            Some(meta) => Some(meta.online_cpus).filter(|&n| n > 0),
            None if root.is_live() => online_cpus_live(),
            None => None,
        };
        let mut buf = [0u8; 128];
        let host_netns = root
            .resolved_link("/proc/1/ns/net")
            .and_then(|p| p.read_link(&mut buf).map(<[u8]>::to_vec))
            // pid 1's namespaces can be closed even to root (a VM sandbox's init): on the
            // live host our own stands in, as a reader runs in the host's namespace.
            .or_else(|| {
                let own = root
                    .resolved_link("/proc/self/ns/net")
                    .filter(|_| root.is_live())?;
                own.read_link(&mut buf).map(<[u8]>::to_vec)
            });
        Ok(HostFacts {
            mem_total_bytes,
            online_cpus,
            host_netns,
            kernel_cgroupfs,
            kernel_procfs,
        })
    }
}

/// Reads every container's numbers, one cycle per [`collect`](Self::collect) call.
///
/// Keep one collector for the life of the watch: CPU percent needs the previous cycle, and
/// discovery is only redone when libpod's state files change.
///
/// ```
/// use libpod_stats::{Collector, CollectorOptions, HostRoot, Timestamp};
///
/// // Live: `Collector::new(HostRoot::live(), ..)` and `Timestamp::now()` at each cycle.
/// let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cgroupv1/series-podman/002");
/// let root = HostRoot::new(snapshot)?;
/// let taken = root.snapshot_meta()?.unwrap().taken_at_ns;
///
/// let mut collector = Collector::new(root, CollectorOptions::default())?;
/// let mut samples = Vec::new(); // reused from cycle to cycle
/// let report = collector.collect(Timestamp::at(taken), &mut samples)?;
/// assert!(report.errors.is_empty());
/// let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
/// assert_eq!(names, ["lpstest-burner", "lpstest-idle"]);
/// // The first cycle has no previous reading: no CPU percent yet, but the counters.
/// assert_eq!(samples[0].cpu_percent, None);
/// assert_eq!(samples[0].cpu_ns, Some(2_350_559_100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Collector {
    root: HostRoot,
    opts: CollectorOptions,
    reader: CgroupReader,
    facts: HostFacts,
    fingerprint: Option<StateFingerprint>,
    watch: Option<StateWatch>,
    tracked: Vec<Tracked>,
    buf: Vec<u8>,
    /// Cycles run, for the slow files' schedule.
    cycles: u64,
    /// The bound on held descriptors.
    max_open_files: usize,
    /// The pods' own cgroups (their limits and pressure).
    pods: PodCgroups,
}

impl Collector {
    /// A collector over `root` (`/` live, or a snapshot). Nothing is discovered until the
    /// first cycle.
    pub fn new(root: HostRoot, opts: CollectorOptions) -> Result<Collector, CollectError> {
        let reader = CgroupReader::new(root.clone())?;
        let facts = HostFacts::read(&root, &reader)?;
        let max_open_files = opts.max_open_files.unwrap_or_else(default_max_open_files);
        Ok(Collector {
            root,
            opts,
            reader,
            facts,
            fingerprint: None,
            watch: None,
            tracked: Vec::new(),
            buf: vec![0; 4096],
            cycles: 0,
            max_open_files,
            pods: PodCgroups::default(),
        })
    }

    /// File descriptors held open now (at most [`CollectorOptions::max_open_files`]).
    pub fn open_files(&self) -> usize {
        self.tracked.iter().map(Tracked::open_files).sum()
    }

    /// Containers whose cgroup files are held open now.
    pub fn held_containers(&self) -> usize {
        self.tracked.iter().filter(|t| t.handle.is_some()).count()
    }

    /// Points the collector at another root (the next step of a series), keeping each
    /// container instance's previous CPU reading so rates span the steps.
    pub fn retarget(&mut self, root: HostRoot) -> Result<(), CollectError> {
        self.reader = CgroupReader::new(root.clone())?;
        self.facts = HostFacts::read(&root, &self.reader)?;
        self.root = root;
        // The next cycle re-discovers (new paths, new pids) and carries rates over; held
        // files belong to the old root.
        self.fingerprint = None;
        self.watch = None;
        for t in &mut self.tracked {
            t.handle = None;
            t.net_file = None;
            t.unheld = false;
        }
        self.pods.release();
        Ok(())
    }

    /// The root being read.
    pub fn root(&self) -> &HostRoot {
        &self.root
    }

    /// The host's online CPUs as this collector counts them.
    pub fn online_cpus(&self) -> Option<u32> {
        self.facts.online_cpus
    }

    /// The containers of the last discovery, sorted by name.
    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.tracked.iter().map(|t| &t.container)
    }

    /// Re-discovers when the state files changed; carries rates over for instances that
    /// are still the same.
    ///
    /// With `watch` false (a single cycle) the state files are not stamped for a next one.
    fn refresh(&mut self, report: &mut CycleReport, watch: bool) {
        if self.watch.as_ref().is_some_and(StateWatch::unchanged) {
            return;
        }
        // The stores are found once for both the fingerprint and the discovery.
        let d = &self.opts.discovery;
        let stores = find_stores(&self.root, d.rootless_stores, &d.extra_stores);
        let fingerprint = watch.then(|| fingerprint_of(&self.root, &stores));
        if let Some(fingerprint) = fingerprint
            .as_ref()
            .filter(|f| self.fingerprint.as_ref() == Some(f))
        {
            self.watch = Some(StateWatch::new(&self.root, fingerprint));
            return;
        }
        let found = discover_stores(&self.root, d, stores);
        report.rediscovered = true;
        report.discovery_errors = found.errors;
        let mut old = std::mem::take(&mut self.tracked);
        for container in found.containers {
            if !self.opts.all && !container.state.has_cgroup()
                || !self.opts.filter.matches(&container)
            {
                continue;
            }
            let mut t = Tracked::new(&self.root, &self.reader, &self.facts, container, watch);
            if let Some(prev) = old.iter_mut().find(|o| o.same_instance(&t.container)) {
                // The same instance keeps its rate, its held files and its buffers.
                t.rate = std::mem::take(&mut prev.rate);
                if prev.cgroup_dir == t.cgroup_dir {
                    t.handle = prev.handle.take();
                    t.cgroup_dir_id = prev.cgroup_dir_id;
                }
                t.stats = std::mem::take(&mut prev.stats);
                if prev.health_log == t.health_log {
                    (t.health_stamp, t.health) = (prev.health_stamp, prev.health);
                }
                if prev.net_dev_real == t.net_dev_real {
                    t.net_file = prev.net_file.take();
                    t.net_file_id = prev.net_file_id;
                }
            }
            self.tracked.push(t);
        }
        self.pods.track(self.tracked.iter().map(|t| &t.container));
        self.watch = fingerprint.as_ref().map(|f| StateWatch::new(&self.root, f));
        self.fingerprint = fingerprint;
    }

    /// The pod totals of `samples` (this collector's last cycle): the members' counters
    /// summed ([`pod_samples`]), and each pod's limits and pressure read now from the pod's
    /// own cgroup, where it has one. Problems reading a pod's cgroup join `report`.
    pub fn pod_samples(&mut self, samples: &[Sample], report: &mut CycleReport) -> Vec<PodSample> {
        let groups = self.opts.metrics;
        self.pods
            .read(&self.reader, groups, &mut self.buf, &mut report.errors);
        let mut pods = pod_samples(samples);
        for pod in &mut pods {
            self.pods.fill(pod, groups, self.facts.mem_total_bytes);
        }
        pods
    }

    /// One read cycle at time `at`: fills `out` with one sample per container (sorted by
    /// name), reusing the samples already in it.
    ///
    /// Each container is first read (`Tracked::read_cgroup`: its held files, or a problem
    /// and no sample), then its sample is filled (`Tracked::fill_sample`: identity, the
    /// numbers, the CPU rate, the network).
    pub fn collect(
        &mut self,
        at: Timestamp,
        out: &mut Vec<Sample>,
    ) -> Result<CycleReport, CollectError> {
        self.cycle(at, out, true)
    }

    /// Like [`collect`](Self::collect) for a caller that needs one cycle only (a one-shot
    /// command): libpod's state files are not stamped for a next cycle (a dozen `stat`s per
    /// store), so a later `collect` discovers afresh, and no file is held: each is opened,
    /// read and closed (a later `collect` opens what it holds).
    pub fn collect_once(
        &mut self,
        at: Timestamp,
        out: &mut Vec<Sample>,
    ) -> Result<CycleReport, CollectError> {
        self.cycle(at, out, false)
    }

    fn cycle(
        &mut self,
        at: Timestamp,
        out: &mut Vec<Sample>,
        watch: bool,
    ) -> Result<CycleReport, CollectError> {
        let mut report = CycleReport::default();
        self.refresh(&mut report, watch);
        let groups = self.opts.metrics;
        let files = groups.cgroup_files();
        let mut cycle = Cycle {
            root: &self.root,
            reader: &self.reader,
            facts: &self.facts,
            buf: &mut self.buf,
            groups,
            first: self.opts.first_cpu_percent,
            at,
            files,
            skip: if self.cycles.is_multiple_of(SLOW_FILES_EVERY) {
                FileSet::EMPTY
            } else {
                SLOW_FILES
            },
            budget: Budget {
                // Counted once per cycle (no allocation), then kept up to date.
                open: self.tracked.iter().map(Tracked::open_files).sum(),
                max: self.max_open_files,
                per_container: files.len() + usize::from(groups.reads_net()),
            },
            report,
            rediscover: false,
            hold: watch,
        };
        self.cycles = self.cycles.wrapping_add(1);
        let mut filled = 0usize;
        for t in &mut self.tracked {
            cycle.budget.admit(t);
            if groups.state {
                t.refresh_health(cycle.root, cycle.buf, &mut cycle.report);
            }
            let Ok(own_cgroup) = t.read_cgroup(&mut cycle) else {
                // Reported; no sample.
                continue;
            };
            if out.len() <= filled {
                out.push(Sample::default());
            }
            let Some(sample) = out.get_mut(filled) else {
                continue;
            };
            filled += 1;
            t.fill_sample(sample, own_cgroup, &mut cycle);
        }
        out.truncate(filled);
        if cycle.rediscover {
            self.watch = None;
            self.fingerprint = None;
        }
        Ok(cycle.report)
    }
}

/// What every container's read in one cycle shares, borrowed from the [`Collector`] apart
/// from its list of tracked containers, so each container's steps can be methods of
/// [`Tracked`] while that list is walked.
struct Cycle<'a> {
    root: &'a HostRoot,
    reader: &'a CgroupReader,
    facts: &'a HostFacts,
    /// The one read buffer every file of the cycle goes through.
    buf: &'a mut Vec<u8>,
    groups: MetricGroups,
    first: FirstCpuPercent,
    at: Timestamp,
    /// The cgroup files the selected groups need.
    files: FileSet,
    /// The slow files a held handle skips this cycle.
    skip: FileSet,
    budget: Budget,
    report: CycleReport,
    /// A held cgroup vanished: discover again next cycle.
    rediscover: bool,
    /// False for a single cycle ([`Collector::collect_once`]): every container's files are
    /// opened, read and closed, as past the descriptor budget ([`Tracked::unheld`]). Files
    /// held until the process exits cost the kernel more than closing each after its read
    /// (at 1000 containers, 17 000 cgroupfs files: about a third more system time).
    hold: bool,
}

/// The bound on held descriptors over all containers, as the cycle goes.
struct Budget {
    /// Descriptors held now.
    open: usize,
    /// The bound ([`CollectorOptions::max_open_files`]).
    max: usize,
    /// What one more container would hold.
    per_container: usize,
}

impl Budget {
    /// A container not yet holding files whose files would pass the bound is read by path
    /// from now on ([`Tracked::unheld`]), so the host process keeps its descriptors.
    fn admit(&self, t: &mut Tracked) {
        if t.handle.is_none() && !t.unheld && self.open + self.per_container > self.max {
            t.unheld = true;
        }
    }
}

impl Tracked {
    /// Reads the container's cgroup into [`Tracked::stats`]: `Ok(true)` when it was read,
    /// `Ok(false)` when there is none to read (not running, no cgroup of its own, no cgroup
    /// group selected). A failure is reported (a vanished cgroup apart from other errors)
    /// and the container gets no sample this cycle: numbers from a cgroup that could not
    /// be read would be stale or partial.
    fn read_cgroup(&mut self, cy: &mut Cycle<'_>) -> Result<bool, ()> {
        // Discovery leaves a running container without a cgroup only when it has none of
        // its own (`--cgroups=disabled`, rootless podman on cgroup v1): it gets no cgroup
        // numbers, but its identity and network.
        let Some(cgroup) = self
            .container
            .cgroup
            .as_ref()
            .filter(|_| self.container.state.has_cgroup() && cy.groups.reads_cgroup())
        else {
            return Ok(false);
        };
        let was_held = self.handle.is_some();
        // Removed or made again since the handle was opened: its held files are stale. Only
        // snapshots need the check (a `stat` per container per cycle): on cgroupfs a held
        // file of a removed cgroup answers ENODEV.
        if self.check_cgroup_dir {
            let dir_id = self
                .cgroup_dir
                .as_ref()
                .and_then(ResolvedPath::stamp)
                .map(|s| s.file_id());
            if self.handle.is_some() && self.cgroup_dir.is_some() && dir_id != self.cgroup_dir_id {
                self.handle = None;
            }
            if self.handle.is_none() {
                self.cgroup_dir_id = dir_id;
            }
        }
        let before = self.open_files();
        let result = if self.unheld || !cy.hold {
            // Past the budget: open, read, close.
            self.handle = None;
            open_handle(cy.reader, cgroup, cy.files)
                .and_then(|mut h| h.read_into_with(&mut self.stats, FileSet::EMPTY, cy.buf))
        } else {
            read_cgroup(
                cy.reader,
                cgroup,
                (cy.files, cy.skip),
                &mut self.handle,
                &mut self.stats,
                cy.buf,
            )
        };
        cy.budget.open = (cy.budget.open + self.open_files()).saturating_sub(before);
        let Err(e) = result else {
            return Ok(true);
        };
        // A fresh handle next time: a restarted container's cgroup is a new directory under
        // the same path.
        self.handle = None;
        self.rate.reset();
        let vanished = e.is_not_found();
        // A cgroup that was held and is gone for good: the container stopped.
        cy.rediscover |= was_held && vanished;
        let p = problem(
            &self.container,
            ProblemCause::Cgroup {
                cgroup: cgroup.clone(),
                error: Arc::new(e),
            },
        );
        if vanished {
            cy.report.vanished.push(p);
        } else {
            cy.report.errors.push(p);
        }
        Err(())
    }

    /// Overwrites `s` (a reused sample: its strings keep their buffers) with this
    /// container's identity and, when it runs, the numbers of the cgroup just read
    /// (`own_cgroup`), its CPU rate and its network.
    fn fill_sample(&mut self, s: &mut Sample, own_cgroup: bool, cy: &mut Cycle<'_>) {
        let c = &self.container;
        let groups = cy.groups;
        let read = c.state.has_cgroup();
        set_identity(s, c);
        let health = self.health.filter(|_| groups.state);
        s.health = health.map(|h| h.status);
        s.health_code = health.map(|h| h.status.code());
        s.health_failing_streak = health.map(|h| h.failing_streak);
        clear_numbers(s);
        if !read || !groups.reads_net() {
            s.net_namespace = None;
        }
        if !read {
            return;
        }
        if own_cgroup {
            fill_cgroup_numbers(s, &self.stats, groups, cy.facts);
        }
        if groups.reads_cpu_time() && own_cgroup {
            let had_baseline = self.rate.has_baseline();
            let rate = self.rate.update(s.cpu_ns, cy.at.mono_ns);
            s.cpu_percent = match (rate, had_baseline, cy.first) {
                (None, false, FirstCpuPercent::SinceStart) => {
                    metrics::cpu_percent_since_start(s.cpu_ns, c.started_at_ns, cy.at.wall_ns)
                }
                (rate, _, _) => rate,
            };
            s.cpu_percent_normalized =
                metrics::cpu_percent_normalized(s.cpu_percent, cy.facts.online_cpus);
        }
        if groups.reads_net() {
            if self.unheld || !cy.hold {
                self.net_file = None;
            } else if self.net_file.is_none() {
                cy.budget.open += 1;
            }
            fill_net(
                s,
                self,
                groups,
                (cy.root, cy.facts, cy.hold),
                cy.buf,
                &mut cy.report,
            );
        }
    }
}

/// Reads `cgroup`'s `files` through its held handle, opening one when there is none. When
/// the held directory was removed, a cgroup recreated under the same path (a restart podman
/// has not recorded yet) is opened and read at once: it is a new cgroup, whose counters the
/// CPU rate sees go backwards. A held handle skips the files in `skip` (their last values
/// stay); a fresh one reads everything.
fn read_cgroup(
    reader: &CgroupReader,
    cgroup: &CgroupPath,
    (files, skip): (FileSet, FileSet),
    handle: &mut Option<OpenCgroup>,
    stats: &mut CgroupStats,
    buf: &mut Vec<u8>,
) -> Result<(), CgroupError> {
    if let Some(h) = handle.as_mut() {
        let limits = (
            stats.memory.limit,
            stats.pids.limit,
            stats.cpu.quota_us,
            stats.cpu.period_us,
        );
        match h.read_into_with(stats, skip, buf) {
            Err(e) if e.is_not_found() => *handle = None,
            other => {
                if !skip.is_empty() {
                    (
                        stats.memory.limit,
                        stats.pids.limit,
                        stats.cpu.quota_us,
                        stats.cpu.period_us,
                    ) = limits;
                }
                return other;
            }
        }
    }
    open_handle(reader, cgroup, files)
        .and_then(|h| handle.insert(h).read_into_with(stats, FileSet::EMPTY, buf))
}

/// A handle on `cgroup`'s `files` as the collector reads them: of `memory.stat` only the
/// working set's keys are kept.
fn open_handle(
    reader: &CgroupReader,
    cgroup: &CgroupPath,
    files: FileSet,
) -> Result<OpenCgroup, CgroupError> {
    reader
        .open_path(cgroup, files)
        .map(|h| h.keep_memory_stat(SAMPLE_KEYS))
}

fn problem(c: &Container, cause: ProblemCause) -> ContainerProblem {
    ContainerProblem {
        id: c.id.clone(),
        name: c.name.clone(),
        cause,
    }
}

fn set_opt_string(dst: &mut Option<String>, src: Option<&str>) {
    match (dst.as_mut(), src) {
        (Some(d), Some(s)) => {
            d.clear();
            d.push_str(s);
        }
        (None, Some(s)) => *dst = Some(s.to_string()),
        (_, None) => *dst = None,
    }
}

fn set_identity(s: &mut Sample, c: &Container) {
    s.id.clear();
    s.id.push_str(&c.id);
    s.name.clone_from(&c.name);
    set_opt_string(&mut s.pod_id, c.pod_id.as_deref());
    set_opt_string(&mut s.pod_name, c.pod_name.as_deref());
    s.state = Some(c.state);
    s.state_code = Some(c.state.podman_number());
    s.exit_code = c.exit_code;
    s.restart_count = c.restart_count;
    s.uid = c.uid;
    set_opt_string(&mut s.systemd_unit, c.systemd_unit.as_deref());
    set_opt_string(&mut s.cgroup, c.cgroup.as_deref());
}

fn clear_numbers(s: &mut Sample) {
    s.cpu_ns = None;
    s.cpu_user_ns = None;
    s.cpu_system_ns = None;
    s.cpu_percent = None;
    s.cpu_percent_normalized = None;
    s.cpu_periods = None;
    s.cpu_throttled_periods = None;
    s.cpu_throttled_ns = None;
    s.cpu_limit_cores = None;
    s.memory_bytes = None;
    s.memory_working_set_bytes = None;
    s.memory_anon_bytes = None;
    s.memory_limit_bytes = None;
    s.memory_percent = None;
    s.memory_swap_bytes = None;
    s.memory_events = None;
    s.pids = None;
    s.pids_limit = None;
    s.block_read_bytes = None;
    s.block_write_bytes = None;
    s.net = NetCounters::default();
    s.pressure = None;
    // `net_namespace` is left for `fill_net` to overwrite in place (its string is reused).
    s.oom_kills = None;
}

fn fill_cgroup_numbers(
    s: &mut Sample,
    stats: &CgroupStats,
    groups: MetricGroups,
    facts: &HostFacts,
) {
    if groups.seed {
        s.cpu_ns = stats.cpu.usage_ns;
        s.memory_bytes = stats.memory.usage_bytes;
    }
    if groups.cpu {
        s.cpu_ns = stats.cpu.usage_ns;
        s.cpu_user_ns = stats.cpu.user_ns;
        s.cpu_system_ns = stats.cpu.system_ns;
    }
    if groups.memory {
        let m = &stats.memory;
        s.memory_bytes = m.usage_bytes;
        s.memory_working_set_bytes = metrics::working_set_bytes(m.usage_bytes, m.inactive_file());
        s.memory_anon_bytes = m.anon_bytes();
        s.memory_limit_bytes = metrics::memory_limit_bytes(m.limit, facts.mem_total_bytes);
        s.memory_percent = metrics::memory_percent(s.memory_bytes, s.memory_limit_bytes);
    }
    if groups.oom {
        s.oom_kills = stats.memory.oom_kills;
    }
    if groups.pids {
        s.pids = stats.pids.current;
        s.pids_limit = stats.pids.limit.and_then(Limit::value);
    }
    if groups.throttle {
        let c = &stats.cpu;
        (s.cpu_periods, s.cpu_throttled_periods, s.cpu_throttled_ns) =
            (c.nr_periods, c.nr_throttled, c.throttled_ns);
        s.cpu_limit_cores = c.limit_cores();
    }
    if groups.memevents {
        let m = &stats.memory;
        s.memory_swap_bytes = m.swap_bytes;
        let events = MemoryEvents {
            low: m.low_events,
            high: m.high_events,
            max: m.limit_hits,
            oom: m.oom_events,
            oom_kill: m.oom_kills,
        };
        s.memory_events = Some(events).filter(|e| !e.is_empty());
    }
    if groups.pressure {
        s.pressure = Some(stats.pressure).filter(|p| !p.is_empty());
    }
    if groups.blkio {
        s.block_read_bytes = stats.io.read_bytes;
        s.block_write_bytes = stats.io.write_bytes;
    }
}

/// Room for an `ns/net` link's text (`net:[4026531840]`, 16 bytes).
const NS_LINK_MAX: usize = 128;

/// Network bytes of the container's own netns; `None` in the host's netns (those counters
/// are the host's) or when nothing can be read.
fn fill_net(
    s: &mut Sample,
    t: &mut Tracked,
    groups: MetricGroups,
    (root, facts, hold): (&HostRoot, &HostFacts, bool),
    buf: &mut Vec<u8>,
    report: &mut CycleReport,
) {
    let unheld = t.unheld || !hold;
    // While `net/dev` is held, the text read when it was opened stands (see `ns_text`).
    let kept = t.ns_len > 0 && t.net_file.is_some() && !t.check_net_dev && !unheld;
    if !kept {
        t.ns_len = match t.ns_link.as_ref() {
            Some(link) => link.read_link(&mut t.ns_text).map_or(0, <[u8]>::len),
            None => 0,
        };
    }
    let ns = t.ns_text.get(..t.ns_len).filter(|n| !n.is_empty());
    let own_netns = match (ns, facts.host_netns.as_deref()) {
        (Some(ns), Some(host)) => ns != host,
        // Cannot compare: trust podman's record of a netns of its own.
        _ => t.container.netns.as_deref().is_some_and(|n| !n.is_empty()),
    };
    set_opt_string(
        &mut s.net_namespace,
        ns.and_then(|ns| std::str::from_utf8(ns).ok()),
    );
    if !own_netns {
        return;
    }
    let Some(path) = t.net_dev.as_deref() else {
        return;
    };
    let len = if unheld {
        // Past the descriptor budget: open, read, close.
        match root.open(path).ok().and_then(|f| pread_all(&f, buf)) {
            Some(len) => len,
            None => return,
        }
    } else {
        // A snapshot file removed or replaced: reopen. (On procfs a new process is a new
        // pid and so a new discovery; the check would cost a `stat` per cycle.)
        if t.check_net_dev {
            let id = t
                .net_dev_real
                .as_ref()
                .and_then(ResolvedPath::stamp)
                .map(|s| s.file_id());
            if t.net_file.is_some() && t.net_dev_real.is_some() && id != t.net_file_id {
                t.net_file = None;
            }
            if t.net_file.is_none() {
                t.net_file_id = id;
            }
        }
        if t.net_file.is_none() {
            t.net_file = root.open(path).ok();
        }
        let Some(file) = t.net_file.as_ref() else {
            return;
        };
        let Some(len) = pread_all(file, buf) else {
            // Gone (the process exited): open afresh next time.
            t.net_file = None;
            return;
        };
        len
    };
    let Some(text) = buf.get(..len).filter(|t| !t.is_empty()) else {
        return;
    };
    // rx, tx bytes; rx, tx packets; rx, tx errors; rx, tx dropped.
    let mut sums = [0u64; 8];
    for line in net_dev::iter(text) {
        match line {
            Ok(line) if line.is_loopback() => {}
            Ok(line) => {
                let values = [
                    line.rx_bytes,
                    line.tx_bytes,
                    line.rx_packets,
                    line.tx_packets,
                    line.rx_errs,
                    line.tx_errs,
                    line.rx_drop,
                    line.tx_drop,
                ];
                for (sum, v) in sums.iter_mut().zip(values) {
                    *sum = sum.saturating_add(v);
                }
            }
            Err(e) => {
                report.errors.push(problem(
                    &t.container,
                    ProblemCause::NetDev {
                        path: path.to_path_buf(),
                        error: e,
                    },
                ));
                return;
            }
        }
    }
    if groups.net {
        (s.net.rx_bytes, s.net.tx_bytes) = (Some(sums[0]), Some(sums[1]));
    }
    if groups.netdetail {
        s.net.rx_packets = Some(sums[2]);
        s.net.tx_packets = Some(sums[3]);
        s.net.rx_errors = Some(sums[4]);
        s.net.tx_errors = Some(sums[5]);
        s.net.rx_dropped = Some(sums[6]);
        s.net.tx_dropped = Some(sums[7]);
    }
}

/// Reads a held file from offset 0 into `buf` (grown when too small, then kept): the byte
/// count, or `None` on an error. Reads until `pread` answers 0: unlike the one-record cgroup
/// files, `net/dev` is a seq_file of one record per interface, which the kernel hands over
/// a page at a time, so a short read is not its end.
fn pread_all(file: &File, buf: &mut Vec<u8>) -> Option<usize> {
    let mut len = 0usize;
    loop {
        if len == buf.len() {
            let grown = (buf.len() * 2).max(4096);
            buf.resize(grown, 0);
        }
        let spare = buf.get_mut(len..)?;
        match file.read_at(spare, len as u64) {
            Ok(0) => return Some(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
