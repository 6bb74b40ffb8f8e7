//! Captured hosts as test input: open a snapshot or a series, run the collector over it, get
//! samples in a stable order with serde output meant for snapshot tests.
//!
//! A [`Capture`] is a directory made by `libpod-stats capture` (or by [`HostBuilder`] and
//! [`Series`]): one snapshot, or a series `000/`, `001/`, ... . [`Capture::replay`] runs one
//! [`Collector`](libpod_stats::Collector) over its steps in order, exactly as the
//! CLI's `replay` and the collectd plugin's `Replay` do, and returns a [`Replay`]: per step,
//! the container [`Samples`] sorted by name then id, the pod totals and any problem.
//!
//! Replaying a capture is deterministic: times come from each step's `snapshot.json`, so the
//! same capture always gives the same output. What changes is the *capture*: recapture the
//! same containers and their ids, cgroup paths, network namespaces, times and counters all
//! differ. [`VOLATILE_FIELDS`] names the fields that identify a particular run (for insta's
//! redactions), and [`Replay::redact_volatile`] replaces them in place when a test does
//! not use insta.
//!
//! [`HostBuilder`]: super::HostBuilder
//! [`Series`]: super::Series

use std::ops::Deref;
use std::path::{Path, PathBuf};

use serde::Serialize;

use libpod_stats::{
    replay, replay_steps, CollectorOptions, HostError, HostRoot, PodSample, ReplayError,
    ReplayStep, Sample, SnapshotError, SnapshotMeta,
};

/// insta redaction selectors of the fields that differ between two captures of the same
/// containers: ids, pod ids, cgroup paths (they hold the id), network namespaces (inode
/// numbers) and capture times.
///
/// Use them with `insta::Settings::add_redaction` when a test's capture is remade from time to
/// time; a test over a capture checked into the repository does not need them.
pub const VOLATILE_FIELDS: [&str; 5] = [
    ".**.id",
    ".**.pod_id",
    ".**.cgroup",
    ".**.net_namespace",
    ".**.taken_at_ns",
];

/// insta settings that redact every [`VOLATILE_FIELDS`] value to `"[volatile]"` and keep a
/// null a null (a field the kernel does not have stays visible as such). Bind a snapshot
/// assertion in them: `volatile_redactions().bind(|| insta::assert_yaml_snapshot!(replay))`.
/// Needs the feature `insta` (on by default).
#[cfg(feature = "insta")]
pub fn volatile_redactions() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for selector in VOLATILE_FIELDS {
        settings.add_dynamic_redaction(selector, |value, _path| {
            if value.is_nil() {
                value
            } else {
                "[volatile]".into()
            }
        });
    }
    settings
}

/// What [`Replay::redact_volatile`] puts in place of a volatile value (not to be confused
/// with the `REDACTED` a capture writes over secrets).
pub const VOLATILE_PLACEHOLDER: &str = "[redacted]";

/// A captured snapshot or series, ready to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    dir: PathBuf,
    steps: Vec<PathBuf>,
}

impl Capture {
    /// Opens `dir`: a series (`000/`, `001/`, ...) or a single snapshot (a directory with
    /// `snapshot.json`), which is a series of one step.
    pub fn open(dir: impl AsRef<Path>) -> Result<Capture, SnapshotError> {
        let dir = dir.as_ref().to_path_buf();
        let steps = replay_steps(&dir)?;
        Ok(Capture { dir, steps })
    }

    /// The directory opened.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The step directories, in time order.
    pub fn steps(&self) -> &[PathBuf] {
        &self.steps
    }

    /// The number of steps (1 for a single snapshot).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Always false: opening fails on a directory with no step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// `snapshot.json` of step `index`.
    pub fn meta(&self, index: usize) -> Result<SnapshotMeta, SnapshotError> {
        SnapshotMeta::read(self.step_dir(index)?)
    }

    /// Step `index` as a [`HostRoot`], to drive the library's readers directly
    /// ([`CgroupReader`](libpod_stats::CgroupReader),
    /// [`discover`](libpod_stats::discover), ...).
    pub fn root(&self, index: usize) -> Result<HostRoot, HostError> {
        // An index past the end names a directory that does not exist: HostRoot says so.
        let dir = self
            .steps
            .get(index)
            .cloned()
            .unwrap_or_else(|| self.dir.join(libpod_stats::series_step_name(index)));
        HostRoot::new(dir)
    }

    fn step_dir(&self, index: usize) -> Result<&Path, SnapshotError> {
        self.steps
            .get(index)
            .map(PathBuf::as_path)
            .ok_or_else(|| SnapshotError::Io {
                path: self.dir.join(libpod_stats::series_step_name(index)),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
    }

    /// Runs the collector over every step with the default options (root store, running
    /// and paused containers, every metric group).
    pub fn replay(&self) -> Result<Replay, ReplayError> {
        self.replay_with(CollectorOptions::default())
    }

    /// Runs the collector over every step with `opts` (the first step's CPU percent is
    /// always `null`: a replay shows rates between steps).
    pub fn replay_with(&self, opts: CollectorOptions) -> Result<Replay, ReplayError> {
        let steps = replay(&self.dir, opts)?;
        Ok(Replay {
            steps: steps.into_iter().map(Step::from).collect(),
        })
    }
}

/// The result of [`Capture::replay`]: one [`Step`] per snapshot, in time order. Serializes
/// as the list of steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Replay {
    /// The steps.
    pub steps: Vec<Step>,
}

impl Replay {
    /// The last step: the state a one-shot `libpod-stats stats` would show, with rates.
    pub fn last(&self) -> Option<&Step> {
        self.steps.last()
    }

