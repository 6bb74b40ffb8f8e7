//! Real podman (4.3 here: BoltDB, cgroup v1, runc, cgroupfs): distinct markers go in through
//! every door podman offers (`-e`, `--env-file`, `--secret`, `--label`, `--annotation`,
//! `--health-cmd` and the check's output (in podman's health log), the command and its arguments, `--hostname`, `--add-host`, a volume source
//! path, pod labels); a redacted `capture` holds none of them in any byte of any file (the
//! rewritten `bolt_state.db` included), keeps the container and pod names, and reads like the
//! host: `ps --all` equal to an unredacted capture's, `stats` equal once re-redacted.
//! Runs under the podman lock; with `CI=true` it fails when podman cannot be used.

use crate::support;

use std::path::{Path, PathBuf};

use libpod_stats_test_support::files::all_files;
use libpod_stats_test_support::podman::PodmanHarness;
use support::cli::{cli, stdout_of};
use support::cli_over;

/// A distinct lower-case marker (host names accept it) for `door`.
fn marker(door: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(door.as_bytes());
    h.write_u32(std::process::id());
    format!("lpsm{:016x}", h.finish())
}

/// Removes what the test made outside the harness's store, also when it fails: the secret
/// (before the harness goes) and the volume's source directory.
struct Outside<'a> {
    harness: &'a PodmanHarness,
    secret: String,
    volume_dir: PathBuf,
}

impl Drop for Outside<'_> {
    fn drop(&mut self) {
        let _ = self.harness.try_run(["secret", "rm", &self.secret]);
        let _ = std::fs::remove_dir_all(&self.volume_dir);
    }
}

/// `(marker, file)` for every marker found in any byte of any file (or link text) under `dir`.
fn found(dir: &Path, markers: &[(&str, String)]) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    all_files(dir, &mut files);
    let mut out = Vec::new();
    for f in files {
        let bytes = match std::fs::read_link(&f) {
            Ok(target) => target.into_os_string().into_encoded_bytes(),
            Err(_) => std::fs::read(&f).unwrap(),
        };
        for (door, m) in markers {
            if bytes.windows(m.len()).any(|w| w == m.as_bytes()) {
                out.push((door.to_string(), f.clone()));
            }
        }
    }
    out
}

fn json_of(root: &Path, args: &[&str]) -> serde_json::Value {
    let out = stdout_of(cli().arg("--root").arg(root).args(args));
    serde_json::from_slice(&out).unwrap()
}

fn capture(h: &PodmanHarness, out: &Path, extra: &[&str]) {
    stdout_of(cli_over(h).args(["capture", "--out"]).arg(out).args(extra));
}

