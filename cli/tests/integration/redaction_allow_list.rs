//! The allow-list holds: a random marker planted in a random place a redacted capture does not
//! keep, in real podman 4.3 records (the BoltDB fixtures), in real podman 5.4 and 5.8 records
//! (the VM guests' SQLite fixtures, rootless store and Quadlet included) and in records shaped
//! like podman 5's (its ContainerConfig/ContainerState/PodConfig keys, `CreateCommand` and
//! `healthcheck.Test` included), in BoltDB or SQLite, in the OCI `config.json`, the
//! containers/storage list and its metadata, `/etc/passwd`, `stat`, `mountinfo`,
//! `storage.conf` and a health check log (the check command's output), is in no byte of the capture, while `ps --all` and `stats --no-stream` read
//! the capture exactly as they read the source. Also: a capture made by the previous
//! (deny-list) code is re-redacted by `--root OLD capture`, and `--keep-label` keeps what it
//! names.

use crate::support::cli;
use libpod_stats_test_support::files;

use std::path::{Path, PathBuf};

use cli::{cli, stdout_of};
use files::{all_files, copy_tree};
use libpod_stats::internals::capture::redact::{
    Keep, RecordKind, Rule, STORAGE_METADATA, SYSTEMD_UNIT_LABEL,
};
use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use libpod_stats::internals::libpod::sqlite::{read_sqlite_state, write_sqlite_state};
use libpod_stats::{capture_snapshot, CaptureOptions, HostRoot, RawState};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Real records: podman 4.3 (BoltDB, cgroup v1, this host) and podman 5.4 / 5.8 (SQLite,
/// cgroup v2 with systemd, a rootless store, a Quadlet unit; the VM guests' first steps).
const FIXTURES: [&str; 4] = [
    "cgroupv1/podman-pod",
    "cgroupv1/podman-mixed",
    "cgroupv2/podman-5.4-mixed/000",
    "cgroupv2/podman-5.8-mixed/000",
];
const STORE: &str = "var/lib/containers/storage";
const BOLT: &str = "var/lib/containers/storage/libpod/bolt_state.db";
const SQLITE: &str = "var/lib/containers/storage/db.sql";
const LIST: &str = "var/lib/containers/storage/overlay-containers/containers.json";

fn fixture(name: &str) -> PathBuf {
    libpod_stats_test_support::workspace_root()
        .join("fixtures")
        .join(name)
}

/// The files under `dir` holding `needle`.
fn holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    all_files(dir, &mut files);
    files.into_iter().filter(|f| holds(f, needle)).collect()
}

/// Whether the file `f` holds `needle` in any byte (a symlink: in its target text; an SQLite
/// database: also in any cell, since a value longer than a page is split over overflow pages
/// and a marker may straddle two of them).
fn holds(f: &Path, needle: &str) -> bool {
    let mut bytes = match std::fs::read_link(f) {
        Ok(target) => target.into_os_string().into_encoded_bytes(),
        Err(_) => std::fs::read(f).unwrap(),
    };
    if bytes.starts_with(b"SQLite format 3\0") {
        bytes.extend(sqlite_cells(f));
    }
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every cell of every table of the SQLite database at `path`, concatenated.
fn sqlite_cells(path: &Path) -> Vec<u8> {
    use rusqlite::types::ValueRef;
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for name in names {
        let mut rows = db.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
        let columns = rows.column_count();
        let mut rows = rows.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    ValueRef::Text(b) | ValueRef::Blob(b) => out.extend_from_slice(b),
                    ValueRef::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
                    ValueRef::Real(x) => out.extend_from_slice(x.to_string().as_bytes()),
                    ValueRef::Null => {}
                }
                out.push(0);
            }
        }
    }
    out
}

