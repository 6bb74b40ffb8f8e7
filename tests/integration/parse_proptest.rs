//! Property tests for every parser in `libpod_stats::internals::parse`: files generated in the kernel's
//! format parse back to the values they were generated from, and arbitrary bytes never panic.

use libpod_stats::internals::cgroup::stats::Limit;
use libpod_stats::internals::parse::{
    blkio, flat_keyed, meminfo, mountinfo, nested_keyed, net_dev, passwd, percpu, proc_cgroup, psi,
    single, usage_all,
};
use proptest::prelude::*;

/// A key as the kernel writes them: lowercase words joined by `_` or `.`.
fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.]{0,24}"
}

/// Optional blank lines and a final newline or not, as kernels and snapshots differ.
fn ending() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just("\n"), Just("\n\n"), Just("\n  \n")]
}

/// A path component that needs mountinfo escaping now and then.
fn path_part() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \t\n\\\\_.,:=-]{1,12}"
}

fn escape_mountinfo(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

fn hundredths(v: u32) -> f64 {
    format!("{}.{:02}", v / 100, v % 100).parse().unwrap()
}

proptest! {
    #[test]
    fn single_round_trips(v: u64, end in ending()) {
        prop_assert_eq!(single::u64(format!("{v}{end}").as_bytes()), Ok(v));
        prop_assert_eq!(single::limit(format!("{v}{end}").as_bytes()), Ok(Limit::Value(v)));
        prop_assert_eq!(single::limit(format!("max{end}").as_bytes()), Ok(Limit::Max));
    }

    #[test]
    fn flat_keyed_round_trips(pairs in prop::collection::vec((key(), any::<u64>()), 0..40), end in ending()) {
        let text = pairs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join("\n") + end;
        let got: Vec<(Vec<u8>, u64)> = flat_keyed::iter(text.as_bytes())
            .map(|r| r.map(|(k, v)| (k.to_vec(), v)))
            .collect::<Result<_, _>>()
            .unwrap();
        let want: Vec<(Vec<u8>, u64)> = pairs.iter().map(|(k, v)| (k.as_bytes().to_vec(), *v)).collect();
        prop_assert_eq!(got, want);
        if let Some((k, v)) = pairs.iter().find(|(k, _)| pairs.iter().filter(|(k2, _)| k2 == k).count() == 1) {
            prop_assert_eq!(flat_keyed::get(text.as_bytes(), k.as_bytes()), Ok(Some(*v)));
        }
    }

    #[test]
    fn nested_keyed_round_trips(
        devs in prop::collection::vec((any::<u32>(), any::<u32>(), prop::collection::vec((key(), any::<u32>()), 0..8)), 0..8),
        end in ending(),
    ) {
        let text = devs
            .iter()
            .map(|(ma, mi, kv)| {
                let pairs: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{ma}:{mi} {}", pairs.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n")
            + end;
        let lines: Vec<_> = nested_keyed::iter(text.as_bytes()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(lines.len(), devs.len());
        for (line, (ma, mi, kv)) in lines.iter().zip(&devs) {
            prop_assert_eq!((line.major, line.minor), (*ma, *mi));
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = line.pairs().map(|p| p.map(|(k, v)| (k.to_vec(), v.to_vec()))).collect::<Result<_, _>>().unwrap();
            let want: Vec<(Vec<u8>, Vec<u8>)> = kv.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.to_string().into_bytes())).collect();
            prop_assert_eq!(pairs, want);
        }
        let want_sum = devs.iter().flat_map(|(_, _, kv)| kv.iter()).filter(|(k, _)| k == "rbytes").map(|(_, v)| u64::from(*v)).reduce(|a, b| a + b);
        prop_assert_eq!(nested_keyed::sum_keys(text.as_bytes(), [b"rbytes"]), Ok([want_sum]));
    }

    #[test]
    fn blkio_round_trips(
        rows in prop::collection::vec((0u32..300, 0u32..300, prop::sample::select(vec!["Read", "Write", "Sync", "Async", "Discard", "Total"]), any::<u32>()), 0..30),
        total: u64,
        end in ending(),
    ) {
        let mut text: String = rows.iter().map(|(ma, mi, op, v)| format!("{ma}:{mi} {op} {v}\n")).collect();
        text.push_str(&format!("Total {total}{end}"));
        let (mut r, mut w) = (0u64, 0u64);
        for (_, _, op, v) in &rows {
            match *op { "Read" => r += u64::from(*v), "Write" => w += u64::from(*v), _ => {} }
        }
        prop_assert_eq!(blkio::sum_read_write(text.as_bytes()), Ok((r, w)));
        let last = blkio::iter(text.as_bytes()).last().unwrap().unwrap();
        prop_assert_eq!(last, blkio::BlkioLine::Total(total));
    }

    #[test]
    fn percpu_round_trips(values in prop::collection::vec(any::<u64>(), 0..64), end in ending()) {
        let text: String = values.iter().map(|v| format!("{v} ")).collect::<String>() + end;
        let got: Vec<u64> = percpu::iter(text.as_bytes()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got, values);
    }

    #[test]
    fn usage_all_round_trips(rows in prop::collection::vec((any::<u32>(), any::<u32>()), 0..64), end in ending()) {
        let mut text = String::from("cpu user system\n");
        for (i, (u, s)) in rows.iter().enumerate() {
            text.push_str(&format!("{i} {u} {s}\n"));
        }
        text.push_str(end);
        let got: Vec<(u32, u64, u64)> = usage_all::iter(text.as_bytes()).map(|r| r.map(|r| (r.cpu, r.user_ns, r.system_ns))).collect::<Result<_, _>>().unwrap();
        let want: Vec<(u32, u64, u64)> = rows.iter().enumerate().map(|(i, (u, s))| (i as u32, u64::from(*u), u64::from(*s))).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn psi_round_trips(some in (0u32..10000, 0u32..10000, 0u32..10000, any::<u64>()), full in prop::option::of((0u32..10000, 0u32..10000, 0u32..10000, any::<u64>())), end in ending()) {
        let line = |kind: &str, (a, b, c, t): (u32, u32, u32, u64)| {
            format!("{kind} avg10={}.{:02} avg60={}.{:02} avg300={}.{:02} total={t}", a / 100, a % 100, b / 100, b % 100, c / 100, c % 100)
        };
        let mut text = line("some", some);
        if let Some(f) = full { text.push('\n'); text.push_str(&line("full", f)); }
        text.push_str(end);
        let got = psi::parse(text.as_bytes()).unwrap();
        prop_assert_eq!((got.some.avg10, got.some.avg60, got.some.avg300, got.some.total_us), (hundredths(some.0), hundredths(some.1), hundredths(some.2), some.3));
        prop_assert_eq!(got.full.map(|f| f.total_us), full.map(|f| f.3));
        prop_assert_eq!(got.full.map(|f| f.avg300), full.map(|f| hundredths(f.2)));
    }

    #[test]
    fn proc_cgroup_round_trips(
        lines in prop::collection::vec((any::<u32>(), prop::sample::select(vec!["", "cpu,cpuacct", "memory", "name=systemd", "pids"]), "(/[a-zA-Z0-9_.:@-]{1,20}){0,4}"), 0..12),
        end in ending(),
    ) {
        let text = lines.iter().map(|(id, c, p)| format!("{id}:{c}:/{}", p.trim_start_matches('/'))).collect::<Vec<_>>().join("\n") + end;
        let got: Vec<(u32, Vec<u8>, Vec<u8>)> = proc_cgroup::iter(text.as_bytes()).map(|r| r.map(|l| (l.hierarchy_id, l.controllers.to_vec(), l.path.to_vec()))).collect::<Result<_, _>>().unwrap();
        let want: Vec<(u32, Vec<u8>, Vec<u8>)> = lines.iter().map(|(id, c, p)| (*id, c.as_bytes().to_vec(), format!("/{}", p.trim_start_matches('/')).into_bytes())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn mountinfo_round_trips(
        mounts in prop::collection::vec((any::<u32>(), any::<u32>(), 0u32..4096, 0u32..1000, prop::collection::vec(path_part(), 0..4), prop::collection::vec(path_part(), 1..4), prop::collection::vec("(shared|master|propagate_from):[0-9]{1,3}", 0..3), prop::sample::select(vec!["cgroup", "cgroup2", "ext4", "fuse.sshfs"]), path_part(), "rw(,[a-z=_0-9]{1,10}){0,3}"), 0..10),
        end in ending(),
    ) {
        let mut text = String::new();
        for (id, parent, ma, mi, root, mp, opt, fs, src, sup) in &mounts {
            let root = format!("/{}", root.iter().map(|p| escape_mountinfo(p)).collect::<Vec<_>>().join("/"));
            let mp = format!("/{}", mp.iter().map(|p| escape_mountinfo(p)).collect::<Vec<_>>().join("/"));
            let opt = opt.iter().map(|o| format!("{o} ")).collect::<String>();
            text.push_str(&format!("{id} {parent} {ma}:{mi} {root} {mp} rw,relatime {opt}- {fs} {} {sup}\n", escape_mountinfo(src)));
        }
        text.push_str(end);
        let got: Vec<_> = mountinfo::iter(text.as_bytes()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), mounts.len());
        for (m, (id, parent, ma, mi, root, mp, opt, fs, src, sup)) in got.iter().zip(&mounts) {
            prop_assert_eq!((m.mount_id, m.parent_id, m.major, m.minor), (*id, *parent, *ma, *mi));
            let root_plain = format!("/{}", root.join("/"));
            let mp_plain = format!("/{}", mp.join("/"));
            prop_assert!(m.root.eq_unescaped(root_plain.as_bytes()));
            prop_assert!(m.mount_point.eq_unescaped(mp_plain.as_bytes()));
            prop_assert!(m.source.eq_unescaped(src.as_bytes()));
            let opt_joined = opt.join(" ");
            prop_assert_eq!(m.optional_fields, opt_joined.as_bytes());
            prop_assert_eq!(m.fs_type, fs.as_bytes());
            prop_assert_eq!(m.super_options, sup.as_bytes());
        }
    }

    #[test]
    fn meminfo_round_trips(entries in prop::collection::vec(("[A-Za-z_]{1,12}(\\([a-z]{1,6}\\))?", 0u64..(1 << 50), any::<bool>()), 0..30), end in ending()) {
        let text = entries.iter().map(|(k, v, kb)| if *kb { format!("{k}:{v:>16} kB") } else { format!("{k}:{v:>16}") }).collect::<Vec<_>>().join("\n") + end;
        let got: Vec<(Vec<u8>, u64, bool)> = meminfo::iter(text.as_bytes()).map(|r| r.map(|e| (e.key.to_vec(), e.value, e.in_bytes))).collect::<Result<_, _>>().unwrap();
        let want: Vec<(Vec<u8>, u64, bool)> = entries.iter().map(|(k, v, kb)| (k.as_bytes().to_vec(), if *kb { v * 1024 } else { *v }, *kb)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn net_dev_round_trips(ifaces in prop::collection::vec(("[a-z][a-z0-9._@-]{0,14}", prop::array::uniform16(any::<u64>()), any::<bool>()), 0..8), end in ending()) {
        let mut text = String::from("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n");
        for (name, c, glued) in &ifaces {
            let nums = c.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ");
            if *glued { text.push_str(&format!("{name}:{nums}\n")) } else { text.push_str(&format!("{name:>6}: {nums}\n")) }
        }
        text.push_str(end);
        let got: Vec<_> = net_dev::iter(text.as_bytes()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), ifaces.len());
        for (l, (name, c, _)) in got.iter().zip(&ifaces) {
            prop_assert_eq!(l.iface, name.as_bytes());
            let all = [l.rx_bytes, l.rx_packets, l.rx_errs, l.rx_drop, l.rx_fifo, l.rx_frame, l.rx_compressed, l.rx_multicast, l.tx_bytes, l.tx_packets, l.tx_errs, l.tx_drop, l.tx_fifo, l.tx_colls, l.tx_carrier, l.tx_compressed];
            prop_assert_eq!(&all, c);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let d = data.as_slice();
        let _ = single::u64(d);
        let _ = single::limit(d);
        let _ = single::limit_v1(d, 1 << 62);
        let _ = flat_keyed::iter(d).count();
        let _ = flat_keyed::get(d, b"x");
        for l in nested_keyed::iter(d).flatten() {
            let _ = l.pairs().count();
            let _ = l.get_u64(b"rbytes");
        }
        let _ = nested_keyed::sum_keys(d, [b"rbytes", b"wbytes"]);
        let _ = blkio::sum_read_write(d);
        let _ = percpu::iter(d).count();
        let _ = usage_all::totals(d);
        let _ = psi::parse(d);
        for l in proc_cgroup::iter(d).flatten() {
            let _ = (l.is_named(), l.is_unified(), l.controller_names().count());
        }
        for m in mountinfo::iter(d).flatten() {
            let _ = (m.mount_point.to_path_buf(), m.root.eq_unescaped(b"/"), m.super_option_names().count());
        }
        let _ = meminfo::mem_total_bytes(d);
        let _ = net_dev::iter(d).count();
        for e in passwd::iter(d) {
            prop_assert!(!e.name.is_empty() && e.home_path().is_absolute());
        }
    }

    #[test]
    fn line_like_garbage_never_panics(data in "[ -~\t\n]{0,300}") {
        let d = data.as_bytes();
        let _ = flat_keyed::iter(d).count();
        let _ = nested_keyed::sum_keys(d, [b"rbytes"]);
        let _ = blkio::sum_read_write(d);
        let _ = usage_all::totals(d);
        let _ = psi::parse(d);
        let _ = proc_cgroup::iter(d).count();
        let _ = mountinfo::iter(d).count();
        let _ = meminfo::mem_total_bytes(d);
        let _ = net_dev::iter(d).count();
        let _ = passwd::iter(d).count();
    }

    #[test]
    fn passwd_round_trips(
        users in prop::collection::vec(("[a-z_][a-z0-9_.-]{0,15}", any::<u32>(), "(/[a-z0-9._-]{1,8}){1,4}"), 0..20),
        end in ending(),
    ) {
        let mut text = String::from("# users\n");
        for (name, uid, home) in &users {
            text.push_str(&format!("{name}:x:{uid}:{uid}:A User,,,:{home}:/bin/sh\n"));
        }
        text.push_str(end);
        let got: Vec<_> = passwd::iter(text.as_bytes()).map(|e| (e.name.to_vec(), e.uid, e.home.to_vec())).collect();
        let want: Vec<_> = users.iter().map(|(n, u, h)| (n.as_bytes().to_vec(), *u, h.as_bytes().to_vec())).collect();
        prop_assert_eq!(got, want);
    }
}
