//! What one cgroup read costs: parsing alone, a path-based read (resolve, open, read, close
//! per file) and a read of held files (pread only), on the snapshots in `tests/data/`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use libpod_stats::internals::parse::flat_keyed;
use libpod_stats::{CgroupReader, CgroupStats, HostRoot};

const V1: (&str, &str) = (
    "v1-hybrid",
    "/libpod_parent/libpod-c0ffee0000000000000000000000000000000000000000000000000000000001",
);
const V2: (&str, &str) = (
    "v2-handwritten",
    "/machine.slice/libpod-c0ffee0000000000000000000000000000000000000000000000000000000002.scope",
);

fn reader(snapshot: &str) -> CgroupReader {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(snapshot);
    CgroupReader::new(HostRoot::new(dir).expect("test data")).expect("layout")
}

fn parse(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/data/v1-hybrid/sys/fs/cgroup/memory/libpod_parent/\
         libpod-c0ffee0000000000000000000000000000000000000000000000000000000001/memory.stat",
    );
    let data = std::fs::read(path).expect("memory.stat");
    c.bench_function("parse v1 memory.stat", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            flat_keyed::for_each(black_box(&data), |_, v| sum = sum.wrapping_add(v)).unwrap();
            sum
        })
    });
}

fn reads(c: &mut Criterion) {
    for (snapshot, cgroup) in [V1, V2] {
        let r = reader(snapshot);
        let mut out = CgroupStats::default();
        c.bench_function(&format!("path read {snapshot}"), |b| {
            b.iter(|| r.read_into(black_box(cgroup), &mut out).unwrap())
        });
        let mut held = r.open(cgroup).unwrap();
        c.bench_function(&format!("held read {snapshot}"), |b| {
            b.iter(|| held.read_into(&mut out).unwrap())
        });
    }
}

criterion_group!(benches, parse, reads);
criterion_main!(benches);
