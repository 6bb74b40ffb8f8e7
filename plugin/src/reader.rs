//! One read interval, apart from collectd: samples in, value lists and log lines out.
//!
//! The [`Reader`] owns what must survive between intervals (the sample source, the reused
//! sample buffer, the problem logs) and knows nothing of collectd's C interface: it hands each
//! value list to a `dispatch` callback and each log line to a `log` callback. That keeps every
//! rule of the plugin (filtering, identifiers, logging once, never dispatching stale values)
//! testable with plain closures.

use std::collections::HashMap;

use libpod_stats::{pod_samples, CollectError, ContainerProblem, PodSample, ReplayError, Sample};
use log::Level;

use crate::config::{InstanceBy, PluginConfig};
use crate::identifier::{instance_text, unit_text, InstanceCache};
use crate::metrics::{
    container_lists, has_pod_lists, pod_lists, ValueList, CONTAINER_PLUGIN, POD_PLUGIN,
};
use crate::problems::ProblemLog;

/// What a source found besides samples in one cycle.
#[derive(Debug, Default, Clone)]
pub struct CycleProblems {
    /// Each container whose read failed this cycle (formatted when logged).
    pub containers: Vec<ContainerProblem>,
    /// `(key, message)` for each discovery problem (an unreadable state database, ...); the
    /// key tells problems apart (a source may use the message itself).
    pub discovery: Vec<(String, String)>,
}

/// The result of asking a source for one cycle.
#[derive(Debug, Clone)]
pub enum Step {
    /// Samples were written to the buffer; these problems were met on the way.
    Read(CycleProblems),
    /// A replay has served its last snapshot: nothing more will come.
    End,
}

/// Why a whole cycle failed: nothing is dispatched, and the message is logged once.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The live host (or the `HostRoot` snapshot) could not be read at all.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// A replayed step could not be read (the error names the step).
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// Where samples come from: the live host, or a replayed series.
pub trait Source: Send {
    /// Runs one cycle, leaving exactly this cycle's samples in `out` (which holds the previous
    /// cycle's samples on entry, so their allocations can be reused). An `Err` is a failure of
    /// the whole cycle (no sample is dispatched), logged once per distinct message.
    fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError>;

    /// Drops every state kept between cycles (after a panic): the next cycle starts over.
    fn reset(&mut self);

    /// The pod totals of `samples` (this cycle's, as selected): the members' counters summed,
    /// and each pod's limits and pressure from the pod's own cgroup where the source reads
    /// one; problems reading a pod's cgroup beside them.
    fn pods(&mut self, samples: &[Sample]) -> (Vec<PodSample>, Vec<ContainerProblem>) {
        (pod_samples(samples), Vec::new())
    }
}

/// One value list as collectd gets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dispatch<'a> {
    /// `libpodstats` or `libpodstats_pod`.
    pub plugin: &'static str,
    /// The container's (or pod's) instance, valid and unique.
    pub plugin_instance: &'a str,
    /// Type, type instance and values.
    pub list: ValueList<'a>,
}

/// The state of the plugin between intervals.
pub struct Reader<S> {
    cfg: PluginConfig,
    source: S,
    samples: Vec<Sample>,
    cycle_failures: ProblemLog,
    container_failures: ProblemLog,
    pod_failures: ProblemLog,
    discovery_failures: ProblemLog,
    dispatch_failures: ProblemLog,
    container_instances: InstanceCache,
    pod_instances: InstanceCache,
    ended: bool,
}

impl<S: Source> Reader<S> {
    /// A reader with nothing read yet.
    pub fn new(cfg: PluginConfig, source: S) -> Self {
        Reader {
            cfg,
            source,
            samples: Vec::new(),
            cycle_failures: ProblemLog::new(),
            container_failures: ProblemLog::new(),
            pod_failures: ProblemLog::new(),
            discovery_failures: ProblemLog::new(),
            dispatch_failures: ProblemLog::new(),
            container_instances: InstanceCache::new(),
            pod_instances: InstanceCache::new(),
            ended: false,
        }
    }

    /// Forgets the source's state (after a panic): the next interval starts over, and nothing
    /// read before is dispatched again.
    pub fn reset(&mut self) {
        self.samples.clear();
        self.source.reset();
    }

