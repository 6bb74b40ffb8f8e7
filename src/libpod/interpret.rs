//! The meaning of libpod's JSON records: one interpreter for both databases.
//!
//! BoltDB and SQLite store the same ContainerConfig, ContainerState, PodConfig and PodState
//! JSON; the readers hand it over raw in a [`RawState`] and this module turns it into
//! [`Container`]s. Only the fields discovery needs are declared; every other key is ignored,
//! and the spellings of podman 4.x and 5.x are both accepted.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::cgroup_path::CgroupHints;
use super::model::{
    CgroupManager, Container, ContainerId, ContainerState, Source, SYSTEMD_UNIT_LABEL,
};
use super::raw::{RawContainer, RawPod, RawState};

/// The ContainerConfig keys discovery uses (podman's embedded structs put them all at the
/// top level).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConfigJson {
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `pod`: the pod id, omitted outside pods.
    pub pod: Option<String>,
    /// `rootfsImageName`: the normalized image name podman shows.
    #[serde(rename = "rootfsImageName")]
    pub rootfs_image_name: Option<String>,
    /// `RawImageName`: the image as the user typed it.
    #[serde(rename = "RawImageName", alias = "rawImageName")]
    pub raw_image_name: Option<String>,
    /// `createdTime`, RFC 3339 with nanoseconds.
    #[serde(rename = "createdTime", alias = "created")]
    pub created_time: Option<String>,
    /// `cgroupManager`: `systemd` or `cgroupfs`.
    #[serde(rename = "cgroupManager")]
    pub cgroup_manager: Option<String>,
    /// `cgroupParent`.
    #[serde(rename = "cgroupParent")]
    pub cgroup_parent: Option<String>,
    /// `cgroupsMode`: `enabled`, `disabled`, `no-conmon`, `split`.
    #[serde(rename = "cgroupsMode")]
    pub cgroups_mode: Option<String>,
    /// `noCgroups`.
    #[serde(rename = "noCgroups")]
    pub no_cgroups: Option<bool>,
    /// `pause`: true for a pod's infra container.
    #[serde(alias = "isInfra")]
    pub pause: Option<bool>,
    /// `labels`: the container's labels (`null` or absent when it has none).
    pub labels: Option<BTreeMap<String, String>>,
    /// `healthcheck`: the health check (`Test`, timings), `null` or absent without one.
    /// Kept as a value: only whether there is one matters, and an odd shape must not cost
    /// the whole record.
    pub healthcheck: Option<serde_json::Value>,
    /// `healthLogDestination` (podman 5.3+): `local`, `events_logger` or a directory.
    #[serde(rename = "healthLogDestination")]
    pub health_log_destination: Option<serde_json::Value>,
}

/// The ContainerState keys discovery uses.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StateJson {
    /// `state`: podman's integer (`define.ContainerStatus`).
    pub state: Option<i64>,
    /// `pid`: host pid of the init process, omitted when 0.
    pub pid: Option<i64>,
    /// `conmonPid`.
    #[serde(rename = "conmonPid")]
    pub conmon_pid: Option<i64>,
    /// `startedTime`.
    #[serde(rename = "startedTime")]
    pub started_time: Option<String>,
    /// `netns`: the network namespace path.
    pub netns: Option<String>,
    /// `exitCode`: the last exit code (omitted when 0).
    #[serde(rename = "exitCode")]
    pub exit_code: Option<i32>,
    /// `restartCount`: restarts by the restart policy (omitted when 0).
    #[serde(rename = "restartCount")]
    pub restart_count: Option<u64>,
}

/// The PodConfig keys discovery uses.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PodConfigJson {
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `cgroupParent`.
    #[serde(rename = "cgroupParent")]
    pub cgroup_parent: Option<String>,
    /// `sharesCgroup`: members live under the pod's cgroup.
    #[serde(rename = "sharesCgroup", alias = "UsePodCgroup")]
    pub shares_cgroup: Option<bool>,
}

/// The PodState keys discovery uses.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PodStateJson {
    /// `cgroupPath`: the pod's cgroup.
    #[serde(rename = "cgroupPath")]
    pub cgroup_path: Option<String>,
    /// `InfraContainerID` (untagged in podman, so Go's field name).
    #[serde(rename = "InfraContainerID", alias = "infraContainerID")]
    pub infra_container_id: Option<String>,
}