#[test]
fn no_marker_from_any_podman_door_reaches_a_redacted_capture() {
    let Some(h) = PodmanHarness::new() else {
        return;
    };
    let doors = [
        "env",
        "env-file",
        "secret-content",
        "secret-name",
        "label",
        "annotation",
        "health-cmd",
        "health-output",
        "argument",
        "hostname",
        "add-host",
        "volume",
        "pod-label",
    ];
    let markers: Vec<(&str, String)> = doors.iter().map(|d| (*d, marker(d))).collect();
    let m = |door: &str| markers.iter().find(|(d, _)| *d == door).unwrap().1.clone();

    let tmp = tempfile::tempdir().unwrap();
    let outside = Outside {
        harness: &h,
        secret: format!("lpstest-{}", m("secret-name")),
        volume_dir: PathBuf::from(format!("/tmp/lpstest-{}-dir", m("volume"))),
    };
    std::fs::create_dir_all(&outside.volume_dir).unwrap();
    let secret_file = tmp.path().join("secret");
    std::fs::write(&secret_file, m("secret-content")).unwrap();
    h.run([
        "secret",
        "create",
        outside.secret.as_str(),
        secret_file.to_str().unwrap(),
    ]);
    let env_file = tmp.path().join("env");
    std::fs::write(&env_file, format!("LPSTEST_FILE={}\n", m("env-file"))).unwrap();

    h.run([
        "pod",
        "create",
        "--name",
        "lpstest-rd-pod",
        "--network",
        "none",
        "--label",
        &format!("lpstest.pod={}", m("pod-label")),
    ]);
    let env = format!("LPSTEST_ENV={}", m("env"));
    let label = format!("lpstest.label={}", m("label"));
    let annotation = format!("lpstest.annotation={}", m("annotation"));
    // The check prints a marker its command does not hold (split by an empty variable): it
    // reaches only the health log's `Log`, after `podman healthcheck run`.
    let output = m("health-output");
    let health = format!(
        "echo {} >/dev/null; echo {}${{LPSTEST_NOTHING}}{}",
        m("health-cmd"),
        &output[..8],
        &output[8..]
    );
    let hostname = format!("lpstest-{}", m("hostname"));
    let add_host = format!("{}.example:10.1.2.3", m("add-host"));
    let volume = format!("{}:/data", outside.volume_dir.display());
    let argument = m("argument");
    let id = h.run_detached(
        "lpstest-rd-all",
        &[
            "-e",
            &env,
            "--env-file",
            env_file.to_str().unwrap(),
            "--secret",
            &outside.secret,
            "--label",
            &label,
            "--annotation",
            &annotation,
            "--health-cmd",
            &health,
            "--health-interval",
            "disable",
            "--hostname",
            &hostname,
            "--add-host",
            &add_host,
            "-v",
            &volume,
        ],
        &["sh", "-c", "exec sleep 1000", &argument],
    );
    h.run_detached(
        "lpstest-rd-member",
        &["--pod", "lpstest-rd-pod"],
        &["sleep", "1000"],
    );

    h.run(["healthcheck", "run", "lpstest-rd-all"]);
    // The check's output is in podman's health log, where our reader finds it.
    let log = h
        .runroot()
        .join(format!("overlay-containers/{id}/healthcheck.log"));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains(&output), "{}: {log_text}", log.display());

    // Podman holds every marker but the secret's content (in its secrets store) and the
    // check's output (in the health log) in its database: else this test could not fail.
    let db = h.graphroot().join("libpod/bolt_state.db");
    let in_db: Vec<String> = found(db.parent().unwrap(), &markers)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    for door in doors
        .iter()
        .filter(|d| !["secret-content", "health-output"].contains(d))
    {
        assert!(
            in_db.iter().any(|d| d == door),
            "{door} not in podman's database"
        );
    }

    let raw = tmp.path().join("raw");
    capture(&h, &raw, &["--no-redact"]);
    let redacted = tmp.path().join("redacted");
    capture(&h, &redacted, &[]);

    let leaked = found(&redacted, &markers);
    assert!(leaked.is_empty(), "markers in the capture: {leaked:#?}");
    assert!(
        redacted
            .join(h.graphroot().strip_prefix("/").unwrap())
            .join("libpod/bolt_state.db")
            .is_file(),
        "the database was not captured"
    );
    // The unredacted capture has them: the doors were open.
    let kept = found(&raw, &markers);
    assert!(kept.iter().any(|(d, _)| d == "env"), "{kept:?}");
    assert!(kept.iter().any(|(d, _)| d == "health-output"), "{kept:?}");

    // Names are what we report: kept. ps reads the same as the unredacted capture taken
    // just before (the containers sleep, nothing changes in between).
    let ps = |root: &Path| json_of(root, &["ps", "--all", "--format", "json"]);
    let ps_red = ps(&redacted);
    let text = ps_red.to_string();
    for name in ["lpstest-rd-all", "lpstest-rd-member", "lpstest-rd-pod"] {
        assert!(text.contains(name), "{name} missing: {text}");
    }
    assert!(text.contains(&id), "{text}");
    assert_eq!(ps_red, ps(&raw));
    // The health status survives the redaction: the check succeeded.
    let all = ps_red
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "lpstest-rd-all")
        .unwrap();
    assert_eq!(
        (
            &all["health"],
            &all["health_code"],
            &all["health_failing_streak"]
        ),
        (
            &serde_json::json!("healthy"),
            &serde_json::json!(0),
            &serde_json::json!(0)
        ),
        "{all:#}"
    );
    // stats: the unredacted capture re-captured (redacted) gives the very same numbers.
    let again = tmp.path().join("again");
    stdout_of(
        cli()
            .arg("--root")
            .arg(&raw)
            .args(["capture", "--out"])
            .arg(&again),
    );
    assert!(found(&again, &markers).is_empty());
    let stats = |root: &Path| json_of(root, &["stats", "--no-stream", "--format", "json"]);
    let stats_raw = stats(&raw);
    assert_eq!(stats_raw.as_array().map(Vec::len), Some(3), "{stats_raw}");
    assert_eq!(stats(&again), stats_raw);
    assert_eq!(ps(&again), ps(&raw));
    drop(outside);
}
