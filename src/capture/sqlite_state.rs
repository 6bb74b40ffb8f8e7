//! Writing a libpod SQLite state (`db.sql`) afresh from a [`RawState`].
//!
//! A capture must not copy podman's `db.sql` byte for byte when it redacts: SQLite leaves
//! deleted and overwritten rows in free pages, so an old secret could survive a redaction of
//! the live rows. Writing a new database from the (redacted) records leaves nothing behind.
//! The tables are podman's (the discovery module's writer); volumes, exec sessions and exit
//! codes are not captured. The file is owner-only from its creation.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::libpod::raw::RawState;
use crate::libpod::sqlite;

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

/// Writes `state` as a new SQLite database at `dest` (which must not exist), owner-only:
/// [`sqlite::write_sqlite_state`] with the file created 0600 first and errors naming `dest`.
pub(crate) fn create_owner_only(state: &RawState, dest: &Path) -> Result<(), SqliteWriteError> {
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
    sqlite::write_sqlite_state(state, dest).map_err(sql)?;
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
                state_json: format!(r#"{{"InfraContainerID":"{}"}}"#, "a".repeat(64)).into_bytes(),
            }],
            runtime: RuntimeConfig::root_defaults(),
        };
        let dest = dir.path().join("db.sql");
        create_owner_only(&state, &dest).unwrap();
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
