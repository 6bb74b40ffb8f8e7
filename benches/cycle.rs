//! One collector read cycle over N = 1, 100 and 1000 containers, against the floor and a
//! naive reader, on (a) a snapshot on tmpfs and (b) real cgroups of this machine.
//!
//! - **ours**: [`Collector::collect`] in its steady state (held files, cached discovery),
//!   with the plugin's default cgroup metric groups (cpu, memory, pids, blkio, oom; `net` is
//!   left out: the
//!   synthesized `/proc` is not procfs, so it would measure a tmpfs read).
//! - **floor**: the same cgroup files a steady cycle reads, held open and `pread` once each
//!   into one buffer: no parsing, no bookkeeping. What the kernel charges.
//! - **naive**: the Go plugin's design: every cycle parse `containers.json`, then for each
//!   container open, read to a `String` and close every file, splitting lines into a fresh
//!   `HashMap` for `memory.stat`; limits every cycle.
//!
//! The live cgroups are `lpstest-bench-<pid>/libpod-<id>` in the v1 cpu, cpuacct, memory,
//! pids, blkio hierarchies and `unified` (no processes), made and removed by
//! [`libpod_stats_test_support::live::LiveHost`]; without root or writable cgroupfs that half is skipped with
//! a note. Run: `cargo bench --bench cycle` (as root). The `RATIO` lines are printed last.

use libpod_stats_test_support::bench;

use std::collections::HashMap;
use std::fs::File;
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bench::{timed, RatioTable};
use criterion::Criterion;
use libpod_stats::internals::cgroup::files::CgroupFile;
use libpod_stats::internals::stats::{SLOW_FILES, SLOW_FILES_EVERY};
use libpod_stats::{
    CgroupReader, Collector, CollectorOptions, DiscoveryOptions, HostRoot, MetricGroups, Timestamp,
};
use libpod_stats_test_support::live::{shm_or_tmp, LiveHost};
use libpod_stats_testing::{Built, ContainerSpec, HostBuilder, Layout};

const SIZES: [usize; 3] = [1, 100, 1000];

/// The groups measured: the plugin's default ones without `net`. With every group a
/// container holds 17 files and the floor 13 beside them: at N = 1000 that is past this
/// machine's hard RLIMIT_NOFILE (20000, not raised even for root).
const GROUPS: MetricGroups = MetricGroups {
    net: false,
    ..MetricGroups::BASIC
};

/// A host to read: a tmpfs snapshot, or real cgroups behind one.
enum Env {
    Tmpfs(tempfile::TempDir, Built, HostRoot),
    Live(LiveHost),
}

impl Env {
    fn tmpfs(n: usize) -> Env {
        let mut b = HostBuilder::new().layout(Layout::Hybrid);
        for i in 0..n {
            b = b.container(ContainerSpec::new(&format!("bench-{i:05}")));
        }
        let dir = tempfile::Builder::new()
            .prefix("lpstest-bench-")
            .tempdir_in(shm_or_tmp())
            .expect("tempdir");
        let built = b.build(dir.path()).expect("snapshot");
        let root = HostRoot::new(dir.path()).expect("root");
        Env::Tmpfs(dir, built, root)
    }

    fn root(&self) -> &HostRoot {
        match self {
            Env::Tmpfs(_, _, root) => root,
            Env::Live(live) => live.root(),
        }
    }

    fn built(&self) -> &Built {
        match self {
            Env::Tmpfs(_, built, _) => built,
            Env::Live(live) => live.built(),
        }
    }

    /// Where the naive reader finds `sys/fs/cgroup`: the real one for live cgroups.
    fn cgroup_base(&self) -> PathBuf {
        match self {
            Env::Tmpfs(dir, _, _) => dir.path().to_path_buf(),
            Env::Live(_) => PathBuf::from("/"),
        }
    }
}

/// The descriptors the bench would like: room for every group's files at N = 1000 (ours
/// ~17000 and the floor ~13000 at the same time).
const WANTED_NOFILE: u64 = 65_536;

/// Raises RLIMIT_NOFILE: both limits to [`WANTED_NOFILE`] where allowed (root), else the soft
/// limit to the hard one.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid rlimit storage; raising the hard limit needs CAP_SYS_RESOURCE and fails
    // harmlessly without it, raising soft to hard needs no privilege.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            let wanted = libc::rlimit {
                rlim_cur: WANTED_NOFILE.max(lim.rlim_max),
                rlim_max: WANTED_NOFILE.max(lim.rlim_max),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                return wanted.rlim_cur;
            }
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    lim.rlim_cur
}

fn collector(root: &HostRoot, max_open_files: usize) -> Collector {
    Collector::new(
        root.clone(),
        CollectorOptions {
            discovery: DiscoveryOptions {
                rootless_stores: false,
                ..DiscoveryOptions::default()
            },
            metrics: GROUPS,
            max_open_files: Some(max_open_files),
            ..CollectorOptions::default()
        },
    )
    .expect("collector")
}

