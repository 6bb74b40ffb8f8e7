//! Where samples come from: the live host (or a snapshot under `HostRoot`) or a replayed
//! series, both through the library's [`Collector`].
//!
//! Both sources build their collector lazily and drop it on [`Source::reset`], so a host that
//! cannot be read at start (no cgroup hierarchy yet) is retried every interval, and a panic
//! leaves nothing of the old state behind.

use std::path::PathBuf;

use libpod_stats::{
    pod_samples, replay_steps, Collector, CollectorOptions, ContainerFilter, ContainerProblem,
    CycleReport, DiscoveryOptions, FirstCpuPercent, HostRoot, PodSample, ReplayError, Sample,
    SnapshotMeta, Timestamp,
};

use crate::config::{MemoryUsage, MetricGroups, PluginConfig};
use crate::reader::{CycleError, CycleProblems, Source, Step};

/// The source the plugin reads, chosen by the configuration.
pub type BoxedSource = Box<dyn Source>;

impl Source for BoxedSource {
    fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError> {
        (**self).cycle(out)
    }

    fn reset(&mut self) {
        (**self).reset()
    }

    fn pods(&mut self, samples: &[Sample]) -> (Vec<PodSample>, Vec<ContainerProblem>) {
        (**self).pods(samples)
    }
}

/// Opens the source `cfg` asks for. An error here (a `HostRoot` or `Replay` directory that
/// does not exist, a series without snapshots) stops collectd at start.
pub fn open(cfg: &PluginConfig) -> Result<BoxedSource, String> {
    let opts = collector_options(cfg);
    if let Some(dir) = &cfg.replay {
        let steps = replay_steps(dir).map_err(|e| format!("option `Replay`: {e}"))?;
        return Ok(Box::new(Replay {
            steps,
            next: 0,
            opts,
            collector: None,
            discovery: Discovery::default(),
        }));
    }
    let root = match &cfg.host_root {
        Some(dir) => HostRoot::new(dir).map_err(|e| format!("option `HostRoot`: {e}"))?,
        None => HostRoot::live(),
    };
    Ok(Box::new(Live {
        root,
        opts,
        collector: None,
        discovery: Discovery::default(),
    }))
}

/// The collector's options for this configuration: only the groups dispatched are read.
pub fn collector_options(cfg: &PluginConfig) -> CollectorOptions {
    CollectorOptions {
        discovery: DiscoveryOptions {
            rootless_stores: cfg.rootless_stores,
            extra_stores: cfg.stores.clone(),
            ..DiscoveryOptions::default()
        },
        // State value lists report containers that do not run (an exited one keeps saying
        // so); without them only running and paused containers are read.
        all: cfg.metrics.state,
        metrics: read_groups(cfg),
        first_cpu_percent: FirstCpuPercent::Null,
        max_open_files: None,
        // The configuration checked every selection already.
        filter: ContainerFilter::default()
            .with_label_selection(&cfg.include_labels, &cfg.exclude_labels)
            .unwrap_or_default(),
    }
}

/// The groups the collector reads: those dispatched, plus `memory` when the `seed` group's
/// `pod_memory` is to carry a number from `memory.stat` (`MemoryUsage` other than `raw`).
fn read_groups(cfg: &PluginConfig) -> MetricGroups {
    let mut groups = cfg.metrics;
    if groups.seed && cfg.memory_usage != MemoryUsage::Raw {
        groups.memory = true;
    }
    groups
}

/// The pod totals of `samples` through the collector that read them (each pod's limits and
/// pressure from its own cgroup), or the members' sums alone before there is one.
fn pods_of(
    collector: Option<&mut Collector>,
    samples: &[Sample],
) -> (Vec<PodSample>, Vec<ContainerProblem>) {
    let Some(collector) = collector else {
        return (pod_samples(samples), Vec::new());
    };
    let mut report = CycleReport::default();
    let pods = collector.pod_samples(samples, &mut report);
    (pods, report.errors)
}

/// Discovery problems are only reported on cycles that re-read the state; in between they
/// still hold, so the last ones are repeated (otherwise they would look fixed, then new).
#[derive(Debug, Default)]
struct Discovery {
    last: Vec<(String, String)>,
}

impl Discovery {
    fn problems(&mut self, report: CycleReport) -> CycleProblems {
        if report.rediscovered {
            // Keyed by the message itself: each distinct problem is logged once.
            self.last = report
                .discovery_errors
                .iter()
                .map(|e| (e.to_string(), e.to_string()))
                .collect();
        }
        CycleProblems {
            containers: report.errors,
            discovery: self.last.clone(),
        }
    }
}

/// The live host, or a snapshot directory read as if it were live (`HostRoot`).
struct Live {
    root: HostRoot,
    opts: CollectorOptions,
    collector: Option<Collector>,
    discovery: Discovery,
}

impl Source for Live {
    fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError> {
        let collector = match self.collector.as_mut() {
            Some(c) => c,
            None => self
                .collector
                .insert(Collector::new(self.root.clone(), self.opts.clone())?),
        };
        let report = collector.collect(Timestamp::now(), out)?;
        Ok(Step::Read(self.discovery.problems(report)))
    }

    fn reset(&mut self) {
        self.collector = None;
        self.discovery = Discovery::default();
    }

