//! One capture: everything the reader needs about a host's containers, in the snapshot
//! layout, and nothing else.
//!
//! What is copied is an allow-list, built from what discovery found:
//!
//! - cgroupfs: the cgroup mounts' layout (`proc/self/mountinfo`, the controller symlinks in
//!   `/sys/fs/cgroup`, each mount's `cgroup.controllers`), and every readable regular file
//!   of each container's cgroup directory in every hierarchy;
//! - `/proc`: `meminfo`, each container process's `cgroup`, `stat` and `net/dev`, its `ns/net`
//!   link and pid 1's (as symlinks with the kernel's link text);
//! - libpod: each store's state database (written afresh when redacting), its
//!   containers/storage lists, each container's bundle `config.json`, pidfile and
//!   `conmon.pid`; the `storage.conf` files and `/etc/passwd` discovery read;
//! - `snapshot.json`.
//!
//! Never layers, images, volumes or podman's secrets store: nothing outside the list is
//! ever opened.
//!
//! Redacting (the default), what is copied is reduced too: the JSON records to the fields
//! the readers use ([`redact`](crate::capture::redact)), `/etc/passwd`, each `stat`,
//! `mountinfo` and the configuration files to what discovery reads
//! ([`reduce`]), and the host name in `snapshot.json` is
//! `REDACTED`. The cgroup files, `meminfo`, `/proc/<pid>/cgroup` and `net/dev`, the pid
//! files and the namespace links are kernel counters, cgroup paths, interface names and
//! pids, and are copied as they are.

use std::path::{Path, PathBuf};

use crate::capture::redact::{RecordKind, Redactor, REDACTED};
use crate::capture::reduce;
use crate::capture::state_db::{copy_state_db, StateDbError};
use crate::capture::writer::{SkipReason, SnapshotWriter, WriteCounts, WriteError};
use crate::cgroup::CgroupPath;
use crate::host::HostRoot;
use crate::libpod::discover::{discover, DiscoveryOptions, DiscoveryReport};
use crate::libpod::model::Container;
use crate::libpod::storage;
use crate::libpod::stores::find_stores;
use crate::parse::mountinfo;
use crate::snapshot::{SnapshotError, SnapshotMeta};
use crate::stats::clock::online_cpus_live;

/// What to capture and how.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Which stores to read (as discovery does).
    pub discovery: DiscoveryOptions,
    /// Keep only what the readers use (the allow-list of [`redact`](crate::capture::redact)
    /// and `reduce`); `false` copies the files whole.
    pub redact: bool,
    /// Labels whose values a redacted capture keeps, besides `PODMAN_SYSTEMD_UNIT`.
    pub keep_labels: Vec<String>,
    /// The time to record in `snapshot.json` (default: now, or the source's own time when
    /// the source is a snapshot). Tests pin it to compare with a live read.
    pub taken_at_ns: Option<u64>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            discovery: DiscoveryOptions::default(),
            redact: true,
            keep_labels: Vec::new(),
            taken_at_ns: None,
        }
    }
}

/// A capture failed as a whole (the destination, or the source's metadata).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The snapshot could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The source's or the destination's `snapshot.json`.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The state database could not be written.
    #[error(transparent)]
    StateDb(#[from] StateDbError),
    /// The destination exists and is not empty.
    #[error("{0}: exists and is not empty; capture writes only into a new or empty directory")]
    NotEmpty(PathBuf),
}

/// What one capture did.
#[derive(Debug, Clone, Default)]
pub struct CaptureSummary {
    /// Containers discovered.
    pub containers: usize,
    /// Containers with a cgroup that was copied.
    pub with_cgroup: usize,
    /// Files, bytes and links written.
    pub counts: WriteCounts,
    /// Source files not copied, with the reason (missing files of stopped containers
    /// excluded).
    pub skipped: Vec<String>,
    /// Discovery's problems on the source.
    pub discovery_errors: Vec<String>,
    /// The time recorded.
    pub taken_at_ns: u64,
}

struct Run<'a> {
    source: &'a HostRoot,
    writer: SnapshotWriter,
    /// `None`: not redacting.
    redactor: Option<Redactor>,
    skipped: Vec<String>,
}

