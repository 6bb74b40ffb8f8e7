//! Health checks on `HostBuilder` hosts: the config's `healthcheck` (as podman records
//! `--health-cmd`) and podman's health log beside the run directory.

use std::path::{Path, PathBuf};

use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use libpod_stats::HostRoot;

const BOLT: &str = "var/lib/containers/storage/libpod/bolt_state.db";

/// Gives the containers `ids` of a built host (root store, BoltDB) a health check whose
/// `Test` is `test` (`["NONE"]` is `--no-healthcheck`).
pub fn give_health_check(dir: &Path, ids: &[&str], test: serde_json::Value) {
    let db = Path::new("/").join(BOLT);
    let mut raw = read_bolt_state(&HostRoot::new(dir).unwrap(), &db).unwrap();
    for ctr in raw
        .containers
        .iter_mut()
        .filter(|c| ids.contains(&c.id.as_str()))
    {
        let mut config: serde_json::Value = serde_json::from_slice(&ctr.config_json).unwrap();
        config["healthcheck"] = serde_json::json!({
            "Test": test, "Interval": 30_000_000_000u64, "Retries": 2,
        });
        ctr.config_json = serde_json::to_vec(&config).unwrap();
    }
    let bytes = write_bolt_state(&raw, &Writer::new()).unwrap();
    std::fs::write(dir.join(BOLT), bytes).unwrap();
}

/// Where podman keeps the health log of container `id` of the root store (overlay).
pub fn health_log(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!(
        "run/containers/storage/overlay-containers/{id}/healthcheck.log"
    ))
}

/// Writes the health log of container `id` as podman does.
pub fn write_health_log(dir: &Path, id: &str, json: &str) {
    let path = health_log(dir, id);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json).unwrap();
}
