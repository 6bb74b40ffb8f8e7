//! A real rootless podman container, as a user of its own: discovery finds it in the user's
//! store, settles it as running (on this cgroup v1 host it runs in its user's cgroups, as
//! rootless podman cannot create v1 cgroups; on v2 in its own), `stats` reports it without a
//! warning, and a capture of the host replays the same.
//!
//! The test makes a user `lpstest-rl-<pid>` (`useradd`, subordinate ids for the user
//! namespace), runs podman as that user with `runuser`, and in a guard removes its
//! containers, kills what is left of its processes and deletes the user with its home, also
//! when the test fails. Needs root, podman, runc/crun, uidmap and busybox-static; under
//! `CI=true` their absence is a failure.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use libpod_stats_test_support::podman::PodmanLock;
use libpod_stats_test_support::skip::skip_or_fail;
use serde_json::Value;
use support::cli::cli;

/// A system user made for the test, and everything it ran, removed on drop.
struct RootlessUser {
    name: String,
    uid: u32,
    home: PathBuf,
}

impl RootlessUser {
    fn create() -> Result<RootlessUser, String> {
        let name = format!("lpstest-rl-{}", std::process::id());
        let out = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", &name])
            .output()
            .map_err(|e| format!("useradd: {e}"))?;
        if !out.status.success() {
            return Err(format!("useradd: {}", String::from_utf8_lossy(&out.stderr)));
        }
        // From here on a failure drops the user, which deletes it.
        let mut user = RootlessUser {
            name,
            uid: 0,
            home: PathBuf::new(),
        };
        let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
        let entry = passwd
            .lines()
            .find(|l| l.split(':').next() == Some(user.name.as_str()))
            .ok_or("the new user is not in /etc/passwd")?;
        let fields: Vec<&str> = entry.split(':').collect();
        user.uid = fields.get(2).and_then(|u| u.parse().ok()).ok_or("no uid")?;
        user.home = PathBuf::from(fields.get(5).ok_or("no home")?);
        Ok(user)
    }

    /// Runs `podman ARGS` as the user, in a login-less environment of its own.
    fn podman(&self, args: &[&str]) -> Output {
        let run = self.home.join("run");
        Command::new("runuser")
            .args(["-u", &self.name, "--", "env", "-i"])
            .arg(format!("HOME={}", self.home.display()))
            .arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
            .arg(format!("XDG_RUNTIME_DIR={}", run.display()))
            .arg("sh")
            .arg("-c")
            .arg(r#"mkdir -p -m 700 "$XDG_RUNTIME_DIR" && cd && exec podman "$@""#)
            .arg("podman")
            .args(args)
            .output()
            .expect("runuser")
    }

    fn podman_ok(&self, args: &[&str]) -> String {
        let out = self.podman(args);
        assert!(
            out.status.success(),
            "podman {args:?} as {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for RootlessUser {
    fn drop(&mut self) {
        if !self.home.as_os_str().is_empty() {
            let _ = self.podman(&["rm", "--all", "--force", "--time", "0"]);
            let _ = self.podman(&["system", "reset", "--force"]);
        }
        // conmon, catatonit and podman's pause process outlive the commands.
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.name])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && Command::new("pgrep")
                .args(["-u", &self.name])
                .output()
                .is_ok_and(|o| o.status.success())
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("userdel")
            .args(["--remove", &self.name])
            .output();
        // Rootless podman's lock file for the uid, made in the test user's name.
        let lock = PathBuf::from(format!("/dev/shm/libpod_rootless_lock_{}", self.uid));
        let made_by_user = lock
            .symlink_metadata()
            .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == self.uid);
        if self.uid != 0 && made_by_user {
            let _ = std::fs::remove_file(&lock);
        }
    }
}

/// What is missing for the test, if anything.
fn unusable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (useradd, runuser)".into());
    }
    for tool in ["podman", "useradd", "runuser", "newuidmap", "pkill"] {
        let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .any(|d| Path::new(d).join(tool).exists());
        if !found {
            return Some(format!("{tool} is not installed (scripts/install-deps.sh)"));
        }
    }
    if !Path::new("/bin/busybox").exists() {
        return Some("busybox-static is not installed".into());
    }
    None
}

/// A busybox image as a tar the user can import (no registry here).
fn busybox_tar(dir: &Path) -> PathBuf {
    let tree = dir.join("image");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", tree.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep"] {
        std::os::unix::fs::symlink("busybox", tree.join("bin").join(applet)).unwrap();
    }
    let tar = dir.join("busybox.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar");
    tar
}

fn json_of(out: Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{what} warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed in {list:#}"))
}

#[test]
fn a_rootless_container_is_found_running_and_read() {
    if let Some(why) = unusable() {
        skip_or_fail(&why);
        return;
    }
    let _lock = PodmanLock::acquire().expect("podman lock");
    let user = RootlessUser::create().expect("a test user");
    // World-readable, so the user can import the image.
    let tmp = tempfile::Builder::new()
        .prefix("lpstest-rl-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let tar = busybox_tar(tmp.path());
    std::fs::set_permissions(&tar, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    user.podman_ok(&[
        "import",
        "--change",
        r#"CMD ["/bin/sh"]"#,
        tar.to_str().unwrap(),
        "localhost/lpstest-busybox",
    ]);
    let id = user.podman_ok(&[
        "run",
        "--detach",
        "--name",
        "lpstest-rl-sleeper",
        "--network",
        "none",
        "localhost/lpstest-busybox",
        "sleep",
        "1000",
    ]);
    let pid: u32 = user
        .podman_ok(&["inspect", "--format", "{{.State.Pid}}", &id])
        .parse()
        .unwrap();

    // The live host, rootless stores on (the default).
    let listed = json_of(
        cli()
            .args(["ps", "--all", "--format", "json"])
            .output()
            .unwrap(),
        "ps",
    );
    let c = find(&listed, &id);
    assert_eq!(c["name"], "lpstest-rl-sleeper", "{c:#}");
    assert_eq!(c["state"], "running", "{c:#}");
    assert_eq!(c["pid"], pid, "{c:#}");
    assert_eq!(c["uid"], user.uid, "{c:#}");
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if v2 {
        assert!(c["cgroup"].is_string(), "{c:#}");
    } else {
        assert!(c["cgroup"].is_null(), "{c:#}");
    }

    let stats = json_of(
        cli()
            .args(["stats", "--no-stream", "--format", "json"])
            .output()
            .unwrap(),
        "stats",
    );
    let s = find(&stats, &id);
    assert_eq!(s["state"], "running", "{s:#}");
    // `--network none`: only the loopback, which is not counted.
    assert_eq!(s["net_rx_bytes"], 0, "{s:#}");
    if v2 {
        assert!(s["cpu_ns"].as_u64().is_some_and(|n| n > 0), "{s:#}");
    } else {
        assert!(
            s["cpu_ns"].is_null() && s["memory_bytes"].is_null(),
            "{s:#}"
        );
    }

    // A capture replays the same: the user's store, the pid's cgroup and stat.
    let snap = tmp.path().join("capture");
    let out = cli()
        .arg("capture")
        .arg("--out")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = json_of(
        cli()
            .arg("--root")
            .arg(&snap)
            .args(["ps", "--all", "--format", "json"])
            .output()
            .unwrap(),
        "ps of the capture",
    );
    let r = find(&replayed, &id);
    assert_eq!((&r["state"], &r["pid"]), (&c["state"], &c["pid"]), "{r:#}");
}
