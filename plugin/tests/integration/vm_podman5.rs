//! Real podman 5 on cgroup v2 under systemd, in two Debian guests booted with qemu (issue 14):
//! trixie (podman 5.4) and sid (podman 5.8), one after the other.
//!
//! `scripts/vm/run-guest.sh` builds the guest (a cached debootstrap tree), boots it with our
//! Debian package (`plugin/packaging/build-deb.sh --debug`) and `scripts/vm/run-scenario.sh`,
//! which starts the containers (rootful under the systemd manager: idle, cpu burner, a 64 MiB
//! tmpfs holder, a pod with limits, paused, created, exited, one with markers through every
//! door, one whose health check fails, a `--cpus 0.2` busy loop, a `--memory 16m` one whose
//! child is OOM-killed (made again if the kernel also kills its shell); one under
//! `--cgroup-manager=cgroupfs`; a Quadlet unit; a rootless user's two containers, their own
//! busy loop and OOM one, one of theirs under cgroupfs and their own Quadlet unit under
//! `systemd --user`), records podman's own `ps`, `inspect` and `stats`, runs our
//! CLI (as root and as the rootless user) and Debian's collectd with our plugin, each between
//! two raw reads of every container cgroup, takes a capture and writes it all to a results
//! disk. Every judgement is made here, on the host:
//!
//! - `ps --all`: every container podman lists (root's and the user's) with podman's id, name,
//!   state, pid, pod, infra flag and cgroup (`""` = our `null`), the uid of its store, the
//!   health status and failing streak of podman's `.State.Health` (a passing check, one
//!   failed into `unhealthy`, none), nothing else; conmon's scopes are never containers; the state is SQLite's and a stale
//!   `bolt_state.db-old` beside it is ignored;
//! - `stats --no-stream`: every running and paused container (podman 5 leaves paused ones
//!   out of its own `stats`; we keep them: their memory is real), cpu time between the
//!   `cpu.stat` reads around the run, memory, working set and anon within the
//!   `memory.current` / `memory.stat` reads around it, block I/O `null` where `io` is not delegated (rootless);
//! - the burner's `--interval 1` percent is at most its cgroup's own cpu time since the read
//!   just before the run, over one second (+2 points), and above zero: a bracket, since TCG
//!   gives the burner no fixed share of a core;
//! - podman's MemUsage lies inside the raw bracket of the definition its version uses (5.4:
//!   `memory.stat anon`; 5.6 and later: `memory.current - inactive_file`); for the tmpfs
//!   holder, where anon and the usage differ a thousandfold, outside the other one;
//! - issue 16's figures against the kernel's files, rootful and rootless: a `--cpus 0.2` busy
//!   loop's `cpu_periods`, `cpu_throttled_periods`, `cpu_throttled_ns` and cpu pressure
//!   `total_us` within the `cpu.stat` / `cpu.pressure` reads around `stats`, above zero and
//!   growing by the `--interval 1` run, `cpu_limit_cores` 0.2 (`cpu.max` `20000 100000`); a
//!   `--memory 16m` container whose child was OOM-killed while it kept running:
//!   `memory_events.oom_kill` and `oom_kills` the kernel's count (1 or more), and `max` too;
//! - the rootless user's own run of our CLI lists exactly their containers, with no error;
//! - collectd's CSV values for every running container fall inside the raw brackets taken
//!   before collectd started and after it stopped;
//! - the capture replayed here gives the same JSON as the guest's own replay of it, and no
//!   marker byte is in it (the health check's output, in podman's health log, included);
//! - `InstanceBy "unit"` through the plugin's reader over that capture: root's Quadlet
//!   container under `lpstest-quadlet.service`, the user's under
//!   `user1500-lpstest-rlquadlet.service`, the others under their names;
//! - the pod's `cpu_limit_cores` 0.5, `memory_limit_bytes` 96 MiB and pressure come from its
//!   own slice (`podman pod create --cpus 0.5 --memory 96m`).
//!
//! Outside CI `LPS_SKIP_VM=1` skips it (with a loud note); under `CI=true` a guest that cannot
//! be built or booted is a failure. About 10 minutes per guest under TCG (the first run of a
//! day also builds the tree: debootstrap, a few minutes).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;
use support::skip_or_fail;

/// What a container's cgroup path must look like.
type CgroupShape = fn(&str) -> bool;

/// Never two guests at once (the tests of this binary run in parallel threads).
static ONE_GUEST: Mutex<()> = Mutex::new(());

const MIB: u64 = 1024 * 1024;
/// How far a memory gauge may move beyond the reads around a run: the kernel flushes
/// `memory.stat` lazily (per-cpu batches), so a read can lag the truth by a few hundred KiB.
const MEM_TOLERANCE: u64 = MIB;
/// The rootless user the guest makes (scripts/vm/build-tree.sh).
const USER_UID: u64 = 1500;
/// What the scenario plants through every door podman offers: no byte of it may be captured.
const MARKER: &[u8] = b"LPSMK";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the plugin crate is in the workspace")
        .to_path_buf()
}

/// target/debug, where the test binary (target/debug/deps/...) and build-deb.sh's debug
/// build both live.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/debug")
        .to_path_buf()
}

/// Whether the guests can run here; a note or (under CI) a failure when they cannot.
fn vm_possible() -> bool {
    if std::env::var("LPS_SKIP_VM").as_deref() == Ok("1") && !support::in_ci() {
        eprintln!(
            "\n*** NOTE: LPS_SKIP_VM=1: the podman 5 VM tests (trixie, sid) are SKIPPED ***\n"
        );
        return false;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        skip_or_fail("the VM tests need root (debootstrap, mkfs.ext4 -d)");
        return false;
    }
    for tool in ["qemu-system-x86_64", "debootstrap", "mkfs.ext4", "dpkg-deb"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()))
            .unwrap_or(false);
        if !found {
            skip_or_fail(&format!(
                "the VM tests need {tool} (scripts/install-deps.sh installs it)"
            ));
            return false;
        }
    }
    true
}