    /// The samples of the container named `name` at each step where it was read.
    pub fn of(&self, name: &str) -> Vec<&Sample> {
        self.steps
            .iter()
            .filter_map(|s| s.samples.get(name))
            .collect()
    }

    /// Replaces every value [`VOLATILE_FIELDS`] names with [`VOLATILE_PLACEHOLDER`] (times
    /// become 0), for tests that compare without insta's redactions.
    pub fn redact_volatile(&mut self) {
        for step in &mut self.steps {
            step.taken_at_ns = 0;
            for s in step.samples.0.iter_mut() {
                s.id = VOLATILE_PLACEHOLDER.to_string();
                redact_opt(&mut s.pod_id);
                redact_opt(&mut s.cgroup);
                redact_opt(&mut s.net_namespace);
            }
            for p in &mut step.pods {
                p.pod_id = VOLATILE_PLACEHOLDER.to_string();
            }
        }
    }
}

fn redact_opt(field: &mut Option<String>) {
    if let Some(v) = field.as_mut() {
        *v = VOLATILE_PLACEHOLDER.to_string();
    }
}

/// One step of a [`Replay`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The step's index (0 for `000/`).
    pub step: usize,
    /// The step directory's name (`000`, or the snapshot's own name).
    pub snapshot: String,
    /// When the step was captured, ns since the Unix epoch.
    pub taken_at_ns: u64,
    /// The containers read, sorted by name then id.
    pub samples: Samples,
    /// Pod totals, sorted by pod name.
    pub pods: Vec<PodSample>,
    /// Containers that could not be read, `name: message`.
    pub errors: Vec<String>,
    /// Containers whose cgroup vanished between discovery and the read.
    pub vanished: Vec<String>,
    /// Discovery problems.
    pub discovery_errors: Vec<String>,
}

impl From<ReplayStep> for Step {
    fn from(s: ReplayStep) -> Self {
        Step {
            step: s.step,
            snapshot: s.snapshot,
            taken_at_ns: s.taken_at_ns,
            samples: Samples::new(s.samples),
            pods: s.pods,
            errors: s.errors,
            vanished: s.vanished,
            discovery_errors: s.discovery_errors,
        }
    }
}

/// Samples in a stable order (name, then id), so two runs serialize identically. Derefs to
/// a slice of [`Sample`]; serializes as a list.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Samples(Vec<Sample>);

impl Samples {
    /// Sorts `samples` by name, then id.
    pub fn new(mut samples: Vec<Sample>) -> Self {
        samples.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Samples(samples)
    }

    /// The first sample of the container named `name`.
    pub fn get(&self, name: &str) -> Option<&Sample> {
        self.0.iter().find(|s| s.name == name)
    }

    /// The container names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|s| s.name.as_str()).collect()
    }

    /// The samples.
    pub fn into_vec(self) -> Vec<Sample> {
        self.0
    }
}

impl Deref for Samples {
    type Target = [Sample];

    fn deref(&self) -> &[Sample] {
        &self.0
    }
}

impl From<Vec<Sample>> for Samples {
    fn from(samples: Vec<Sample>) -> Self {
        Samples::new(samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(rel)
    }

    #[test]
    fn a_single_snapshot_is_a_capture_of_one_step() {
        let c = Capture::open(fixture("cgroupv1/series-podman/001")).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c.meta(0).unwrap().hostname, "vm");
        let replay = c.replay().unwrap();
        assert_eq!(replay.steps.len(), 1);
        assert_eq!(replay.steps[0].snapshot, "001");
        assert!(replay.steps[0]
            .samples
            .iter()
            .all(|s| s.cpu_percent.is_none()));
    }

    #[test]
    fn steps_out_of_range_and_empty_dirs_are_errors_naming_the_path() {
        let c = Capture::open(fixture("cgroupv1/series-podman")).unwrap();
        assert!(c.root(2).is_ok());
        let err = c.root(3).unwrap_err();
        assert!(err.to_string().contains("003"), "{err}");
        assert!(c.meta(3).unwrap_err().is_not_found());

        let empty = tempfile::tempdir().unwrap();
        let err = Capture::open(empty.path()).unwrap_err();
        assert!(matches!(err, SnapshotError::EmptySeries { .. }), "{err}");
    }

    #[test]
    fn samples_sort_by_name_then_id() {
        let s = |name: &str, id: &str| Sample {
            name: name.into(),
            id: id.into(),
            ..Sample::default()
        };
        let samples = Samples::new(vec![s("b", "1"), s("a", "2"), s("a", "1")]);
        let order: Vec<(&str, &str)> = samples
            .iter()
            .map(|s| (s.name.as_str(), s.id.as_str()))
            .collect();
        assert_eq!(order, [("a", "1"), ("a", "2"), ("b", "1")]);
        assert_eq!(samples.get("a").map(|s| s.id.as_str()), Some("1"));
        assert_eq!(
            serde_json::to_value(&samples).unwrap()[2]["name"],
            serde_json::json!("b")
        );
    }
}
