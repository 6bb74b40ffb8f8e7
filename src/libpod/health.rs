//! A container's health check status, from the log podman keeps outside its database.
//!
//! Podman writes each health check's result into a JSON file of its own, not into the
//! container's state record: `{"Status": "healthy", "FailingStreak": 0, "Log": [...]}`, where
//! `Log` holds the check command's recent output (which can hold secrets: it is never read
//! or captured). Where the file lives (podman `libpod/healthcheck.go`):
//!
//! - podman 4.3 to 5.2, and 5.3+ with `--health-log-destination` `local` (the default) or
//!   `events_logger`: `healthcheck.log` beside the container's run directory, i.e.
//!   `<runroot>/<driver>-containers/<id>/healthcheck.log` (the parent of the state's `runDir`,
//!   which is containers/storage's `<runroot>/<driver>-containers/<id>/userdata`);
//! - podman 5.3+ with a directory as the destination (the config's `healthLogDestination`):
//!   `<directory>/<id>-healthcheck.log`.
//!
//! Podman writes `starting` when the container starts, `healthy` or `unhealthy` after each
//! check (unhealthy once `FailingStreak` reaches the configured retries), `stopped` when a
//! check was cut short by the container stopping, and (5.x) `reset` when a container is
//! restarted, before its first check.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::model::Container;
use crate::host::{HostError, HostRoot};

/// A health status as podman writes it in the log's `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The last check succeeded.
    Healthy,
    /// The checks failed `Retries` times in a row.
    Unhealthy,
    /// Started, no check has decided yet (or still in the start period).
    Starting,
    /// A check was cut short because the container stopped (podman 5).
    Stopped,
    /// The container was restarted and no check has run since (podman 5).
    Reset,
    /// An empty status, or one podman did not define when this was written.
    Unknown,
}

impl HealthStatus {
    /// Every status, indexed by its [`code`](Self::code).
    pub const ALL: [HealthStatus; 6] = [
        Self::Healthy,
        Self::Unhealthy,
        Self::Starting,
        Self::Stopped,
        Self::Reset,
        Self::Unknown,
    ];

    /// The status for podman's string (`Unknown` for anything else, the empty string too).
    pub fn from_podman(s: &str) -> Self {
        match s {
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            "starting" => Self::Starting,
            "stopped" => Self::Stopped,
            "reset" => Self::Reset,
            _ => Self::Unknown,
        }
    }

    /// Podman's string for the status (`unknown` for [`Unknown`](Self::Unknown)).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Starting => "starting",
            Self::Stopped => "stopped",
            Self::Reset => "reset",
            Self::Unknown => "unknown",
        }
    }

    /// The number an alert compares: 0 healthy, 1 unhealthy, 2 starting (as
    /// prometheus-podman-exporter's `podman_container_health`), 3 stopped, 4 reset,
    /// 5 unknown.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the health log says, without its `Log` of outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Health {
    /// The status.
    pub status: HealthStatus,
    /// Consecutive failed checks (`FailingStreak`; 0 after a success).
    pub failing_streak: u64,
}

