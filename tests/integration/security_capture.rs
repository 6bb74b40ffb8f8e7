//! What a capture may contain: secrets planted everywhere a container keeps them (env,
//! labels, annotations, secrets, secret mounts, host names) appear in no byte of the
//! output by default; nothing is read through a symlink that leaves the source; and
//! everything written is readable by the owner only.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::writer::{Node, Writer};
use libpod_stats::internals::libpod::bolt::BoltDb;
use libpod_stats::{capture_snapshot, CaptureOptions, ContainerState, HostRoot};
use libpod_stats_testing::{Backend, ContainerSpec, HostBuilder, Layout, StoreSpec};
use serde_json::{json, Value};

/// Every planted secret shares this marker, so one search finds any of them.
const MARK: &str = "lpstestSECRET";

fn secret(what: &str) -> String {
    format!("{MARK}-{what}-7f3a")
}

/// Adds secrets to a podman ContainerConfig JSON the way podman stores them.
fn plant_in_config(config: &mut Value) {
    let obj = config.as_object_mut().unwrap();
    obj.insert(
        "spec".into(),
        json!({
            "process": {"env": [format!("PASSWORD={}", secret("spec-env")), "PATH=/bin"]},
            "annotations": {"io.example/token": secret("spec-annotation")},
            "mounts": [{"destination": "/run/secrets/db", "source": format!("/var/lib/containers/storage/secrets/{}", secret("mount-source")), "type": "bind"}],
            "hostname": secret("hostname"),
        }),
    );
    obj.insert("labels".into(), json!({"owner": secret("label")}));
    obj.insert("env".into(), json!([format!("API_KEY={}", secret("env"))]));
    obj.insert(
        "secrets".into(),
        json!([{"Name": secret("secret-name"), "ID": secret("secret-id")}]),
    );
    obj.insert(
        "envSecrets".into(),
        json!({"DB_PASS": {"Name": secret("env-secret")}}),
    );
    obj.insert(
        "hostAdd".into(),
        json!([format!("{}:10.0.0.1", secret("hostadd"))]),
    );
}

fn plant_in_oci(spec: &mut Value) {
    let obj = spec.as_object_mut().unwrap();
    obj.insert(
        "process".into(),
        json!({"env": [format!("TOKEN={}", secret("oci-env"))], "args": ["sleep", "1000"]}),
    );
    obj.insert(
        "annotations".into(),
        json!({"org.opencontainers.image.secret": secret("oci-annotation")}),
    );
    obj.insert(
        "mounts".into(),
        json!([{"destination": "/run/secrets/x", "source": format!("/run/containers/storage/secrets/{}", secret("oci-mount")), "type": "bind"}]),
    );
    obj.insert("hostname".into(), json!(secret("oci-hostname")));
}

/// Rewrites every JSON file under `dir` named `config.json` with `plant`.
fn plant_in_files(dir: &Path, name: &str, plant: fn(&mut Value)) -> usize {
    let mut n = 0;
    for entry in walk(dir) {
        if entry.file_name().is_some_and(|f| f == name) && entry.is_file() {
            let mut v: Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
            plant(&mut v);
            std::fs::write(&entry, serde_json::to_vec(&v).unwrap()).unwrap();
            n += 1;
        }
    }
    n
}

/// Plants secrets into every container config of a BoltDB state file.
fn plant_in_bolt(file: &Path) {
    let root = HostRoot::new(file.parent().unwrap()).unwrap();
    let name = Path::new("/").join(file.file_name().unwrap());
    let db = BoltDb::read(&root, &name).unwrap();
    let mut tree = db.to_tree().unwrap();
    let Some(Node::Bucket(ctrs)) = tree.get_mut(&b"ctr"[..]) else {
        panic!("no ctr bucket");
    };
    for node in ctrs.values_mut() {
        if let Node::Bucket(ctr) = node {
            if let Some(Node::Value(config)) = ctr.get_mut(&b"config"[..]) {
                let mut v: Value = serde_json::from_slice(config).unwrap();
                plant_in_config(&mut v);
                *config = serde_json::to_vec(&v).unwrap();
            }
        }
    }
    std::fs::write(file, Writer::new().write(&tree).unwrap()).unwrap();
}