/// `ps --all` and `stats --no-stream` as JSON, with their exit status.
fn views(root: &Path) -> Vec<(Option<i32>, String)> {
    [
        &["ps", "--all", "--format", "json"][..],
        &["stats", "--no-stream", "--format", "json"][..],
    ]
    .iter()
    .map(|args| {
        let out = cli().arg("--root").arg(root).args(*args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .collect()
}

/// Whether `path` is on or under a rule that keeps its value (so a marker there would be
/// kept, as it should): a plain or nested-JSON rule, or the unit label's value.
fn protected(table: &[Rule], path: &[String]) -> bool {
    if path.len() >= 2 && path[0] == "labels" && path[1] == SYSTEMD_UNIT_LABEL {
        return true;
    }
    table.iter().any(|r| {
        let segs: Vec<&str> = r.path.split('.').collect();
        matches!(r.keep, Keep::Value | Keep::Json(_))
            && segs.len() <= path.len()
            && segs.iter().zip(path).all(|(s, p)| *s == "*" || s == p)
    })
}

/// Whether new keys at `path` are kept whatever they are (label keys).
fn keeps_keys(table: &[Rule], path: &[String]) -> bool {
    table.iter().any(|r| {
        r.keep == Keep::LabelValues && r.path.split('.').eq(path.iter().map(String::as_str))
    })
}

fn walk(value: &Value, at: &mut Vec<String>, out: &mut Vec<(Vec<String>, bool)>) {
    out.push((at.clone(), value.is_object()));
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
        walk(v, at, out);
        at.pop();
    }
}

fn node_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, k| match v {
        Value::Object(m) => m.get_mut(k).unwrap(),
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        _ => unreachable!("walked paths lead through containers"),
    })
}

/// Keys podman 5 and 6 write (and a few made up), to plant under.
const KEYS: [&str; 14] = [
    "CreateCommand",
    "Test",
    "args",
    "env",
    "hooks",
    "logLabels",
    "annotations",
    "hostAdd",
    "passwdEntry",
    "exitCommand",
    "healthLogDestination",
    "Interval",
    "lpstest_new_field",
    "x",
];

/// How a marker is planted in a JSON record.
#[derive(Debug, Clone)]
struct Plant {
    site: usize,
    mode: u8,
    key: usize,
    shape: u8,
}

fn marker_value(marker: &str, shape: u8) -> Value {
    match shape % 4 {
        0 => json!(marker),
        1 => json!({ "note": marker }),
        2 => json!([1, marker, true]),
        _ => json!(format!("KEY={marker}")),
    }
}

/// Plants `marker` in `record` where `table` does not keep it: replacing a value (any type),
/// adding a key under an object, or adding the marker as a key. Returns where, for messages.
fn plant(record: &mut Value, table: &[Rule], marker: &str, p: &Plant) -> String {
    let mut nodes = Vec::new();
    walk(record, &mut Vec::new(), &mut nodes);
    match p.mode % 3 {
        0 => {
            let sites: Vec<&Vec<String>> = nodes
                .iter()
                .map(|(path, _)| path)
                .filter(|path| !path.is_empty() && !protected(table, path))
                .collect();
            if sites.is_empty() {
                return plant(
                    record,
                    table,
                    marker,
                    &Plant {
                        mode: 1,
                        ..p.clone()
                    },
                );
            }
            let path = sites[p.site % sites.len()].clone();
            *node_mut(record, &path) = marker_value(marker, p.shape);
            format!("replaced {path:?}")
        }
        mode => {
            let objects: Vec<&Vec<String>> = nodes
                .iter()
                .filter(|(path, is_object)| *is_object && !protected(table, path))
                .map(|(path, _)| path)
                .filter(|path| mode == 1 || !keeps_keys(table, path))
                .collect();
            let path = objects[p.site % objects.len()].clone();
            let key = if mode == 1 {
                let mut candidates: Vec<String> = KEYS
                    .iter()
                    .map(|k| k.to_string())
                    .filter(|k| {
                        let mut full = path.clone();
                        full.push(k.clone());
                        !protected(table, &full)
                    })
                    .collect();
                candidates.push(format!("lpstest_{}", p.key));
                candidates[p.key % candidates.len()].clone()
            } else {
                marker.to_string()
            };
            let value = if mode == 1 {
                marker_value(marker, p.shape)
            } else {
                json!(p.key)
            };
            match node_mut(record, &path) {
                Value::Object(m) => {
                    m.insert(key.clone(), value);
                }
                _ => unreachable!("an object was chosen"),
            }
            format!("added {key:?} under {path:?}")
        }
    }
}

