//! cgroupfs as a snapshot holds it: mounts in `mountinfo`, hierarchy roots, and each
//! container's cgroup files in the kernel's formats for the chosen layout.

use std::fmt::Write as _;

use super::spec::{Counters, Layout};
use super::write::Out;

/// What v1's `memory.limit_in_bytes` shows for "unlimited" on 4 KiB-page hosts.
pub const V1_UNLIMITED: u64 = 9_223_372_036_854_771_712;

/// A v1 hierarchy: its directory under `/sys/fs/cgroup`, its `/proc/<pid>/cgroup` id and
/// controller list, and its super options in `mountinfo`.
struct V1Hierarchy {
    dir: &'static str,
    id: u32,
    controllers: &'static str,
    options: &'static str,
}

const fn h(
    dir: &'static str,
    id: u32,
    controllers: &'static str,
    options: &'static str,
) -> V1Hierarchy {
    V1Hierarchy {
        dir,
        id,
        controllers,
        options,
    }
}

/// The v1 hierarchies of this project's machines (cpu and cpuacct apart).
const V1_SEPARATE: &[V1Hierarchy] = &[
    h("systemd", 1, "name=systemd", "xattr,name=systemd"),
    h("cpuset", 2, "cpuset", "cpuset"),
    h("cpu", 3, "cpu", "cpu"),
    h("cpuacct", 4, "cpuacct", "cpuacct"),
    h("blkio", 5, "blkio", "blkio"),
    h("memory", 6, "memory", "memory"),
    h("devices", 7, "devices", "devices"),
    h("freezer", 8, "freezer", "freezer"),
    h("pids", 9, "pids", "pids"),
];

/// The v1 hierarchies of a host that co-mounts `cpu,cpuacct`.
const V1_COMOUNTED: &[V1Hierarchy] = &[
    h("systemd", 1, "name=systemd", "xattr,name=systemd"),
    h("cpuset", 2, "cpuset", "cpuset"),
    h("cpu,cpuacct", 3, "cpu,cpuacct", "cpu,cpuacct"),
    h("blkio", 5, "blkio", "blkio"),
    h("memory", 6, "memory", "memory"),
    h("devices", 7, "devices", "devices"),
    h("freezer", 8, "freezer", "freezer"),
    h("pids", 9, "pids", "pids"),
];

fn v1_hierarchies(layout: Layout) -> &'static [V1Hierarchy] {
    match layout {
        Layout::V1 | Layout::Hybrid => V1_SEPARATE,
        Layout::V1CoMounted => V1_COMOUNTED,
        Layout::V2 => &[],
    }
}

/// `/proc/self/mountinfo` for the layout (plus the usual non-cgroup mounts).
pub fn mountinfo(layout: Layout) -> String {
    let mut s = String::from(
        "21 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n\
         22 21 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n\
         23 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:3 - proc proc rw\n",
    );
    if layout == Layout::V2 {
        s.push_str(
            "24 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - \
             cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
        );
        return s;
    }
    s.push_str(
        "24 22 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755\n",
    );
    let mut next = 25;
    if layout == Layout::Hybrid {
        let _ = writeln!(
            s,
            "{next} 24 0:{next} / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime \
             shared:{next} - cgroup2 cgroup2 rw,nsdelegate"
        );
        next += 1;
    }
    for hier in v1_hierarchies(layout) {
        let _ = writeln!(
            s,
            "{next} 24 0:{next} / /sys/fs/cgroup/{} rw,nosuid,nodev,noexec,relatime \
             shared:{next} - cgroup cgroup rw,{}",
            hier.dir, hier.options
        );
        next += 1;
    }
    s
}

