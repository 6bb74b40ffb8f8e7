//! Planted secrets: a synthesized host whose container carries secrets in every place
//! podman keeps them (env, labels, annotations, a secret mount, the host name, podman's
//! secrets store, a freed page of the state database) is captured, and no byte of any
//! captured file holds any of them. With `--no-redact` the config values are kept, the
//! secrets store still is not copied, and nothing ever follows a FIFO or a symlink.

use crate::support::cli;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use cli::{cli, stdout_of};
use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::write_bolt_state;
use libpod_stats::{
    capture_snapshot, CaptureOptions, DiscoveryOptions, HostRoot, RawContainer, RawState,
    RuntimeConfig,
};

const ID: &str = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";
const PID: u32 = 4242;

const ENV_SECRET: &str = "LPSTEST_ENV_SECRET_d41f";
const LABEL_SECRET: &str = "LPSTEST_LABEL_SECRET_93ab";
const ANNOTATION_SECRET: &str = "LPSTEST_ANNOTATION_SECRET_77c0";
const MOUNT_SECRET: &str = "/run/lpstest-secret-mount-src-1e2d";
const SECRET_NAME: &str = "LPSTEST_SECRET_NAME_55aa";
const HOSTNAME_SECRET: &str = "lpstest-hostname-secret-0b9c";
const STORE_SECRET: &str = "LPSTEST_SECRETS_STORE_c3c3";
const FREED_PAGE_SECRET: &str = "LPSTEST_FREED_PAGE_SECRET_e1e1";
const OUTSIDE_SECRET: &str = "LPSTEST_OUTSIDE_THE_SOURCE_7a7a";

/// Secrets a redacted capture must not contain.
const REDACTED_AWAY: [&str; 6] = [
    ENV_SECRET,
    LABEL_SECRET,
    ANNOTATION_SECRET,
    MOUNT_SECRET,
    SECRET_NAME,
    HOSTNAME_SECRET,
];
/// Secrets no capture may contain, redacted or not.
const NEVER: [&str; 3] = [STORE_SECRET, FREED_PAGE_SECRET, OUTSIDE_SECRET];