/// One container as the database describes it, before /proc and cgroupfs are consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    /// The container, with the state the database records.
    pub container: Container,
    /// What is needed to find its cgroup.
    pub hints: CgroupHints,
    /// The container has a health check: `Some` with its `healthLogDestination` (`None`
    /// when podman recorded none), to find its health log in the store.
    pub health_check: Option<Option<String>>,
}

/// True when a config's `healthcheck` is a health check podman runs: an object whose `Test`
/// is not empty and not `["NONE"]` (`--no-healthcheck`; podman 5.8's rule, and 4.3 writes
/// no log for it either). A redacted capture keeps the object without its `Test`: that is
/// a health check.
fn has_health_check(healthcheck: Option<&serde_json::Value>) -> bool {
    let Some(serde_json::Value::Object(hc)) = healthcheck else {
        return false;
    };
    match hc.get("Test") {
        None => true,
        Some(serde_json::Value::Array(test)) => match test.as_slice() {
            [] => false,
            [only] => !only
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("NONE")),
            _ => true,
        },
        Some(_) => false,
    }
}

/// A record that could not be interpreted; the rest of the database still is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {id}: {reason}")]
pub struct RecordError {
    /// `container` or `pod`.
    pub kind: &'static str,
    /// The key the record is stored under (printed escaped).
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What one database means: its containers and the records that made no sense.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interpretation {
    /// The containers, in the database's order.
    pub records: Vec<ContainerRecord>,
    /// Records skipped, each with its reason.
    pub errors: Vec<RecordError>,
}

/// A pod's facts that its members need.
#[derive(Debug, Default)]
struct PodFacts {
    name: Option<String>,
    cgroup_path: Option<String>,
    shares_cgroup: bool,
}

/// Turns a database's raw records into containers. `uid` is the store owner's uid and
/// `graph_root` the store; both are copied into every container.
pub fn interpret(
    raw: &RawState,
    source: Source,
    uid: Option<u32>,
    graph_root: Option<&std::path::Path>,
) -> Interpretation {
    let mut out = Interpretation::default();
    let mut pods: HashMap<&str, PodFacts> = HashMap::new();
    for pod in &raw.pods {
        match pod_facts(pod) {
            Ok(facts) => {
                pods.insert(pod.id.as_str(), facts);
            }
            Err(reason) => out.errors.push(RecordError {
                kind: "pod",
                id: printable(&pod.id),
                reason,
            }),
        }
    }
    for ctr in &raw.containers {
        match container_record(ctr, &pods, source, uid, graph_root) {
            Ok(rec) => out.records.push(rec),
            Err(reason) => out.errors.push(RecordError {
                kind: "container",
                id: printable(&ctr.id),
                reason,
            }),
        }
    }
    out
}

fn pod_facts(pod: &RawPod) -> Result<PodFacts, String> {
    if let Err(e) = ContainerId::new_pod(pod.id.as_str()) {
        return Err(e.to_string());
    }
    let config: PodConfigJson = parse_json(&pod.config_json, "pod config")?;
    // A pod without state JSON is still a pod with a name.
    let state: PodStateJson = if pod.state_json.is_empty() {
        PodStateJson::default()
    } else {
        parse_json(&pod.state_json, "pod state")?
    };
    if let Some(id) = &config.id {
        if id != &pod.id {
            return Err(format!("config id {} differs from its key", printable(id)));
        }
    }
    Ok(PodFacts {
        name: non_empty(config.name).or_else(|| pod.name.clone()),
        cgroup_path: non_empty(state.cgroup_path),
        shares_cgroup: config.shares_cgroup.unwrap_or(false),
    })
}

fn container_record(
    ctr: &RawContainer,
    pods: &HashMap<&str, PodFacts>,
    source: Source,
    uid: Option<u32>,
    graph_root: Option<&std::path::Path>,
) -> Result<ContainerRecord, String> {
    let id = ContainerId::new(ctr.id.as_str()).map_err(|e| e.to_string())?;
    let config = parse_config_json(&ctr.config_json)?;
    let state: StateJson = parse_json(&ctr.state_json, "container state")?;
    if let Some(id) = &config.id {
        if id != &ctr.id {
            return Err(format!("config id {} differs from its key", printable(id)));
        }
    }
    let name = non_empty(config.name)
        .or_else(|| ctr.name.clone())
        .ok_or_else(|| "no name in the config or the registry".to_string())?;
    let pod_id = non_empty(config.pod)
        .or_else(|| ctr.pod_id.clone())
        .map(ContainerId::new_pod)
        .transpose()
        .map_err(|e| e.to_string())?;
    let pod = pod_id.as_deref().and_then(|p| pods.get(p));
    let state_value = state
        .state
        .ok_or_else(|| "no `state` in the state JSON".to_string())?;
    let cgroup_manager = match config.cgroup_manager.as_deref() {
        Some("systemd") => Some(CgroupManager::Systemd),
        Some("cgroupfs") => Some(CgroupManager::Cgroupfs),
        _ => None,
    };
    let state_kind = ContainerState::from_podman(state_value);
    let labels = config.labels.unwrap_or_default();
    let container = Container {
        systemd_unit: labels
            .get(SYSTEMD_UNIT_LABEL)
            .cloned()
            .filter(|u| !u.is_empty()),
        labels,
        // Podman omits a 0 exit code, so a container that stopped without one exited 0.
        exit_code: matches!(state_kind, ContainerState::Stopped | ContainerState::Exited)
            .then(|| state.exit_code.unwrap_or(0)),
        restart_count: Some(state.restart_count.unwrap_or(0)),
        health_log: None,
        health: None,
        health_code: None,
        health_failing_streak: None,
        id,
        name,
        pod_name: pod.and_then(|p| p.name.clone()),
        pod_id,
        image: non_empty(config.rootfs_image_name).or(non_empty(config.raw_image_name)),
        state: state_kind,
        pid: positive_pid(state.pid),
        conmon_pid: positive_pid(state.conmon_pid),
        cgroup: None,
        created_at_ns: config.created_time.as_deref().and_then(unix_ns),
        started_at_ns: state.started_time.as_deref().and_then(unix_ns),
        source,
        uid,
        graph_root: graph_root.map(|p| p.to_path_buf()),
        is_infra: config.pause.unwrap_or(false),
        netns: non_empty(state.netns),
        cgroup_manager,
        cgroup_parent: non_empty(config.cgroup_parent),
    };
    let health_check = has_health_check(config.healthcheck.as_ref()).then(|| {
        config
            .health_log_destination
            .as_ref()
            .and_then(|d| d.as_str())
            .map(str::to_string)
    });
    let hints = CgroupHints {
        cgroups_mode: non_empty(config.cgroups_mode),
        no_cgroups: config.no_cgroups.unwrap_or(false),
        pod_cgroup: pod.and_then(|p| p.cgroup_path.clone()),
        shares_pod_cgroup: pod.is_some_and(|p| p.shares_cgroup),
    };
    Ok(ContainerRecord {
        container,
        hints,
        health_check,
    })
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, String> {
    if bytes.is_empty() {
        return Err(format!("{what} is missing"));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("{what} is not valid JSON: {e}"))
}

/// Every key (and alias) [`ConfigJson`] reads; `config_keys_cover_the_struct` checks it
/// against the struct.
const CONFIG_JSON_KEYS: &[&str] = &[
    "id",
    "name",
    "pod",
    "rootfsImageName",
    "RawImageName",
    "rawImageName",
    "createdTime",
    "created",
    "cgroupManager",
    "cgroupParent",
    "cgroupsMode",
    "noCgroups",
    "pause",
    "isInfra",
    "labels",
    "healthcheck",
    "healthLogDestination",
];

/// A container's config JSON as [`ConfigJson`]: the keys it reads are cut out first
/// ([`keep_keys`](crate::parse::json_keys::keep_keys)), so serde does not tokenize the OCI
/// spec it would only skip. Any error comes from parsing the original bytes, so its message
/// (line, column) is the one serde gives for the record as stored.
fn parse_config_json(bytes: &[u8]) -> Result<ConfigJson, String> {
    const WHAT: &str = "container config";
    let wanted = |key: &[u8]| CONFIG_JSON_KEYS.iter().any(|k| k.as_bytes() == key);
    match crate::parse::json_keys::keep_keys(bytes, wanted) {
        Some(kept) => match serde_json::from_slice(&kept) {
            Ok(config) => Ok(config),
            Err(_) => parse_json(bytes, WHAT),
        },
        None => parse_json(bytes, WHAT),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn positive_pid(pid: Option<i64>) -> Option<u32> {
    pid.and_then(|p| u32::try_from(p).ok()).filter(|p| *p > 0)
}

/// An RFC 3339 time (Go's `time.Time` JSON, nanoseconds) as nanoseconds since the Unix
/// epoch; `None` for Go's zero time (`0001-01-01T00:00:00Z`), anything before the epoch and
/// anything unparsable.
pub fn unix_ns(s: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp_nanos())
        .ok()
        .filter(|n| *n > 0)
}

/// A key from a database, safe to print (control characters and long keys escaped/cut).
fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_debug).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::raw::RuntimeConfig;

    const ID: &str = "37fb6904b64d4d14e59f3ba577a0344e655eaf6da198033ae8fa686ccc0f4220";
    const POD: &str = "d259df7fc775ee42db4703f204743d512fd6c1ca7549a9aea08630f140872358";

    fn ctr(config: &str, state: &str) -> RawContainer {
        RawContainer {
            id: ID.into(),
            name: Some("from-registry".into()),
            pod_id: None,
            config_json: config.as_bytes().to_vec(),
            state_json: state.as_bytes().to_vec(),
        }
    }

    /// The cut-down parse reads what serde reads from the whole record: every key of
    /// `CONFIG_JSON_KEYS` set (each alias once, alone), next to an OCI spec it skips.
    #[test]
    fn config_keys_cover_the_struct() {
        let spec = r#""spec": {"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["accept", "bind", "x\"}]"], "action": "SCMP_ACT_ALLOW"}]}},
            "annotations": {"k": "v"}, "n": [1, 2.5e3, -7, null, true, false]}"#;
        let value = |key: &str| match key {
            "noCgroups" | "pause" | "isInfra" => "true".to_string(),
            "labels" => r#"{"a": "1", "b": "2"}"#.to_string(),
            "healthcheck" => r#"{"Test": ["CMD", "true"], "Interval": 30}"#.to_string(),
            "healthLogDestination" => r#""local""#.to_string(),
            other => format!(r#""value of {other}""#),
        };
        for alias in ["", "rawImageName", "created", "isInfra"] {
            let pairs: Vec<String> = CONFIG_JSON_KEYS
                .iter()
                .filter(|k| {
                    // One spelling of each field: an alias and its field are a duplicate.
                    let aliases = [
                        ("rawImageName", "RawImageName"),
                        ("created", "createdTime"),
                        ("isInfra", "pause"),
                    ];
                    aliases.iter().all(|(a, field)| {
                        (**k != *a || *a == alias) && (**k != *field || *a != alias)
                    })
                })
                .map(|k| format!("{k:?}: {}", value(k)))
                .collect();
            let json = format!("{{{spec}, {}, \"other\": {{}}}}", pairs.join(", "));
            let whole: ConfigJson = serde_json::from_str(&json).expect("valid");
            let cut = parse_config_json(json.as_bytes()).expect("valid");
            assert_eq!(format!("{cut:?}"), format!("{whole:?}"));
            for key in CONFIG_JSON_KEYS
                .iter()
                .filter(|k| json.contains(&format!("{k:?}")))
            {
                let without = json.replace(&format!("{key:?}"), "\"unread\"");
                let whole: ConfigJson = serde_json::from_str(&without).expect("valid");
                assert_ne!(format!("{cut:?}"), format!("{whole:?}"), "{key} is read");
            }
        }
    }

    /// Bad records fail with serde's message for the record as stored.
    #[test]
    fn config_errors_are_serdes_own() {
        for bad in [
            r#"{"spec": {"a": [1, 2}, "name": "x"}"#,
            r#"{"spec": {}, "name": 7}"#,
            r#"{"spec": {}, "name": "x", "name": "y"}"#,
            r#"{"spec": {}} trailing"#,
            "[1]",
            "",
        ] {
            let ours = parse_config_json(bad.as_bytes()).map(|_| ()).unwrap_err();
            let serdes = parse_json::<ConfigJson>(bad.as_bytes(), "container config")
                .map(|_| ())
                .unwrap_err();
            assert_eq!(ours, serdes, "{bad}");
        }
    }

    fn one(raw: RawState) -> ContainerRecord {
        let mut out = interpret(&raw, Source::Bolt, Some(0), None);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.records.len(), 1);
        out.records.remove(0)
    }