/// The files a steady cycle of ours reads, held open: the floor's set.
fn floor_files(env: &Env) -> Vec<File> {
    let reader = CgroupReader::new(env.root().clone()).expect("layout");
    let layout = reader.layout();
    let wanted = GROUPS.cgroup_files().minus(SLOW_FILES);
    let mut files = Vec::new();
    for c in &env.built().containers {
        let Some(cg) = c.cgroup.as_deref() else {
            continue;
        };
        let rel = cg.trim_start_matches('/');
        let path = |f: CgroupFile| {
            layout
                .mount(f.hierarchy())
                .map(|m| m.join(rel).join(f.name()))
        };
        for f in CgroupFile::for_layout(layout.kind()).filter(|f| wanted.contains(*f)) {
            let primary_there = f
                .fallback_for()
                .and_then(path)
                .is_some_and(|p| env.root().exists(p));
            if primary_there {
                continue;
            }
            if let Some(Ok(file)) = path(f).map(|p| env.root().open(p)) {
                files.push(file);
            }
        }
    }
    files
}

/// The Go plugin's way, written here as the baseline.
struct Naive {
    containers_json: PathBuf,
    cgroup_base: PathBuf,
    parent: String,
}

fn read_u64(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn read_map(path: &Path) -> HashMap<String, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut map = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if let (Some(k), Some(v)) = (parts.next(), parts.next()) {
            if let Ok(v) = v.parse() {
                map.insert(k.to_string(), v);
            }
        }
    }
    map
}

fn read_blkio(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (mut r, mut w) = (0u64, 0u64);
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() == 3 {
            let v: u64 = parts[2].parse().unwrap_or(0);
            match parts[1] {
                "Read" => r += v,
                "Write" => w += v,
                _ => {}
            }
        }
    }
    (r, w)
}

impl Naive {
    fn new(env: &Env) -> Naive {
        let first = env
            .built()
            .containers
            .first()
            .and_then(|c| c.cgroup.clone())
            .expect("a container");
        let parent = first
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let graph_root = &env.built().containers[0].graph_root;
        let containers_json = env
            .root()
            .resolve(graph_root.join("overlay-containers/containers.json"))
            .expect("containers.json");
        Naive {
            containers_json,
            cgroup_base: env.cgroup_base(),
            parent,
        }
    }

    fn cycle(&self) -> u64 {
        let text = std::fs::read_to_string(&self.containers_json).unwrap_or_default();
        let list: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut total = 0u64;
        for c in list.as_array().into_iter().flatten() {
            let Some(id) = c["id"].as_str() else {
                continue;
            };
            let dir = |ctrl: &str| {
                self.cgroup_base
                    .join(format!("sys/fs/cgroup/{ctrl}{}/libpod-{id}", self.parent))
            };
            let cpuacct = dir("cpuacct");
            let memory = dir("memory");
            let cpu = read_u64(&cpuacct.join("cpuacct.usage"));
            let user = read_u64(&cpuacct.join("cpuacct.usage_user"));
            let sys = read_u64(&cpuacct.join("cpuacct.usage_sys"));
            let usage = read_u64(&memory.join("memory.usage_in_bytes"));
            let limit = read_u64(&memory.join("memory.limit_in_bytes"));
            let stat = read_map(&memory.join("memory.stat"));
            let inactive = stat.get("total_inactive_file").copied().unwrap_or(0);
            let oom = read_map(&memory.join("memory.oom_control"))
                .get("oom_kill")
                .copied()
                .unwrap_or(0);
            let pids = read_u64(&dir("pids").join("pids.current"));
            let (r, w) =
                read_blkio(&dir("blkio").join("blkio.throttle.io_service_bytes_recursive"));
            total = total
                .wrapping_add(cpu ^ user ^ sys)
                .wrapping_add(usage.saturating_sub(inactive) ^ limit)
                .wrapping_add(oom + pids + r + w);
        }
        total
    }
}