/// Adds the keys podman 5 writes that podman 4.3's records lack.
fn podman5_shape(raw: &mut RawState) {
    let add = |bytes: &mut Vec<u8>, extra: Value| {
        let mut v: Value = serde_json::from_slice(bytes).unwrap();
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            for (k, x) in e {
                m.entry(k).or_insert(x);
            }
        }
        *bytes = serde_json::to_vec(&v).unwrap();
    };
    for c in &mut raw.containers {
        add(
            &mut c.config_json,
            json!({
                "CreateCommand": ["podman", "run", "-d", "-e", "TOKEN=t0k3n", "--health-cmd", "curl -f http://a:b@h/", "bb", "sleep", "1000"],
                "healthcheck": {"Test": ["CMD-SHELL", "curl -f http://a:b@h/"], "Interval": 30_000_000_000u64, "Timeout": 30_000_000_000u64, "StartPeriod": 0, "Retries": 3},
                "startupHealthCheck": {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Retries": 1, "Successes": 1},
                "healthLogDestination": "local",
                "healthMaxLogCount": 5,
                "healthMaxLogSize": 500,
                "logLabels": {"app": "web"},
                "gpus": ["0"],
                "artifactVolumes": [{"dest": "/a", "source": "quay.io/x/y:1"}],
                "orderedNetworks": ["podman"],
                "exitCommand": ["/usr/bin/podman", "--root", "/var/lib/containers/storage", "container", "cleanup"],
                "hostAdd": ["db:10.0.0.1"],
                "namedVolumes": [{"Name": "vol", "Dest": "/v", "Options": []}],
                "secrets": [{"Name": "s", "ID": "abc", "UID": 0, "GID": 0, "Mode": 292}],
                "envSecrets": {"TOKEN": {"Name": "s"}},
                "passwdEntry": "u:x:1:1::/:/bin/sh",
                "sdnotifyMode": "conmon",
                "kubeExitCodePropagation": 2,
                "labels": {"io.example.team": "db", SYSTEMD_UNIT_LABEL: "web.service"},
            }),
        );
        add(
            &mut c.state_json,
            json!({
                "error": "",
                "startupHCPassed": false,
                "startupHCSuccessCount": 0,
                "startupHCFailureCount": 0,
                "hcUnitName": "abc.timer",
                "exitCode": 0,
                "restartCount": 0,
                "oomKilled": false,
                "networkStatus": {"podman": {"interfaces": {"eth0": {"subnets": [{"ipnet": "10.88.0.2/16"}]}}}},
            }),
        );
    }
    for p in &mut raw.pods {
        add(
            &mut p.config_json,
            json!({
                "labels": {"k": "v"},
                "lockID": 3,
                "exitPolicy": "continue",
                "infraConfig": {"makeInfraContainer": true, "HostAdd": ["h:1.2.3.4"]},
            }),
        );
    }
}

/// Where in the source host the marker goes.
#[derive(Debug, Clone, Copy)]
enum Target {
    Record,
    OciConfig,
    StorageList,
    StorageMetadata,
    Passwd,
    Stat,
    Mountinfo,
    StorageConf,
    HealthLog,
}

const TARGETS: [Target; 9] = [
    Target::Record,
    Target::OciConfig,
    Target::StorageList,
    Target::StorageMetadata,
    Target::Passwd,
    Target::Stat,
    Target::Mountinfo,
    Target::StorageConf,
    Target::HealthLog,
];

