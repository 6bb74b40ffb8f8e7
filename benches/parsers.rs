//! Parser throughput on real-size inputs, each against a plain split-and-`str::parse`
//! baseline doing the same job on the same bytes.
//!
//! Inputs: v1 and v2 `memory.stat` and a v2 `cpu.stat` from the captured fixtures, an
//! `io.stat` with 16 devices and a `mountinfo` of 200 lines (the fixture's lines plus
//! container overlay and shm mounts). Each job reads every value the library reads from
//! that file, so both sides do the same work; the baseline skips validation that ours does
//! (malformed lines are errors with a line number in ours, silently skipped in the baseline).
//!
//! Run: `cargo bench --bench parsers`. The `RATIO` lines at the end are ours / baseline.

use libpod_stats_test_support::bench;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use bench::{timed, RatioTable};
use criterion::{Criterion, Throughput};
use libpod_stats::internals::parse::{flat_keyed, mountinfo, nested_keyed};

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first file named `name` under `dir` whose path contains `libpod`: a container's.
fn container_file(dir: &str, name: &str) -> Vec<u8> {
    fn walk(dir: &Path, name: &str) -> Option<std::path::PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                if let Some(found) = walk(&p, name) {
                    return Some(found);
                }
            } else if e.file_name() == name && p.to_string_lossy().contains("libpod-") {
                return Some(p);
            }
        }
        None
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let path = walk(&root, name).unwrap_or_else(|| panic!("no {name} under {}", root.display()));
    std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An `io.stat` of 16 block devices, each line with the six counters a 6.1 kernel writes.
fn io_stat_16() -> Vec<u8> {
    let mut s = String::new();
    for dev in 0..16u64 {
        let _ = writeln!(
            s,
            "{}:{} rbytes={} wbytes={} rios={} wios={} dbytes=0 dios=0",
            if dev < 8 { 8 } else { 254 },
            (dev % 8) * 16,
            1_234_567_890 + dev * 4096,
            987_654_321 + dev * 8192,
            12_345 + dev,
            6_789 + dev
        );
    }
    s.into_bytes()
}

/// A mountinfo of 200 lines: the captured host's lines, then overlay and shm mounts of
/// containers as podman makes them.
fn mountinfo_200() -> Vec<u8> {
    let base = fixture("cgroupv1/podman-idle/proc/self/mountinfo");
    let mut s = String::from_utf8_lossy(&base).into_owned();
    let mut n = s.lines().count();
    let mut id = 200;
    while n < 200 {
        let hex = format!("{:064x}", 0x5eed_0000_u64 + id);
        let _ = if n.is_multiple_of(2) {
            writeln!(
                s,
                "{id} 42 0:{id} / /var/lib/containers/storage/overlay/{hex}/merged rw,relatime - \
                 overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/\
                 U7UIBLR7XW6VOIGQA4EFMLNMWN,upperdir=/var/lib/containers/storage/overlay/{hex}/diff,\
                 workdir=/var/lib/containers/storage/overlay/{hex}/work,uuid=on"
            )
        } else {
            writeln!(
                s,
                "{id} 27 0:{id} / /var/lib/containers/storage/overlay-containers/{hex}/userdata/shm \
                 rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=64000k"
            )
        };
        n += 1;
        id += 1;
    }
    s.into_bytes()
}

// ---- ours: the library's parsers, as the cgroup readers call them ----

fn ours_flat(data: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut inactive = 0u64;
    flat_keyed::for_each(data, |k, v| {
        sum = sum.wrapping_add(v);
        if k == b"total_inactive_file" || k == b"inactive_file" {
            inactive = v;
        }
    })
    .expect("fixture parses");
    sum ^ inactive
}

fn ours_io(data: &[u8]) -> u64 {
    let sums = nested_keyed::sum_keys(data, [b"rbytes", b"wbytes", b"rios", b"wios"])
        .expect("io.stat parses");
    sums.iter()
        .map(|s| s.unwrap_or(0))
        .fold(0, u64::wrapping_add)
}

fn ours_mountinfo(data: &[u8]) -> usize {
    let mut cgroup_mounts = 0;
    for m in mountinfo::iter(data) {
        let m = m.expect("mountinfo parses");
        if m.fs_type == b"cgroup" || m.fs_type == b"cgroup2" {
            cgroup_mounts += m.mount_point.raw().len();
        }
    }
    cgroup_mounts
}

// ---- baseline: what a hand-written reader does with split and str::parse ----

