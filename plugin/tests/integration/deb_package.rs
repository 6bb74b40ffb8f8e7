//! The Debian package: `plugin/packaging/build-deb.sh` builds it, `dpkg -i` installs it,
//! Debian's collectd loads the plugin from its own plugin directory (through the installed
//! conf.d snippet, and with a config of ours replaying the bundled series), and
//! `dpkg --purge` removes every file again.
//!
//! Changes the system (installs a package), so it runs only as root with dpkg; it leaves
//! alone a host where libpod-stats is already installed for real.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{collectd_available, skip_or_fail, Daemon, STOCK_TYPES_DB};

const PACKAGE: &str = "libpod-stats";
const INSTALLED: [&str; 7] = [
    "/usr/bin/libpod-stats",
    "/usr/share/lintian/overrides/libpod-stats",
    "/usr/lib/collectd/libpodstats.so",
    "/usr/share/collectd/types.db.libpodstats",
    "/etc/collectd/collectd.conf.d/libpodstats.conf",
    "/usr/share/doc/libpod-stats/examples/collectd.conf",
    "/usr/share/man/man1/libpod-stats.1.gz",
];

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", PACKAGE])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Runs a dpkg command, waiting out another package manager's lock (up to 2 minutes).
fn dpkg(args: &[&str]) -> Output {
    let mut last = None;
    for _ in 0..60 {
        let out = Command::new("dpkg")
            .args(args)
            .output()
            .expect("running dpkg");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !stderr.contains("lock") {
            return out;
        }
        last = Some(out);
        std::thread::sleep(Duration::from_secs(2));
    }
    last.expect("dpkg ran")
}

/// Purges the package on drop, so a failing test leaves nothing installed.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        if installed() || Path::new(INSTALLED[3]).exists() {
            let _ = dpkg(&["--purge", PACKAGE]);
        }
    }
}

fn can_install() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let tools = Command::new("dpkg-deb").arg("--version").output().is_ok();
    if !(root && tools) {
        skip_or_fail("the package test needs root and dpkg-deb");
        return false;
    }
    if installed() {
        eprintln!("note: {PACKAGE} is installed on this host; leaving it alone");
        return false;
    }
    true
}

/// Debian's own checker finds no error in the package (its report, warnings included, is
/// printed; there were none when this was written).
/// True when `elf` is a static-pie executable: an ELF64 of type `ET_DYN` (position
/// independent) without a `PT_INTERP` program header (no dynamic loader, no libraries).
fn is_static_pie(elf: &[u8]) -> bool {
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    const ET_DYN: u16 = 3;
    const PT_INTERP: u32 = 3;
    if !elf.starts_with(b"\x7fELF\x02\x01") || u16_at(16) != Some(ET_DYN) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return false;
    };
    (0..usize::from(phnum)).all(|i| {
        let at = phoff as usize + i * usize::from(phentsize);
        u32_at(at).is_some_and(|t| t != PT_INTERP)
    })
}

fn assert_lintian_clean(deb: &Path) {
    let Ok(out) = Command::new("lintian")
        .args(["--tag-display-limit", "0"])
        .arg(deb)
        .output()
    else {
        skip_or_fail("lintian is not installed (scripts/install-deps.sh)");
        return;
    };
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("lintian:\n{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{}", errors.join("\n"));
}

#[test]
fn the_package_installs_loads_in_collectd_and_purges() {
    if !collectd_available() || !can_install() {
        return;
    }
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::Builder::new()
        .prefix("lpstest-deb-")
        .tempdir()
        .unwrap();
    let built = Command::new(top.join("plugin/packaging/build-deb.sh"))
        .arg("--debug")
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("running build-deb.sh");
    assert!(built.status.success(), "build-deb.sh: {built:?}");
    let deb = PathBuf::from(String::from_utf8_lossy(&built.stdout).trim());
    assert!(deb.is_file(), "{}", deb.display());
    assert_lintian_clean(&deb);

    let purge = Purge;
    let inst = dpkg(&["-i", &deb.to_string_lossy()]);
    assert!(inst.status.success(), "dpkg -i: {inst:?}");
    for f in INSTALLED {
        assert!(Path::new(f).exists(), "{f} not installed");
    }
    let version = Command::new("/usr/bin/libpod-stats")
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success(), "{version:?}");
    // build-deb.sh links the command static-pie (BENCHMARKS.md, CLI: its start-up)
    let elf = std::fs::read("/usr/bin/libpod-stats").unwrap();
    assert!(
        is_static_pie(&elf),
        "/usr/bin/libpod-stats is not static-pie"
    );
    // and the check tells a dynamically linked executable apart
    let dynamic = std::fs::read("/bin/true").unwrap();
    assert!(!is_static_pie(&dynamic), "/bin/true taken for static-pie");

    // 1. The installed conf.d snippet, included the way Debian's collectd.conf does.
    let d = Daemon::from_conf("lpstest-deb", |dir| {
        format!(
            "Hostname \"lpstest-deb\"\nFQDNLookup false\nBaseDir \"{d}\"\nLoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File \"{d}/collectd.log\"\n</Plugin>\n<Include \"/etc/collectd/collectd.conf.d\">\n  Filter \"*.conf\"\n</Include>\n",
            d = dir.display()
        )
    });
    let once = Command::new("collectd")
        .arg("-T")
        .arg("-C")
        .arg(d.conf())
        .output()
        .unwrap();
    let log = d.log();
    assert!(once.status.success(), "collectd -T: {once:?}\n{log}");
    assert!(
        log.contains("plugin \"libpodstats\" successfully loaded"),
        "{log}"
    );

    // 2. The installed plugin and types from collectd's own directories, replaying the series.
    let series = top.join("fixtures/cgroupv1/series-podman");
    let mut d = Daemon::from_conf("lpstest-deb", |dir| {
        format!(
            "Hostname \"lpstest-deb\"\nFQDNLookup false\nBaseDir \"{d}\"\nTypesDB \"{STOCK_TYPES_DB}\" \"/usr/share/collectd/types.db.libpodstats\"\nInterval 1\nLoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File \"{d}/collectd.log\"\n</Plugin>\nLoadPlugin csv\n<Plugin csv>\n  DataDir \"{d}/csv\"\n  StoreRates false\n</Plugin>\nLoadPlugin libpodstats\n<Plugin libpodstats>\n  Replay \"{s}\"\n</Plugin>\n",
            d = dir.display(),
            s = series.display()
        )
    });
    d.start();
    let ended = d.wait_for(Duration::from_secs(30), |d| {
        d.log().contains("last snapshot of the series was served")
    });
    d.stop();
    assert!(ended, "{}", d.log());
    let rows = d.csv("libpodstats-lpstest-burner", "pod_cpu");
    assert_eq!(rows.len(), 3, "{rows:?}\n{}", d.log());
    assert_eq!(rows[2].1[1], "2350559100");

    // 3. Purge removes every file, the conffile included.
    let gone = dpkg(&["--purge", PACKAGE]);
    assert!(gone.status.success(), "dpkg --purge: {gone:?}");
    drop(purge);
    for f in INSTALLED {
        assert!(!Path::new(f).exists(), "{f} left after purge");
    }
}
