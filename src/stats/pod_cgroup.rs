//! A pod's own cgroup: the limits and pressure of the pod as a whole.
//!
//! Limits (`podman pod create --cpus`, `--memory`, a pids limit) and pressure belong to one
//! cgroup: the members' figures do not add up to the pod's. Podman gives a pod a cgroup of
//! its own and puts its members under it (`sharesCgroup`, the default): `<parent>/<podid>`
//! with the cgroupfs manager (`/libpod_parent/<podid>`), `<parent>/<parent
//! stem>-libpod_pod_<podid>.slice` with systemd (`machine.slice/machine-libpod_pod_<podid>.slice`,
//! under `user@UID.service` for rootless pods). So the pod's cgroup is read where a running
//! member's cgroup (podman's path, as discovery resolved it) has a parent named after the pod
//! id; members outside it (`--share-parent=false`, `--cgroups=split`) leave the pod without
//! figures of its own.

use std::sync::Arc;

use crate::cgroup::files::{CgroupFile, FileSet};
use crate::cgroup::handle::OpenCgroup;
use crate::cgroup::reader::CgroupReader;
use crate::cgroup::stats::{CgroupStats, Limit};
use crate::cgroup::CgroupPath;
use crate::libpod::model::Container;
use crate::libpod::ContainerId;
use crate::stats::metric_groups::MetricGroups;
use crate::stats::problem::{ContainerProblem, ProblemCause};
use crate::stats::{metrics, PodSample};

/// The pod cgroup of a running member: the parent of its cgroup when that parent's last
/// component carries the pod id.
pub(crate) fn pod_cgroup_of(c: &Container) -> Option<&str> {
    let pod = c.pod_id.as_deref()?;
    let cgroup = c.cgroup.as_deref().filter(|_| c.state.has_cgroup())?;
    let (parent, _) = cgroup.trim_end_matches('/').rsplit_once('/')?;
    let last = parent.rsplit('/').next()?;
    let named = last == pod || last.ends_with(&format!("-libpod_pod_{pod}.slice"));
    named.then_some(parent)
}

/// The files a pod's figures need, for the selected groups.
fn files(groups: MetricGroups) -> FileSet {
    use CgroupFile::*;
    let mut set = FileSet::EMPTY;
    if groups.throttle {
        set = set.union(FileSet::of(&[CpuMax, CpuCfsQuotaUs, CpuCfsPeriodUs]));
    }
    if groups.memory {
        set = set.union(FileSet::of(&[MemoryMax, MemoryLimitInBytes]));
    }
    if groups.pids {
        set = set.union(FileSet::of(&[PidsMaxV2, PidsMaxV1]));
    }
    if groups.pressure {
        set = set.union(FileSet::of(&[CpuPressure, MemoryPressure, IoPressure]));
    }
    set
}

/// One pod's cgroup, held open between cycles.
#[derive(Debug)]
struct TrackedPod {
    pod_id: ContainerId,
    pod_name: String,
    cgroup: CgroupPath,
    handle: Option<OpenCgroup>,
    stats: CgroupStats,
    /// `stats` holds this cycle's reading.
    read: bool,
}

/// The pods' own cgroups a collector follows.
#[derive(Debug, Default)]
pub(crate) struct PodCgroups {
    pods: Vec<TrackedPod>,
}