/// The hierarchy roots: mount directories, co-mount symlinks, v2's `cgroup.controllers`.
pub fn write_roots(out: &Out, layout: Layout) -> Result<(), super::BuildError> {
    match layout {
        Layout::V2 => out.write(
            "/sys/fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory hugetlb pids rdma misc\n",
        )?,
        _ => {
            for hier in v1_hierarchies(layout) {
                out.write(format!("/sys/fs/cgroup/{}/cgroup.procs", hier.dir), "1\n")?;
            }
            if layout == Layout::V1CoMounted {
                out.symlink("cpu,cpuacct", "/sys/fs/cgroup/cpu")?;
                out.symlink("cpu,cpuacct", "/sys/fs/cgroup/cpuacct")?;
            }
            if layout == Layout::Hybrid {
                out.write("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")?;
            }
        }
    }
    Ok(())
}

/// `/proc/<pid>/cgroup` of a process in `cgroup` (a path like `/libpod_parent/libpod-<id>`).
pub fn proc_cgroup(layout: Layout, cgroup: &str) -> String {
    let mut s = String::new();
    for hier in v1_hierarchies(layout).iter().rev() {
        let _ = writeln!(s, "{}:{}:{cgroup}", hier.id, hier.controllers);
    }
    if matches!(layout, Layout::V2 | Layout::Hybrid) {
        let _ = writeln!(s, "0::{cgroup}");
    }
    s
}

/// Writes a container's cgroup (every hierarchy) with `counters`; `procs` go in
/// `cgroup.procs` of `proc_cgroup` (the container's cgroup or its sub-cgroup).
pub fn write_cgroup(
    out: &Out,
    layout: Layout,
    cgroup: &str,
    proc_cgroup: &str,
    procs: &[u32],
    counters: &Counters,
    online_cpus: u32,
) -> Result<(), super::BuildError> {
    let procs_text: String = procs.iter().map(|p| format!("{p}\n")).collect();
    let rel = cgroup.trim_start_matches('/');
    let proc_rel = proc_cgroup.trim_start_matches('/');
    match layout {
        Layout::V2 => {
            let dir = format!("/sys/fs/cgroup/{rel}");
            write_v2_files(out, &dir, counters, true)?;
            out.write(
                format!("/sys/fs/cgroup/{proc_rel}/cgroup.procs"),
                &procs_text,
            )?;
        }
        _ => {
            for hier in v1_hierarchies(layout) {
                let dir = format!("/sys/fs/cgroup/{}/{rel}", hier.dir);
                let names: Vec<&str> = hier.controllers.split(',').collect();
                if names.contains(&"cpuacct") {
                    write_cpuacct(out, &dir, counters, online_cpus)?;
                }
                if names.contains(&"cpu") {
                    let (periods, throttled, ns) = counters.throttling;
                    out.write(
                        format!("{dir}/cpu.stat"),
                        format!(
                            "nr_periods {periods}\nnr_throttled {throttled}\nthrottled_time {ns}\n"
                        ),
                    )?;
                    out.write(format!("{dir}/cpu.shares"), "1024\n")?;
                }
                if names.contains(&"memory") {
                    write_v1_memory(out, &dir, counters)?;
                }
                if names.contains(&"pids") {
                    out.write(
                        format!("{dir}/pids.current"),
                        format!("{}\n", counters.pids),
                    )?;
                    out.write(format!("{dir}/pids.max"), limit_text(counters.pids_limit))?;
                }
                if names.contains(&"blkio") {
                    write_blkio(out, &dir, counters)?;
                }
                out.write(
                    format!("/sys/fs/cgroup/{}/{proc_rel}/cgroup.procs", hier.dir),
                    &procs_text,
                )?;
                if proc_rel != rel {
                    out.write(format!("{dir}/cgroup.procs"), "")?;
                }
            }
            if layout == Layout::Hybrid {
                // The unified hierarchy of a hybrid host has no controllers, but the kernel
                // still keeps `cpu.stat` and (with PSI on) the pressure files in every cgroup.
                let dir = format!("/sys/fs/cgroup/unified/{rel}");
                out.write(format!("{dir}/cpu.stat"), v2_cpu_stat(counters))?;
                write_pressure(out, &dir, counters)?;
                out.write(
                    format!("/sys/fs/cgroup/unified/{proc_rel}/cgroup.procs"),
                    &procs_text,
                )?;
            }
        }
    }
    Ok(())
}