#[derive(Debug, Clone)]
struct Case {
    fixture: usize,
    podman5: bool,
    sqlite: bool,
    target: Target,
    record: usize,
    plant: Plant,
    marker: String,
}

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn pids(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join("proc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && n != "1")
        .collect();
    out.sort();
    out
}

/// Builds the source host of `case` under `root`; returns the file holding the marker and a
/// description of where it is.
fn build_source(case: &Case, root: &Path) -> (PathBuf, String) {
    copy_tree(&fixture(FIXTURES[case.fixture]), root);
    let host = HostRoot::new(root).unwrap();
    // The podman 5 fixtures hold their root store's state in db.sql, and stay SQLite.
    let real_podman5 = root.join(SQLITE).is_file();
    let mut raw = if real_podman5 {
        read_sqlite_state(&host, &Path::new("/").join(SQLITE)).unwrap()
    } else {
        read_bolt_state(&host, &Path::new("/").join(BOLT)).unwrap()
    };
    let sqlite = case.sqlite || real_podman5;
    if case.podman5 {
        podman5_shape(&mut raw);
    }
    let comm = matches!(case.target, Target::Stat);
    for pid in pids(root) {
        let name = if comm {
            format!("x) ({}", case.marker)
        } else {
            "sleep".into()
        };
        write(
            root,
            &format!("proc/{pid}/stat"),
            format!("{pid} ({name}) S 1 {pid} {pid} 0 -1 4194560 98 0\n"),
        );
    }
    let m = &case.marker;
    let (file, place) = match case.target {
        Target::Record => {
            let (c, p) = (raw.containers.len(), raw.pods.len());
            let n = case.record % (2 * (c + p));
            let (bytes, kind) = if n < 2 * c {
                let ctr = &mut raw.containers[n / 2];
                if n.is_multiple_of(2) {
                    (&mut ctr.config_json, RecordKind::ContainerConfig)
                } else {
                    (&mut ctr.state_json, RecordKind::ContainerState)
                }
            } else {
                let pod = &mut raw.pods[(n - 2 * c) / 2];
                if n.is_multiple_of(2) {
                    (&mut pod.config_json, RecordKind::PodConfig)
                } else {
                    (&mut pod.state_json, RecordKind::PodState)
                }
            };
            let mut v: Value = serde_json::from_slice(bytes).unwrap();
            let at = plant(&mut v, kind.table(), m, &case.plant);
            *bytes = serde_json::to_vec(&v).unwrap();
            let db = if sqlite { SQLITE } else { BOLT };
            (PathBuf::from(db), format!("{kind:?} record: {at}"))
        }
        Target::OciConfig | Target::StorageList | Target::StorageMetadata => {
            let list: Value =
                serde_json::from_slice(&std::fs::read(root.join(LIST)).unwrap()).unwrap();
            let bundle = |id: &str| format!("{STORE}/overlay-containers/{id}/userdata/config.json");
            let ids: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string())
                .filter(|id| {
                    !matches!(case.target, Target::OciConfig) || root.join(bundle(id)).is_file()
                })
                .collect();
            let i = case.record % ids.len();
            match case.target {
                Target::OciConfig => {
                    let rel = bundle(&ids[i]);
                    let mut v: Value =
                        serde_json::from_slice(&std::fs::read(root.join(&rel)).unwrap()).unwrap();
                    let at = plant(&mut v, RecordKind::OciConfig.table(), m, &case.plant);
                    write(root, &rel, serde_json::to_vec(&v).unwrap());
                    (PathBuf::from(rel), format!("OCI config: {at}"))
                }
                Target::StorageList => {
                    let mut v = list;
                    let at = plant(&mut v, RecordKind::StorageList.table(), m, &case.plant);
                    write(root, LIST, serde_json::to_vec(&v).unwrap());
                    (PathBuf::from(LIST), format!("containers.json: {at}"))
                }
                _ => {
                    let mut v = list;
                    let text = v[i]["metadata"].as_str().unwrap_or("{}").to_string();
                    let mut meta: Value = serde_json::from_str(&text).unwrap();
                    let at = plant(&mut meta, STORAGE_METADATA, m, &case.plant);
                    v[i]["metadata"] = json!(serde_json::to_string(&meta).unwrap());
                    write(root, LIST, serde_json::to_vec(&v).unwrap());
                    (PathBuf::from(LIST), format!("metadata: {at}"))
                }
            }
        }
        Target::Passwd => {
            let mut text = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
            let line = match case.plant.mode % 3 {
                0 => format!("{m}:x:1500:1500::/home/{m}:/bin/sh\n"),
                1 => format!("svc:x:1501:1501:{m} Room 7:/home/svc:/bin/sh\n"),
                _ => format!("root2:{m}:0:0::/root2:/bin/{m}\n"),
            };
            text.push_str(&line);
            write(root, "etc/passwd", text);
            (PathBuf::from("etc/passwd"), "passwd".into())
        }
        Target::Stat => (
            PathBuf::from(format!("proc/{}/stat", pids(root)[0])),
            "stat comm".into(),
        ),
        Target::Mountinfo => {
            let mut text = std::fs::read_to_string(root.join("proc/self/mountinfo")).unwrap();
            text.push_str(&match case.plant.mode % 3 {
                0 => format!("900 22 8:3 / /srv/{m} rw,relatime - ext4 /dev/sdb1 rw\n"),
                1 => format!("901 22 0:99 / /var/lib/containers/storage/volumes/{m}/_data rw - tmpfs tmpfs rw\n"),
                _ => {
                    // A second mount of a hierarchy the layout has (a cgroupfs bind-mounted
                    // into a volume): the layout reads the one under /sys/fs/cgroup, so the
                    // copy is not needed. (A v1 controller mounted only at a secret path
                    // would be read there, and its path kept: no real v2 host has one.)
                    let used = text.lines().find(|l| l.contains(" - cgroup")).expect("a cgroup mount");
                    let mut fields: Vec<String> = used.split(' ').map(String::from).collect();
                    fields[0] = "902".into();
                    fields[4] = format!("/run/{m}{}", fields[4]);
                    format!("{}\n", fields.join(" "))
                }
            });
            write(root, "proc/self/mountinfo", text);
            (PathBuf::from("proc/self/mountinfo"), "mountinfo".into())
        }
        Target::HealthLog => {
            // A container given a health check whose command printed the marker (podman
            // keeps the output in the log's `Log`), or wrote it where podman writes none.
            let n = raw.containers.len();
            let ctr = &mut raw.containers[case.record % n];
            let mut config: Value = serde_json::from_slice(&ctr.config_json).unwrap();
            config["healthcheck"] =
                json!({"Test": ["CMD-SHELL", "echo x"], "Interval": 1_000_000_000, "Retries": 3});
            ctr.config_json = serde_json::to_vec(&config).unwrap();
            let statuses = ["healthy", "unhealthy", "starting", "stopped", "reset", ""];
            let mut log = json!({
                "Status": statuses[case.plant.site % statuses.len()],
                "FailingStreak": case.plant.key % 5,
                "Log": [{"Start": "2026-12-07T06:00:00Z", "End": "2026-12-07T06:00:01Z", "ExitCode": 1, "Output": "ok\n"}],
            });
            let at = match case.plant.mode % 3 {
                0 => {
                    log["Log"][0]["Output"] = marker_value(m, case.plant.shape);
                    "Log[0].Output"
                }
                1 => {
                    log[format!("lpstest_{}", case.plant.key)] = marker_value(m, case.plant.shape);
                    "a new key"
                }
                _ => {
                    log["Status"] = json!(m);
                    "Status"
                }
            };
            let rel = format!(
                "run/containers/storage/overlay-containers/{}/healthcheck.log",
                ctr.id
            );
            write(root, &rel, serde_json::to_vec(&log).unwrap());
            (PathBuf::from(rel), format!("health log: {at}"))
        }
        Target::StorageConf => {
            let text = format!(
                "# {m}\n[storage]\ndriver = \"overlay\"\nrunroot = \"/run/containers/storage\"\n\
                 graphroot = \"/var/lib/containers/storage\"\n[storage.options]\n\
                 mount_program = \"/usr/bin/{m}\"\n[storage.options.overlay]\nmountopt = \"{m}\"\n"
            );
            write(root, "etc/containers/storage.conf", text);
            (
                PathBuf::from("etc/containers/storage.conf"),
                "storage.conf".into(),
            )
        }
    };
    if sqlite {
        std::fs::remove_file(root.join(if real_podman5 { SQLITE } else { BOLT })).unwrap();
        write_sqlite_state(&raw, &root.join(SQLITE)).unwrap();
    } else {
        std::fs::write(
            root.join(BOLT),
            write_bolt_state(&raw, &Writer::new()).unwrap(),
        )
        .unwrap();
    }
    (file, place)
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        0..FIXTURES.len(),
        any::<bool>(),
        any::<bool>(),
        0..TARGETS.len() + 4,
        any::<usize>(),
        (any::<usize>(), any::<u8>(), any::<usize>(), any::<u8>()),
        "[A-Z0-9]{12}",
    )
        .prop_map(
            |(fixture, podman5, sqlite, t, record, (site, mode, key, shape), m)| Case {
                fixture,
                podman5,
                sqlite,
                // JSON records are most of what podman writes: weigh them more.
                target: TARGETS.get(t).copied().unwrap_or(Target::Record),
                record,
                plant: Plant {
                    site,
                    mode,
                    key,
                    shape,
                },
                marker: format!("LPSM{m}"),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_marker_outside_the_allow_list_never_reaches_the_capture(case in case_strategy()) {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("source");
        let (file, place) = build_source(&case, &source);
        prop_assert!(
            holds(&source.join(&file), &case.marker),
            "not planted ({place})"
        );

        let out = tmp.path().join("capture");
        capture_snapshot(&HostRoot::new(&source).unwrap(), &out, &CaptureOptions::default()).unwrap();
        let leaked = holding(&out, &case.marker);
        prop_assert!(leaked.is_empty(), "{place} (fixture {}, podman5 {}, sqlite {}): leaked into {leaked:?}",
            FIXTURES[case.fixture], case.podman5, case.sqlite);
        prop_assert_eq!(views(&out), views(&source), "{}", place);
    }
}

/// The health log of every fixture, in every way a marker can be in it: the check
/// command's output, a key podman does not write, the status itself. The source's `ps`
/// shows the health (so the log is read), and the capture reads the same without the marker.
#[test]
fn a_marker_in_a_health_log_never_reaches_the_capture() {
    for (fixture, name) in FIXTURES.iter().enumerate() {
        for mode in 0..3u8 {
            let case = Case {
                fixture,
                podman5: mode == 1,
                sqlite: mode == 2,
                target: Target::HealthLog,
                record: 7 * fixture + usize::from(mode),
                plant: Plant {
                    site: usize::from(mode),
                    mode,
                    key: 3,
                    shape: mode + fixture as u8,
                },
                marker: format!("LPSMHEALTH{fixture}{mode}"),
            };
            let tmp = tempfile::tempdir().unwrap();
            let source = tmp.path().join("source");
            let (file, place) = build_source(&case, &source);
            assert!(
                holds(&source.join(&file), &case.marker),
                "not planted ({place})"
            );
            let out = tmp.path().join("capture");
            capture_snapshot(
                &HostRoot::new(&source).unwrap(),
                &out,
                &CaptureOptions::default(),
            )
            .unwrap();
            let leaked = holding(&out, &case.marker);
            assert!(
                leaked.is_empty(),
                "{place} ({}): leaked into {leaked:?}",
                name
            );
            let (source_views, captured_views) = (views(&source), views(&out));
            // The planted container's health is read (other containers of the fixture may
            // have health checks of their own).
            let planted = file
                .parent()
                .and_then(Path::file_name)
                .and_then(|id| id.to_str())
                .expect("the health log's directory is the container id");
            let ps: Value = serde_json::from_str(&source_views[0].1).unwrap();
            let read = ps
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == planted && !c["health"].is_null());
            assert!(
                read,
                "{place} ({}): {planted}'s health not read: {ps:#}",
                name
            );
            assert_eq!(captured_views, source_views, "{place} ({})", name);
        }
    }
}

