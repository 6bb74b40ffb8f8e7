//! `--filter` of `ps` and `stats`, and `stats CONTAINER...`, over the real podman 4.3
//! capture `fixtures/cgroupv1/podman-mixed` (running, paused, created, exited containers and
//! a pod). The matching rules themselves are unit-tested in `src/libpod/filter.rs`.

use crate::support::cli;

use cli::{cli, stdout_of};
use serde_json::Value;

fn fixture() -> String {
    libpod_stats_test_support::fixture("cgroupv1/podman-mixed")
        .to_string_lossy()
        .into_owned()
}

/// The names `args` list, in output order.
fn names(args: &[&str]) -> Vec<String> {
    let root = fixture();
    let mut cmd = cli();
    cmd.args(["--root", &root, "--no-rootless"]).args(args);
    let json: Value = serde_json::from_slice(&stdout_of(&mut cmd)).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn ps(filters: &[&str]) -> Vec<String> {
    let mut args = vec!["ps", "--format", "json"];
    for f in filters {
        args.extend(["--filter", f]);
    }
    names(&args)
}

#[test]
fn ps_filters_follow_podmans_rules() {
    assert_eq!(ps(&["name=burner"]), ["lpstest-burner"]);
    // The same key ORed; an unanchored regex.
    assert_eq!(
        ps(&["name=burner", "name=^lpstest-i"]),
        ["lpstest-burner", "lpstest-idle"]
    );
    // Different keys ANDed.
    assert_eq!(
        ps(&["name=lpstest", "pod=lpstest-pod"]),
        ["lpstest-pod-member"]
    );
    assert_eq!(ps(&["id=85174e"]), ["lpstest-burner"]);
    assert_eq!(ps(&["label=io.buildah.version"]), ["ab0cb465f3af-infra"]);
    assert_eq!(
        ps(&["label=io.buildah.version=1.28.2"]),
        ["ab0cb465f3af-infra"]
    );
    assert!(ps(&["label=io.buildah.version=0"]).is_empty());
    // A status filter lists stopped containers without --all, as podman ps does.
    assert_eq!(ps(&["status=exited"]), ["lpstest-exited"]);
    assert_eq!(
        ps(&["status=created", "status=paused"]),
        ["lpstest-created", "lpstest-paused"]
    );
}

#[test]
fn stats_takes_filters_and_container_arguments() {
    let stats = |extra: &[&str]| {
        let mut args = vec!["stats", "--no-stream", "--format", "json"];
        args.extend(extra);
        names(&args)
    };
    assert_eq!(
        stats(&["-f", "name=lpstest", "lpstest-burner"]),
        ["lpstest-burner"],
        "arguments and filters are ANDed"
    );
    assert_eq!(
        stats(&["lpstest-idle", "85174e"]),
        ["lpstest-burner", "lpstest-idle"]
    );
    assert_eq!(stats(&["--filter", "pod=lpstest-pod"]).len(), 2);
    assert_eq!(stats(&["--filter", "status=exited"]), ["lpstest-exited"]);
}

#[test]
fn bad_filters_and_unknown_containers_are_errors() {
    let root = fixture();
    for (args, needle) in [
        (
            vec!["ps", "--filter", "colour=red"],
            "bad filter `colour=red`",
        ),
        (vec!["ps", "-f", "name=("], "bad filter `name=(`"),
        (
            vec!["stats", "--no-stream", "-f", "status=sleeping"],
            "bad filter `status=sleeping`",
        ),
        (vec!["stats", "--no-stream", "nosuch"], "matches nosuch"),
    ] {
        let out = cli()
            .args(["--root", &root, "--no-rootless"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn the_wide_table_adds_its_columns() {
    let root = fixture();
    let text = String::from_utf8(stdout_of(cli().args([
        "--root",
        &root,
        "stats",
        "--no-stream",
        "--format",
        "wide",
        "lpstest-burner",
    ])))
    .unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with("PIDS  THROTTLED  CPU PSI  MEM PSI  IO PSI  OOM  HEALTH"),
        "{header}"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("85174e60090e  lpstest-burner"), "{row}");
    assert!(
        row.ends_with("0 / 0      36.73%   0.00%    0.00%   0    --"),
        "{row}"
    );
    assert_eq!(lines.next(), None);
}

/// `stats --all`: a container that does not run keeps reporting its state (numbers an alert
/// can use) with no cgroup figures; without `--all` it is not listed.
#[test]
fn stats_all_reports_the_state_of_containers_that_do_not_run() {
    let root = fixture();
    let stats = |extra: &[&str]| -> Vec<Value> {
        let mut cmd = cli();
        cmd.args(["--root", &root, "--no-rootless", "stats", "--no-stream"])
            .args(["--format", "json"])
            .args(extra);
        let json: Value = serde_json::from_slice(&stdout_of(&mut cmd)).unwrap();
        json.as_array().unwrap().clone()
    };
    let find = |all: &[Value], name: &str| all.iter().find(|s| s["name"] == name).cloned();
    let all = stats(&["--all"]);
    let exited = find(&all, "lpstest-exited").expect("lpstest-exited with --all");
    assert_eq!(exited["state"], "exited", "{exited:#}");
    assert_eq!(exited["state_code"], 6, "{exited:#}");
    assert_eq!(exited["exit_code"], 0, "{exited:#}");
    for key in ["cpu_ns", "memory_bytes", "pids", "cgroup"] {
        assert!(exited[key].is_null(), "{key}: {exited:#}");
    }
    let created = find(&all, "lpstest-created").expect("lpstest-created with --all");
    assert_eq!(
        (&created["state_code"], &created["exit_code"]),
        (&Value::from(1), &Value::Null)
    );
    let paused = find(&all, "lpstest-paused").expect("lpstest-paused");
    assert_eq!(paused["state_code"], 5);
    assert!(
        paused["cpu_ns"].is_u64(),
        "a paused container's counters stay"
    );
    let running = stats(&[]);
    assert!(find(&running, "lpstest-exited").is_none());
    assert!(find(&running, "lpstest-created").is_none());
    assert_eq!(running.len() + 2, all.len());
}