fn limit_text(limit: Option<u64>) -> String {
    match limit {
        Some(n) => format!("{n}\n"),
        None => "max\n".to_string(),
    }
}

fn v2_cpu_stat(c: &Counters) -> String {
    let (periods, throttled, ns) = c.throttling;
    format!(
        "usage_usec {}\nuser_usec {}\nsystem_usec {}\nnr_periods {periods}\n\
         nr_throttled {throttled}\nthrottled_usec {}\nnr_bursts 0\nburst_usec 0\n",
        c.cpu_ns / 1000,
        c.user_ns / 1000,
        c.system_ns / 1000,
        ns / 1000
    )
}

fn write_v2_files(
    out: &Out,
    dir: &str,
    c: &Counters,
    pressure: bool,
) -> Result<(), super::BuildError> {
    out.write(format!("{dir}/cgroup.controllers"), "cpu io memory pids\n")?;
    out.write(format!("{dir}/cpu.stat"), v2_cpu_stat(c))?;
    out.write(
        format!("{dir}/memory.current"),
        format!("{}\n", c.memory_usage),
    )?;
    out.write(format!("{dir}/memory.max"), limit_text(c.memory_limit))?;
    let stat: String = c
        .memory_stat_v2()
        .iter()
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect();
    out.write(format!("{dir}/memory.stat"), stat)?;
    out.write(
        format!("{dir}/memory.events"),
        format!(
            "low 0\nhigh 0\nmax {}\noom {}\noom_kill {}\noom_group_kill 0\n",
            c.oom_kills, c.oom_kills, c.oom_kills
        ),
    )?;
    out.write(format!("{dir}/pids.current"), format!("{}\n", c.pids))?;
    out.write(format!("{dir}/pids.max"), limit_text(c.pids_limit))?;
    let io = if c.io_read_bytes + c.io_write_bytes + c.io_read_ops + c.io_write_ops > 0 {
        format!(
            "8:0 rbytes={} wbytes={} rios={} wios={} dbytes=0 dios=0\n",
            c.io_read_bytes, c.io_write_bytes, c.io_read_ops, c.io_write_ops
        )
    } else {
        String::new()
    };
    out.write(format!("{dir}/io.stat"), io)?;
    if pressure {
        write_pressure(out, dir, c)?;
    }
    Ok(())
}

/// `cpu.pressure`, `memory.pressure`, `io.pressure` with the counters' totals.
fn write_pressure(out: &Out, dir: &str, c: &Counters) -> Result<(), super::BuildError> {
    for (name, total) in ["cpu", "memory", "io"].iter().zip(c.pressure_us) {
        out.write(
            format!("{dir}/{name}.pressure"),
            format!(
                "some avg10=0.00 avg60=0.00 avg300=0.00 total={total}\n\
                 full avg10=0.00 avg60=0.00 avg300=0.00 total={}\n",
                total / 2
            ),
        )?;
    }
    Ok(())
}

/// Nanoseconds per USER_HZ tick in `cpuacct.stat`.
const NS_PER_TICK: u64 = 10_000_000;