fn lines(data: &[u8]) -> impl Iterator<Item = &str> {
    std::str::from_utf8(data)
        .unwrap_or("")
        .split('\n')
        .filter(|l| !l.is_empty())
}

fn baseline_flat(data: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut inactive = 0u64;
    for line in lines(data) {
        let Some((k, v)) = line.split_once(' ') else {
            continue;
        };
        let Ok(v) = v.trim().parse::<u64>() else {
            continue;
        };
        sum = sum.wrapping_add(v);
        if k == "total_inactive_file" || k == "inactive_file" {
            inactive = v;
        }
    }
    sum ^ inactive
}

fn baseline_io(data: &[u8]) -> u64 {
    let mut sums = [0u64; 4];
    for line in lines(data) {
        for pair in line.split_ascii_whitespace().skip(1) {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            let i = match k {
                "rbytes" => 0,
                "wbytes" => 1,
                "rios" => 2,
                "wios" => 3,
                _ => continue,
            };
            if let Ok(v) = v.parse::<u64>() {
                sums[i] = sums[i].wrapping_add(v);
            }
        }
    }
    sums.iter().fold(0, |a, b| a.wrapping_add(*b))
}

fn baseline_mountinfo(data: &[u8]) -> usize {
    let mut cgroup_mounts = 0;
    for line in lines(data) {
        let Some((head, tail)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = head.split(' ').nth(4).unwrap_or("");
        let fs_type = tail.split(' ').next().unwrap_or("");
        if fs_type == "cgroup" || fs_type == "cgroup2" {
            cgroup_mounts += mount_point.len();
        }
    }
    cgroup_mounts
}

struct Input {
    name: &'static str,
    data: Vec<u8>,
    ours: fn(&[u8]) -> u64,
    baseline: fn(&[u8]) -> u64,
}

fn inputs() -> Vec<Input> {
    vec![
        Input {
            name: "v1 memory.stat",
            data: container_file("cgroupv1/podman-idle", "memory.stat"),
            ours: ours_flat,
            baseline: baseline_flat,
        },
        Input {
            name: "v2 memory.stat",
            data: container_file("cgroupv2/vm-oom", "memory.stat"),
            ours: ours_flat,
            baseline: baseline_flat,
        },
        Input {
            name: "v2 cpu.stat",
            data: container_file("cgroupv2/vm-oom", "cpu.stat"),
            ours: ours_flat,
            baseline: baseline_flat,
        },
        Input {
            name: "io.stat 16 devices",
            data: io_stat_16(),
            ours: ours_io,
            baseline: baseline_io,
        },
        Input {
            name: "mountinfo 200 lines",
            data: mountinfo_200(),
            ours: |d| ours_mountinfo(d) as u64,
            baseline: |d| baseline_mountinfo(d) as u64,
        },
    ]
}

fn main() {
    let mut c: Criterion = bench::criterion();
    let inputs = inputs();
    for input in &inputs {
        // Both sides must agree, or the comparison means nothing.
        assert_eq!(
            (input.ours)(&input.data),
            (input.baseline)(&input.data),
            "{}: ours and the baseline disagree",
            input.name
        );
        let mut group = c.benchmark_group(format!("parse {}", input.name));
        bench::configure(&mut group, Duration::from_millis(700));
        group.throughput(Throughput::Bytes(input.data.len() as u64));
        let ours_id = format!("parse {}/ours", input.name);
        group.bench_function("ours", |b| {
            b.iter_custom(|iters| {
                timed(&ours_id, iters, || {
                    black_box((input.ours)(black_box(&input.data)));
                })
            })
        });
        let base_id = format!("parse {}/baseline", input.name);
        group.bench_function("baseline", |b| {
            b.iter_custom(|iters| {
                timed(&base_id, iters, || {
                    black_box((input.baseline)(black_box(&input.data)));
                })
            })
        });
        group.finish();
    }
    c.final_summary();

    let mut table = RatioTable::new("parsers: ours / split baseline (lower is better)");
    for input in &inputs {
        let ours = format!("parse {}/ours", input.name);
        let base = format!("parse {}/baseline", input.name);
        table.ratio(
            &format!("{} ({} B)", input.name, input.data.len()),
            &ours,
            &base,
            "report",
        );
        if let Some(ns) = bench::median_ns(&ours) {
            table.note(&format!(
                "{}: ours {:.0} MB/s",
                input.name,
                input.data.len() as f64 / ns * 1e3
            ));
        }
    }
    table.print();
}
