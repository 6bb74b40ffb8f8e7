//! Redaction of the JSON records a capture writes, by allow-list.
//!
//! A capture is meant to be shared (attached to a bug, checked into fixtures), and podman
//! keeps secrets in more places than anyone can list (the whole command line in
//! `CreateCommand`, the container's arguments, health check commands, hooks, log labels, and
//! whatever podman adds next). So a redacted record keeps only the fields named in the
//! [`table`](RecordKind::table) of its [`RecordKind`], each with the reader that needs it;
//! every other key is dropped with its value, whatever its type (numbers and booleans too),
//! and with it every map key a user chose (env names, annotation keys). An object on the way
//! to a kept path stays, possibly empty (`"healthcheck": {}` still says a health check
//! exists). The records still deserialize in this crate's readers exactly as before.
//!
//! Label keys are the one user-chosen text kept: their values become [`REDACTED`], except
//! `PODMAN_SYSTEMD_UNIT` (unit-based naming needs it) and the labels asked for with
//! [`Redactor::keep_label`] (`capture --keep-label`).
//!
//! To keep one more field, add a [`Rule`] with its path and the reason to the kind's table,
//! and a word in the README's table of what a capture keeps (a test checks); nothing else
//! has to change.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// What a redacted label value (or the host name in `snapshot.json`) becomes.
pub const REDACTED: &str = "REDACTED";

/// The label whose value is always kept: the systemd unit of a Quadlet or
/// `podman generate systemd` container, which names its metrics.
pub use crate::libpod::model::SYSTEMD_UNIT_LABEL;

/// How a kept path's value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The value as it is when it is a string, number, boolean or null; an array keeps its
    /// elements by the same rule and an object inside becomes `{}` (so a reader that
    /// refuses a wrong type still refuses it).
    Value,
    /// A number, boolean or null; a string becomes `""`, an array `[]`, an object `{}` (the
    /// type stays, so a reader that refuses it still does; the content goes).
    Number,
    /// A map whose keys stay and whose values become [`REDACTED`], except the labels the
    /// [`Redactor`] keeps.
    LabelValues,
    /// A string holding a JSON object, filtered by the nested table (containers/storage's
    /// `metadata`); anything else is dropped.
    Json(&'static [Rule]),
}

/// One kept path of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Keys from the record's top, joined by `.`; `*` is any array element (or map key).
    pub path: &'static str,
    /// What is kept there.
    pub keep: Keep,
    /// Who reads it.
    pub why: &'static str,
}

const fn rule(path: &'static str, keep: Keep, why: &'static str) -> Rule {
    Rule { path, keep, why }
}

/// The kinds of JSON record a capture writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// podman's ContainerConfig (BoltDB `ctr/<id>/config`, SQLite `ContainerConfig.JSON`).
    ContainerConfig,
    /// podman's ContainerState.
    ContainerState,
    /// podman's PodConfig.
    PodConfig,
    /// podman's pod state.
    PodState,
    /// An OCI bundle's `userdata/config.json`.
    OciConfig,
    /// containers/storage's `containers.json` / `volatile-containers.json` (an array).
    StorageList,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 6] = [
        RecordKind::ContainerConfig,
        RecordKind::ContainerState,
        RecordKind::PodConfig,
        RecordKind::PodState,
        RecordKind::OciConfig,
        RecordKind::StorageList,
    ];

    /// The paths kept in a record of this kind.
    pub fn table(self) -> &'static [Rule] {
        match self {
            RecordKind::ContainerConfig => CONTAINER_CONFIG,
            RecordKind::ContainerState => CONTAINER_STATE,
            RecordKind::PodConfig => POD_CONFIG,
            RecordKind::PodState => POD_STATE,
            RecordKind::OciConfig => OCI_CONFIG,
            RecordKind::StorageList => STORAGE_LIST,
        }
    }

    /// Whether the record's top is an array (else an object).
    fn is_array(self) -> bool {
        self == RecordKind::StorageList
    }
}

use Keep::{LabelValues, Number, Value as Plain};

