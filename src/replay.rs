//! Replaying a captured series: the collector run over `000/`, `001/`, ... as if the host
//! were being watched live, one cycle per step at the step's `taken_at_ns`.
//!
//! The result is what the collectd plugin would dispatch at each step: the container
//! samples (CPU percent from the deltas between consecutive steps, `null` on the first) and
//! the pod totals. A directory that is itself a snapshot (it has `snapshot.json`) replays as
//! a series of one step.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::host::{HostError, HostRoot};
use crate::snapshot::{series_steps, SnapshotError, SnapshotMeta, SNAPSHOT_META_FILE};
use crate::stats::clock::Timestamp;
use crate::stats::collector::{CollectError, Collector, CollectorOptions, FirstCpuPercent};
use crate::stats::pod::PodSample;
use crate::stats::Sample;

/// Replaying failed before or between steps.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The series or a step's `snapshot.json` could not be read.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A step directory could not be opened as a root.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The collector could not read a step.
    #[error("{step}: {source}")]
    Collect {
        /// The step directory.
        step: PathBuf,
        /// The cause.
        #[source]
        source: CollectError,
    },
}

/// One step of a replay: what the plugin would dispatch at that moment.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayStep {
    /// The step's index in the series (0 for `000/`).
    pub step: usize,
    /// The step directory's name.
    pub snapshot: String,
    /// When the step was captured (ns since the Unix epoch).
    pub taken_at_ns: u64,
    /// One sample per container, sorted by name.
    pub samples: Vec<Sample>,
    /// Pod totals, sorted by pod name.
    pub pods: Vec<PodSample>,
    /// Containers that could not be read at this step, `name: message`.
    pub errors: Vec<String>,
    /// Containers whose cgroup had vanished at this step.
    pub vanished: Vec<String>,
    /// Discovery problems at this step.
    pub discovery_errors: Vec<String>,
}

/// The step directories of `dir`: the series steps, or `dir` itself when it is a snapshot.
pub fn replay_steps(dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    match series_steps(dir) {
        Ok(steps) => Ok(steps),
        Err(SnapshotError::EmptySeries { .. }) if dir.join(SNAPSHOT_META_FILE).is_file() => {
            Ok(vec![dir.to_path_buf()])
        }
        Err(e) => Err(e),
    }
}

/// Runs a collector over every step of the series in `dir`, in order.
///
/// `opts.first_cpu_percent` is forced to `Null`: a replay shows rates between steps.
/// `libpod_stats_testing::Capture` wraps this with a stable sample order for
/// snapshot tests.
///
/// ```
/// use libpod_stats::{replay, CollectorOptions};
///
/// let series = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cgroupv1/series-podman");
/// let steps = replay(std::path::Path::new(series), CollectorOptions::default())?;
/// let percents: Vec<Option<f64>> = steps.iter().map(|s| s.samples[0].cpu_percent).collect();
/// // No rate at the first step, one between each later step and the one before.
/// assert!(percents[0].is_none() && percents[1].is_some() && percents[2].is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replay(dir: &Path, mut opts: CollectorOptions) -> Result<Vec<ReplayStep>, ReplayError> {
    opts.first_cpu_percent = FirstCpuPercent::Null;
    let steps = replay_steps(dir)?;
    let mut collector: Option<Collector> = None;
    let mut out = Vec::with_capacity(steps.len());
    let mut samples = Vec::new();
    for (index, step_dir) in steps.iter().enumerate() {
        let meta = SnapshotMeta::read(step_dir)?;
        let root = HostRoot::new(step_dir)?;
        let collect_err = |source| ReplayError::Collect {
            step: step_dir.clone(),
            source,
        };
        let c = match collector.as_mut() {
            Some(c) => {
                c.retarget(root).map_err(collect_err)?;
                c
            }
            None => collector.insert(Collector::new(root, opts.clone()).map_err(collect_err)?),
        };
        let mut report = c
            .collect(Timestamp::at(meta.taken_at_ns), &mut samples)
            .map_err(collect_err)?;
        let pods = c.pod_samples(&samples, &mut report);
        let name = step_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(ReplayStep {
            step: index,
            snapshot: name,
            taken_at_ns: meta.taken_at_ns,
            pods,
            samples: samples.clone(),
            // A step is serialized output: each problem as its one-line message.
            errors: report.errors.iter().map(ToString::to_string).collect(),
            vanished: report.vanished.iter().map(ToString::to_string).collect(),
            discovery_errors: report
                .discovery_errors
                .iter()
                .map(ToString::to_string)
                .collect(),
        });
    }
    Ok(out)
}