fn write_cpuacct(
    out: &Out,
    dir: &str,
    c: &Counters,
    online_cpus: u32,
) -> Result<(), super::BuildError> {
    out.write(format!("{dir}/cpuacct.usage"), format!("{}\n", c.cpu_ns))?;
    out.write(
        format!("{dir}/cpuacct.usage_user"),
        format!("{}\n", c.user_ns),
    )?;
    out.write(
        format!("{dir}/cpuacct.usage_sys"),
        format!("{}\n", c.system_ns),
    )?;
    out.write(
        format!("{dir}/cpuacct.stat"),
        format!(
            "user {}\nsystem {}\n",
            c.user_ns / NS_PER_TICK,
            c.system_ns / NS_PER_TICK
        ),
    )?;
    // Spread over the cpus, the remainder on cpu 0, so the columns sum to the totals.
    let cpus = u64::from(online_cpus.max(1));
    let share = |total: u64, cpu: u64| total / cpus + if cpu == 0 { total % cpus } else { 0 };
    let percpu: Vec<String> = (0..cpus).map(|i| share(c.cpu_ns, i).to_string()).collect();
    out.write(
        format!("{dir}/cpuacct.usage_percpu"),
        format!("{} \n", percpu.join(" ")),
    )?;
    let mut all = String::from("cpu user system\n");
    for i in 0..cpus {
        let _ = writeln!(all, "{i} {} {}", share(c.user_ns, i), share(c.system_ns, i));
    }
    out.write(format!("{dir}/cpuacct.usage_all"), all)?;
    Ok(())
}

fn write_v1_memory(out: &Out, dir: &str, c: &Counters) -> Result<(), super::BuildError> {
    out.write(
        format!("{dir}/memory.usage_in_bytes"),
        format!("{}\n", c.memory_usage),
    )?;
    out.write(
        format!("{dir}/memory.max_usage_in_bytes"),
        format!("{}\n", c.memory_usage),
    )?;
    out.write(
        format!("{dir}/memory.limit_in_bytes"),
        format!("{}\n", c.memory_limit.unwrap_or(V1_UNLIMITED)),
    )?;
    let stat: String = c
        .memory_stat_v1(V1_UNLIMITED)
        .iter()
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect();
    out.write(format!("{dir}/memory.stat"), stat)?;
    out.write(
        format!("{dir}/memory.oom_control"),
        format!(
            "oom_kill_disable 0\nunder_oom 0\noom_kill {}\n",
            c.oom_kills
        ),
    )?;
    out.write(format!("{dir}/memory.failcnt"), "0\n")?;
    Ok(())
}

fn write_blkio(out: &Out, dir: &str, c: &Counters) -> Result<(), super::BuildError> {
    let table = |read: u64, write: u64| {
        if read + write == 0 {
            return "Total 0\n".to_string();
        }
        format!(
            "8:0 Read {read}\n8:0 Write {write}\n8:0 Sync {write}\n8:0 Async {read}\n\
             8:0 Discard 0\n8:0 Total {}\nTotal {}\n",
            read + write,
            read + write
        )
    };
    let bytes = table(c.io_read_bytes, c.io_write_bytes);
    let ops = table(c.io_read_ops, c.io_write_ops);
    for (name, text) in [
        ("blkio.throttle.io_service_bytes_recursive", &bytes),
        ("blkio.throttle.io_service_bytes", &bytes),
        ("blkio.throttle.io_serviced_recursive", &ops),
        ("blkio.throttle.io_serviced", &ops),
    ] {
        out.write(format!("{dir}/{name}"), text)?;
    }
    Ok(())
}

/// `/proc/<pid>/net/dev` with loopback and one `eth0` carrying the counters.
pub fn net_dev(rx_bytes: u64, tx_bytes: u64) -> String {
    let packets = |b: u64| b.div_ceil(1000);
    format!(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
         lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  \
         eth0: {rx_bytes:>7} {:>7}    0    0    0     0          0         0 {tx_bytes:>8} {:>7}    0    0    0     0       0          0\n",
        packets(rx_bytes),
        packets(tx_bytes)
    )
}

/// `/proc/meminfo` with the given total (bytes, shown in kB as the kernel does).
pub fn meminfo(total_bytes: u64) -> String {
    let kb = total_bytes / 1024;
    format!(
        "MemTotal:       {kb:>8} kB\nMemFree:        {:>8} kB\nMemAvailable:   {:>8} kB\n\
         Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\n\
         SwapFree:              0 kB\n",
        kb / 2,
        kb / 2
    )
}
