//! Writing a libpod SQLite state (`db.sql`) afresh from a [`RawState`].
//!
//! A capture must not copy podman's `db.sql` byte for byte when it redacts: SQLite leaves
//! deleted and overwritten rows in free pages, so an old secret could survive a redaction of
//! the live rows. Writing a new database from the (redacted) records leaves nothing behind.
//! The tables are podman's schema-1 tables that hold containers, pods and the runtime's
//! paths; volumes, exec sessions and exit codes are not captured.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::libpod::raw::RawState;

/// Podman's tables for the containers, pods and runtime paths (schema version 1).
const SCHEMA: &str = "
    CREATE TABLE DBConfig(ID INTEGER PRIMARY KEY NOT NULL, SchemaVersion INTEGER NOT NULL,
        OS TEXT NOT NULL, StaticDir TEXT NOT NULL, TmpDir TEXT NOT NULL,
        GraphRoot TEXT NOT NULL, RunRoot TEXT NOT NULL, GraphDriver TEXT NOT NULL,
        VolumeDir TEXT NOT NULL, CHECK (ID IN (1)));
    CREATE TABLE IDNamespace(ID TEXT PRIMARY KEY NOT NULL);
    CREATE TABLE ContainerConfig(ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL,
        PodID TEXT, JSON TEXT NOT NULL);
    CREATE TABLE ContainerState(ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL,
        ExitCode INTEGER, JSON TEXT NOT NULL);
    CREATE TABLE PodConfig(ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL,
        JSON TEXT NOT NULL);
    CREATE TABLE PodState(ID TEXT PRIMARY KEY NOT NULL, InfraContainerID TEXT,
        JSON TEXT NOT NULL);
";

/// Writing the new database failed.
#[derive(Debug, thiserror::Error)]
pub enum SqliteWriteError {
    /// SQLite refused.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be created or made owner-only.
    #[error("{path}: {source}")]
    Io {
        /// The database being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The `state` integer of a ContainerState JSON, for podman's (stale) `State` column.
fn state_number(state_json: &[u8]) -> i64 {
    serde_json::from_slice::<serde_json::Value>(state_json)
        .ok()
        .and_then(|v| v.get("state").and_then(serde_json::Value::as_i64))
        .unwrap_or(0)
}

fn path_text(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes `state` as a new SQLite database at `dest` (which must not exist), owner-only.
pub fn write_sqlite_state(state: &RawState, dest: &Path) -> Result<(), SqliteWriteError> {
    let sql = |source| SqliteWriteError::Sqlite {
        path: dest.to_path_buf(),
        source,
    };
    // Create the file owner-only before SQLite opens it, so it is never world-readable.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(|source| SqliteWriteError::Io {
                path: dest.to_path_buf(),
                source,
            })?;
    }
    let mut conn = Connection::open(dest).map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    let rt = &state.runtime;
    tx.execute(
        "INSERT INTO DBConfig VALUES (1, 1, 'linux', ?1, ?2, ?3, ?4, ?5, '')",
        params![
            path_text(&rt.static_dir),
            path_text(&rt.tmp_dir),
            path_text(&rt.graph_root),
            path_text(&rt.run_root),
            rt.graph_driver.clone().unwrap_or_default(),
        ],
    )
    .map_err(sql)?;
    for c in &state.containers {
        let name = c.name.clone().unwrap_or_else(|| c.id.clone());
        tx.execute(
            "INSERT INTO IDNamespace VALUES (?1)",
            params![c.id],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO ContainerConfig VALUES (?1, ?2, ?3, ?4)",
            params![c.id, name, c.pod_id, c.config_json],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO ContainerState VALUES (?1, ?2, 0, ?3)",
            params![c.id, state_number(&c.state_json), c.state_json],
        )
        .map_err(sql)?;
    }
    for p in &state.pods {
        let name = p.name.clone().unwrap_or_else(|| p.id.clone());
        let infra = serde_json::from_slice::<serde_json::Value>(&p.state_json)
            .ok()
            .and_then(|v| {
                v.get("InfraContainerID")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            });
        tx.execute("INSERT INTO IDNamespace VALUES (?1)", params![p.id])
            .map_err(sql)?;
        tx.execute(
            "INSERT INTO PodConfig VALUES (?1, ?2, ?3)",
            params![p.id, name, p.config_json],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO PodState VALUES (?1, ?2, ?3)",
            params![p.id, infra, p.state_json],
        )
        .map_err(sql)?;
    }
    tx.commit().map_err(sql)?;
    conn.close().map_err(|(_, source)| sql(source))?;
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        SqliteWriteError::Io {
            path: dest.to_path_buf(),
            source,
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostRoot;
    use crate::libpod::raw::{RawContainer, RawPod, RuntimeConfig};
    use crate::libpod::sqlite::read_sqlite_state;

    #[test]
    fn written_state_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let state = RawState {
            containers: vec![RawContainer {
                id: "a".repeat(64),
                name: Some("web".into()),
                pod_id: Some("p".repeat(64)),
                config_json: br#"{"id":"aa","name":"web"}"#.to_vec(),
                state_json: br#"{"state":3,"pid":42}"#.to_vec(),
            }],
            pods: vec![RawPod {
                id: "p".repeat(64),
                name: Some("pod".into()),
                config_json: br#"{"id":"pp"}"#.to_vec(),
                state_json: br#"{"InfraContainerID":"aa"}"#.to_vec(),
            }],
            runtime: RuntimeConfig {
                graph_root: Some("/var/lib/containers/storage".into()),
                run_root: Some("/run/containers/storage".into()),
                static_dir: Some("/var/lib/containers/storage/libpod".into()),
                tmp_dir: Some("/run/libpod".into()),
                graph_driver: Some("overlay".into()),
            },
        };
        let dest = dir.path().join("db.sql");
        write_sqlite_state(&state, &dest).unwrap();
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let root = HostRoot::new(dir.path()).unwrap();
        let back = read_sqlite_state(&root, Path::new("/db.sql")).unwrap();
        assert_eq!(back, state);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["db.sql"], "no journal left behind");
    }
}
