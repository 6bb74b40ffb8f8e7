//! Real podman for integration tests, on storage of its own.
//!
//! A [`PodmanHarness`] is one podman "installation" that lives in a temp dir: its own
//! `--root` (graphroot), `--runroot`, `--tmpdir` and `TMPDIR`, its settings from a
//! `CONTAINERS_CONF` file there (runc, cgroupfs manager, file events, the ulimits this machine
//! needs; see shared-ref/real-host.md) and a busybox image imported from `busybox-static`, so no
//! registry and nothing in /etc is needed. Tests hand its [`PodmanHarness::graphroot`] to
//! `libpod-stats --store` and compare with what podman itself says.
//!
//! Podman tests run one at a time across all test binaries: the harness holds an exclusive
//! `flock` on [`LOCK_PATH`] for its whole life, so a busy neighbour cannot skew cpu numbers
//! and two tests never race on cgroups. Dropping the harness removes every container and pod
//! in its store (unpausing first, retrying once), unmounts anything left under its dir and
//! deletes the dir, also when the test failed. Root's shared image cache
//! (`/var/lib/containers/cache`) is the one thing outside the dir podman writes to.
//!
//! Containers made through the helpers get `--stop-timeout 0` (a busybox `sleep` ignores
//! SIGTERM, so a stop would wait 10 s otherwise) and `--network none` unless the options name
//! a network or a pod; every name must start with `lpstest-`.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The lock file that serializes podman tests across test binaries.
pub const LOCK_PATH: &str = "/tmp/lpstest-podman.lock";

/// The image every helper runs: busybox-static with the usual applets, `CMD ["/bin/sh"]`.
pub const IMAGE: &str = "localhost/lpstest-bb:latest";

/// Prefix every container and pod name must carry.
pub const NAME_PREFIX: &str = "lpstest-";

/// The settings podman needs on this machine (shared-ref/real-host.md); `{scratch}` becomes
/// the harness's own temp dir, where image imports stage their files instead of /var/tmp.
/// `lock_type = "file"` keeps container locks in the store's tmp dir: with the default shared
/// memory segment (`/dev/shm/libpod_lock`, one for the whole host), a fresh store's first
/// command "refreshes" and frees every lock of every other podman store on the host.
const CONTAINERS_CONF: &str = r#"[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "{scratch}"
lock_type = "file"
"#;

const BUSYBOX: &str = "/bin/busybox";
const APPLETS: &[&str] = &[
    "sh", "sleep", "yes", "dd", "cat", "tail", "head", "ls", "true", "false", "echo",
];

/// True when the test runs in CI, where a missing podman is a failure, not a skip. The same
/// rule as `skip.rs`, which this file cannot include: plugin tests load both by path.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// One podman installation in a temp dir; see the module docs.
pub struct PodmanHarness {
    dir: PathBuf,
    graphroot: PathBuf,
    runroot: PathBuf,
    tmpdir: PathBuf,
    scratch: PathBuf,
    conf: PathBuf,
    made: Mutex<Vec<String>>,
    // Last: released only after the clean-up in `Drop` has run.
    _lock: PodmanLock,
}

impl PodmanHarness {
    /// Takes the podman lock and sets up a fresh store with the busybox image.
    ///
    /// Returns `None` with a note on stderr when podman cannot be used here (not root, a tool
    /// missing, set-up failing); with `CI=true` it panics instead, so CI never skips.
    pub fn new() -> Option<PodmanHarness> {
        match Self::try_new() {
            Ok(h) => Some(h),
            Err(why) if in_ci() => panic!(
                "podman tests cannot run: {why}\n(CI=true: podman, runc, conmon and \
                 busybox-static are required; run scripts/install-deps.sh as root)"
            ),
            Err(why) => {
                eprintln!("note: podman test skipped: {why}");
                None
            }
        }
    }

