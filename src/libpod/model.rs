//! The container model every discovery source fills in.
//!
//! Whatever a source does not know is `None`: never a made-up `0` or `""`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::health::{Health, HealthStatus};
use crate::cgroup::CgroupPath;
pub(crate) use crate::libpod::id::ContainerId;

/// A container's state, with podman's numbers (`define.ContainerStatus`) and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    /// 0: podman does not know.
    Unknown,
    /// 1 (`ContainerStateConfigured`): created, never initialized. Podman prints "created".
    Created,
    /// 2 (`ContainerStateCreated`): the OCI runtime created it, not started.
    Initialized,
    /// 3: running.
    Running,
    /// 4: stopped by podman, not yet cleaned up.
    Stopped,
    /// 5: frozen.
    Paused,
    /// 6: exited.
    Exited,
    /// 7: being removed.
    Removing,
    /// 8: being stopped.
    Stopping,
}

impl ContainerState {
    /// Every state podman defines, indexed by podman's integer for it.
    pub const ALL: [ContainerState; 9] = [
        Self::Unknown,
        Self::Created,
        Self::Initialized,
        Self::Running,
        Self::Stopped,
        Self::Paused,
        Self::Exited,
        Self::Removing,
        Self::Stopping,
    ];

    /// The state for podman's integer, `Unknown` for any number podman does not define.
    pub fn from_podman(n: i64) -> Self {
        usize::try_from(n)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(Self::Unknown)
    }

    /// Podman's integer for this state.
    pub fn podman_number(self) -> u8 {
        self as u8
    }

    /// Podman's lowercase name (`podman ps` prints it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Created => "created",
            Self::Initialized => "initialized",
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Paused => "paused",
            Self::Exited => "exited",
            Self::Removing => "removing",
            Self::Stopping => "stopping",
        }
    }

    /// Running or paused: the states that have a live cgroup to read.
    pub fn has_cgroup(self) -> bool {
        matches!(self, Self::Running | Self::Paused)
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a container's record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// libpod's BoltDB `bolt_state.db`.
    Bolt,
    /// libpod's SQLite `db.sql`.
    Sqlite,
    /// containers/storage `containers.json` / `volatile-containers.json` only.
    Storage,
}

/// The cgroup manager podman used for a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupManager {
    /// Paths are plain directories: `<parent>/libpod-<id>`.
    Cgroupfs,
    /// systemd scopes and slices: `<slice>/libpod-<id>.scope`.
    Systemd,
}

/// One container as discovered, before any cgroup is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// The 64-hex container id (checked where the record was read).
    pub id: ContainerId,
    /// The container's name.
    pub name: String,
    /// The pod's id, when the container belongs to one.
    pub pod_id: Option<ContainerId>,
    /// The pod's name, when known.
    pub pod_name: Option<String>,
    /// The image name as podman shows it (`localhost/bb:latest`).
    pub image: Option<String>,
    /// The state, after checking the pid against /proc.
    pub state: ContainerState,
    /// Host pid of the container's init process while it runs.
    pub pid: Option<u32>,
    /// Host pid of conmon.
    pub conmon_pid: Option<u32>,
    /// The container's cgroup, relative to the controller root, as podman inspect shows
    /// `.State.CgroupPath` (`/libpod_parent/libpod-<id>`, `/machine.slice/libpod-<id>.scope`).
    pub cgroup: Option<CgroupPath>,
    /// Creation time, nanoseconds since the Unix epoch.
    pub created_at_ns: Option<u64>,
    /// Last start time, nanoseconds since the Unix epoch.
    pub started_at_ns: Option<u64>,
    /// Which record this came from.
    pub source: Source,
    /// Owner uid of the store the container lives in (0 for the root store).
    pub uid: Option<u32>,
    /// The store's graph root (host path).
    pub graph_root: Option<PathBuf>,
    /// True for a pod's infra container.
    pub is_infra: bool,
    /// The network namespace path podman recorded, if any.
    pub netns: Option<String>,
    /// The cgroup manager podman recorded for this container.
    pub cgroup_manager: Option<CgroupManager>,
    /// The cgroup parent podman recorded.
    pub cgroup_parent: Option<String>,
    /// The container's labels (podman's config `labels`; empty without a libpod record), for
    /// `--filter label=...`. Over a redacted capture only the values the capture kept are
    /// real, so they are left out of `ps`'s JSON, which must read the same over a capture.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// The systemd unit running the container: the label `PODMAN_SYSTEMD_UNIT` (Quadlet,
    /// `podman generate systemd --new`), `None` without it.
    pub systemd_unit: Option<String>,
    /// The exit code podman recorded, for a container stopped or exited since its last start
    /// (podman omits a 0, so a stopped container without one exited 0); `None` otherwise.
    pub exit_code: Option<i32>,
    /// Restarts by the restart policy, as podman records them (`restartCount`, omitted when
    /// 0); `None` without a libpod record.
    pub restart_count: Option<u64>,
    /// Where podman keeps the container's health check log, for a container with a health
    /// check (its config has one); `None` without one or when the location is unknown.
    #[serde(skip)]
    pub health_log: Option<PathBuf>,
    /// The health status from that log (podman's string); `None` without a health check or
    /// when the log cannot be read (not written yet: a container never started). Filled by
    /// [`health::fill`](super::health::fill), not by discovery.
    pub health: Option<HealthStatus>,
    /// [`health`](Self::health) as a number an alert compares ([`HealthStatus::code`]).
    pub health_code: Option<u8>,
    /// Consecutive failed health checks, from the same log.
    pub health_failing_streak: Option<u64>,
}

impl Container {
    /// Sets the health fields from a health log read (`None`: none or unreadable).
    pub fn set_health(&mut self, health: Option<Health>) {
        self.health = health.map(|h| h.status);
        self.health_code = health.map(|h| h.status.code());
        self.health_failing_streak = health.map(|h| h.failing_streak);
    }
}

/// The label podman sets on a container that a systemd unit runs.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub const SYSTEMD_UNIT_LABEL: &str = "PODMAN_SYSTEMD_UNIT";

#[cfg(test)]
mod tests {
    use super::ContainerState;

    #[test]
    fn podman_numbers_round_trip_and_others_are_unknown() {
        for s in ContainerState::ALL {
            assert_eq!(ContainerState::from_podman(i64::from(s.podman_number())), s);
        }
        for n in [-1, 9, i64::MAX, i64::MIN] {
            assert_eq!(ContainerState::from_podman(n), ContainerState::Unknown);
        }
    }
}
