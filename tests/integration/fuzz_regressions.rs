//! Every input the fuzzers ever crashed on, and every committed seed, replayed through the
//! same entry points the fuzz targets call (`libpod_stats_test_support::fuzz_entries`), as an
//! ordinary test: a fixed bug stays fixed without cargo-fuzz or a nightly toolchain.
//!
//! `fuzz/regressions/<target>/` holds the crash inputs (named after the defect), and
//! `fuzz/seeds/<target>/` the hand-written seeds. The plugin's configuration target is
//! replayed by `scripts/fuzz-smoke.sh` instead (its crate depends on this one).

use libpod_stats_test_support::fuzz_entries as entries;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Runs every input of `kind` through its target and lists the ones that panicked.
fn replay(kind: &str) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for (target, entry) in entries::TARGETS {
        for file in inputs(kind, target) {
            let data = std::fs::read(&file).expect("readable input");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
                failures.push(format!("{target}: {}", file.display()));
            }
        }
    }
    (count, failures)
}

#[test]
fn every_crash_input_runs_without_a_panic() {
    let (count, failures) = replay("regressions");
    assert!(
        failures.is_empty(),
        "inputs that still panic: {failures:#?}"
    );
    eprintln!("{count} regression inputs replayed");
}

#[test]
fn every_seed_runs_without_a_panic() {
    let (count, failures) = replay("seeds");
    assert!(failures.is_empty(), "seeds that panic: {failures:#?}");
    assert!(count > 0, "no seeds found under {}", fuzz_dir().display());
}

#[test]
fn every_regression_directory_names_a_target() {
    let Ok(rd) = std::fs::read_dir(fuzz_dir().join("regressions")) else {
        return;
    };
    for dir in rd.filter_map(Result::ok) {
        let name = dir.file_name().to_string_lossy().into_owned();
        assert!(
            name == "plugin_config" || entries::TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/regressions/{name} is not a fuzz target"
        );
    }
}

/// Small podman state files for the BoltDB targets' seeds (512-byte pages keep them a few
/// KiB, so libFuzzer's mutations land on structure rather than padding): the committed
/// seeds must be what our writer makes from the `state_json` seed today (it is
/// deterministic). `LPSTEST_REGENERATE=1 cargo test --test integration fuzz_regressions` rewrites them.
#[test]
fn the_bolt_seeds_are_what_the_writer_makes() {
    use libpod_stats::internals::libpod::bolt::writer::Writer;
    use libpod_stats::internals::libpod::bolt_state::write_bolt_state;
    use libpod_stats::{RawContainer, RawPod, RawState, RuntimeConfig};

    let json = std::fs::read(fuzz_dir().join("seeds/state_json/running-in-pod")).unwrap();
    let parts: Vec<&[u8]> = json.split(|&b| b == 0).collect();
    let ctr = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let pod = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    let state = RawState {
        containers: vec![RawContainer {
            id: ctr.into(),
            name: Some("web".into()),
            pod_id: Some(pod.into()),
            config_json: parts[0].to_vec(),
            state_json: parts[1].to_vec(),
        }],
        pods: vec![RawPod {
            id: pod.into(),
            name: Some("pod".into()),
            config_json: parts[2].to_vec(),
            state_json: parts[3].to_vec(),
        }],
        runtime: RuntimeConfig::root_defaults(),
    };
    let regenerate = std::env::var("LPSTEST_REGENERATE").as_deref() == Ok("1");
    for (name, page) in [("podman-512.db", 512), ("podman-4096.db", 4096)] {
        let bytes = write_bolt_state(&state, &Writer::new().page_size(page)).unwrap();
        for target in ["bolt_reader", "bolt_state"] {
            let dir = fuzz_dir().join("seeds").join(target);
            if regenerate {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(name), &bytes).unwrap();
            } else {
                assert!(
                    std::fs::read(dir.join(name)).ok() == Some(bytes.clone()),
                    "fuzz/seeds/{target}/{name} is not what the writer makes now: \
                     LPSTEST_REGENERATE=1 cargo test --test integration fuzz_regressions"
                );
            }
        }
    }
}