    #[test]
    fn running_container_from_podman_4_json() {
        let config = format!(
            r#"{{"id":"{ID}","name":"lpstest-run","rootfsImageName":"localhost/bb:latest",
            "RawImageName":"localhost/bb","createdTime":"2026-11-25T02:32:03.094599641Z",
            "cgroupManager":"cgroupfs","cgroupsMode":"enabled","cgroupParent":"/libpod_parent",
            "pause":false,"spec":{{"process":{{"args":["sleep"]}}}},"unknown":[1,2]}}"#
        );
        let state = r#"{"state":3,"startedTime":"2026-11-25T02:32:03.249997709Z",
            "finishedTime":"0001-01-01T00:00:00Z","pid":5563,"conmonPid":5552}"#;
        let rec = one(RawState {
            containers: vec![ctr(&config, state)],
            ..Default::default()
        });
        let c = rec.container;
        assert_eq!(c.name, "lpstest-run");
        assert_eq!(c.image.as_deref(), Some("localhost/bb:latest"));
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(c.pid, Some(5563));
        assert_eq!(c.conmon_pid, Some(5552));
        assert_eq!(c.created_at_ns, Some(1_795_573_923_094_599_641));
        assert_eq!(c.started_at_ns, Some(1_795_573_923_249_997_709));
        assert_eq!(c.cgroup_manager, Some(CgroupManager::Cgroupfs));
        assert_eq!(c.cgroup_parent.as_deref(), Some("/libpod_parent"));
        assert_eq!(c.uid, Some(0));
        assert!(!c.is_infra);
        assert_eq!(rec.hints.cgroups_mode.as_deref(), Some("enabled"));
    }

    #[test]
    fn labels_unit_exit_code_and_restarts() {
        let config = format!(
            r#"{{"id":"{ID}","labels":{{"PODMAN_SYSTEMD_UNIT":"web.service","tier":"front"}}}}"#
        );
        let exited = one(RawState {
            containers: vec![ctr(
                &config,
                r#"{"state":6,"exitCode":137,"restartCount":2}"#,
            )],
            ..Default::default()
        })
        .container;
        assert_eq!(exited.systemd_unit.as_deref(), Some("web.service"));
        assert_eq!(exited.labels.get("tier").map(String::as_str), Some("front"));
        assert_eq!(exited.exit_code, Some(137));
        assert_eq!(exited.restart_count, Some(2));
        let clean_exit = one(RawState {
            containers: vec![ctr(&config, r#"{"state":6}"#)],
            ..Default::default()
        })
        .container;
        assert_eq!(
            (clean_exit.exit_code, clean_exit.restart_count),
            (Some(0), Some(0))
        );
        let running = one(RawState {
            containers: vec![ctr(
                &format!(r#"{{"id":"{ID}","labels":null}}"#),
                r#"{"state":3,"exitCode":1}"#,
            )],
            ..Default::default()
        })
        .container;
        assert_eq!(running.exit_code, None);
        assert_eq!(running.systemd_unit, None);
        assert!(running.labels.is_empty());
    }

    #[test]
    fn health_checks_and_their_log_destination() {
        let with = |hc: &str| {
            one(RawState {
                containers: vec![ctr(&format!(r#"{{"id":"{ID}",{hc}}}"#), r#"{"state":3}"#)],
                ..Default::default()
            })
            .health_check
        };
        let cmd = r#""healthcheck":{"Test":["CMD-SHELL","true"],"Retries":3}"#;
        assert_eq!(with(cmd), Some(None));
        assert_eq!(
            with(&format!(r#"{cmd},"healthLogDestination":"/var/log/hc""#)),
            Some(Some("/var/log/hc".into()))
        );
        // A redacted capture keeps the object without its Test.
        assert_eq!(with(r#""healthcheck":{"Retries":3}"#), Some(None));
        for none in [
            r#""healthcheck":null"#,
            r#""healthcheck":{"Test":["NONE"]}"#,
            r#""healthcheck":{"Test":[]}"#,
            r#""healthcheck":"odd""#,
            r#""labels":{}"#,
        ] {
            assert_eq!(with(none), None, "{none}");
        }
    }

    #[test]
    fn created_container_has_no_pid_and_no_start_time() {
        let config = format!(r#"{{"id":"{ID}","RawImageName":"localhost/bb"}}"#);
        let state = r#"{"state":1,"startedTime":"0001-01-01T00:00:00Z"}"#;
        let c = one(RawState {
            containers: vec![ctr(&config, state)],
            ..Default::default()
        })
        .container;
        assert_eq!(c.name, "from-registry");
        assert_eq!(c.image.as_deref(), Some("localhost/bb"));
        assert_eq!(c.state, ContainerState::Created);
        assert_eq!(c.pid, None);
        assert_eq!(c.started_at_ns, None);
        assert_eq!(c.created_at_ns, None);
        assert_eq!(c.cgroup_manager, None);
    }

    #[test]
    fn pod_members_get_the_pod_name_and_cgroup() {
        let config = format!(r#"{{"id":"{ID}","name":"m","pod":"{POD}","pause":true}}"#);
        let pod = RawPod {
            id: POD.into(),
            name: Some("registry-name".into()),
            config_json: format!(r#"{{"id":"{POD}","name":"lpstest-pod","sharesCgroup":true}}"#)
                .into_bytes(),
            state_json: format!(
                r#"{{"cgroupPath":"/libpod_parent/{POD}","InfraContainerID":"{ID}"}}"#
            )
            .into_bytes(),
        };
        let rec = one(RawState {
            containers: vec![ctr(&config, r#"{"state":6}"#)],
            pods: vec![pod],
            runtime: RuntimeConfig::default(),
        });
        assert_eq!(rec.container.pod_id.as_deref(), Some(POD));
        assert_eq!(rec.container.pod_name.as_deref(), Some("lpstest-pod"));
        assert!(rec.container.is_infra);
        assert!(rec.hints.shares_pod_cgroup);
        assert_eq!(rec.hints.pod_cgroup, Some(format!("/libpod_parent/{POD}")));
    }

    #[test]
    fn bad_records_are_reported_and_skipped() {
        let good = ctr(&format!(r#"{{"id":"{ID}","name":"ok"}}"#), r#"{"state":3}"#);
        let mut bad_id = good.clone();
        bad_id.id = "../../etc".into();
        let mut bad_json = good.clone();
        bad_json.config_json = b"{not json".to_vec();
        let mut no_state = good.clone();
        no_state.state_json = b"{}".to_vec();
        let mut wrong_type = good.clone();
        wrong_type.state_json = br#"{"state":"running"}"#.to_vec();
        let raw = RawState {
            containers: vec![bad_id, bad_json, no_state, wrong_type, good],
            ..Default::default()
        };
        let out = interpret(&raw, Source::Sqlite, None, None);
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.errors.len(), 4, "{:?}", out.errors);
        assert!(out.errors[0].to_string().contains("64 lowercase hex"));
    }

    #[test]
    fn unknown_state_numbers_are_unknown() {
        let c = one(RawState {
            containers: vec![ctr(
                &format!(r#"{{"id":"{ID}"}}"#),
                r#"{"state":42,"pid":-1}"#,
            )],
            ..Default::default()
        })
        .container;
        assert_eq!(c.state, ContainerState::Unknown);
        assert_eq!(c.pid, None);
    }

    #[test]
    fn times_with_offsets_parse() {
        assert_eq!(unix_ns("1970-01-01T01:00:01.5+01:00"), Some(1_500_000_000));
        assert_eq!(unix_ns("0001-01-01T00:00:00Z"), None);
        assert_eq!(unix_ns("yesterday"), None);
    }

    proptest::proptest! {
        /// Any bytes in any record give a container or a reported error, never a panic.
        #[test]
        fn arbitrary_records_never_panic(
            config in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            state in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            pod in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let raw = RawState {
                containers: vec![RawContainer {
                    id: ID.into(),
                    name: None,
                    pod_id: Some(POD.into()),
                    config_json: config,
                    state_json: state,
                }],
                pods: vec![RawPod {
                    id: POD.into(),
                    name: None,
                    config_json: pod.clone(),
                    state_json: pod,
                }],
                runtime: RuntimeConfig::default(),
            };
            let out = interpret(&raw, Source::Bolt, None, None);
            proptest::prop_assert_eq!(out.records.len() + out.errors.len() >= 1, true);
        }

        /// Well-formed JSON with odd values is interpreted or refused, never a panic.
        #[test]
        fn odd_json_values_never_panic(
            state in proptest::num::i64::ANY,
            pid in proptest::num::i64::ANY,
            time in "\\PC{0,40}",
            name in "\\PC{0,20}",
        ) {
            let config = serde_json::json!({"id": ID, "name": name, "createdTime": time});
            let st = serde_json::json!({"state": state, "pid": pid, "startedTime": time});
            let raw = RawState {
                containers: vec![RawContainer {
                    id: ID.into(),
                    name: Some("n".into()),
                    pod_id: None,
                    config_json: config.to_string().into_bytes(),
                    state_json: st.to_string().into_bytes(),
                }],
                ..Default::default()
            };
            let out = interpret(&raw, Source::Sqlite, None, None);
            proptest::prop_assert_eq!(out.records.len(), 1);
        }
    }
}