/// Rounds of the paired measurement: floor, ours and naive timed back to back in each
/// round, so a load change on a shared machine hits all three alike.
const ROUNDS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn bench_env(c: &mut Criterion, table: &mut RatioTable, name: &str, n: usize, env: &Env) {
    let group_name = format!("cycle {name} N={n}");
    let mut group = c.benchmark_group(&group_name);
    bench::configure(&mut group, Duration::from_secs(2));
    let mut buf = vec![0u8; 16 * 1024];

    let files = floor_files(env);
    let mut floor = || {
        for f in &files {
            black_box(f.read_at(&mut buf, 0).ok());
        }
    };
    let mut collector = collector(env.root(), 16_000);
    let mut out = Vec::new();
    for _ in 0..SLOW_FILES_EVERY + 2 {
        let report = collector
            .collect(Timestamp::now(), &mut out)
            .expect("cycle");
        assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    }
    assert_eq!(out.len(), n, "every container sampled");
    assert_eq!(collector.held_containers(), n, "every container held");
    let mut ours = || {
        black_box(collector.collect(Timestamp::now(), &mut out).ok());
    };
    let naive = Naive::new(env);
    assert_ne!(naive.cycle(), 0, "the naive reader reads something");
    let naive = || {
        black_box(naive.cycle());
    };
    println!("{group_name}: floor preads {} files per cycle", files.len());

    let id = format!("{group_name}/floor");
    group.bench_function("floor", |b| {
        b.iter_custom(|iters| timed(&id, iters, &mut floor))
    });
    let id = format!("{group_name}/ours");
    group.bench_function("ours", |b| {
        b.iter_custom(|iters| timed(&id, iters, &mut ours))
    });
    let id = format!("{group_name}/naive");
    group.bench_function("naive", |b| b.iter_custom(|iters| timed(&id, iters, naive)));
    group.finish();

    // Paired rounds: the ratio of each round, then the median of those.
    let (mut over_floor, mut naive_over) = (Vec::new(), Vec::new());
    let (mut t_floor, mut t_ours) = (Vec::new(), Vec::new());
    let reps = (1000 / n).clamp(1, 100) as u64;
    for _ in 0..ROUNDS {
        let f = timed(&format!("{group_name}/floor-paired"), reps, &mut floor);
        let o = timed(&format!("{group_name}/ours-paired"), reps, &mut ours);
        let v = timed(&format!("{group_name}/naive-paired"), reps, naive);
        over_floor.push(o.as_secs_f64() / f.as_secs_f64());
        naive_over.push(v.as_secs_f64() / o.as_secs_f64());
        t_floor.push(f.as_secs_f64() / reps as f64);
        t_ours.push(o.as_secs_f64() / reps as f64);
    }
    let live1000 = name == "live" && n == 1000;
    table.note(&format!(
        "RATIO {name} N={n} paired ours / floor = {:.3}  (median of {ROUNDS} rounds: ours {}, floor {}; target {})",
        median(over_floor),
        bench::human(median(t_ours.clone()) * 1e9),
        bench::human(median(t_floor) * 1e9),
        if live1000 { "<= 1.20" } else { "report" }
    ));
    table.note(&format!(
        "RATIO {name} N={n} paired naive / ours = {:.3}  (target {})",
        median(naive_over),
        if live1000 { ">= 3" } else { "report" }
    ));
    table.note(&format!(
        "TIME {name} N={n} paired ours per container = {}",
        bench::human(median(t_ours) * 1e9 / n as f64)
    ));
}

fn main() {
    let nofile = raise_nofile();
    let mut c = bench::criterion();
    let mut table = RatioTable::new("read cycle (per-cycle medians of this run)");
    table.note(&format!("RLIMIT_NOFILE raised to {nofile}"));
    let mut envs = vec!["tmpfs"];
    envs.push("live");
    for name in envs {
        for n in SIZES {
            let env = if name == "tmpfs" {
                Env::tmpfs(n)
            } else {
                match LiveHost::create("bench", n) {
                    Ok(live) => Env::Live(live),
                    Err(note) => {
                        table.note(&format!("live cgroups skipped: {note}"));
                        break;
                    }
                }
            };
            bench_env(&mut c, &mut table, name, n, &env);
        }
    }
    c.final_summary();

    for name in ["tmpfs", "live"] {
        for n in SIZES {
            let g = format!("cycle {name} N={n}");
            let target = if name == "live" && n == 1000 {
                "<= 1.20"
            } else {
                "report"
            };
            table.ratio(
                &format!("{name} N={n} ours / floor"),
                &format!("{g}/ours"),
                &format!("{g}/floor"),
                target,
            );
            let target = if name == "live" && n == 1000 {
                ">= 3"
            } else {
                "report"
            };
            table.ratio(
                &format!("{name} N={n} naive / ours"),
                &format!("{g}/naive"),
                &format!("{g}/ours"),
                target,
            );
            table.time(
                &format!("{name} N={n} ours per container"),
                &format!("{g}/ours"),
                n as f64,
                "report",
            );
        }
        // The floor's own growth says how much of ours is the kernel's.
        for (who, target) in [("ours", "target 0.80..1.20"), ("floor", "the kernel's own")] {
            let per = |n: usize| {
                bench::median_ns(&format!("cycle {name} N={n}/{who}-paired")).map(|t| t / n as f64)
            };
            if let (Some(a), Some(b)) = (per(1000), per(100)) {
                table.note(&format!(
                    "RATIO {name} {who} per-container cost N=1000 / N=100 = {:.3}  ({target})",
                    a / b
                ));
            }
        }
    }
    table.print();
}