/// Plants secrets into every container config of a SQLite state file.
fn plant_in_sqlite(file: &Path) {
    let conn = rusqlite::Connection::open(file).unwrap();
    let rows: Vec<(String, Vec<u8>)> = {
        let mut stmt = conn
            .prepare("SELECT ID, JSON FROM ContainerConfig")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (id, text) in rows {
        let mut v: Value = serde_json::from_slice(&text).unwrap();
        plant_in_config(&mut v);
        conn.execute(
            "UPDATE ContainerConfig SET JSON = ?1 WHERE ID = ?2",
            (serde_json::to_vec(&v).unwrap(), id),
        )
        .unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.push(p.clone());
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every file (and link text) of `dir` containing `needle`, with the offset.
fn grep(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for p in walk(dir) {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let bytes = if meta.file_type().is_symlink() {
            std::fs::read_link(&p)
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if meta.is_file() {
            std::fs::read(&p).unwrap()
        } else {
            continue;
        };
        if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
            hits.push(format!("{} at byte {at}", p.display()));
        }
    }
    hits
}

fn host(backend: Backend) -> HostBuilder {
    HostBuilder::new().layout(Layout::Hybrid).store(
        StoreSpec::root()
            .backend(backend)
            .container(ContainerSpec::new("lpstest-web"))
            .container(ContainerSpec::new("lpstest-old").state(ContainerState::Exited)),
    )
}

fn capture_with_planted_secrets(backend: Backend) {
    let src = tempfile::tempdir().unwrap();
    host(backend).build(src.path()).unwrap();
    match backend {
        Backend::Bolt => plant_in_bolt(
            &src.path()
                .join("var/lib/containers/storage/libpod/bolt_state.db"),
        ),
        Backend::Sqlite => plant_in_sqlite(&src.path().join("var/lib/containers/storage/db.sql")),
        Backend::None => {}
    }
    assert!(
        plant_in_files(src.path(), "config.json", plant_in_oci) > 0,
        "no bundle"
    );
    // A planted secret in a file podman keeps but capture has no reason to open.
    let secrets_dir = src.path().join("var/lib/containers/storage/secrets");
    std::fs::create_dir_all(&secrets_dir).unwrap();
    std::fs::write(secrets_dir.join("secretsdata.json"), secret("store-file")).unwrap();
    assert!(
        !grep(src.path(), MARK.as_bytes()).is_empty(),
        "nothing planted"
    );

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("snap");
    let summary = capture_snapshot(
        &HostRoot::new(src.path()).unwrap(),
        &dest,
        &CaptureOptions::default(),
    )
    .unwrap();
    assert!(summary.containers >= 2, "{summary:?}");
    let hits = grep(&dest, MARK.as_bytes());
    assert!(
        hits.is_empty(),
        "{backend:?}: secrets in the capture: {hits:#?}"
    );
    // The planted records were copied, redacted, not left out.
    assert!(
        grep(&dest, b"REDACTED").len() >= 2,
        "{backend:?}: nothing redacted in the capture"
    );
    // The capture still reads: the redacted state lists the same containers.
    let report = libpod_stats::discover(&HostRoot::new(&dest).unwrap(), &Default::default());
    let mut names: Vec<_> = report.containers.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["lpstest-old", "lpstest-web"], "{:?}", report.errors);
}

#[test]
fn no_planted_secret_reaches_a_bolt_capture() {
    capture_with_planted_secrets(Backend::Bolt);
}

#[test]
fn no_planted_secret_reaches_a_sqlite_capture() {
    capture_with_planted_secrets(Backend::Sqlite);
}

#[test]
fn capture_never_follows_a_symlink_out_of_its_source() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let built = host(Backend::Bolt).build(&src).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let planted = secret("outside");
    std::fs::write(outside.join("file"), &planted).unwrap();
    std::fs::write(
        outside.join("passwd"),
        format!("{planted}:x:0:0::/:/bin/sh\n"),
    )
    .unwrap();

    // Replace files capture copies by links that leave the source, absolute and relative.
    let web = built.container("lpstest-web").unwrap();
    let cgroup = web.cgroup.clone().unwrap();
    let cg_dir = src
        .join("sys/fs/cgroup/memory")
        .join(cgroup.trim_start_matches('/'));
    let climb = "../".repeat(cg_dir.components().count() + 2);
    for (link, target) in [
        (cg_dir.join("memory.stat"), outside.join("file")),
        (
            cg_dir.join("memory.usage_in_bytes"),
            PathBuf::from(format!("{climb}{}", outside.join("file").display())),
        ),
        (src.join("proc/meminfo"), outside.join("file")),
        (src.join("etc/passwd"), outside.join("passwd")),
    ] {
        let _ = std::fs::remove_file(&link);
        symlink(&target, &link).unwrap();
    }
    let pid = web.pid.unwrap();
    let _ = std::fs::remove_file(src.join(format!("proc/{pid}/cgroup")));
    symlink(outside.join("file"), src.join(format!("proc/{pid}/cgroup"))).unwrap();
    // A whole directory that leaves the source.
    let cpu_dir = src
        .join("sys/fs/cgroup/cpuacct")
        .join(cgroup.trim_start_matches('/'));
    std::fs::remove_dir_all(&cpu_dir).unwrap();
    symlink(&outside, &cpu_dir).unwrap();

    let dest = tmp.path().join("snap");
    let _ = capture_snapshot(
        &HostRoot::new(&src).unwrap(),
        &dest,
        &CaptureOptions::default(),
    );
    let hits = grep(&dest, planted.as_bytes());
    assert!(hits.is_empty(), "bytes from outside the source: {hits:#?}");
    for p in walk(&dest) {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).unwrap();
            assert!(
                !target.starts_with(tmp.path()),
                "{} links to the source machine's {}",
                p.display(),
                target.display()
            );
        }
    }
}

/// Set in the child process of [`capture_output_is_owner_only`]: the snapshot to write.
const UMASK_CHILD: &str = "LPSTEST_UMASK_CHILD_DEST";

/// The capture under a permissive umask, in a child process: the umask is the process's,
/// and tests running beside this one must not create files under it.
#[test]
fn capture_under_umask_022_child() {
    let Some(dest) = std::env::var_os(UMASK_CHILD) else {
        return; // only ever run as capture_output_is_owner_only's child
    };
    let dest = PathBuf::from(dest);
    let src = tempfile::tempdir().unwrap();
    host(Backend::Bolt).build(src.path()).unwrap();
    // Whatever umask the caller has.
    unsafe { libc::umask(0o022) };
    capture_snapshot(
        &HostRoot::new(src.path()).unwrap(),
        &dest,
        &CaptureOptions::default(),
    )
    .unwrap();
}

#[test]
fn capture_output_is_owner_only() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("snap");
    let child =
        libpod_stats_test_support::child_test(module_path!(), "capture_under_umask_022_child")
            .env(UMASK_CHILD, &dest)
            .output()
            .unwrap();
    assert!(
        child.status.success() && dest.is_dir(),
        "the capture child failed: {}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let mut checked = 0;
    for p in std::iter::once(dest.clone()).chain(walk(&dest)) {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} has mode {mode:o}", p.display());
        checked += 1;
    }
    assert!(checked > 10);
}