impl Run<'_> {
    fn note(&mut self, result: Result<(), SkipReason>, quiet_if_missing: bool) {
        if let Err(reason) = result {
            if !(quiet_if_missing && reason.is_not_found()) {
                self.skipped.push(reason.to_string());
            }
        }
    }

    fn file(&mut self, host_path: &Path, quiet_if_missing: bool) -> Result<(), WriteError> {
        let r = self.writer.copy_file(self.source, host_path)?;
        self.note(r, quiet_if_missing);
        Ok(())
    }

    /// A JSON record, redacted when asked (withheld when it cannot be).
    fn json(
        &mut self,
        host_path: &Path,
        kind: RecordKind,
        quiet_if_missing: bool,
    ) -> Result<(), WriteError> {
        let redactor = self.redactor.clone();
        let r = self
            .writer
            .copy_file_with(self.source, host_path, |bytes| match &redactor {
                Some(r) => r.redact_bytes(kind, &bytes).map_err(|e| e.to_string()),
                None => Ok(bytes),
            })?;
        self.note(r, quiet_if_missing);
        Ok(())
    }

    /// A text file, reduced by `reduce` when redacting (withheld when it cannot be).
    fn reduced(
        &mut self,
        host_path: &Path,
        reduce: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
        quiet_if_missing: bool,
    ) -> Result<(), WriteError> {
        if self.redactor.is_none() {
            return self.file(host_path, quiet_if_missing);
        }
        let r = self
            .writer
            .copy_file_with(self.source, host_path, |bytes| {
                reduce(&bytes).ok_or_else(|| "cannot be reduced to what is read".to_string())
            })?;
        self.note(r, quiet_if_missing);
        Ok(())
    }

    fn link(&mut self, host_path: &Path, quiet_if_missing: bool) -> Result<(), WriteError> {
        let r = self.writer.copy_link(self.source, host_path)?;
        self.note(r, quiet_if_missing);
        Ok(())
    }

    fn dir_files(&mut self, host_dir: &Path) -> Result<bool, WriteError> {
        let Ok(files) = SnapshotWriter::regular_files_in(self.source, host_dir) else {
            return Ok(false);
        };
        for f in files {
            self.file(&f, true)?;
        }
        Ok(true)
    }
}