/// Our Debian package, debug build (built once per test process).
fn deb() -> PathBuf {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        let out = profile_dir().join("vm-deb");
        let _ = std::fs::remove_dir_all(&out);
        let o = Command::new(workspace().join("plugin/packaging/build-deb.sh"))
            .args(["--debug", "--out"])
            .arg(&out)
            .output()
            .expect("running build-deb.sh");
        assert!(
            o.status.success(),
            "build-deb.sh --debug failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
    })
    .clone()
}

/// Boots one guest and returns the directory its results were extracted to (kept under
/// target/debug/vm-<suite> for a look after the test).
fn run_guest(suite: &str) -> PathBuf {
    let out = profile_dir().join(format!("vm-{suite}"));
    let _ = std::fs::remove_dir_all(&out);
    let deb = deb();
    let o = Command::new(workspace().join("scripts/vm/run-guest.sh"))
        .arg(suite)
        .arg(&deb)
        .arg(&out)
        .output()
        .expect("running scripts/vm/run-guest.sh");
    eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.status.success(),
        "the {suite} guest failed (console: {}):\n{}",
        out.join("console.log").display(),
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel))
        .unwrap_or_else(|e| panic!("guest result {}: {e}", dir.join(rel).display()))
}

fn json(dir: &Path, rel: &str) -> Value {
    let text = read(dir, rel);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("guest result {rel} is not JSON ({e}):\n{text}"))
}

/// One JSON value per line (podman's `{{json .ContainerStats}}`).
fn json_lines(dir: &Path, rel: &str) -> Vec<Value> {
    read(dir, rel)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: {e}: {l}")))
        .collect()
}

/// The raw cgroup files of one container cgroup, as the guest read them.
#[derive(Debug, Default, Clone)]
struct RawCg {
    usage_usec: Option<u64>,
    current: Option<u64>,
    anon: Option<u64>,
    inactive_file: Option<u64>,
    pids: Option<u64>,
    io_read: Option<u64>,
    io_write: Option<u64>,
    procs: usize,
    /// `cpu.stat` `nr_periods`, `nr_throttled`, `throttled_usec`.
    nr_periods: Option<u64>,
    nr_throttled: Option<u64>,
    throttled_usec: Option<u64>,
    /// `cpu.max` as written (`max 100000`, `20000 100000`).
    cpu_max: Option<String>,
    /// `cpu.pressure` `some` `total` (us).
    cpu_some_total: Option<u64>,
    /// `memory.events` `max` and `oom_kill`.
    events_max: Option<u64>,
    oom_kill: Option<u64>,
}

impl RawCg {
    fn working_set(&self) -> Option<u64> {
        Some(self.current?.saturating_sub(self.inactive_file?))
    }
}

/// One raw read of every container cgroup (`scripts/vm/run-scenario.sh`'s `raw`).
#[derive(Debug, Default)]
struct RawRead {
    cgroups: BTreeMap<String, RawCg>,
}

fn raw_read(dir: &Path, name: &str) -> RawRead {
    let text = read(dir, &format!("raw/{name}.txt"));
    let mut r = RawRead::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("exists:") {
            // the file is there, perhaps empty: an empty io.stat means no I/O, not no io
            if let Some((cg, "io.stat")) =
                rest.rsplit_once(':').and_then(|(p, _)| p.rsplit_once('/'))
            {
                let e = r.cgroups.entry(cg.to_string()).or_default();
                e.io_read.get_or_insert(0);
                e.io_write.get_or_insert(0);
            }
            continue;
        }
        let Some((path, value)) = line.split_once(':') else {
            continue;
        };
        let Some((cg, file)) = path.rsplit_once('/') else {
            continue;
        };
        let e = r.cgroups.entry(cg.to_string()).or_default();
        let num = |s: &str| s.trim().parse::<u64>().ok();
        let kv = |key: &str| {
            value
                .strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(num)
        };
        match file {
            "cgroup.procs" => e.procs += 1,
            "memory.current" => e.current = num(value),
            "pids.current" => e.pids = num(value),
            "cpu.stat" => {
                e.usage_usec = kv("usage_usec").or(e.usage_usec);
                e.nr_periods = kv("nr_periods").or(e.nr_periods);
                e.nr_throttled = kv("nr_throttled").or(e.nr_throttled);
                e.throttled_usec = kv("throttled_usec").or(e.throttled_usec);
            }
            "cpu.max" => e.cpu_max = Some(value.trim().to_string()),
            "cpu.pressure" => {
                if let Some(rest) = value.strip_prefix("some ") {
                    e.cpu_some_total = rest
                        .split_whitespace()
                        .find_map(|f| f.strip_prefix("total="))
                        .and_then(num);
                }
            }
            "memory.events" => {
                e.events_max = kv("max").or(e.events_max);
                e.oom_kill = kv("oom_kill").or(e.oom_kill);
            }
            "memory.stat" => {
                e.anon = kv("anon").or(e.anon);
                e.inactive_file = kv("inactive_file").or(e.inactive_file);
            }
            "io.stat" => {
                for field in value.split_whitespace() {
                    if let Some(v) = field.strip_prefix("rbytes=").and_then(num) {
                        *e.io_read.get_or_insert(0) += v;
                    }
                    if let Some(v) = field.strip_prefix("wbytes=").and_then(num) {
                        *e.io_write.get_or_insert(0) += v;
                    }
                }
            }
            _ => {}
        }
    }
    r
}

/// A gauge's reads around a run: [min - tolerance, max + tolerance].
fn gauge_bracket(a: Option<u64>, b: Option<u64>, tol: u64) -> Option<(u64, u64)> {
    let (a, b) = (a?, b?);
    Some((a.min(b).saturating_sub(tol), a.max(b) + tol))
}