fn write(root: &Path, host_path: &str, bytes: &[u8]) {
    let p = root.join(host_path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn oci_spec() -> serde_json::Value {
    serde_json::json!({
        "hostname": HOSTNAME_SECRET,
        "process": {"env": ["PATH=/usr/bin", format!("DB_PASSWORD={ENV_SECRET}")], "args": ["sleep", "1000"]},
        "annotations": {"io.example.note": ANNOTATION_SECRET},
        "mounts": [
            {"destination": "/run/secrets/db", "source": MOUNT_SECRET, "type": "bind"},
            {"destination": "/proc", "source": "proc", "type": "proc"}
        ],
        "linux": {"cgroupsPath": format!("/libpod_parent/libpod-{ID}")}
    })
}

/// A v1 host with podman's root store holding one running container full of secrets.
fn synthesize(root: &Path) {
    let cg = format!("/libpod_parent/libpod-{ID}");
    let mut mountinfo =
        String::from("31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n");
    for (i, c) in ["cpu", "cpuacct", "memory", "pids", "blkio"]
        .iter()
        .enumerate()
    {
        mountinfo.push_str(&format!(
            "{} 31 0:{} / /sys/fs/cgroup/{c} rw,relatime - cgroup cgroup rw,{c}\n",
            32 + i,
            29 + i
        ));
    }
    write(root, "/proc/self/mountinfo", mountinfo.as_bytes());
    write(root, "/proc/meminfo", b"MemTotal:        2000000 kB\n");
    write(
        root,
        &format!("/proc/{PID}/cgroup"),
        format!("5:blkio:{cg}\n4:pids:{cg}\n3:memory:{cg}\n2:cpuacct:{cg}\n1:cpu:{cg}\n0::/\n")
            .as_bytes(),
    );
    write(
        root,
        &format!("/proc/{PID}/net/dev"),
        b"Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  eth0:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n",
    );
    std::fs::create_dir_all(root.join(format!("proc/{PID}/ns"))).unwrap();
    symlink("net:[4026532999]", root.join(format!("proc/{PID}/ns/net"))).unwrap();
    std::fs::create_dir_all(root.join("proc/1/ns")).unwrap();
    symlink("net:[4026531840]", root.join("proc/1/ns/net")).unwrap();
    let files: [(&str, &str, &str); 6] = [
        ("cpuacct", "cpuacct.usage", "123456789\n"),
        ("cpuacct", "cpuacct.usage_user", "100000000\n"),
        ("memory", "memory.usage_in_bytes", "4096000\n"),
        ("memory", "memory.limit_in_bytes", "9223372036854771712\n"),
        ("memory", "memory.stat", "total_inactive_file 4096\n"),
        ("pids", "pids.current", "1\n"),
    ];
    for (ctrl, file, text) in files {
        write(
            root,
            &format!("/sys/fs/cgroup/{ctrl}{cg}/{file}"),
            text.as_bytes(),
        );
    }
    // A symlink planted in a cgroup directory must not be followed out of the source.
    let outside = root.parent().unwrap().join("outside-secret");
    std::fs::write(&outside, OUTSIDE_SECRET).unwrap();
    symlink(
        &outside,
        root.join(format!("sys/fs/cgroup/memory{cg}/memory.evil")),
    )
    .unwrap();

    let store = "/var/lib/containers/storage";
    let config = serde_json::json!({
        "id": ID,
        "name": "lpstest-secretive",
        "rootfsImageName": "localhost/bb:latest",
        "createdTime": "2026-11-25T01:00:00.000000000Z",
        "cgroupManager": "cgroupfs",
        "cgroupParent": "/libpod_parent",
        "hostname": HOSTNAME_SECRET,
        "labels": {"com.example.owner": LABEL_SECRET},
        "secrets": [{"Secret": {"Name": SECRET_NAME, "ID": "0123"}, "UID": 0, "GID": 0, "Mode": 292}],
        "envSecrets": {"API_KEY": {"Name": SECRET_NAME}},
        "staticDir": format!("{store}/overlay-containers/{ID}/userdata"),
        "spec": oci_spec(),
    });
    let state = serde_json::json!({
        "state": 3,
        "pid": PID,
        "startedTime": "2026-11-25T01:00:01.000000000Z",
        "runDir": format!("/run/containers/storage/overlay-containers/{ID}/userdata"),
    });
    let raw = RawState {
        containers: vec![RawContainer {
            id: ID.into(),
            name: Some("lpstest-secretive".into()),
            pod_id: None,
            config_json: serde_json::to_vec(&config).unwrap(),
            state_json: serde_json::to_vec(&state).unwrap(),
        }],
        pods: Vec::new(),
        runtime: RuntimeConfig {
            graph_root: Some(store.into()),
            run_root: Some("/run/containers/storage".into()),
            static_dir: Some(format!("{store}/libpod").into()),
            tmp_dir: Some("/run/libpod".into()),
            graph_driver: Some("overlay".into()),
        },
    };
    let mut db = write_bolt_state(&raw, &Writer::new()).unwrap();
    // A freed page beyond the tree: stale data a byte-for-byte copy would carry along.
    let mut freed = vec![0u8; 4096];
    freed[100..100 + FREED_PAGE_SECRET.len()].copy_from_slice(FREED_PAGE_SECRET.as_bytes());
    db.extend_from_slice(&freed);
    write(root, &format!("{store}/libpod/bolt_state.db"), &db);
    write(
        root,
        &format!("{store}/overlay-containers/containers.json"),
        serde_json::to_string(&serde_json::json!([{
            "id": ID, "names": ["lpstest-secretive"], "image": "f".repeat(64), "layer": "e".repeat(64),
            "metadata": "{\"image-name\":\"localhost/bb:latest\",\"name\":\"lpstest-secretive\",\"created-at\":1795000000}",
            "created": "2026-11-25T01:00:00.0Z"
        }]))
        .unwrap()
        .as_bytes(),
    );
    write(
        root,
        &format!("{store}/overlay-containers/{ID}/userdata/config.json"),
        serde_json::to_string(&oci_spec()).unwrap().as_bytes(),
    );
    write(
        root,
        &format!("{store}/secrets/filedriver/secretsdata.json"),
        format!("{{\"0123\":\"{STORE_SECRET}\"}}").as_bytes(),
    );
    write(
        root,
        &format!("/run/containers/storage/overlay-containers/{ID}/userdata/pidfile"),
        PID.to_string().as_bytes(),
    );
    // A FIFO where conmon keeps its control pipe: opening it blocking would hang.
    let fifo = root.join(format!(
        "run/containers/storage/overlay-containers/{ID}/userdata/ctl"
    ));
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    write(root, "/etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n");
    let meta = libpod_stats::SnapshotMeta {
        taken_at_ns: 1_795_000_100_000_000_000,
        online_cpus: 2,
        hostname: HOSTNAME_SECRET.into(),
        kernel: "6.1.0-lpstest".into(),
        extra_stores: Vec::new(),
        store_owners: Default::default(),
    };
    meta.write(root).unwrap();
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = path.symlink_metadata().unwrap();
        if meta.is_dir() {
            assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{path:?}");
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every secret found in any byte of any file (or symlink target) under `dir`.
fn found_secrets(dir: &Path, secrets: &[&str]) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    all_files(dir, &mut files);
    let mut found = Vec::new();
    for f in files {
        let meta = f.symlink_metadata().unwrap();
        let bytes = if meta.file_type().is_symlink() {
            std::fs::read_link(&f)
                .unwrap()
                .as_os_str()
                .as_encoded_bytes()
                .to_vec()
        } else {
            assert!(meta.is_file(), "{f:?} is neither file nor link");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{f:?}");
            std::fs::read(&f).unwrap()
        };
        for s in secrets {
            if bytes.windows(s.len()).any(|w| w == s.as_bytes()) {
                found.push((s.to_string(), f.clone()));
            }
        }
    }
    found
}

fn capture(source: &Path, out: &Path, redact: bool) {
    let opts = CaptureOptions {
        discovery: DiscoveryOptions {
            rootless_stores: false,
            extra_stores: Vec::new(),
            external: false,
        },
        redact,
        taken_at_ns: None,
        ..CaptureOptions::default()
    };
    let summary = capture_snapshot(&HostRoot::new(source).unwrap(), out, &opts).unwrap();
    assert_eq!(summary.containers, 1, "{summary:?}");
    assert_eq!(summary.with_cgroup, 1, "{summary:?}");
}

#[test]
fn planted_secrets_are_nowhere_in_a_redacted_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    synthesize(&source);
    let out = tmp.path().join("captured");
    capture(&source, &out, true);

    let mut all: Vec<&str> = REDACTED_AWAY.to_vec();
    all.extend(NEVER);
    let found = found_secrets(&out, &all);
    assert!(found.is_empty(), "secrets leaked: {found:#?}");

    // The capture still works: the container reads back with its numbers.
    let stats = stdout_of(cli().arg("--root").arg(&out).args([
        "--no-rootless",
        "stats",
        "--no-stream",
        "--format",
        "json",
    ]));
    let samples: serde_json::Value = serde_json::from_slice(&stats).unwrap();
    assert_eq!(samples[0]["id"], ID);
    assert_eq!(samples[0]["cpu_ns"], 123456789);
    assert_eq!(samples[0]["memory_bytes"], 4096000);
    assert_eq!(samples[0]["memory_limit_bytes"], 2_000_000u64 * 1024);
    assert_eq!(samples[0]["net_rx_bytes"], 1000);
    assert_eq!(samples[0]["net_tx_bytes"], 2000);
    // Nothing the allow-list does not name was copied.
    let secrets_dir = out.join("var/lib/containers/storage/secrets");
    assert!(!secrets_dir.exists());
    assert!(!out
        .join(format!(
            "sys/fs/cgroup/memory/libpod_parent/libpod-{ID}/memory.evil"
        ))
        .exists());
    assert!(!out
        .join(format!(
            "run/containers/storage/overlay-containers/{ID}/userdata/ctl"
        ))
        .exists());
}

#[test]
fn no_redact_keeps_config_values_but_never_the_secrets_store() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    synthesize(&source);
    let out = tmp.path().join("captured");
    capture(&source, &out, false);
    let found = found_secrets(&out, &[ENV_SECRET, LABEL_SECRET]);
    assert!(
        found.iter().any(|(s, _)| s == ENV_SECRET) && found.iter().any(|(s, _)| s == LABEL_SECRET),
        "the test cannot see a kept value: {found:?}"
    );
    let never = found_secrets(&out, &[STORE_SECRET, OUTSIDE_SECRET]);
    assert!(never.is_empty(), "{never:?}");
}