/// The mount points of cgroup hierarchies in the source's `proc/self/mountinfo`.
fn cgroup_mounts(mountinfo_text: &[u8]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = mountinfo::iter(mountinfo_text)
        .filter_map(Result::ok)
        .filter(|m| m.fs_type == b"cgroup" || m.fs_type == b"cgroup2")
        .map(|m| m.mount_point.to_path_buf())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn uname() -> (Option<String>, Option<String>) {
    // SAFETY: a zeroed utsname is valid storage for uname to fill.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is writable.
    if unsafe { libc::uname(&mut u) } != 0 {
        return (None, None);
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8(bytes).ok()
    };
    (field(&u.nodename), field(&u.release))
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The metadata to record: the source's own when it is a snapshot, the live host's otherwise.
fn meta_for(source: &HostRoot, opts: &CaptureOptions) -> Result<SnapshotMeta, CaptureError> {
    let mut meta = match source.snapshot_meta()? {
        Some(meta) => meta,
        None => {
            let (hostname, kernel) = uname();
            SnapshotMeta {
                taken_at_ns: now_ns(),
                online_cpus: online_cpus_live().unwrap_or(0),
                hostname: hostname.unwrap_or_default(),
                kernel: kernel.unwrap_or_default(),
                extra_stores: Vec::new(),
                store_owners: Default::default(),
            }
        }
    };
    if let Some(at) = opts.taken_at_ns {
        meta.taken_at_ns = at;
    }
    for store in &opts.discovery.extra_stores {
        if !meta.extra_stores.contains(store) {
            meta.extra_stores.push(store.clone());
        }
    }
    if opts.redact {
        meta.hostname = REDACTED.to_string();
    }
    Ok(meta)
}

fn ensure_empty(dest: &Path) -> Result<(), CaptureError> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(CaptureError::NotEmpty(dest.to_path_buf()));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(WriteError {
            path: dest.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// The per-container files of the stores: bundle `config.json`, pidfile, `conmon.pid`.
fn container_store_files(
    source: &HostRoot,
    report: &DiscoveryReport,
    c: &Container,
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut json = Vec::new();
    let mut plain = Vec::new();
    for s in &report.stores {
        let store = &s.store;
        if c.graph_root.as_deref() != Some(store.graph_root.as_path()) {
            continue;
        }
        for dir in store.containers_dirs(source) {
            json.push(dir.join(c.id.as_str()).join("userdata/config.json"));
            if let (Some(run), Some(name)) = (&store.run_root, dir.file_name()) {
                let run_dir = run.join(name).join(c.id.as_str()).join("userdata");
                plain.push(run_dir.join("pidfile"));
                plain.push(run_dir.join("conmon.pid"));
            }
        }
    }
    (json, plain)
}

/// Captures `source` into the snapshot directory `dest` (new or empty).
///
/// The source is usually [`HostRoot::live`]; here it is a snapshot, which re-captures (and
/// redacts) it. Either way the result replays like the host itself:
///
/// ```
/// use libpod_stats::{capture_snapshot, CaptureOptions, HostRoot};
/// use libpod_stats_testing::Capture;
///
/// let source = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cgroupv1/series-podman/002");
/// let dest = tempfile::tempdir()?;
/// let summary = capture_snapshot(&HostRoot::new(source)?, dest.path(), &CaptureOptions::default())?;
/// assert_eq!(summary.with_cgroup, 2);
///
/// let original = Capture::open(source)?.replay()?;
/// let recaptured = Capture::open(dest.path())?.replay()?;
/// assert_eq!(recaptured.steps[0].samples, original.steps[0].samples);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn capture_snapshot(
    source: &HostRoot,
    dest: &Path,
    opts: &CaptureOptions,
) -> Result<CaptureSummary, CaptureError> {
    ensure_empty(dest)?;
    let report = discover(source, &opts.discovery);
    let mut meta = meta_for(source, opts)?;
    // A snapshot keeps no file owners: record each store's, so discovery under the capture
    // gives its containers the same uid as here.
    meta.store_owners = report
        .stores
        .iter()
        .filter_map(|s| Some((s.store.graph_root.clone(), s.store.uid?)))
        .collect();
    let mut run = Run {
        source,
        writer: SnapshotWriter::new(dest)?,
        redactor: opts
            .redact
            .then(|| Redactor::new(opts.keep_labels.iter().cloned())),
        skipped: Vec::new(),
    };
    let mut summary = CaptureSummary {
        containers: report.containers.len(),
        discovery_errors: report.errors.iter().map(|e| e.to_string()).collect(),
        ..CaptureSummary::default()
    };
    if opts.taken_at_ns.is_none() && source.is_live() {
        // As close to the cgroup reads as possible.
        meta.taken_at_ns = now_ns();
    }

    // The cgroup layout, then each container's cgroup in every hierarchy.
    let mountinfo_path = Path::new("/proc/self/mountinfo");
    let mounts = match SnapshotWriter::read_source(source, mountinfo_path) {
        Ok(text) => match run.redactor.is_some() {
            false => {
                run.writer.write(mountinfo_path, &text)?;
                cgroup_mounts(&text)
            }
            true => match reduce::mountinfo(&text) {
                Some(kept) => {
                    run.writer.write(mountinfo_path, &kept)?;
                    cgroup_mounts(&kept)
                }
                None => {
                    run.skipped.push(
                        SkipReason::NotRedactable {
                            path: mountinfo_path.to_path_buf(),
                            reason: "cannot be reduced to what is read".into(),
                        }
                        .to_string(),
                    );
                    Vec::new()
                }
            },
        },
        Err(reason) => {
            run.skipped.push(reason.to_string());
            Vec::new()
        }
    };
    let mut link_dirs: Vec<PathBuf> = mounts
        .iter()
        .filter_map(|m| m.parent().map(Path::to_path_buf))
        .collect();
    link_dirs.sort();
    link_dirs.dedup();
    for dir in &link_dirs {
        let Ok(names) = source.read_dir_names(dir) else {
            continue;
        };
        for name in names {
            let path = dir.join(&name);
            let is_link = source
                .resolve_no_follow(&path)
                .ok()
                .and_then(|real| std::fs::symlink_metadata(real).ok())
                .is_some_and(|m| m.file_type().is_symlink());
            if is_link {
                run.link(&path, true)?;
            }
        }
    }
    for mount in &mounts {
        for name in ["cgroup.controllers", "cgroup.subtree_control"] {
            run.file(&mount.join(name), true)?;
        }
    }
    for c in &report.containers {
        // A `CgroupPath` stays below each mount point.
        let Some(rel) = c.cgroup.as_ref().map(CgroupPath::relative) else {
            continue;
        };
        let mut copied = false;
        for mount in &mounts {
            copied |= run.dir_files(&mount.join(rel))?;
        }
        if copied {
            summary.with_cgroup += 1;
        }
    }
    // Each pod's own cgroup (its limits and pressure), once per pod.
    let mut pod_cgroups: Vec<&str> = report
        .containers
        .iter()
        .filter_map(crate::stats::pod_cgroup::pod_cgroup_of)
        .collect();
    pod_cgroups.sort_unstable();
    pod_cgroups.dedup();
    for cgroup in pod_cgroups {
        let rel = cgroup.trim_start_matches('/');
        if rel.split('/').any(|p| p == "..") {
            continue;
        }
        for mount in &mounts {
            run.dir_files(&mount.join(rel))?;
        }
    }

    // /proc.
    run.file(Path::new("/proc/meminfo"), false)?;
    run.link(Path::new("/proc/1/ns/net"), true)?;
    for c in &report.containers {
        let Some(pid) = c.pid else { continue };
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        run.file(&proc_dir.join("cgroup"), true)?;
        // Its parent pid tells a container without a cgroup of its own (rootless podman on
        // cgroup v1) from a stranger that reused the pid.
        run.reduced(&proc_dir.join("stat"), reduce::proc_stat, true)?;
        run.file(&proc_dir.join("net/dev"), true)?;
        run.link(&proc_dir.join("ns/net"), true)?;
    }

    // libpod and containers/storage.
    let found = find_stores(
        source,
        opts.discovery.rootless_stores,
        &opts.discovery.extra_stores,
    );
    for conf in &found.config_files {
        if conf == Path::new(crate::libpod::users::PASSWD) {
            continue;
        }
        run.reduced(conf, reduce::containers_toml, true)?;
    }
    let stores = &report.stores;
    run.reduced(
        Path::new(crate::libpod::users::PASSWD),
        |text| Some(reduce::passwd(text, stores)),
        true,
    )?;
    for s in &report.stores {
        if let Some(state) = &s.state_file {
            let dest_path = run.writer.destination(&state.path);
            let r = copy_state_db(source, state, &dest_path, run.redactor.as_ref())?;
            if r.is_ok() {
                run.writer.note_external_file(&dest_path);
            }
            run.note(r, false);
        }
        for list in storage::list_files(source, &s.store) {
            run.json(&list, RecordKind::StorageList, true)?;
        }
    }
    for c in &report.containers {
        let (json, plain) = container_store_files(source, &report, c);
        for p in json {
            run.json(&p, RecordKind::OciConfig, true)?;
        }
        for p in plain {
            run.file(&p, true)?;
        }
        if let Some(log) = &c.health_log {
            run.reduced(log, reduce::health_log, true)?;
        }
    }

    summary.taken_at_ns = meta.taken_at_ns;
    meta.write(dest)?;
    set_owner_only(&dest.join(crate::snapshot::SNAPSHOT_META_FILE))?;
    summary.counts = run.writer.counts().clone();
    summary.skipped = run.skipped;
    Ok(summary)
}

fn set_owner_only(path: &Path) -> Result<(), WriteError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        WriteError {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Captures a series: `count` snapshots `dest/000`, `dest/001`, ... `interval` apart (live),
/// calling `progress` after each.
pub fn capture_series(
    source: &HostRoot,
    dest: &Path,
    count: usize,
    interval: std::time::Duration,
    opts: &CaptureOptions,
    progress: &mut dyn FnMut(usize, &CaptureSummary),
) -> Result<Vec<CaptureSummary>, CaptureError> {
    ensure_empty(dest)?;
    crate::capture::writer::create_private_dir(dest)?;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(interval);
        }
        let step = dest.join(crate::snapshot::series_step_name(i));
        let summary = capture_snapshot(source, &step, opts)?;
        progress(i, &summary);
        out.push(summary);
    }
    Ok(out)
}