fn in_bracket(v: u64, (lo, hi): (u64, u64)) -> bool {
    lo <= v && v <= hi
}

/// podman's view of one container, from `ps -a` and `inspect`, root's or the user's.
#[derive(Debug, Clone)]
struct Podman {
    id: String,
    name: String,
    state: String,
    pid: u64,
    pod: String,
    is_infra: bool,
    cgroup: String,
    uid: u64,
    /// `.State.Health`'s `Status` and `FailingStreak`, for a container with a health check.
    health: Option<(String, u64)>,
}

fn podman_view(dir: &Path, who: &str, uid: u64) -> BTreeMap<String, Podman> {
    let ps = json(dir, &format!("{who}/podman-ps.json"));
    let inspect = json(dir, &format!("{who}/podman-inspect.json"));
    let inspect: BTreeMap<String, &Value> = inspect
        .as_array()
        .unwrap_or_else(|| panic!("{who}/podman-inspect.json is not an array"))
        .iter()
        .map(|c| (c["Id"].as_str().unwrap_or_default().to_string(), c))
        .collect();
    ps.as_array()
        .unwrap_or_else(|| panic!("{who}/podman-ps.json is not an array"))
        .iter()
        .map(|c| {
            let id = c["Id"].as_str().expect("podman ps gives ids").to_string();
            let i = inspect
                .get(&id)
                .unwrap_or_else(|| panic!("podman inspect lacks {id}"));
            let p = Podman {
                id: id.clone(),
                name: c["Names"][0].as_str().unwrap_or_default().to_string(),
                state: c["State"].as_str().unwrap_or_default().to_string(),
                pid: i["State"]["Pid"].as_u64().unwrap_or(0),
                pod: i["Pod"].as_str().unwrap_or_default().to_string(),
                is_infra: i["IsInfra"].as_bool().unwrap_or(false),
                cgroup: i["State"]["CgroupPath"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                uid,
                health: i["State"]["Health"]["Status"].as_str().map(|status| {
                    (
                        status.to_string(),
                        i["State"]["Health"]["FailingStreak"].as_u64().unwrap_or(0),
                    )
                }),
            };
            (id, p)
        })
        .collect()
}

fn by_id(v: &Value) -> BTreeMap<String, &Value> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), c))
        .collect()
}

