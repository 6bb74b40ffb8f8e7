//! The hot path does not allocate: every parser over well-formed input, and a steady-state
//! read of a held cgroup, counted with a per-thread counting allocator.

use std::path::Path;

use libpod_stats::internals::parse::{
    blkio, flat_keyed, meminfo, mountinfo, nested_keyed, net_dev, percpu, proc_cgroup, psi, single,
    usage_all,
};
use libpod_stats::{CgroupReader, CgroupStats, HostRoot};

use libpod_stats_test_support::counting_alloc;

use counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn parsers_do_not_allocate() {
    let n = allocations(|| {
        assert_eq!(single::u64(b"42\n"), Ok(42));
        assert!(single::limit(b"max\n").is_ok());
        assert_eq!(
            flat_keyed::get(b"usage_usec 1\nuser_usec 2\n", b"user_usec"),
            Ok(Some(2))
        );
        assert!(nested_keyed::sum_keys(b"8:0 rbytes=1 wbytes=2\n", [b"rbytes"]).is_ok());
        assert!(blkio::sum_read_write(b"8:0 Read 1\n8:0 Write 2\nTotal 3\n").is_ok());
        assert_eq!(
            percpu::iter(b"1 2 3\n").filter_map(Result::ok).sum::<u64>(),
            6
        );
        assert!(usage_all::totals(b"cpu user system\n0 1 2\n").is_ok());
        assert!(psi::parse(b"some avg10=0.10 avg60=0.00 avg300=0.00 total=5\n").is_ok());
        assert_eq!(proc_cgroup::iter(b"0::/a\n1:name=systemd:/b\n").count(), 2);
        for m in mountinfo::iter(b"41 31 0:38 / /sys/fs/cgroup/a\\040b rw - cgroup2 cgroup2 rw\n") {
            assert!(m.unwrap().mount_point.eq_unescaped(b"/sys/fs/cgroup/a b"));
        }
        assert!(meminfo::mem_total_bytes(b"MemTotal: 1 kB\n").is_ok());
        assert_eq!(
            net_dev::iter(b"h|\nh|\nlo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n").count(),
            1
        );
    });
    assert_eq!(n, 0, "parsers allocated {n} times");
}

#[test]
fn steady_state_reads_of_a_held_cgroup_do_not_allocate() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (snapshot, cgroup) in [
        (
            "v1-hybrid",
            "/libpod_parent/libpod-c0ffee0000000000000000000000000000000000000000000000000000000001",
        ),
        (
            "v2-handwritten",
            "/machine.slice/libpod-c0ffee0000000000000000000000000000000000000000000000000000000002.scope",
        ),
    ] {
        let reader = CgroupReader::new(HostRoot::new(data.join(snapshot)).unwrap()).unwrap();
        let mut handle = reader.open(cgroup).unwrap();
        let mut out = CgroupStats::default();
        handle.read_into(&mut out).unwrap();
        let n = allocations(|| {
            for _ in 0..3 {
                handle.read_into(&mut out).unwrap();
            }
        });
        assert_eq!(n, 0, "{snapshot}: steady-state reads allocated {n} times");
        assert!(out.cpu.usage_ns.is_some());
    }
}