/// ContainerConfig: what `libpod::interpret::ConfigJson` reads, plus the health check's
/// shape for metrics.
pub const CONTAINER_CONFIG: &[Rule] = &[
    rule("id", Plain, "the id checked against the record's key; ps"),
    rule("name", Plain, "the container name; ps, stats, metric names"),
    rule("pod", Plain, "the pod the container belongs to"),
    rule("rootfsImageName", Plain, "the image name ps shows"),
    rule(
        "RawImageName",
        Plain,
        "the image name when rootfsImageName is empty",
    ),
    rule("rawImageName", Plain, "alias of RawImageName"),
    rule("createdTime", Plain, "the creation time ps shows"),
    rule("created", Plain, "alias of createdTime"),
    rule(
        "cgroupManager",
        Plain,
        "finding the cgroup (systemd or cgroupfs)",
    ),
    rule("cgroupParent", Plain, "finding the cgroup"),
    rule(
        "cgroupsMode",
        Plain,
        "finding the cgroup (split, no-conmon, disabled)",
    ),
    rule("noCgroups", Plain, "a container without a cgroup"),
    rule("pause", Plain, "a pod's infra container"),
    rule("isInfra", Plain, "alias of pause"),
    rule(
        "labels",
        LabelValues,
        "label keys (filters); the unit label's value names metrics",
    ),
    rule(
        "healthcheck.Interval",
        Number,
        "health check timing; its object (no Test) or null says if one exists",
    ),
    rule(
        "healthcheck.Timeout",
        Number,
        "the health check's timing, for metrics",
    ),
    rule(
        "healthcheck.StartPeriod",
        Number,
        "the health check's timing, for metrics",
    ),
    rule(
        "healthcheck.StartInterval",
        Number,
        "the health check's timing, for metrics",
    ),
    rule(
        "healthcheck.Retries",
        Number,
        "the health check's retries, for metrics",
    ),
    rule(
        "healthLogDestination",
        Plain,
        "where the health check log is (local, events_logger or a directory)",
    ),
];

/// ContainerState: what `libpod::interpret::StateJson` reads, plus `exited` and `oomKilled`
/// for metrics.
pub const CONTAINER_STATE: &[Rule] = &[
    rule("state", Plain, "the container's status; ps, stats"),
    rule("pid", Plain, "the init process: its /proc and cgroup"),
    rule("conmonPid", Plain, "conmon's process"),
    rule("startedTime", Plain, "the start time (CPU % baseline)"),
    rule(
        "netns",
        Plain,
        "the network namespace (pod members share it)",
    ),
    rule("exitCode", Number, "the last exit code (ps, metrics)"),
    rule("exited", Number, "whether it exited, for metrics"),
    rule(
        "oomKilled",
        Number,
        "whether the OOM killer ended it, for metrics",
    ),
    rule(
        "restartCount",
        Number,
        "restarts by the restart policy (ps, metrics)",
    ),
];

/// PodConfig: what `libpod::interpret::PodConfigJson` reads.
pub const POD_CONFIG: &[Rule] = &[
    rule("id", Plain, "the id checked against the record's key"),
    rule("name", Plain, "the pod name ps and stats show"),
    rule("cgroupParent", Plain, "the pod's cgroup parent"),
    rule("sharesCgroup", Plain, "members live under the pod's cgroup"),
    rule("UsePodCgroup", Plain, "alias of sharesCgroup"),
];

/// Pod state: what `libpod::interpret::PodStateJson` reads.
pub const POD_STATE: &[Rule] = &[
    rule("cgroupPath", Plain, "the pod's cgroup"),
    rule(
        "InfraContainerID",
        Plain,
        "the infra container (SQLite PodState column)",
    ),
    rule("infraContainerID", Plain, "alias of InfraContainerID"),
];

/// The OCI bundle's `config.json`: what `libpod::storage` reads for storage containers.
pub const OCI_CONFIG: &[Rule] = &[rule(
    "linux.cgroupsPath",
    Plain,
    "the cgroup of a container only containers/storage knows",
)];

/// podman's metadata inside a storage entry (`libpod::storage::PodmanMetadata`).
pub const STORAGE_METADATA: &[Rule] = &[
    rule("image-name", Plain, "the image of a storage-only container"),
    rule(
        "name",
        Plain,
        "podman's name: tells podman's containers from others",
    ),
    rule(
        "created-at",
        Plain,
        "the creation time; tells podman's containers",
    ),
    rule(
        "pod-name",
        Plain,
        "CRI-O's key: its presence marks a CRI-O container",
    ),
    rule(
        "pod-id",
        Plain,
        "CRI-O's key: its presence marks a CRI-O container",
    ),
];