/// A health log that could not be read or does not parse.
#[derive(Debug, thiserror::Error)]
pub enum HealthLogError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Read(#[from] HostError),
    /// The file is not owned by the store's owner (a symlink planted by a rootless user to
    /// a file of someone else's, say): it is not read.
    #[error("{path}: owned by uid {found}, not by the store's owner {expected}: not read")]
    Owner {
        /// The host path.
        path: PathBuf,
        /// The file's owner.
        found: u32,
        /// The store's owner.
        expected: u32,
    },
    /// The file is not podman's health log JSON.
    #[error("{path}: not a health check log: {reason}")]
    Invalid {
        /// The host path.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
}

impl HealthLogError {
    /// True when there is no log (yet): not a problem.
    pub fn is_not_found(&self) -> bool {
        matches!(self, HealthLogError::Read(e) if e.is_not_found())
    }

    /// True when the log is not there or not ours to read, which is no problem either:
    /// podman writes it owner-only (0700, in an owner-only run directory), so a user reading
    /// root's store (or another user's) sees no health, and says nothing of it.
    pub fn is_expected(&self) -> bool {
        self.is_not_found()
            || matches!(self, HealthLogError::Read(e) if e.kind() == std::io::ErrorKind::PermissionDenied)
    }
}

/// The container's health check log, `None` when its location is unknown.
///
/// `run_containers` is the store's `<runroot>/<driver>-containers` (unknown without a run
/// root); `destination` the config's `healthLogDestination` (podman 5.3+): `local`,
/// `events_logger`, empty or absent mean the run directory; any other value is podman's
/// directory (absolute, checked by podman when the container was made).
pub(crate) fn log_path(
    run_containers: Option<&Path>,
    id: &str,
    destination: Option<&str>,
) -> Option<PathBuf> {
    match destination {
        None | Some("" | "local" | "events_logger") => {
            Some(run_containers?.join(id).join("healthcheck.log"))
        }
        Some(dir) if dir.starts_with('/') => {
            Some(Path::new(dir).join(format!("{id}-healthcheck.log")))
        }
        Some(_) => None,
    }
}

/// Fills the health fields of every container with a health log (others get `None`);
/// returns the logs that exist but could not be used. A missing log is no problem (podman
/// writes it when the container starts), nor one this process may not read
/// ([`HealthLogError::is_expected`]).
pub fn fill(root: &HostRoot, containers: &mut [Container]) -> Vec<HealthLogError> {
    let mut errors = Vec::new();
    let mut buf = Vec::new();
    for c in containers {
        let health = c.health_log.as_deref().and_then(|path| {
            read(root, path, c.uid, &mut buf)
                .map_err(|e| {
                    if !e.is_expected() {
                        errors.push(e);
                    }
                })
                .ok()
        });
        c.set_health(health);
    }
    errors
}

/// Parses a health log: its `Status` and `FailingStreak`; `Log` is skipped unread (no
/// allocation for it, nothing of it kept).
pub fn parse(bytes: &[u8]) -> Result<Health, serde_json::Error> {
    serde_json::from_slice::<LogHead>(bytes).map(|h| Health {
        status: h.status,
        failing_streak: h.failing_streak,
    })
}

/// Reads and parses the health log at `path` into `buf` (reused). On a live host the file
/// must belong to `owner` (the store's owner) when one is given: the path comes from records
/// a rootless user writes.
pub(crate) fn read(
    root: &HostRoot,
    path: &Path,
    owner: Option<u32>,
    buf: &mut Vec<u8>,
) -> Result<Health, HealthLogError> {
    let file = root.open(path)?;
    if root.is_live() {
        if let Some(expected) = owner {
            check_owner(&file, path, expected)?;
        }
    }
    buf.clear();
    read_all(&file, buf).map_err(|source| {
        HealthLogError::Read(HostError {
            root: root.dir().to_path_buf(),
            path: path.to_path_buf(),
            source,
        })
    })?;
    parse(buf).map_err(|e| HealthLogError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn check_owner(file: &File, path: &Path, expected: u32) -> Result<(), HealthLogError> {
    use std::os::unix::fs::MetadataExt;
    let found = file
        .metadata()
        .map_err(|source| {
            HealthLogError::Read(HostError {
                root: PathBuf::from("/"),
                path: path.to_path_buf(),
                source,
            })
        })?
        .uid();
    if found == expected {
        Ok(())
    } else {
        Err(HealthLogError::Owner {
            path: path.to_path_buf(),
            found,
            expected,
        })
    }
}

/// The log is small (podman keeps five results of at most 500 characters by default), but
/// a larger one is read whole: its head alone is what is parsed.
fn read_all(mut file: &File, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    file.read_to_end(buf).map(|_| ())
}

/// The head of the log: `Status` and `FailingStreak`; every other key (`Log`) ignored.
struct LogHead {
    status: HealthStatus,
    failing_streak: u64,
}

impl<'de> Deserialize<'de> for LogHead {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(HeadVisitor)
    }
}

struct HeadVisitor;

/// A status read from a borrowed or transient string, so that nothing is allocated.
struct StatusField(HealthStatus);

impl<'de> Deserialize<'de> for StatusField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusField;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a status string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StatusField, E> {
                Ok(StatusField(HealthStatus::from_podman(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<StatusField, E> {
                Ok(StatusField(HealthStatus::Unknown))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = LogHead;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with Status and FailingStreak")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogHead, A::Error> {
        let mut status = None;
        let mut failing_streak = None;
        while let Some(key) = map.next_key::<KeyField>()? {
            match key {
                KeyField::Status => status = Some(map.next_value::<StatusField>()?.0),
                KeyField::FailingStreak => {
                    // Go's `int`: a negative streak is not podman's; refuse it.
                    failing_streak = Some(map.next_value::<u64>()?);
                }
                KeyField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(LogHead {
            status: status.ok_or_else(|| de::Error::missing_field("Status"))?,
            failing_streak: failing_streak.unwrap_or(0),
        })
    }
}

/// The keys of the log's object that matter.
enum KeyField {
    Status,
    FailingStreak,
    Other,
}

impl<'de> Deserialize<'de> for KeyField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyField;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyField, E> {
                Ok(match s {
                    "Status" => KeyField::Status,
                    "FailingStreak" => KeyField::FailingStreak,
                    _ => KeyField::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "37fb6904b64d4d14e59f3ba577a0344e655eaf6da198033ae8fa686ccc0f4220";

    #[test]
    fn podman_logs_parse_without_their_outputs() {
        let log = br#"{"Status":"unhealthy","FailingStreak":3,"Log":[{"Start":"2026-12-07T06:00:00Z","End":"2026-12-07T06:00:01Z","ExitCode":1,"Output":"secret \"x\"\n"}]}"#;
        assert_eq!(
            parse(log).unwrap(),
            Health {
                status: HealthStatus::Unhealthy,
                failing_streak: 3
            }
        );
        // 4.3 writes `starting` with a null Log; 5.x writes `reset` with no streak key kept.
        let starting = br#"{"Status":"starting","FailingStreak":0,"Log":null}"#;
        assert_eq!(parse(starting).unwrap().status, HealthStatus::Starting);
        assert_eq!(
            parse(br#"{"Log":[],"Status":"reset"}"#).unwrap(),
            Health {
                status: HealthStatus::Reset,
                failing_streak: 0
            }
        );
        assert_eq!(
            parse(br#"{"Status":"","FailingStreak":0}"#).unwrap().status,
            HealthStatus::Unknown
        );
        assert_eq!(
            parse(br#"{"Status":"he\u0061lthy"}"#).unwrap().status,
            HealthStatus::Healthy
        );
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"Status\":1}",
            b"{\"Status\":\"healthy\",\"FailingStreak\":-1}",
            b"{\"Status\":\"healthy\"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn codes_are_stable_and_strings_round_trip() {
        let codes: Vec<(u8, &str)> = HealthStatus::ALL
            .iter()
            .map(|s| (s.code(), s.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                (0, "healthy"),
                (1, "unhealthy"),
                (2, "starting"),
                (3, "stopped"),
                (4, "reset"),
                (5, "unknown")
            ]
        );
        for s in HealthStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            if s != HealthStatus::Unknown {
                assert_eq!(HealthStatus::from_podman(s.as_str()), s);
            }
        }
    }

    #[test]
    fn paths_follow_the_destination() {
        let run = Path::new("/run/containers/storage/overlay-containers");
        assert_eq!(
            log_path(Some(run), ID, None),
            Some(run.join(format!("{ID}/healthcheck.log")))
        );
        for local in ["local", "events_logger", ""] {
            assert_eq!(
                log_path(Some(run), ID, Some(local)),
                log_path(Some(run), ID, None)
            );
        }
        assert_eq!(
            log_path(None, ID, Some("/var/log/hc")),
            Some(PathBuf::from(format!("/var/log/hc/{ID}-healthcheck.log")))
        );
        assert_eq!(log_path(None, ID, None), None);
        assert_eq!(log_path(Some(run), ID, Some("rel/dir")), None);
    }

    #[test]
    fn reads_under_a_root_and_refuses_what_does_not_parse() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        std::fs::write(
            dir.path().join("run/hc.log"),
            br#"{"Status":"healthy","FailingStreak":0,"Log":[]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("run/bad.log"), b"not json").unwrap();
        let mut buf = Vec::new();
        let h = read(&root, Path::new("/run/hc.log"), Some(12345), &mut buf).unwrap();
        assert_eq!(h.status, HealthStatus::Healthy);
        let e = read(&root, Path::new("/run/bad.log"), None, &mut buf).unwrap_err();
        assert!(e.to_string().contains("/run/bad.log"), "{e}");
        let e = read(&root, Path::new("/run/none.log"), None, &mut buf).unwrap_err();
        assert!(
            matches!(e, HealthLogError::Read(ref h) if h.is_not_found()),
            "{e}"
        );
    }

    #[test]
    fn missing_and_forbidden_logs_are_expected_others_are_problems() {
        let read_error = |kind: std::io::ErrorKind| {
            HealthLogError::Read(HostError {
                root: "/".into(),
                path: "/run/x/healthcheck.log".into(),
                source: kind.into(),
            })
        };
        assert!(read_error(std::io::ErrorKind::NotFound).is_expected());
        assert!(read_error(std::io::ErrorKind::PermissionDenied).is_expected());
        assert!(!read_error(std::io::ErrorKind::PermissionDenied).is_not_found());
        assert!(!read_error(std::io::ErrorKind::InvalidData).is_expected());
        let owner = HealthLogError::Owner {
            path: "/x".into(),
            found: 1,
            expected: 0,
        };
        assert!(!owner.is_expected());
    }

    #[test]
    fn a_live_log_of_another_owner_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("healthcheck.log");
        std::fs::write(&path, br#"{"Status":"healthy","FailingStreak":0}"#).unwrap();
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let mut buf = Vec::new();
        let live = HostRoot::live();
        assert!(read(&live, &path, Some(me), &mut buf).is_ok());
        let e = read(&live, &path, Some(me.wrapping_add(1)), &mut buf).unwrap_err();
        assert!(matches!(e, HealthLogError::Owner { .. }), "{e}");
    }
}
