//! The `ps` command line: global options in any position, formats, and bad state files.

use std::path::Path;
use std::process::{Command, Output};

fn libpod_stats(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_libpod-stats"))
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn snapshot_with_bad_db() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "var/lib/containers/storage/db.sql",
        "not a database at all\n",
    );
    write(
        d,
        "var/lib/containers/storage/overlay-containers/containers.json",
        &format!(
            r#"[{{"id":"{ID}","names":["web"],"metadata":"{{\"image-name\":\"localhost/bb:latest\",\"name\":\"web\",\"created-at\":1795573923}}"}}]"#
        ),
    );
    dir
}

#[test]
fn a_db_sql_that_is_not_sqlite_is_named_and_storage_still_lists() {
    let dir = snapshot_with_bad_db();
    let root = dir.path().to_str().unwrap();
    let out = libpod_stats(&["ps", "--all", "--format", "json", "--root", root]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("var/lib/containers/storage/db.sql")
            && stderr.contains("not a SQLite database"),
        "{stderr}"
    );
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listing[0]["name"], "web");
    assert_eq!(listing[0]["state"], "unknown");
    assert_eq!(listing[0]["source"], "storage");
    assert_eq!(listing[0]["uid"], 0);
    for key in [
        "id", "name", "pod_id", "pod_name", "image", "state", "pid", "cgroup", "source", "uid",
    ] {
        assert!(listing[0].get(key).is_some(), "missing {key}");
    }
    assert!(listing[0]["pid"].is_null() && listing[0]["pod_id"].is_null());
}

#[test]
fn root_is_global_and_the_table_is_for_people() {
    let dir = snapshot_with_bad_db();
    let root = dir.path().to_str().unwrap();
    let before = libpod_stats(&["--root", root, "ps", "-a"]);
    let after = libpod_stats(&["ps", "-a", "--root", root]);
    assert_eq!(before.stdout, after.stdout);
    let table = String::from_utf8(before.stdout).unwrap();
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("CONTAINER ID  NAME"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("0123456789ab  web"), "{table}");
    assert!(
        row.contains("unknown") && row.contains("storage"),
        "{table}"
    );
    // Without --all, a container not known to run is not listed.
    let running = libpod_stats(&["--root", root, "ps", "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&running.stdout).trim(), "[]");
}

#[test]
fn a_missing_root_is_an_error() {
    let out = libpod_stats(&["--root", "/nonexistent/lpstest-root", "ps"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/lpstest-root"));
}