/// containers/storage's container lists (`libpod::storage::StorageEntry`).
pub const STORAGE_LIST: &[Rule] = &[
    rule("*.id", Plain, "the container id"),
    rule("*.names", Plain, "the container names"),
    rule("*.image", Plain, "the image id"),
    rule("*.created", Plain, "the creation time"),
    rule(
        "*.metadata",
        Keep::Json(STORAGE_METADATA),
        "podman's metadata",
    ),
];

/// Why a record could not be redacted (it is then not shared at all).
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The bytes are not JSON.
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// The record's top is not what podman writes.
    #[error("a {kind:?} record must be a JSON {expected}")]
    Shape {
        /// The kind of record.
        kind: RecordKind,
        /// `object` or `array`.
        expected: &'static str,
    },
}

/// Redacts records by the allow-list, keeping chosen label values.
#[derive(Debug, Clone)]
pub struct Redactor {
    keep_labels: BTreeSet<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor {
            keep_labels: BTreeSet::from([SYSTEMD_UNIT_LABEL.to_string()]),
        }
    }
}

type Rules<'a> = Vec<(&'a [&'static str], Keep)>;

impl Redactor {
    /// A redactor that keeps, besides the table, `PODMAN_SYSTEMD_UNIT` and these labels'
    /// values.
    pub fn new<I, S>(keep_labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut r = Redactor::default();
        for l in keep_labels {
            r = r.keep_label(l);
        }
        r
    }

    /// Keeps the value of label `key` too.
    pub fn keep_label(mut self, key: impl Into<String>) -> Self {
        self.keep_labels.insert(key.into());
        self
    }

    /// Redacts a record given as bytes and serializes it again (compact).
    pub fn redact_bytes(&self, kind: RecordKind, bytes: &[u8]) -> Result<Vec<u8>, RedactError> {
        let value: Value = serde_json::from_slice(bytes)?;
        let out = self.redact(kind, &value)?;
        Ok(serde_json::to_vec(&out)?)
    }

    /// The redacted copy of a parsed record.
    pub fn redact(&self, kind: RecordKind, value: &Value) -> Result<Value, RedactError> {
        let shape_ok = if kind.is_array() {
            value.is_array()
        } else {
            value.is_object()
        };
        if !shape_ok {
            return Err(RedactError::Shape {
                kind,
                expected: if kind.is_array() { "array" } else { "object" },
            });
        }
        let paths: Vec<Vec<&'static str>> = kind
            .table()
            .iter()
            .map(|r| r.path.split('.').collect())
            .collect();
        let rules: Rules<'_> = paths
            .iter()
            .zip(kind.table())
            .map(|(p, r)| (p.as_slice(), r.keep))
            .collect();
        // The top always matches its shape, so this is never `None`.
        Ok(self.filter(value, &rules).unwrap_or(Value::Null))
    }

    /// `value` with only what `rules` (paths relative to it) keep; `None` drops it.
    fn filter(&self, value: &Value, rules: &Rules<'_>) -> Option<Value> {
        let here = rules.iter().find(|(p, _)| p.is_empty()).map(|(_, k)| *k);
        let below = |key: Option<&str>| -> Rules<'_> {
            rules
                .iter()
                .filter_map(|(p, k)| match p.split_first() {
                    Some((first, rest)) if *first == "*" || Some(*first) == key => Some((rest, *k)),
                    _ => None,
                })
                .collect()
        };
        match (here, value) {
            (Some(keep), _) => self.apply(keep, value),
            (None, Value::Object(_)) | (None, Value::Array(_)) => {
                self.filter_children(value, &below)
            }
            (None, Value::Null) => Some(Value::Null),
            (None, _) => None,
        }
    }

    fn filter_children<'r>(
        &self,
        value: &Value,
        below: &dyn Fn(Option<&str>) -> Rules<'r>,
    ) -> Option<Value> {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, child) in map {
                    let rules = below(Some(key));
                    if rules.is_empty() {
                        continue;
                    }
                    if let Some(kept) = self.filter(child, &rules) {
                        out.insert(key.clone(), kept);
                    }
                }
                Some(Value::Object(out))
            }
            Value::Array(items) => {
                let rules = below(None);
                if rules.is_empty() {
                    return None;
                }
                Some(Value::Array(
                    items
                        .iter()
                        .filter_map(|item| self.filter(item, &rules))
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    fn apply(&self, keep: Keep, value: &Value) -> Option<Value> {
        match keep {
            Plain => Some(plain(value)),
            Number => Some(emptied(value)),
            LabelValues => match value {
                Value::Object(map) => Some(Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let v = if self.keep_labels.contains(k) {
                                plain(v)
                            } else {
                                redacted(v)
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                )),
                Value::Null => Some(Value::Null),
                _ => None,
            },
            Keep::Json(table) => {
                let Value::String(text) = value else {
                    return value.is_null().then_some(Value::Null);
                };
                let inner: Value = serde_json::from_str(text).ok()?;
                if !inner.is_object() {
                    return None;
                }
                let paths: Vec<Vec<&'static str>> =
                    table.iter().map(|r| r.path.split('.').collect()).collect();
                let rules: Rules<'_> = paths
                    .iter()
                    .zip(table)
                    .map(|(p, r)| (p.as_slice(), r.keep))
                    .collect();
                let kept = self.filter(&inner, &rules)?;
                serde_json::to_string(&kept).ok().map(Value::String)
            }
        }
    }
}

/// A scalar as it is; arrays element by element; objects emptied.
fn plain(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(plain).collect()),
        Value::Object(_) => Value::Object(Map::new()),
        other => other.clone(),
    }
}