    /// Like [`PodmanHarness::new`] but reports why podman is unusable instead of deciding.
    pub fn try_new() -> Result<PodmanHarness, String> {
        if let Some(why) = unusable() {
            return Err(why);
        }
        let lock = PodmanLock::acquire().map_err(|e| format!("locking {LOCK_PATH}: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("lpstest-podman-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("creating a temp dir in /tmp: {e}"))?
            .keep();
        let harness = PodmanHarness {
            graphroot: dir.join("root"),
            runroot: dir.join("runroot"),
            tmpdir: dir.join("libpod-tmp"),
            scratch: dir.join("tmp"),
            conf: dir.join("containers.conf"),
            dir,
            made: Mutex::new(Vec::new()),
            _lock: lock,
        };
        // From here on a failure drops `harness`, which removes what was made.
        harness.set_up()?;
        Ok(harness)
    }

    fn set_up(&self) -> Result<(), String> {
        for d in [&self.graphroot, &self.runroot, &self.tmpdir, &self.scratch] {
            fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
        }
        let scratch = self.scratch.to_str().ok_or("temp dir path is not UTF-8")?;
        fs::write(&self.conf, CONTAINERS_CONF.replace("{scratch}", scratch))
            .map_err(|e| format!("writing {}: {e}", self.conf.display()))?;

        let rootfs = self.dir.join("rootfs");
        let bin = rootfs.join("bin");
        fs::create_dir_all(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
        fs::copy(BUSYBOX, bin.join("busybox")).map_err(|e| format!("copying {BUSYBOX}: {e}"))?;
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", bin.join(applet))
                .map_err(|e| format!("linking {applet}: {e}"))?;
        }
        let tar = self.dir.join("rootfs.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .output()
            .map_err(|e| format!("running tar: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "tar failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = self.try_run([
            OsStr::new("import"),
            OsStr::new("-q"),
            OsStr::new("--change"),
            OsStr::new(r#"CMD ["/bin/sh"]"#),
            tar.as_os_str(),
            OsStr::new(IMAGE),
        ]);
        if !out.status.success() {
            return Err(format!(
                "podman import failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// The temp dir holding everything of this harness.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Podman's graphroot (`--root`): pass it to `libpod-stats --store`.
    pub fn graphroot(&self) -> &Path {
        &self.graphroot
    }

    /// Podman's runroot (`--runroot`).
    pub fn runroot(&self) -> &Path {
        &self.runroot
    }

    /// Libpod's tmp dir (`--tmpdir`: exit files, events, locks).
    pub fn tmpdir(&self) -> &Path {
        &self.tmpdir
    }

    /// The `CONTAINERS_CONF` file podman runs with.
    pub fn containers_conf(&self) -> &Path {
        &self.conf
    }

    /// The busybox image name.
    pub fn image(&self) -> &'static str {
        IMAGE
    }

    /// Full ids of the containers made through the helpers, in creation order.
    pub fn made_ids(&self) -> Vec<String> {
        self.made.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// A `podman` command with this harness's storage, settings and environment; add the
    /// subcommand and its arguments. For what the helpers do not cover (timing loops).
    /// It runs in the harness's scratch dir: podman's helpers inherit the working directory,
    /// and conmon writes a file `oom` there when a container's process is OOM-killed.
    pub fn command(&self) -> Command {
        let mut c = Command::new("podman");
        c.current_dir(&self.scratch)
            .env("CONTAINERS_CONF", &self.conf)
            .env("TMPDIR", &self.scratch)
            .env_remove("CONTAINERS_STORAGE_CONF")
            .arg("--root")
            .arg(&self.graphroot)
            .arg("--runroot")
            .arg(&self.runroot)
            .arg("--tmpdir")
            .arg(&self.tmpdir)
            .arg("--storage-driver")
            .arg("overlay")
            .stdin(Stdio::null());
        c
    }

    /// Runs podman with `args`; the output whatever the exit status.
    pub fn try_run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        match cmd.output() {
            Ok(out) => out,
            Err(e) => panic!("cannot run {cmd:?}: {e}"),
        }
    }

    /// Runs podman with `args` and returns its stdout; panics with stderr when it fails.
    pub fn run<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.try_run(&args);
        if !out.status.success() {
            panic!(
                "podman {:?} failed ({}):\n{}",
                args,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs podman with `args` and parses its stdout as JSON; panics when either fails.
    pub fn run_json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let text = self.run(args);
        match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("podman output is not JSON ({e}):\n{text}"),
        }
    }

    /// `podman ps --all --format json`.
    pub fn ps_all(&self) -> serde_json::Value {
        self.run_json(["ps", "--all", "--format", "json"])
    }

    /// `podman stats --no-stream` with podman's raw numbers (`CPUNano`, `MemUsage`,
    /// `MemLimit`, `PIDs`, `BlockInput`, ...): one object per running or paused container.
    pub fn stats_raw(&self) -> Vec<serde_json::Value> {
        let text = self.run([
            "stats",
            "--no-stream",
            "--format",
            "{{json .ContainerStats}}",
        ]);
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match serde_json::from_str(l) {
                Ok(v) => v,
                Err(e) => panic!("podman stats line is not JSON ({e}): {l}"),
            })
            .collect()
    }

    /// `podman create` of `cmd` in the busybox image; returns the full id.
    pub fn create(&self, name: &str, opts: &[&str], cmd: &[&str]) -> String {
        self.make("create", name, opts, cmd)
    }

    /// `podman run -d` of `cmd`; returns the full id once the container runs.
    pub fn run_detached(&self, name: &str, opts: &[&str], cmd: &[&str]) -> String {
        let mut all = vec!["-d"];
        all.extend_from_slice(opts);
        self.make("run", name, &all, cmd)
    }

    /// `podman run` of `cmd` in the foreground, to its end (an `exited` container);
    /// returns the full id.
    pub fn run_to_exit(&self, name: &str, opts: &[&str], cmd: &[&str]) -> String {
        self.make("run", name, opts, cmd);
        self.id(name)
    }

    fn make(&self, sub: &str, name: &str, opts: &[&str], cmd: &[&str]) -> String {
        check_name(name);
        let mut args: Vec<&str> = vec![sub, "--name", name, "--stop-timeout", "0"];
        let own_network = opts
            .iter()
            .any(|o| o.starts_with("--network") || o.starts_with("--net=") || *o == "--net")
            || opts.iter().any(|o| o.starts_with("--pod"));
        if !own_network {
            args.extend_from_slice(&["--network", "none"]);
        }
        args.extend_from_slice(opts);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        let out = self.run(&args);
        let id = match out.lines().last() {
            Some(line) if line.len() == 64 => line.to_string(),
            _ => self.id(name),
        };
        if let Ok(mut made) = self.made.lock() {
            made.push(id.clone());
        }
        id
    }

    /// `podman pod create --network none`; returns the pod id.
    pub fn pod_create(&self, name: &str) -> String {
        check_name(name);
        self.run(["pod", "create", "--name", name, "--network", "none"])
            .trim()
            .to_string()
    }

    /// `podman start`.
    pub fn start(&self, name: &str) {
        self.run(["start", name]);
    }

    /// `podman pause`.
    pub fn pause(&self, name: &str) {
        self.run(["pause", name]);
    }

    /// `podman unpause`.
    pub fn unpause(&self, name: &str) {
        self.run(["unpause", name]);
    }

    /// `podman stop -t 0`.
    pub fn stop(&self, name: &str) {
        self.run(["stop", "-t", "0", name]);
    }

    /// `podman restart -t 0` (a new cgroup: counters start again from zero).
    pub fn restart(&self, name: &str) {
        self.run(["restart", "-t", "0", name]);
    }

    /// `podman rm -f -t 0 --ignore`.
    pub fn rm(&self, name: &str) {
        self.run(["rm", "-f", "-t", "0", "--ignore", name]);
    }

    /// `podman inspect --format TEMPLATE NAME`, trimmed.
    pub fn inspect(&self, name: &str, template: &str) -> String {
        self.run(["inspect", "--format", template, name])
            .trim()
            .to_string()
    }

    /// The full container id of `name`.
    pub fn id(&self, name: &str) -> String {
        self.inspect(name, "{{.Id}}")
    }

    /// The cgroup podman reports (`.State.CgroupPath`, e.g. `/libpod_parent/libpod-<id>`).
    pub fn cgroup_path(&self, name: &str) -> String {
        self.inspect(name, "{{.State.CgroupPath}}")
    }

    /// The container's host pid, `None` when it has none (not running).
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.inspect(name, "{{.State.Pid}}")
            .parse()
            .ok()
            .filter(|p| *p > 0)
    }

    /// The cgroups of the store's pods (`/libpod_parent/<podid>`), as podman reports them.
    fn pod_cgroups(&self) -> Vec<String> {
        let out = self.try_run(["pod", "ps", "--quiet", "--no-trunc"]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|pod| {
                let out = self.try_run(["pod", "inspect", "--format", "{{.CgroupPath}}", pod]);
                let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
                (out.status.success() && path.starts_with('/')).then_some(path)
            })
            .collect()
    }

    /// Ids of every container the store holds (`<graphroot>/overlay-containers/<id>/`),
    /// whatever podman's state says.
    fn stored_container_ids(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.graphroot.join("overlay-containers")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect()
    }

    /// Removes every container and pod of the store; returns what could not be done.
    fn clean_up(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let list = |h: &Self| -> Vec<String> {
            let out = h.try_run(["ps", "--all", "--quiet", "--no-trunc"]);
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        // Everything the store holds, noted before podman removes it.
        let pod_cgroups = self.pod_cgroups();
        let stored_ids = self.stored_container_ids();
        // Pods first: `rm` refuses an infra container while its pod exists.
        // A paused container can fail `rm -f` once ("container state improper").
        let _ = self.try_run(["unpause", "--all"]);
        for attempt in 0..2 {
            let out = self.try_run(["pod", "rm", "--all", "--force"]);
            if out.status.success() {
                break;
            }
            if attempt == 1 {
                problems.push(format!(
                    "podman pod rm: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        let ids = list(self);
        if !ids.is_empty() {
            for attempt in 0..2 {
                let mut args = vec!["rm", "--force", "--ignore", "--time", "0"];
                args.extend(ids.iter().map(String::as_str));
                let out = self.try_run(&args);
                if out.status.success() {
                    break;
                }
                if attempt == 1 {
                    problems.push(format!(
                        "podman rm: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
        }
        // Whatever podman lost track of (a store whose states were reset while its
        // containers ran) is deleted from runc by id: that stops it and removes its cgroups.
        for id in &stored_ids {
            let _ = Command::new("runc")
                .args(["delete", "--force", id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        // Podman 4.3.1 (cgroupfs manager, v1 hybrid) leaves a removed pod's cgroup behind
        // in the `name=systemd` and `unified` hierarchies, empty.
        for cgroup in pod_cgroups {
            for problem in remove_empty_cgroup(&cgroup) {
                problems.push(problem);
            }
        }
        let left = list(self);
        if !left.is_empty() {
            problems.push(format!("containers left: {left:?}"));
        }
        problems
    }
}

impl Drop for PodmanHarness {
    fn drop(&mut self) {
        let mut problems = self.clean_up();
        // conmon runs `podman container cleanup` when a container exits; that podman opens
        // the store again (and mounts `<graphroot>/overlay` on itself) after our `rm`
        // returned. Let those finish first, or they race the removal and leave a mount.
        if !wait_for_no_process_using(&self.dir, Duration::from_secs(15)) {
            problems.push(format!(
                "processes still using {} after 15 s",
                self.dir.display()
            ));
        }
        let mut removed = Err(io::Error::other("not tried"));
        for _ in 0..5 {
            // Whatever podman left mounted (overlay, shm) would make the removal fail.
            for mount_point in mounts_under(&self.dir) {
                let _ = unmount(&mount_point);
            }
            removed = fs::remove_dir_all(&self.dir);
            if removed.is_ok() || !self.dir.exists() {
                removed = Ok(());
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if let Err(e) = removed {
            problems.push(format!("removing {}: {e}", self.dir.display()));
        }
        for p in problems {
            eprintln!("warning: podman harness clean-up: {p}");
        }
    }
}

/// Waits until no other process names `dir` in its command line (conmon, podman's exit
/// commands), seen twice in a row 100 ms apart; false when `limit` passed first.
fn wait_for_no_process_using(dir: &Path, limit: Duration) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let needle = dir.as_os_str().as_bytes();
    let me = std::process::id().to_string();
    let busy = || -> bool {
        let Ok(entries) = fs::read_dir("/proc") else {
            return false;
        };
        entries.flatten().any(|e| {
            let name = e.file_name();
            let Some(pid) = name.to_str() else {
                return false;
            };
            if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            fs::read(e.path().join("cmdline"))
                .map(|cmd| cmd.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
    };
    let start = Instant::now();
    let mut quiet = 0;
    while start.elapsed() < limit {
        if busy() {
            quiet = 0;
        } else {
            quiet += 1;
            if quiet == 2 {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Removes `cgroup` (and any empty children) from every hierarchy under /sys/fs/cgroup where
/// it is left; returns the failures.
fn remove_empty_cgroup(cgroup: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let relative = cgroup.trim_start_matches('/');
    if relative.is_empty() || relative.split('/').any(|c| c == ".." || c == ".") {
        return vec![format!("refusing to remove cgroup {cgroup:?}")];
    }
    let Ok(hierarchies) = fs::read_dir("/sys/fs/cgroup") else {
        return problems;
    };
    for hierarchy in hierarchies.flatten() {
        let top = hierarchy.path().join(relative);
        if !top.is_dir() {
            continue;
        }
        let mut dirs = vec![top.clone()];
        let mut i = 0;
        while i < dirs.len() {
            if let Ok(entries) = fs::read_dir(&dirs[i]) {
                for e in entries.flatten() {
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        dirs.push(e.path());
                    }
                }
            }
            i += 1;
        }
        for dir in dirs.iter().rev() {
            if let Err(e) = fs::remove_dir(dir) {
                problems.push(format!("removing cgroup {}: {e}", dir.display()));
            }
        }
    }
    problems
}

fn check_name(name: &str) {
    assert!(
        name.starts_with(NAME_PREFIX),
        "podman test objects must be named {NAME_PREFIX}*, got {name:?}"
    );
}

/// Why podman cannot be used here, if it cannot.
fn unusable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root (podman tests use root's cgroupfs)".into());
    }
    for tool in ["podman", "runc", "conmon", "tar"] {
        match Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(s) if s.success() => {}
            Ok(s) => return Some(format!("`{tool} --version` failed ({s})")),
            Err(e) => return Some(format!("{tool} not found: {e}")),
        }
    }
    if !Path::new(BUSYBOX).is_file() {
        return Some(format!("{BUSYBOX} missing (package busybox-static)"));
    }
    None
}

/// Mount points at or below `dir`, deepest first, from /proc/self/mountinfo.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    found
}

fn unmount(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An exclusive `flock` on [`LOCK_PATH`], released when dropped (the file is closed).
pub struct PodmanLock {
    _file: File,
}

impl PodmanLock {
    /// Waits for the lock (tests that run podman outside a harness take it too).
    pub fn acquire() -> io::Result<PodmanLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)?;
        loop {
            // SAFETY: the fd belongs to `file`, which outlives the call.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(PodmanLock { _file: file });
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// True when some harness (in this process or another) holds the podman lock now.
pub fn lock_is_held() -> bool {
    let Ok(file) = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_PATH)
    else {
        return false;
    };
    // SAFETY: the fd belongs to `file`, which outlives the call.
    let got = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if got {
        // SAFETY: as above.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
    }
    !got
}