    fn pods(&mut self, samples: &[Sample]) -> (Vec<PodSample>, Vec<ContainerProblem>) {
        pods_of(self.collector.as_mut(), samples)
    }
}

/// A captured series, one snapshot per read, at the snapshot's own time (so cpu percent is
/// the rate between consecutive snapshots, NaN on the first).
struct Replay {
    steps: Vec<PathBuf>,
    next: usize,
    opts: CollectorOptions,
    collector: Option<Collector>,
    discovery: Discovery,
}

impl Source for Replay {
    fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError> {
        let Some(step) = self.steps.get(self.next).cloned() else {
            return Ok(Step::End);
        };
        // A step that fails is skipped, not retried: the series moves on like time does.
        self.next += 1;
        let meta = SnapshotMeta::read(&step).map_err(ReplayError::from)?;
        let root = HostRoot::new(&step).map_err(ReplayError::from)?;
        // Every collector error names the step it met.
        let in_step = |source| ReplayError::Collect {
            step: step.clone(),
            source,
        };
        let collector = match self.collector.as_mut() {
            Some(c) => {
                c.retarget(root).map_err(in_step)?;
                c
            }
            None => self
                .collector
                .insert(Collector::new(root, self.opts.clone()).map_err(in_step)?),
        };
        let report = collector
            .collect(Timestamp::at(meta.taken_at_ns), out)
            .map_err(in_step)?;
        Ok(Step::Read(self.discovery.problems(report)))
    }

    fn reset(&mut self) {
        self.collector = None;
        self.discovery = Discovery::default();
    }

    fn pods(&mut self, samples: &[Sample]) -> (Vec<PodSample>, Vec<ContainerProblem>) {
        pods_of(self.collector.as_mut(), samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libpod_stats::{ContainerProblem, DiscoveryError, ProblemCause, RecordError};
    use std::sync::Arc;

    #[test]
    fn discovery_problems_hold_between_rediscoveries() {
        let mut d = Discovery::default();
        let first = d.problems(CycleReport {
            rediscovered: true,
            discovery_errors: vec![DiscoveryError::Record {
                path: "bolt_state.db".into(),
                source: RecordError {
                    kind: "container",
                    id: "x".into(),
                    reason: "corrupt".into(),
                },
            }],
            errors: vec![ContainerProblem {
                id: "a".repeat(64).parse().unwrap(),
                name: "web".into(),
                cause: ProblemCause::Cgroup {
                    cgroup: "/web".parse().unwrap(),
                    error: Arc::new(libpod_stats::CgroupError::NotFound {
                        cgroup: "/web".parse().unwrap(),
                    }),
                },
            }],
            ..CycleReport::default()
        });
        assert_eq!(
            first.discovery,
            vec![(
                "bolt_state.db: container x: corrupt".to_string(),
                "bolt_state.db: container x: corrupt".to_string()
            )]
        );
        let lines: Vec<String> = first.containers.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            lines,
            ["web: cgroup /web does not exist in any mounted hierarchy"]
        );
        let quiet = d.problems(CycleReport::default());
        assert_eq!(
            quiet.discovery, first.discovery,
            "not re-read: still failing"
        );
        assert!(quiet.containers.is_empty());
        let fixed = d.problems(CycleReport {
            rediscovered: true,
            ..CycleReport::default()
        });
        assert!(fixed.discovery.is_empty());
    }

    #[test]
    fn options_map_onto_the_collector() {
        let cfg = PluginConfig {
            rootless_stores: false,
            stores: vec![PathBuf::from("/g")],
            metrics: crate::config::MetricGroups {
                net: false,
                ..crate::config::MetricGroups::ALL
            },
            ..PluginConfig::default()
        };
        let o = collector_options(&cfg);
        assert!(!o.discovery.rootless_stores);
        assert_eq!(o.discovery.extra_stores, vec![PathBuf::from("/g")]);
        assert!(!o.metrics.net && o.metrics.cpu);
        assert_eq!(o.first_cpu_percent, FirstCpuPercent::Null);
    }

    #[test]
    fn the_seed_group_reads_memory_stat_only_when_pod_memory_needs_it() {
        let seed = |memory_usage| PluginConfig {
            metrics: MetricGroups {
                seed: true,
                ..MetricGroups::NONE
            },
            memory_usage,
            ..PluginConfig::default()
        };
        let raw = collector_options(&seed(MemoryUsage::Raw)).metrics;
        assert!(raw.seed && !raw.memory && !raw.cpu);
        let ws = collector_options(&seed(MemoryUsage::WorkingSet)).metrics;
        assert!(ws.seed && ws.memory && !ws.cpu);
    }

    #[test]
    fn a_missing_replay_or_host_root_refuses_to_start() {
        let replay = PluginConfig {
            replay: Some(PathBuf::from("/nonexistent/lpstest-series")),
            ..PluginConfig::default()
        };
        assert!(open(&replay).err().unwrap().contains("`Replay`"));
        let root = PluginConfig {
            host_root: Some(PathBuf::from("/nonexistent/lpstest-root")),
            ..PluginConfig::default()
        };
        assert!(open(&root).err().unwrap().contains("`HostRoot`"));
    }
}