    /// One interval: read a cycle and dispatch what it gave. Only this cycle's samples are
    /// dispatched; when the cycle fails, nothing is.
    pub fn read(
        &mut self,
        dispatch: &mut dyn FnMut(&Dispatch<'_>) -> Result<(), String>,
        log: &mut dyn FnMut(Level, String),
    ) {
        if self.ended {
            self.samples.clear();
            return;
        }
        let step = self.source.cycle(&mut self.samples);
        let problems = match step {
            Err(e) => {
                self.samples.clear();
                let changes = self
                    .cycle_failures
                    .cycle([("read".to_string(), e.to_string())]);
                for (_, message) in changes.new {
                    log(Level::Error, format!("read failed: {message}"));
                }
                return;
            }
            Ok(Step::End) => {
                self.samples.clear();
                self.ended = true;
                log(
                    Level::Info,
                    "replay: the last snapshot of the series was served; nothing more will be dispatched"
                        .to_string(),
                );
                return;
            }
            Ok(Step::Read(problems)) => problems,
        };
        for key in self.cycle_failures.cycle([]).cleared {
            log(Level::Info, format!("{key}: working again"));
        }
        self.log_problems(problems, log);

        let cfg = &self.cfg;
        self.samples.retain(|s| cfg.selects(&s.name));
        self.samples
            .sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        let by = cfg.instance_by;
        // For units the text depends on the set (how many containers a unit runs), so it is
        // made here; the cache then keys on (id, text).
        let unit_texts: Vec<String> = if by == InstanceBy::Unit {
            let mut per_unit: HashMap<(Option<u32>, &str), usize> = HashMap::new();
            for s in &self.samples {
                if let Some(unit) = s.systemd_unit.as_deref() {
                    *per_unit.entry((s.uid, unit)).or_default() += 1;
                }
            }
            self.samples
                .iter()
                .map(|s| {
                    let unit = s.systemd_unit.as_deref();
                    let shared = unit.is_some_and(|u| per_unit.get(&(s.uid, u)) > Some(&1));
                    unit_text(&s.name, s.uid, unit, shared)
                })
                .collect()
        } else {
            Vec::new()
        };
        let instances = if by == InstanceBy::Unit {
            self.container_instances.instances(
                self.samples
                    .iter()
                    .zip(&unit_texts)
                    .map(|(s, t)| (s.id.as_str(), t.as_str())),
                |_, text| text.to_string(),
            )
        } else {
            self.container_instances.instances(
                self.samples
                    .iter()
                    .map(|s| (s.id.as_str(), s.name.as_str())),
                |id, name| instance_text(by, name, id),
            )
        };

        let mut failed: Vec<(String, String)> = Vec::new();
        for (sample, instance) in self.samples.iter().zip(instances) {
            container_lists(sample, cfg, |list| {
                let d = Dispatch {
                    plugin: CONTAINER_PLUGIN,
                    plugin_instance: instance,
                    list,
                };
                if let Err(e) = dispatch(&d) {
                    failed.push((format!("{CONTAINER_PLUGIN}-{instance}/{}", list.type_), e));
                }
            });
        }
        if cfg.pods && has_pod_lists(cfg.metrics) {
            let (pods, problems) = self.source.pods(&self.samples);
            let changes = self
                .pod_failures
                .cycle(problems.iter().map(|p| (p.id.to_string(), p.to_string())));
            for (_, message) in changes.new {
                log(Level::Warn, format!("pod cgroup of {message}"));
            }
            let instances = self.pod_instances.instances(
                pods.iter().map(|p| {
                    let id = p.pod_id.as_str();
                    (id, p.pod_name.as_deref().unwrap_or(id))
                }),
                |_, name| name.to_string(),
            );
            for (pod, instance) in pods.iter().zip(instances) {
                pod_lists(pod, cfg, |list| {
                    let d = Dispatch {
                        plugin: POD_PLUGIN,
                        plugin_instance: instance,
                        list,
                    };
                    if let Err(e) = dispatch(&d) {
                        failed.push((format!("{POD_PLUGIN}-{instance}/{}", list.type_), e));
                    }
                });
            }
        }
        let changes = self.dispatch_failures.cycle(failed);
        for (what, message) in changes.new {
            log(
                Level::Error,
                format!("dispatching {what} failed: {message}"),
            );
        }
    }

    fn log_problems(&mut self, problems: CycleProblems, log: &mut dyn FnMut(Level, String)) {
        let changes = self.container_failures.cycle(
            problems
                .containers
                .into_iter()
                // Remembered by id; the line names the container, the path and the cause.
                .map(|p| (p.id.to_string(), p.to_string())),
        );
        for (id, message) in changes.new {
            let short = id.get(..12).unwrap_or(&id);
            log(Level::Warn, format!("container {message} (id {short})"));
        }
        for id in changes.cleared {
            log(Level::Info, format!("container {id}: no longer failing"));
        }
        let changes = self.discovery_failures.cycle(problems.discovery);
        for (_, message) in changes.new {
            log(Level::Error, message);
        }
        // A problem replaced by another is not news; all of them gone is.
        if !changes.cleared.is_empty() && self.discovery_failures.is_empty() {
            log(
                Level::Info,
                "libpod state: every store is readable again".to_string(),
            );
        }
    }

    /// [`read`](Self::read) inside `catch_unwind`: a panic (a bug) costs this interval only.
    /// The state is then reset, so nothing read before the panic is dispatched again.
    /// Returns false when the interval panicked.
    pub fn read_catching_panics(
        &mut self,
        dispatch: &mut dyn FnMut(&Dispatch<'_>) -> Result<(), String>,
        log: &mut dyn FnMut(Level, String),
    ) -> bool {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.read(&mut *dispatch, &mut *log)
        }));
        if outcome.is_err() {
            self.reset();
            return false;
        }
        true
    }

    /// True once a replay has served its last snapshot.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collectd_plugin::Value;
    use std::collections::VecDeque;

    /// A source that serves prepared cycles, then `End`.
    struct Script(VecDeque<Result<(Vec<Sample>, CycleProblems), &'static str>>);

    /// A whole-cycle failure whose message ends in `what`.
    fn cycle_error(what: &str) -> CycleError {
        CycleError::Collect(CollectError::Cgroup(
            libpod_stats::CgroupError::NoCgroupMounts { root: what.into() },
        ))
    }

    impl Source for Script {
        fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError> {
            match self.0.pop_front() {
                None => Ok(Step::End),
                Some(Err(e)) => Err(cycle_error(e)),
                Some(Ok((samples, problems))) => {
                    *out = samples;
                    Ok(Step::Read(problems))
                }
            }
        }
        fn reset(&mut self) {}
    }

    fn sample(name: &str, id: char, cpu: u64) -> Sample {
        Sample {
            id: id.to_string().repeat(64),
            name: name.into(),
            cpu_ns: Some(cpu),
            cpu_percent: Some(1.5),
            ..Sample::default()
        }
    }

    /// Runs one interval, returning `plugin-instance/type values` lines and log lines.
    fn run<S: Source>(r: &mut Reader<S>) -> (Vec<String>, Vec<String>) {
        let mut lists = Vec::new();
        let mut logs = Vec::new();
        r.read(
            &mut |d| {
                let vals: Vec<String> = d.list.values.iter().map(Value::to_string).collect();
                lists.push(format!(
                    "{}-{}/{} {}",
                    d.plugin,
                    d.plugin_instance,
                    d.list.type_,
                    vals.join(" ")
                ));
                if d.plugin_instance.starts_with("bad") {
                    Err("too long".into())
                } else {
                    Ok(())
                }
            },
            &mut |lvl, msg| logs.push(format!("{lvl}: {msg}")),
        );
        (lists, logs)
    }

    fn cpu_only() -> PluginConfig {
        PluginConfig {
            metrics: crate::config::MetricGroups {
                cpu: true,
                ..crate::config::MetricGroups::NONE
            },
            ..PluginConfig::default()
        }
    }

    #[test]
    fn dispatches_each_cycle_then_stops_after_the_last_step() {
        let script = Script(VecDeque::from(vec![
            Ok((vec![sample("web", 'a', 10)], CycleProblems::default())),
            Ok((vec![sample("web", 'a', 20)], CycleProblems::default())),
        ]));
        let mut r = Reader::new(cpu_only(), script);
        assert_eq!(run(&mut r).0, vec!["libpodstats-web/pod_cpu 1.5 10"]);
        assert_eq!(run(&mut r).0, vec!["libpodstats-web/pod_cpu 1.5 20"]);
        let (lists, logs) = run(&mut r);
        assert!(lists.is_empty());
        assert_eq!(logs.len(), 1);
        assert!(logs[0].contains("last snapshot"), "{logs:?}");
        assert!(r.ended());
        assert_eq!(run(&mut r), (vec![], vec![]), "logged once, nothing more");
    }

    #[test]
    fn a_failing_container_is_logged_once_and_the_others_still_dispatch() {
        let bad = || CycleProblems {
            containers: vec![ContainerProblem {
                id: "b".repeat(64).parse().unwrap(),
                name: "db".into(),
                cause: libpod_stats::ProblemCause::Cgroup {
                    cgroup: "/db".parse().unwrap(),
                    error: std::sync::Arc::new(libpod_stats::CgroupError::InvalidPath {
                        cgroup: "/db".into(),
                        reason: "ENOENT",
                    }),
                },
            }],
            discovery: vec![],
        };
        let script = Script(VecDeque::from(vec![
            Ok((vec![sample("web", 'a', 1)], bad())),
            Ok((vec![sample("web", 'a', 2)], bad())),
            Ok((vec![sample("web", 'a', 3)], CycleProblems::default())),
        ]));
        let mut r = Reader::new(cpu_only(), script);
        let (lists, logs) = run(&mut r);
        assert_eq!(lists.len(), 1);
        assert_eq!(logs.len(), 1);
        assert_eq!(
            logs[0],
            "WARN: container db: invalid cgroup path \"/db\": ENOENT (id bbbbbbbbbbbb)"
        );
        let (lists, logs) = run(&mut r);
        assert_eq!((lists.len(), logs.len()), (1, 0));
        let (_, logs) = run(&mut r);
        assert_eq!(logs.len(), 1);
        assert!(logs[0].contains("no longer failing"), "{logs:?}");
    }

    #[test]
    fn an_unreadable_state_is_logged_once_per_distinct_error() {
        let db = |m: &str| CycleProblems {
            containers: vec![],
            discovery: vec![(
                "/var/lib/containers/storage/libpod/bolt_state.db".into(),
                m.into(),
            )],
        };
        let script = Script(VecDeque::from(vec![
            Ok((vec![], db("bad magic"))),
            Ok((vec![], db("bad magic"))),
            Ok((vec![], db("truncated"))),
            Ok((vec![], db("truncated"))),
            Ok((vec![], CycleProblems::default())),
            Ok((vec![], CycleProblems::default())),
        ]));
        let mut r = Reader::new(cpu_only(), script);
        let logs: Vec<Vec<String>> = (0..6).map(|_| run(&mut r).1).collect();
        let counts: Vec<usize> = logs.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![1, 0, 1, 0, 1, 0], "{logs:?}");
        assert!(logs[2][0].contains("truncated"), "{logs:?}");
        assert!(logs[4][0].contains("readable again"), "{logs:?}");
    }

    #[test]
    fn a_failed_cycle_dispatches_nothing_and_logs_once() {
        let script = Script(VecDeque::from(vec![
            Ok((vec![sample("web", 'a', 1)], CycleProblems::default())),
            Err("/lpstest"),
            Err("/lpstest"),
            Ok((vec![sample("web", 'a', 5)], CycleProblems::default())),
        ]));
        let mut r = Reader::new(cpu_only(), script);
        run(&mut r);
        let (lists, logs) = run(&mut r);
        assert!(lists.is_empty());
        assert_eq!(
            logs,
            vec!["ERROR: read failed: cgroup layout: no cgroup file system found under root /lpstest"]
        );
        assert_eq!(run(&mut r), (vec![], vec![]));
        let (lists, logs) = run(&mut r);
        assert_eq!(lists, vec!["libpodstats-web/pod_cpu 1.5 5"]);
        assert_eq!(logs, vec!["INFO: read: working again"]);
    }

    /// The lists of one cycle over `samples`, with names matching `exclude` left out.
    fn one_cycle_excluding(exclude: &str, samples: Vec<Sample>) -> Vec<String> {
        let cfg = PluginConfig {
            exclude: vec![regex::Regex::new(exclude).unwrap()],
            ..cpu_only()
        };
        let script = Script(VecDeque::from(vec![Ok((
            samples,
            CycleProblems::default(),
        ))]));
        run(&mut Reader::new(cfg, script)).0
    }

    #[test]
    fn filters_and_unique_instances_apply() {
        let lists = one_cycle_excluding(
            "^infra",
            vec![
                sample("web", 'b', 1),
                sample("web", 'a', 2),
                sample("infra-1", 'c', 3),
            ],
        );
        assert_eq!(
            lists,
            vec![
                "libpodstats-web-aaaaaaaaaaaa/pod_cpu 1.5 2",
                "libpodstats-web-bbbbbbbbbbbb/pod_cpu 1.5 1",
            ]
        );
    }

    #[test]
    fn instance_by_unit_survives_a_quadlet_restart() {
        let unit = |name: &str, id: char, uid: u32, unit: Option<&str>| Sample {
            uid: Some(uid),
            systemd_unit: unit.map(str::to_string),
            ..sample(name, id, 1)
        };
        let cfg = PluginConfig {
            instance_by: InstanceBy::Unit,
            ..cpu_only()
        };
        let first = vec![
            unit("systemd-web", 'a', 0, Some("web.service")),
            unit("systemd-web", 'b', 1000, Some("web.service")),
            unit("db", 'c', 0, Some("shop.service")),
            unit("cache", 'd', 0, Some("shop.service")),
            unit("plain", 'e', 0, None),
        ];
        // Quadlet's restart: a new container (new id) under the same unit.
        let mut second = first.clone();
        second[0].id = "f".repeat(64);
        let script = Script(VecDeque::from(vec![
            Ok((first, CycleProblems::default())),
            Ok((second, CycleProblems::default())),
        ]));
        let mut reader = Reader::new(cfg, script);
        let want = vec![
            "libpodstats-plain/pod_cpu 1.5 1",
            "libpodstats-shop.service-cache/pod_cpu 1.5 1",
            "libpodstats-shop.service-db/pod_cpu 1.5 1",
            "libpodstats-user1000-web.service/pod_cpu 1.5 1",
            "libpodstats-web.service/pod_cpu 1.5 1",
        ];
        let sorted = |r: &mut Reader<Script>| {
            let mut lists = run(r).0;
            lists.sort();
            lists
        };
        assert_eq!(sorted(&mut reader), want);
        assert_eq!(sorted(&mut reader), want, "stable across the restart");
    }

    /// A source whose second cycle panics.
    struct Panicky {
        cycles: u32,
        resets: u32,
    }

    impl Source for Panicky {
        fn cycle(&mut self, out: &mut Vec<Sample>) -> Result<Step, CycleError> {
            self.cycles += 1;
            out.clear();
            out.push(sample("web", 'a', u64::from(self.cycles)));
            if self.cycles == 2 {
                panic!("bug in cycle 2");
            }
            Ok(Step::Read(CycleProblems::default()))
        }
        fn reset(&mut self) {
            self.resets += 1;
        }
    }

    #[test]
    fn a_panic_costs_one_interval_and_resets_the_state() {
        let mut r = Reader::new(
            cpu_only(),
            Panicky {
                cycles: 0,
                resets: 0,
            },
        );
        let mut lists = Vec::new();
        for _ in 0..3 {
            let ok = r.read_catching_panics(
                &mut |d| {
                    lists.push(d.list.values[1].to_string());
                    Ok(())
                },
                &mut |_, _| {},
            );
            lists.push(format!("ok={ok}"));
        }
        assert_eq!(lists, vec!["1", "ok=true", "ok=false", "3", "ok=true"]);
        assert_eq!(r.source.resets, 1);
        assert!(r.samples.iter().all(|s| s.cpu_ns == Some(3)));
    }

    #[test]
    fn pods_are_aggregated_over_the_selected_members_under_their_own_plugin() {
        let member = |name: &str, id: char, cpu: u64| Sample {
            pod_id: Some("f".repeat(64)),
            pod_name: Some("web".into()),
            ..sample(name, id, cpu)
        };
        let lists = one_cycle_excluding(
            "^skip",
            vec![
                member("web", 'a', 1),
                member("b", 'b', 2),
                member("skip", 'c', 4),
            ],
        );
        assert_eq!(
            lists,
            vec![
                "libpodstats-b/pod_cpu 1.5 2",
                "libpodstats-web/pod_cpu 1.5 1",
                "libpodstats_pod-web/count 2",
                "libpodstats_pod-web/pod_cpu 3 3",
            ]
        );
    }

    #[test]
    fn dispatch_failures_are_logged_once() {
        let script = Script(VecDeque::from(vec![
            Ok((vec![sample("bad", 'a', 1)], CycleProblems::default())),
            Ok((vec![sample("bad", 'a', 2)], CycleProblems::default())),
        ]));
        let mut r = Reader::new(cpu_only(), script);
        assert_eq!(run(&mut r).1.len(), 1);
        assert_eq!(run(&mut r).1.len(), 0);
    }
}