impl PodCgroups {
    /// Follows the pods of `containers` (after a discovery), keeping the handles of pods
    /// whose cgroup is the same.
    pub(crate) fn track<'a>(&mut self, containers: impl Iterator<Item = &'a Container>) {
        let mut old = std::mem::take(&mut self.pods);
        for c in containers {
            let (Some(pod_id), Some(cgroup)) = (c.pod_id.as_ref(), pod_cgroup_of(c)) else {
                continue;
            };
            if self.pods.iter().any(|p| p.pod_id == *pod_id) {
                continue;
            }
            // The parent of a checked path is one.
            let Ok(cgroup) = CgroupPath::new(cgroup) else {
                continue;
            };
            let kept = old
                .iter()
                .position(|p| p.pod_id == *pod_id && p.cgroup == cgroup)
                .map(|i| old.swap_remove(i));
            self.pods.push(kept.unwrap_or_else(|| TrackedPod {
                pod_id: pod_id.clone(),
                pod_name: c.pod_name.clone().unwrap_or_default(),
                cgroup,
                handle: None,
                stats: CgroupStats::default(),
                read: false,
            }));
        }
    }

    /// Drops every held file (the root changed).
    pub(crate) fn release(&mut self) {
        for p in &mut self.pods {
            p.handle = None;
        }
    }

    /// Reads every followed pod's cgroup files for `groups`. A pod whose cgroup is gone has
    /// no figures (no problem: it was removed); any other failure is reported.
    pub(crate) fn read(
        &mut self,
        reader: &CgroupReader,
        groups: MetricGroups,
        buf: &mut Vec<u8>,
        problems: &mut Vec<ContainerProblem>,
    ) {
        let files = files(groups);
        for p in &mut self.pods {
            p.read = false;
            if files.is_empty() {
                continue;
            }
            let handle = match p.handle.take() {
                Some(h) => Ok(h),
                None => reader.open_only(&p.cgroup, files),
            };
            let result = handle.and_then(|mut h| {
                h.read_into_with(&mut p.stats, FileSet::EMPTY, buf)
                    .map(|()| h)
            });
            match result {
                Ok(h) => {
                    p.handle = Some(h);
                    p.read = true;
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => problems.push(ContainerProblem {
                    id: p.pod_id.clone(),
                    name: p.pod_name.clone(),
                    cause: ProblemCause::Cgroup {
                        cgroup: p.cgroup.clone(),
                        error: Arc::new(e),
                    },
                }),
            }
        }
    }

    /// Sets the figures of the pod's own cgroup on its totals (`None` where the pod has
    /// no cgroup of its own, or it could not be read).
    pub(crate) fn fill(&self, pod: &mut PodSample, groups: MetricGroups, mem_total: Option<u64>) {
        let Some(p) = self
            .pods
            .iter()
            .find(|p| p.read && *p.pod_id == *pod.pod_id)
        else {
            return;
        };
        let s = &p.stats;
        if groups.throttle {
            pod.cpu_limit_cores = s.cpu.limit_cores();
        }
        if groups.memory {
            pod.memory_limit_bytes = metrics::memory_limit_bytes(s.memory.limit, mem_total);
        }
        if groups.pids {
            pod.pids_limit = s.pids.limit.and_then(Limit::value);
        }
        if groups.pressure {
            pod.pressure = Some(s.pressure).filter(|p| !p.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::model::ContainerState;

    const POD: &str = "d259df7fc775ee42db4703f204743d512fd6c1ca7549a9aea08630f140872358";

    fn member(cgroup: &str) -> Container {
        Container {
            id: ContainerId::new("a".repeat(64)).unwrap(),
            name: "m".into(),
            pod_id: Some(ContainerId::new_pod(POD).unwrap()),
            pod_name: Some("p".into()),
            image: None,
            state: ContainerState::Running,
            pid: Some(42),
            conmon_pid: None,
            cgroup: Some(CgroupPath::new(cgroup).unwrap()),
            created_at_ns: None,
            started_at_ns: None,
            source: crate::libpod::Source::Bolt,
            uid: Some(0),
            graph_root: None,
            is_infra: false,
            netns: None,
            cgroup_manager: None,
            cgroup_parent: None,
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

    #[test]
    fn the_pod_cgroup_is_a_members_parent_named_after_the_pod() {
        let id = "a".repeat(64);
        let cases = [
            (format!("/libpod_parent/{POD}/libpod-{id}"), Some(format!("/libpod_parent/{POD}"))),
            (
                format!("/machine.slice/machine-libpod_pod_{POD}.slice/libpod-{id}.scope"),
                Some(format!("/machine.slice/machine-libpod_pod_{POD}.slice")),
            ),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_{POD}.slice/libpod-{id}.scope"),
                Some(format!("/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_{POD}.slice")),
            ),
            (format!("/libpod_parent/libpod-{id}"), None),
            (format!("/system.slice/web.service/libpod-payload-{id}"), None),
            (format!("/libpod_parent/x{POD}/libpod-{id}"), None),
        ];
        for (cgroup, want) in cases {
            assert_eq!(
                pod_cgroup_of(&member(&cgroup)).map(str::to_string),
                want,
                "{cgroup}"
            );
        }
        let mut exited = member(&format!("/libpod_parent/{POD}/libpod-{id}"));
        exited.state = ContainerState::Exited;
        assert_eq!(pod_cgroup_of(&exited), None);
        let mut alone = member(&format!("/libpod_parent/{POD}/libpod-{id}"));
        alone.pod_id = None;
        assert_eq!(pod_cgroup_of(&alone), None);
    }
}