/// The fixtures were captured by the previous, deny-list redaction: their records still hold
/// podman's command lines. Re-capturing one applies the allow-list, and reads the same.
#[test]
fn an_old_capture_is_re_redacted() {
    let old = fixture("cgroupv1/podman-mixed");
    let old_db = old.join(BOLT);
    let has = |path: &Path, s: &str| {
        std::fs::read(path)
            .unwrap()
            .windows(s.len())
            .any(|w| w == s.as_bytes())
    };
    assert!(
        has(&old_db, "CreateCommand") && has(&old_db, "--storage-driver"),
        "the fixture no longer shows the old redaction"
    );
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("new");
    stdout_of(
        cli()
            .arg("--root")
            .arg(&old)
            .args(["capture", "--out"])
            .arg(&new),
    );
    for gone in [
        "CreateCommand",
        "--storage-driver",
        "yes > /dev/null",
        "/catatonit",
        "\"spec\"",
    ] {
        let found = holding(&new, gone);
        assert!(found.is_empty(), "{gone} still in {found:?}");
    }
    assert_eq!(views(&new), views(&old));
}

/// Label values are `REDACTED` but the systemd unit's and those named with `--keep-label`.
#[test]
fn keep_label_keeps_the_values_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    copy_tree(&fixture(FIXTURES[0]), &source);
    let host = HostRoot::new(&source).unwrap();
    let mut raw = read_bolt_state(&host, &Path::new("/").join(BOLT)).unwrap();
    for c in &mut raw.containers {
        let mut v: Value = serde_json::from_slice(&c.config_json).unwrap();
        v["labels"] = json!({
            "team": "LPSKEEP_team",
            SYSTEMD_UNIT_LABEL: "LPSKEEP_unit.service",
            "owner": "LPSDROP_owner",
        });
        c.config_json = serde_json::to_vec(&v).unwrap();
    }
    std::fs::write(
        source.join(BOLT),
        write_bolt_state(&raw, &Writer::new()).unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("capture");
    stdout_of(
        cli()
            .arg("--root")
            .arg(&source)
            .args(["capture", "--keep-label", "team", "--out"])
            .arg(&out),
    );
    let db = out.join(BOLT);
    for kept in ["LPSKEEP_team", "LPSKEEP_unit.service", "owner"] {
        assert!(!holding(&out, kept).is_empty(), "{kept} not kept");
    }
    assert!(holding(&out, "LPSDROP_owner").is_empty());
    assert!(db.is_file());
    assert_eq!(views(&out), views(&source));
}

/// The README's table of what a redacted capture keeps names every kept field: adding a rule
/// without documenting it fails here.
#[test]
fn the_readme_lists_every_kept_field() {
    let readme =
        std::fs::read_to_string(libpod_stats_test_support::workspace_root().join("README.md"))
            .unwrap();
    let start = readme.find("**Redaction is on by default").unwrap();
    let end = start + readme[start..].find("`replay DIR`").unwrap();
    let section = &readme[start..end];
    let tables = RecordKind::ALL
        .iter()
        .flat_map(|k| k.table().iter())
        .chain(STORAGE_METADATA);
    for rule in tables {
        let last = rule.path.rsplit('.').next().unwrap();
        assert!(
            section.contains(&format!("`{last}`")) || section.contains(&format!("`{}`", rule.path)),
            "README does not list {}",
            rule.path
        );
    }
}