/// A label value: a string is [`REDACTED`] (empty stays empty), anything else is
/// [`emptied`] (podman writes strings only; another type stays the error it was).
fn redacted(value: &Value) -> Value {
    match value {
        Value::String(s) if !s.is_empty() => Value::String(REDACTED.to_string()),
        other => emptied(other),
    }
}

/// Numbers, booleans and null as they are; a string `""`, an array `[]`, an object `{}`.
fn emptied(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::String(String::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(_) => Value::Object(Map::new()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redact(kind: RecordKind, v: Value) -> Value {
        Redactor::default().redact(kind, &v).unwrap()
    }

    #[test]
    fn container_config_keeps_only_the_table() {
        let config = json!({
            "id": "abc",
            "name": "web",
            "rootfsImageName": "localhost/bb:latest",
            "createdTime": "2026-11-25T02:32:03.094599641Z",
            "cgroupManager": "cgroupfs",
            "cgroupParent": "/libpod_parent",
            "cgroupsMode": "enabled",
            "pause": false,
            "CreateCommand": ["podman", "run", "-e", "TOKEN=hunter2", "bb"],
            "labels": {"com.example.owner": "alice", "PODMAN_SYSTEMD_UNIT": "web.service", "e": ""},
            "healthcheck": {"Test": ["CMD-SHELL", "curl -u admin:pw"], "Interval": 30000000000u64, "Retries": 3},
            "hostname": "db-primary",
            "logLabels": {"k": "v"},
            "secrets": [{"Secret": {"Name": "dbpass"}}],
            "stopTimeout": 10,
            "spec": {"process": {"args": ["sh", "-c", "secret"], "env": ["A=b"]},
                     "linux": {"cgroupsPath": "/x"}, "hooks": {"prestart": [{"path": "/h"}]}}
        });
        let out = redact(RecordKind::ContainerConfig, config);
        assert_eq!(
            out,
            json!({
                "id": "abc",
                "name": "web",
                "rootfsImageName": "localhost/bb:latest",
                "createdTime": "2026-11-25T02:32:03.094599641Z",
                "cgroupManager": "cgroupfs",
                "cgroupParent": "/libpod_parent",
                "cgroupsMode": "enabled",
                "pause": false,
                "labels": {"com.example.owner": REDACTED, "PODMAN_SYSTEMD_UNIT": "web.service", "e": ""},
                "healthcheck": {"Interval": 30000000000u64, "Retries": 3},
            })
        );
    }

    #[test]
    fn kept_labels_and_null_health_check() {
        let r = Redactor::new(["team"]);
        let out = r
            .redact(
                RecordKind::ContainerConfig,
                &json!({"labels": {"team": "db", "x": "y"}, "healthcheck": null}),
            )
            .unwrap();
        assert_eq!(
            out,
            json!({"labels": {"team": "db", "x": REDACTED}, "healthcheck": null})
        );
    }

    #[test]
    fn wrong_types_stay_wrong_and_values_keep_no_objects() {
        let out = redact(
            RecordKind::ContainerConfig,
            json!({"name": {"secret": "x"}, "pod": ["a", {"b": "c"}], "labels": "x"}),
        );
        assert_eq!(out, json!({"name": {}, "pod": ["a", {}]}));
        let out = redact(
            RecordKind::ContainerState,
            json!({"state": "running", "exitCode": "secret", "oomKilled": true, "pid": 7}),
        );
        assert_eq!(
            out,
            json!({"state": "running", "exitCode": "", "oomKilled": true, "pid": 7})
        );
    }

    #[test]
    fn storage_list_and_its_metadata() {
        let list = json!([{
            "id": "a", "names": ["web"], "image": "f", "layer": "e", "created": "t",
            "metadata": "{\"image-name\":\"bb\",\"name\":\"web\",\"created-at\":1,\"mountlabel\":\"s\"}",
            "big-data-names": ["secret"], "flags": {"MountLabel": "s"}
        }, {"id": "b", "metadata": "not json"}]);
        let out = redact(RecordKind::StorageList, list);
        assert_eq!(
            out,
            json!([
                {"id": "a", "names": ["web"], "image": "f", "created": "t",
                 "metadata": out[0]["metadata"].clone()},
                {"id": "b"}
            ])
        );
        let meta: Value = serde_json::from_str(out[0]["metadata"].as_str().unwrap()).unwrap();
        assert_eq!(
            meta,
            json!({"image-name": "bb", "name": "web", "created-at": 1})
        );
    }

    #[test]
    fn oci_config_keeps_the_cgroups_path_only() {
        let out = redact(
            RecordKind::OciConfig,
            json!({"ociVersion": "1.0", "process": {"args": ["x"]}, "linux": {"cgroupsPath": "/p", "namespaces": []}}),
        );
        assert_eq!(out, json!({"linux": {"cgroupsPath": "/p"}}));
    }

    #[test]
    fn the_wrong_top_or_no_json_is_an_error() {
        let r = Redactor::default();
        assert!(r.redact_bytes(RecordKind::PodConfig, b"[1]").is_err());
        assert!(r.redact_bytes(RecordKind::StorageList, b"{}").is_err());
        assert!(r.redact_bytes(RecordKind::PodState, b"not json").is_err());
        let out = r
            .redact_bytes(
                RecordKind::PodState,
                br#"{"cgroupPath":"/p","InfraContainerID":"i","x":1}"#,
            )
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"InfraContainerID": "i", "cgroupPath": "/p"})
        );
    }

    #[test]
    fn every_table_entry_has_a_reason_and_a_unique_path() {
        for kind in RecordKind::ALL {
            let mut seen = BTreeSet::new();
            for r in kind.table() {
                assert!(!r.why.is_empty() && !r.path.is_empty(), "{r:?}");
                assert!(seen.insert(r.path), "{kind:?}: {} twice", r.path);
            }
        }
    }

    /// Whether `path` (keys and indices) may be in a redacted record of `kind`: on the way to
    /// a rule's path, or inside what a rule keeps.
    fn allowed(table: &[Rule], path: &[String]) -> bool {
        table.iter().any(|r| {
            let segs: Vec<&str> = r.path.split('.').collect();
            let n = segs.len().min(path.len());
            let prefix_matches = segs[..n]
                .iter()
                .zip(&path[..n])
                .all(|(s, p)| *s == "*" || s == p);
            prefix_matches && (path.len() <= segs.len() || r.keep != Number)
        })
    }

    fn paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let children: Vec<(String, &Value)> = match value {
            Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (k, v) in children {
            at.push(k);
            out.push(at.clone());
            paths(v, at, out);
            at.pop();
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            "[a-z]{1,4}",
            proptest::sample::select(vec![
                "id",
                "name",
                "labels",
                "healthcheck",
                "Interval",
                "Test",
                "linux",
                "cgroupsPath",
                "metadata",
                "names",
                "state",
                "exitCode",
                SYSTEMD_UNIT_LABEL,
                "*",
            ])
            .prop_map(str::to_string),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z{}\\[\\]\":,]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Redacting twice changes nothing more, and nothing outside the table survives.
        #[test]
        fn idempotent_and_inside_the_table(value in json_value()) {
            let r = Redactor::default();
            for kind in RecordKind::ALL {
                let Ok(once) = r.redact(kind, &value) else { continue };
                let twice = r.redact(kind, &once).unwrap();
                proptest::prop_assert_eq!(&once, &twice);
                let mut all = Vec::new();
                paths(&once, &mut Vec::new(), &mut all);
                for p in all {
                    proptest::prop_assert!(allowed(kind.table(), &p), "{:?}: {:?} in {}", kind, p, once);
                }
            }
        }
    }
}
