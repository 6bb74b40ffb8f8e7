//! Snapshots and series: the on-disk contract for captured hosts.
//!
//! A *snapshot* is a directory that mirrors a host's absolute paths (`sys/fs/cgroup/...`,
//! `proc/...`, `var/lib/containers/storage/...`) plus `snapshot.json` at its top for the facts
//! that are not files. A *series* is a directory of snapshots named `000/`, `001/`, ... in time
//! order. Nothing in a snapshot may depend on file owners: a checkout does not keep them.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The name of the metadata file at the top of a snapshot.
pub const SNAPSHOT_META_FILE: &str = "snapshot.json";

/// What a snapshot records that is not a file. Unknown keys are ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Wall-clock time the snapshot was taken, in nanoseconds since the Unix epoch.
    pub taken_at_ns: u64,
    /// Number of online CPUs of the captured host.
    pub online_cpus: u32,
    /// Host name of the captured host.
    pub hostname: String,
    /// Kernel release of the captured host (`uname -r`).
    pub kernel: String,
    /// Stores that were named explicitly (`--store`, the plugin's `Store`) when the snapshot
    /// was captured, as host paths: discovery under this snapshot reads them too, so a replay
    /// needs no flag to find what the capture found. Left out of the file when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_stores: Vec<PathBuf>,
    /// The owner uid of each store the capture found, by graph root (host path): a snapshot
    /// keeps no file owners, so discovery under it takes a store's owner from here (the
    /// `uid` samples carry), and guesses from the users' homes only for a store not listed
    /// (snapshots made before this field). Left out of the file when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub store_owners: BTreeMap<PathBuf, u32>,
}

/// Reading or writing `snapshot.json` or listing a series failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `snapshot.json` is not the JSON object described in [`SnapshotMeta`].
    #[error("{path}: not a valid snapshot.json: {source}")]
    Json {
        /// The file concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A series directory holds no `NNN/` snapshot.
    #[error("{path}: not a series: no snapshot directories named 000, 001, ...")]
    EmptySeries {
        /// The directory concerned.
        path: PathBuf,
    },
}

impl SnapshotError {
    /// True when the file simply does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, SnapshotError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

impl SnapshotMeta {
    /// Reads `snapshot.json` from the top of `snapshot_dir`.
    pub fn read(snapshot_dir: &Path) -> Result<Self, SnapshotError> {
        let path = snapshot_dir.join(SNAPSHOT_META_FILE);
        let text = std::fs::read(&path).map_err(|source| SnapshotError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| SnapshotError::Json { path, source })
    }

    /// Writes `snapshot.json` at the top of `snapshot_dir`.
    pub fn write(&self, snapshot_dir: &Path) -> Result<(), SnapshotError> {
        let path = snapshot_dir.join(SNAPSHOT_META_FILE);
        let mut text = serde_json::to_vec_pretty(self).map_err(|source| SnapshotError::Json {
            path: path.clone(),
            source,
        })?;
        text.push(b'\n');
        std::fs::write(&path, text).map_err(|source| SnapshotError::Io { path, source })
    }
}

/// The snapshot directories of a series, in time order (`000/`, `001/`, ...).
///
/// Only directories whose name is all ASCII digits count; anything else (a README, say) is
/// ignored.
pub fn series_steps(series_dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let entries = std::fs::read_dir(series_dir).map_err(|source| SnapshotError::Io {
        path: series_dir.to_path_buf(),
        source,
    })?;
    let mut steps: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| SnapshotError::Io {
            path: series_dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if !entry.path().is_dir() {
            continue;
        }
        if let Ok(n) = name.parse::<u64>() {
            steps.push((n, entry.path()));
        }
    }
    if steps.is_empty() {
        return Err(SnapshotError::EmptySeries {
            path: series_dir.to_path_buf(),
        });
    }
    steps.sort();
    Ok(steps.into_iter().map(|(_, p)| p).collect())
}

/// The directory name of step `index` in a series (`000`, `001`, ...).
pub fn series_step_name(index: usize) -> String {
    format!("{index:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_and_ignores_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SNAPSHOT_META_FILE),
            br#"{"taken_at_ns": 5, "online_cpus": 2, "hostname": "h", "kernel": "6.1", "extra": [1]}"#,
        )
        .unwrap();
        let meta = SnapshotMeta::read(dir.path()).unwrap();
        assert_eq!(meta.taken_at_ns, 5);
        meta.write(dir.path()).unwrap();
        assert_eq!(SnapshotMeta::read(dir.path()).unwrap(), meta);
    }

    #[test]
    fn series_steps_are_in_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["002", "000", "001", "README.md"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let steps = series_steps(dir.path()).unwrap();
        let names: Vec<_> = steps
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["000", "001", "002"]);
        assert_eq!(series_step_name(7), "007");
    }
}