fn u(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// podman's version "5.4.2" as (5, 4).
fn podman_version(dir: &Path) -> (u64, u64) {
    let v = json(dir, "podman-version.json");
    let s = v["Client"]["Version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut parts = s.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Everything one guest recorded, and the checks over it; `problems` collects every failed
/// check so one run reports all of them.
struct Guest {
    suite: &'static str,
    dir: PathBuf,
    podman: BTreeMap<String, Podman>,
    problems: Vec<String>,
}

impl Guest {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let msg = what();
            eprintln!("[{}] FAILED: {msg}", self.suite);
            self.problems.push(msg);
        }
    }

    fn by_name(&self, name: &str) -> Option<&Podman> {
        self.podman.values().find(|p| p.name == name)
    }

    fn expect_rc0(&mut self, what: &str) {
        let rc = read(&self.dir, &format!("ours/{what}.rc"));
        let err = read(&self.dir, &format!("ours/{what}.err"));
        self.check(rc.trim() == "0" && err.trim().is_empty(), || {
            format!("libpod-stats {what}: exit {} stderr:\n{err}", rc.trim())
        });
    }

    /// `ps --all` as root: podman's containers (root's and the user's), field by field.
    fn check_ps(&mut self) {
        self.expect_rc0("ps");
        let ours = json(&self.dir, "ours/ps.json");
        let ours = by_id(&ours);
        let want: BTreeSet<&String> = self.podman.keys().collect();
        let got: BTreeSet<&String> = ours.keys().collect();
        let (missing, extra): (Vec<_>, Vec<_>) = (
            want.difference(&got)
                .map(|id| &self.podman[*id].name)
                .collect(),
            got.difference(&want)
                .map(|id| ours[*id]["name"].to_string())
                .collect(),
        );
        let msg = format!("ps --all: missing {missing:?}, not podman's {extra:?}");
        self.check(missing.is_empty() && extra.is_empty(), || msg);
        let podman = self.podman.clone();
        for p in podman.values() {
            let Some(o) = ours.get(&p.id) else { continue };
            let n = &p.name;
            let live = matches!(p.state.as_str(), "running" | "paused");
            let checks = [
                ("name", o["name"] == p.name.as_str()),
                ("state", o["state"] == p.state.as_str()),
                ("pid", !live || u(&o["pid"]) == Some(p.pid)),
                (
                    "pod_id",
                    o["pod_id"].as_str().unwrap_or_default() == p.pod.as_str(),
                ),
                ("is_infra", o["is_infra"].as_bool() == Some(p.is_infra)),
                (
                    "cgroup",
                    o["cgroup"].as_str().unwrap_or_default() == p.cgroup.as_str(),
                ),
                ("uid", u(&o["uid"]) == Some(p.uid)),
                ("source", o["source"] == "sqlite"),
                (
                    "health",
                    o["health"].as_str().map(|h| {
                        (
                            h.to_string(),
                            u(&o["health_failing_streak"]).unwrap_or(u64::MAX),
                        )
                    }) == p.health,
                ),
            ];
            for (field, ok) in checks {
                self.check(ok, || {
                    format!("ps --all: {n}: {field} differs: ours {o} podman {p:?}")
                });
            }
            let cg = o["cgroup"].as_str().unwrap_or_default().to_string();
            self.check(!cg.contains("conmon"), || {
                format!("{n}: a conmon cgroup as a container's: {cg}")
            });
        }
        // Quadlet's units, root's and the user's, from the PODMAN_SYSTEMD_UNIT label podman
        // stores
        for (name, uid) in [("lpstest-quadlet", 0), ("lpstest-rlquadlet", USER_UID)] {
            let unit = ours
                .values()
                .find(|o| o["name"] == name)
                .map(|o| (o["systemd_unit"].clone(), o["uid"].as_u64()));
            let want = (Value::from(format!("{name}.service")), Some(uid));
            self.check(unit.as_ref() == Some(&want), || {
                format!("ps --all: {name}'s systemd_unit and uid are {unit:?}")
            });
        }
        let bolt_old = read(&self.dir, "root/bolt-old");
        eprintln!(
            "[{}] bolt_state.db-old beside db.sql: {} (ignored: ps exit 0, every source sqlite)",
            self.suite,
            bolt_old.trim()
        );
    }

    /// The expected shapes are there: without them the other checks would prove little.
    fn check_scenario(&mut self) {
        let want = [
            ("lpstest-idle", "running"),
            ("lpstest-burner", "running"),
            ("lpstest-mem", "running"),
            ("lpstest-podmember", "running"),
            ("lpstest-paused", "paused"),
            ("lpstest-created", "created"),
            ("lpstest-exited", "exited"),
            ("lpstest-markers", "running"),
            ("lpstest-unhealthy", "running"),
            ("lpstest-cgfs", "running"),
            ("lpstest-quadlet", "running"),
            ("lpstest-rl1", "running"),
            ("lpstest-rl2", "running"),
            ("lpstest-throttled", "running"),
            ("lpstest-oom", "running"),
            ("lpstest-rlthrottled", "running"),
            ("lpstest-rloom", "running"),
            ("lpstest-rlquadlet", "running"),
        ];
        for (name, state) in want {
            let got = self.by_name(name).map(|p| p.state.clone());
            self.check(got.as_deref() == Some(state), || {
                format!("scenario: podman's {name} is {got:?}, expected {state}")
            });
        }
        // podman's health log after one `podman healthcheck run` each: passed, failed once
        // with one retry allowed
        for (name, want) in [
            ("lpstest-markers", ("healthy", 0)),
            ("lpstest-unhealthy", ("unhealthy", 1)),
        ] {
            let got = self.by_name(name).and_then(|p| p.health.clone());
            self.check(got == Some((want.0.to_string(), want.1)), || {
                format!("scenario: podman's health of {name} is {got:?}, expected {want:?}")
            });
        }
        let infra = self.podman.values().filter(|p| p.is_infra).count();
        self.check(infra == 1, || format!("scenario: {infra} infra containers"));
        let checks: [(&str, CgroupShape); 4] = [
            ("lpstest-cgfs", |cg| {
                cg.starts_with("/libpod_parent/libpod-")
            }),
            ("lpstest-quadlet", |cg| cg.contains("/libpod-payload-")),
            ("lpstest-rlquadlet", |cg| {
                cg.starts_with("/user.slice/user-1500.slice/user@1500.service/")
                    && cg.contains("/lpstest-rlquadlet.service/libpod-payload-")
            }),
            ("lpstest-idle", |cg| {
                cg.starts_with("/machine.slice/libpod-") && cg.ends_with(".scope")
            }),
        ];
        for (name, shape) in checks {
            let cg = self
                .by_name(name)
                .map(|p| p.cgroup.clone())
                .unwrap_or_default();
            self.check(shape(&cg), || {
                format!("scenario: {name}'s cgroup is {cg:?}")
            });
        }
        // crun runs the payload in a `container` child of the scope when systemd manages it
        let tree = read(&self.dir, "raw/cgroup-tree.list");
        let idle = self
            .by_name("lpstest-idle")
            .map(|p| format!("{}/container", p.cgroup))
            .unwrap_or_default();
        eprintln!(
            "[{}] crun's `container` sub-cgroup of lpstest-idle: {}",
            self.suite,
            tree.lines().any(|l| l == idle)
        );
        for (who, file) in [
            ("root", "root/left-running.txt"),
            ("user", "user/left-running.txt"),
        ] {
            let left = read(&self.dir, file);
            self.check(left.trim().is_empty(), || {
                format!("{who}'s containers still running at shutdown: {left}")
            });
        }
    }

    /// One stats sample against the raw reads around it.
    fn check_sample(&mut self, run: &str, s: &Value, before: &RawRead, after: &RawRead) {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        let Some(cg) = s["cgroup"].as_str() else {
            return;
        };
        let (Some(b), Some(a)) = (before.cgroups.get(cg), after.cgroups.get(cg)) else {
            self.problems
                .push(format!("{run}: {name}: no raw read of its cgroup {cg}"));
            return;
        };
        let (b, a) = (b.clone(), a.clone());
        let cpu = u(&s["cpu_ns"]);
        let cpu_ok = match (cpu, b.usage_usec, a.usage_usec) {
            (Some(v), Some(lo), Some(hi)) => lo * 1000 <= v && v <= hi * 1000,
            _ => false,
        };
        self.check(cpu_ok, || {
            format!(
                "{run}: {name}: cpu_ns {cpu:?} outside cpu.stat usage_usec {:?}..{:?} (x1000)",
                b.usage_usec, a.usage_usec
            )
        });
        for (field, got, raw) in [
            (
                "memory_bytes",
                u(&s["memory_bytes"]),
                gauge_bracket(b.current, a.current, MEM_TOLERANCE),
            ),
            (
                "memory_working_set_bytes",
                u(&s["memory_working_set_bytes"]),
                gauge_bracket(b.working_set(), a.working_set(), MEM_TOLERANCE),
            ),
            (
                "memory_anon_bytes",
                u(&s["memory_anon_bytes"]),
                gauge_bracket(b.anon, a.anon, MEM_TOLERANCE),
            ),
            ("pids", u(&s["pids"]), gauge_bracket(b.pids, a.pids, 0)),
        ] {
            let ok = matches!((got, raw), (Some(v), Some(r)) if in_bracket(v, r));
            self.check(ok, || {
                format!("{run}: {name}: {field} {got:?} outside the raw reads {raw:?}")
            });
        }
        // block I/O: counters when io.stat exists, null when io is not delegated
        let (rd, wr) = (u(&s["block_read_bytes"]), u(&s["block_write_bytes"]));
        match (b.io_read.is_some() || a.io_read.is_some(), a.io_read) {
            (false, _) => self.check(rd.is_none() && wr.is_none(), || {
                format!("{run}: {name}: no io.stat, but block I/O {rd:?}/{wr:?}")
            }),
            (true, hi) => {
                let ok = rd.is_some_and(|v| v >= b.io_read.unwrap_or(0) && v <= hi.unwrap_or(0))
                    && wr.is_some_and(|v| {
                        v >= b.io_write.unwrap_or(0) && v <= a.io_write.unwrap_or(0)
                    });
                self.check(ok, || {
                    format!("{run}: {name}: block I/O {rd:?}/{wr:?} outside io.stat {:?}/{:?}..{:?}/{:?}", b.io_read, b.io_write, a.io_read, a.io_write)
                });
            }
        }
    }

    /// `stats --no-stream` as root: every running and paused container, numbers bracketed.
    fn check_stats(&mut self) {
        self.expect_rc0("stats");
        let ours = json(&self.dir, "ours/stats.json");
        let before = raw_read(&self.dir, "ours-before");
        let after = raw_read(&self.dir, "ours-after");
        let want: BTreeSet<String> = self
            .podman
            .values()
            .filter(|p| matches!(p.state.as_str(), "running" | "paused"))
            .map(|p| p.id.clone())
            .collect();
        let got: BTreeSet<String> = by_id(&ours).into_keys().collect();
        self.check(want == got, || {
            format!("stats: ids {got:?}, podman's running and paused {want:?}")
        });
        for s in ours.as_array().expect("an array").clone() {
            self.check_sample("stats", &s, &before, &after);
        }
        let paused = by_id(&ours)
            .values()
            .any(|s| s["name"] == "lpstest-paused" && s["state"] == "paused");
        self.check(paused, || {
            "stats: lpstest-paused is not listed as paused".into()
        });
        let rootless_io = by_id(&ours)
            .values()
            .filter(|s| s["name"] == "lpstest-rl1")
            .all(|s| s["block_read_bytes"].is_null());
        self.check(rootless_io, || {
            "stats: rootless lpstest-rl1 has block I/O though io is not delegated".into()
        });
    }

    /// Issue 16's figures against the kernel's files, rootful and rootless: the `--cpus 0.2`
    /// busy loops' throttling and cpu pressure within the raw reads around `stats`, growing
    /// by the `--interval 1` run after them, their quota 0.2 cores; the `--memory 16m`
    /// containers, still running, with their child's OOM kill counted as the kernel did.
    fn check_throttle_oom(&mut self) {
        let ours = json(&self.dir, "ours/stats.json");
        let later = json(&self.dir, "ours/stats-interval.json");
        let b = raw_read(&self.dir, "ours-before");
        let a = raw_read(&self.dir, "ours-after");
        let (ours, later) = (by_id(&ours), by_id(&later));
        let podman = self.podman.clone();
        let sample = |name: &str, set: &BTreeMap<String, &Value>| -> (Value, RawCg, RawCg) {
            let p = podman.values().find(|p| p.name == name);
            let s = p
                .and_then(|p| set.get(&p.id))
                .map(|v| (*v).clone())
                .unwrap_or(Value::Null);
            let raw = |r: &RawRead| {
                p.and_then(|p| r.cgroups.get(&p.cgroup))
                    .cloned()
                    .unwrap_or_default()
            };
            (s, raw(&b), raw(&a))
        };
        for name in ["lpstest-throttled", "lpstest-rlthrottled"] {
            let (s, rb, ra) = sample(name, &ours);
            let (s2, _, _) = sample(name, &later);
            eprintln!(
                "[{}] {name}: cpu.max {:?}, periods {:?}, throttled {:?} ({:?} us), cpu some total {:?} us; ours {} {} {} {}",
                self.suite,
                ra.cpu_max,
                ra.nr_periods,
                ra.nr_throttled,
                ra.throttled_usec,
                ra.cpu_some_total,
                s["cpu_periods"],
                s["cpu_throttled_periods"],
                s["cpu_throttled_ns"],
                s["pressure"]["cpu"]["some"]["total_us"]
            );
            let x1000 = |v: Option<u64>| v.map(|v| v * 1000);
            for (field, got, lo, hi) in [
                (
                    "cpu_periods",
                    u(&s["cpu_periods"]),
                    rb.nr_periods,
                    ra.nr_periods,
                ),
                (
                    "cpu_throttled_periods",
                    u(&s["cpu_throttled_periods"]),
                    rb.nr_throttled,
                    ra.nr_throttled,
                ),
                (
                    "cpu_throttled_ns",
                    u(&s["cpu_throttled_ns"]),
                    x1000(rb.throttled_usec),
                    x1000(ra.throttled_usec),
                ),
                (
                    "pressure.cpu.some.total_us",
                    u(&s["pressure"]["cpu"]["some"]["total_us"]),
                    rb.cpu_some_total,
                    ra.cpu_some_total,
                ),
            ] {
                let ok =
                    matches!((got, lo, hi), (Some(v), Some(lo), Some(hi)) if lo <= v && v <= hi);
                self.check(ok, || {
                    format!("{name}: {field} {got:?} outside the kernel's {lo:?}..{hi:?}")
                });
                self.check(got.is_some_and(|v| v > 0), || {
                    format!("{name}: {field} is {got:?}: 0 or missing for a throttled busy loop")
                });
            }
            for field in ["cpu_periods", "cpu_throttled_periods", "cpu_throttled_ns"] {
                let (v1, v2) = (u(&s[field]), u(&s2[field]));
                self.check(matches!((v1, v2), (Some(v1), Some(v2)) if v2 > v1), || {
                    format!("{name}: {field} did not grow from stats to stats --interval 1: {v1:?} then {v2:?}")
                });
            }
            let cores = s["cpu_limit_cores"].as_f64();
            self.check(
                cores.is_some_and(|c| (c - 0.2).abs() < 1e-9)
                    && ra.cpu_max.as_deref() == Some("20000 100000"),
                || {
                    format!(
                        "{name}: cpu_limit_cores {cores:?}, cpu.max {:?}",
                        ra.cpu_max
                    )
                },
            );
        }
        // the scenario's runs of the two (a run whose container ended is made again)
        for line in read(&self.dir, "oom-attempts.txt").lines() {
            eprintln!("[{}] {line}", self.suite);
        }
        for name in ["lpstest-oom", "lpstest-rloom"] {
            let (s, rb, ra) = sample(name, &ours);
            let kills = u(&s["memory_events"]["oom_kill"]);
            eprintln!(
                "[{}] {name}: memory.events oom_kill {:?}..{:?}, max {:?}..{:?}; ours oom_kill {kills:?}, oom_kills {}, max {}, state {}",
                self.suite,
                rb.oom_kill,
                ra.oom_kill,
                rb.events_max,
                ra.events_max,
                s["oom_kills"],
                s["memory_events"]["max"],
                s["state"]
            );
            let ok = matches!((kills, rb.oom_kill, ra.oom_kill), (Some(v), Some(lo), Some(hi)) if v >= 1 && lo <= v && v <= hi)
                && u(&s["oom_kills"]) == kills;
            self.check(ok, || {
                format!(
                    "{name}: oom_kill {kills:?} / oom_kills {} not the kernel's {:?}..{:?} (1 or more)",
                    s["oom_kills"], rb.oom_kill, ra.oom_kill
                )
            });
            let max = u(&s["memory_events"]["max"]);
            let ok = matches!((max, rb.events_max, ra.events_max), (Some(v), Some(lo), Some(hi)) if v >= 1 && lo <= v && v <= hi);
            self.check(ok, || {
                format!(
                    "{name}: memory_events.max {max:?} outside {:?}..{:?}",
                    rb.events_max, ra.events_max
                )
            });
            self.check(
                s["state"] == "running" && u(&s["memory_limit_bytes"]) == Some(16 * MIB),
                || format!("{name}: not a running 16 MiB container: {s}"),
            );
        }
    }

    /// The burner's one-second rate: at most what its cgroup did since the read just before.
    fn check_interval(&mut self) {
        self.expect_rc0("stats-interval");
        let ours = json(&self.dir, "ours/stats-interval.json");
        let before = raw_read(&self.dir, "ours-after");
        let Some(p) = self.by_name("lpstest-burner").cloned() else {
            return;
        };
        let s = by_id(&ours).get(&p.id).map(|v| (*v).clone());
        let s = s.unwrap_or(Value::Null);
        let pct = s["cpu_percent"].as_f64();
        let cpu_b = u(&s["cpu_ns"]);
        let c1 = before.cgroups.get(&p.cgroup).and_then(|c| c.usage_usec);
        let bound = match (cpu_b, c1) {
            (Some(b), Some(c1)) => Some(b.saturating_sub(c1 * 1000) as f64 / 1e9 * 100.0 + 2.0),
            _ => None,
        };
        eprintln!(
            "[{}] burner --interval 1: {pct:?} % (bound {bound:?})",
            self.suite
        );
        self.check(
            matches!((pct, bound), (Some(v), Some(b)) if v > 0.0 && v <= b),
            || format!("interval: burner {pct:?} % not in (0, {bound:?}]"),
        );
    }

    /// podman's MemUsage inside the bracket of its version's definition; for the tmpfs
    /// holder outside the other one. Also podman's CPUNano inside cpu.stat's bracket.
    fn check_podman_memory(&mut self) {
        let (major, minor) = podman_version(&self.dir);
        let working_set = (major, minor) >= (5, 6);
        let def = if working_set {
            "memory.current - inactive_file"
        } else {
            "memory.stat anon"
        };
        eprintln!("[{}] podman {major}.{minor}: MemUsage = {def}", self.suite);
        for who in ["root", "user"] {
            let stats = json_lines(&self.dir, &format!("{who}/podman-stats.jsonl"));
            let b = raw_read(&self.dir, &format!("pstats-{who}-before"));
            let a = raw_read(&self.dir, &format!("pstats-{who}-after"));
            for s in stats {
                let id = s["ContainerID"].as_str().unwrap_or_default().to_string();
                let Some(p) = self.podman.get(&id).cloned() else {
                    continue;
                };
                let (Some(rb), Some(ra)) = (b.cgroups.get(&p.cgroup), a.cgroups.get(&p.cgroup))
                else {
                    continue;
                };
                let (rb, ra) = (rb.clone(), ra.clone());
                let mem = u(&s["MemUsage"]);
                let anon = gauge_bracket(rb.anon, ra.anon, MEM_TOLERANCE);
                let ws = gauge_bracket(rb.working_set(), ra.working_set(), MEM_TOLERANCE);
                let (mine, other) = if working_set { (ws, anon) } else { (anon, ws) };
                let ok = matches!((mem, mine), (Some(v), Some(r)) if in_bracket(v, r));
                self.check(ok, || {
                    format!(
                        "podman {who} {}: MemUsage {mem:?} outside {def} {mine:?}",
                        p.name
                    )
                });
                if p.name == "lpstest-mem" {
                    let outside = matches!((mem, other), (Some(v), Some(r)) if !in_bracket(v, r));
                    self.check(outside, || {
                        format!("podman lpstest-mem: MemUsage {mem:?} also inside the other definition {other:?}")
                    });
                }
                let cpu = u(&s["CPUNano"]);
                let ok = match (cpu, rb.usage_usec, ra.usage_usec) {
                    (Some(v), Some(lo), Some(hi)) => lo * 1000 <= v && v <= hi * 1000,
                    _ => false,
                };
                self.check(ok, || {
                    format!("podman {who} {}: CPUNano {cpu:?} outside cpu.stat", p.name)
                });
            }
        }
    }

    /// The rootless user runs our CLI: all their containers, as their podman says, no error.
    /// (Root's store is listed too where the user can read it, as in these guests.)
    fn check_user_cli(&mut self) {
        self.expect_rc0("user-ps");
        self.expect_rc0("user-stats");
        let ours = json(&self.dir, "ours/user-ps.json");
        let ours = by_id(&ours);
        let theirs: Vec<Podman> = self
            .podman
            .values()
            .filter(|p| p.uid == USER_UID)
            .cloned()
            .collect();
        for p in &theirs {
            let o = ours.get(&p.id);
            let ok =
                o.is_some_and(|o| o["state"] == p.state.as_str() && u(&o["uid"]) == Some(USER_UID));
            self.check(ok, || {
                format!(
                    "the user's own ps --all: {} is {o:?}, their podman: {p:?}",
                    p.name
                )
            });
        }
        eprintln!(
            "[{}] the user's own ps --all: {} containers, {} of them theirs",
            self.suite,
            ours.len(),
            theirs.len()
        );
        let stats = json(&self.dir, "ours/user-stats.json");
        let b = raw_read(&self.dir, "ours-user-before");
        let a = raw_read(&self.dir, "ours-user-after");
        for s in stats.as_array().expect("an array").clone() {
            self.check_sample("user stats", &s, &b, &a);
        }
    }

    /// collectd (Debian's service, our package) wrote values inside the raw brackets.
    fn check_collectd(&mut self) {
        let state = read(&self.dir, "collectd/state-while-running");
        self.check(state.trim() == "active", || {
            format!("collectd.service was {state:?} while it should run")
        });
        let log =
            std::fs::read_to_string(self.dir.join("collectd/collectd.log")).unwrap_or_default();
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("libpodstats"))
            .filter(|l| {
                let l = l.to_lowercase();
                l.contains("error") || l.contains("fail")
            })
            .collect();
        let loaded = log
            .lines()
            .any(|l| l.contains("\"libpodstats\" successfully loaded"));
        self.check(bad.is_empty() && loaded, || {
            format!("collectd did not load the plugin cleanly:\n{log}")
        });
        let b = raw_read(&self.dir, "collectd-before");
        let a = raw_read(&self.dir, "collectd-after");
        let csv = self.dir.join("collectd/csv/lpsguest");
        let podman = self.podman.clone();
        for p in podman
            .values()
            .filter(|p| p.state == "running" && !p.cgroup.is_empty())
        {
            let (Some(rb), Some(ra)) = (b.cgroups.get(&p.cgroup), a.cgroups.get(&p.cgroup)) else {
                continue;
            };
            let (rb, ra) = (rb.clone(), ra.clone());
            let dir = csv.join(format!("libpodstats-{}", p.name));
            let rows = |prefix: &str| -> Vec<Vec<f64>> {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    return Vec::new();
                };
                let mut rows = Vec::new();
                for e in entries.flatten() {
                    if !e.file_name().to_string_lossy().starts_with(prefix) {
                        continue;
                    }
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    for line in text.lines().skip(1) {
                        // by position; `nan` (no rate yet) becomes NaN
                        rows.push(
                            line.split(',')
                                .map(|f| f.parse().unwrap_or(f64::NAN))
                                .collect(),
                        );
                    }
                }
                rows
            };
            let cpu = rows("pod_cpu-");
            let mem = rows("pod_memory-");
            self.check(!cpu.is_empty() && !mem.is_empty(), || {
                format!(
                    "collectd: no pod_cpu/pod_memory rows for {} in {}",
                    p.name,
                    dir.display()
                )
            });
            let (lo, hi) = (
                rb.usage_usec.unwrap_or(0) * 1000,
                ra.usage_usec.unwrap_or(0) * 1000,
            );
            for r in &cpu {
                let t = r.get(2).copied().unwrap_or(-1.0);
                self.check(lo as f64 <= t && t <= hi as f64, || {
                    format!("collectd {}: pod_cpu time {t} outside {lo}..{hi}", p.name)
                });
            }
            let range = gauge_bracket(rb.current, ra.current, MEM_TOLERANCE);
            for r in &mem {
                let v = r.get(1).copied().unwrap_or(-1.0);
                let ok = range.is_some_and(|(lo, hi)| lo as f64 <= v && v <= hi as f64);
                self.check(ok, || {
                    format!(
                        "collectd {}: pod_memory {v} outside memory.current {range:?}",
                        p.name
                    )
                });
            }
        }
    }

    /// The pod's limits and pressure come from its own slice (`machine-libpod_pod_<id>.slice`,
    /// made with `--cpus 0.5 --memory 96m`): in the guest's replay of its capture.
    fn check_pod_cgroup(&mut self) {
        let replay: Value = serde_json::from_str(&read(&self.dir, "ours/capture-replay.json"))
            .unwrap_or(Value::Null);
        let steps = replay.as_array().cloned().unwrap_or_default();
        self.check(!steps.is_empty(), || "pod cgroup: no replay steps".into());
        for step in steps {
            let pod = step["pods"]
                .as_array()
                .and_then(|pods| pods.iter().find(|p| p["pod_name"] == "lpstest-pod"))
                .cloned()
                .unwrap_or(Value::Null);
            let ok = pod["cpu_limit_cores"].as_f64() == Some(0.5)
                && u(&pod["memory_limit_bytes"]) == Some(96 * MIB)
                && pod["pressure"]["cpu"]["some"]["total_us"].is_u64();
            self.check(ok, || {
                format!("pod cgroup: lpstest-pod's own limits and pressure: {pod}")
            });
        }
    }

    /// The capture: replayed here exactly as in the guest; no marker byte in it.
    fn check_capture(&mut self) {
        let rc = read(&self.dir, "ours/capture.rc");
        let msg = read(&self.dir, "ours/capture.out");
        self.check(rc.trim() == "0", || {
            format!("capture: exit {} {msg}", rc.trim())
        });
        let cli = profile_dir().join("libpod-stats");
        let capture = self.dir.join("capture");
        let host = Command::new(&cli)
            .arg("replay")
            .arg(&capture)
            .args(["--format", "json"])
            .output()
            .expect("running libpod-stats replay");
        let host: Value = serde_json::from_slice(&host.stdout).unwrap_or(Value::Null);
        let guest: Value = serde_json::from_str(&read(&self.dir, "ours/capture-replay.json"))
            .unwrap_or(Value::Bool(false));
        self.check(host == guest && !host.is_null(), || {
            "capture: the host's replay differs from the guest's".into()
        });
        let host = Command::new(&cli)
            .arg("--root")
            .arg(capture.join("002"))
            .args(["stats", "--no-stream", "--format", "json"])
            .output()
            .expect("running libpod-stats --root");
        let host: Value = serde_json::from_slice(&host.stdout).unwrap_or(Value::Null);
        let guest: Value = serde_json::from_str(&read(&self.dir, "ours/capture-stats.json"))
            .unwrap_or(Value::Bool(false));
        self.check(host == guest && !host.is_null(), || {
            "capture: --root 002 stats differs between host and guest".into()
        });
        let mut leaks = Vec::new();
        walk(&capture, &mut |p| {
            if let Ok(bytes) = std::fs::read(p) {
                if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
                    leaks.push(p.strip_prefix(&capture).unwrap_or(p).display().to_string());
                }
            }
        });
        self.check(leaks.is_empty(), || {
            format!("capture: marker bytes in {leaks:?}")
        });
    }

    /// `InstanceBy "unit"` over the guest's capture, through the plugin's reader as collectd
    /// drives it: root's Quadlet container under its unit, the user's under `user<uid>-` and
    /// its unit (root's and a user's unit of the same name never collide), the others under
    /// their names.
    fn check_units(&mut self) {
        let cfg = podstats::config::PluginConfig {
            host_root: Some(self.dir.join("capture/002")),
            instance_by: podstats::config::InstanceBy::Unit,
            metrics: podstats::config::MetricGroups {
                state: true,
                ..podstats::config::MetricGroups::NONE
            },
            ..podstats::config::PluginConfig::default()
        };
        let source = match podstats::source::open(&cfg) {
            Ok(s) => s,
            Err(e) => {
                self.check(false, || format!("units: opening the capture: {e}"));
                return;
            }
        };
        let mut reader = podstats::reader::Reader::new(cfg, source);
        let (mut states, mut logs) = (Vec::new(), Vec::new());
        reader.read_catching_panics(
            &mut |d| {
                let (ident, values) = support::render_dispatch(d, |v| match v {
                    collectd_plugin::Value::Gauge(g) => format!("{g}"),
                    other => other.to_string(),
                });
                if ident.ends_with("/pod_state") {
                    states.push(format!("{ident}: {}", values.join(" ")));
                }
                Ok(())
            },
            &mut |level, message| logs.push(format!("{level}: {message}")),
        );
        self.check(logs.is_empty(), || {
            format!("units: the cycle logged {logs:?}")
        });
        for want in [
            "libpodstats-lpstest-quadlet.service/pod_state: 3",
            &format!("libpodstats-user{USER_UID}-lpstest-rlquadlet.service/pod_state: 3"),
            "libpodstats-lpstest-idle/pod_state: 3",
            "libpodstats-lpstest-rl1/pod_state: 3",
        ] {
            self.check(states.iter().any(|l| l == want), || {
                format!("units: no {want:?} in {states:?}")
            });
        }
        eprintln!(
            "[{}] InstanceBy unit: {}",
            self.suite,
            states
                .iter()
                .filter(|l| l.contains(".service"))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    fn report(&self) {
        let t = std::fs::read_to_string(self.dir.join("host-timings")).unwrap_or_default();
        let start = read(&self.dir, "start-uptime");
        let end = read(&self.dir, "finished-uptime");
        eprintln!(
            "[{}] {} | guest boot-to-scenario {} s, scenario end {} s | {}",
            self.suite,
            read(&self.dir, "versions.txt").replace('\n', "; "),
            start.trim(),
            end.trim(),
            t.replace('\n', " ")
        );
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, f),
            Ok(t) if t.is_file() => f(&p),
            _ => {}
        }
    }
}

fn guest(suite: &'static str) {
    if !vm_possible() {
        return;
    }
    let _one = ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner());
    let dir = run_guest(suite);
    let mut podman = podman_view(&dir, "root", 0);
    podman.extend(podman_view(&dir, "user", USER_UID));
    let mut g = Guest {
        suite,
        dir,
        podman,
        problems: Vec::new(),
    };
    g.report();
    g.check_scenario();
    g.check_ps();
    g.check_stats();
    g.check_interval();
    g.check_throttle_oom();
    g.check_podman_memory();
    g.check_user_cli();
    g.check_collectd();
    g.check_capture();
    g.check_units();
    g.check_pod_cgroup();
    assert!(
        g.problems.is_empty(),
        "{suite} guest ({}): {} problems:\n{}",
        g.dir.display(),
        g.problems.len(),
        g.problems.join("\n")
    );
}

/// Debian 13: podman 5.4, crun 1.21, systemd 257.
#[test]
fn trixie_podman_5_4() {
    guest("trixie");
}

/// Debian sid: podman 5.8, crun 1.28, systemd 262 (BoltDB migrated to SQLite).
#[test]
fn sid_podman_5_8() {
    guest("sid");
}
