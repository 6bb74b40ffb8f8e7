//! Capturing a store's libpod database (BoltDB `bolt_state.db` or SQLite `db.sql`).
//!
//! Redacting: the records are read, their JSON reduced to the allow-list
//! ([`redact`](crate::capture::redact)), and a *new* database is written
//! (BoltDB with the project's writer in podman's layout, SQLite as a new file), so no freed
//! page of the original, which may still hold an old value, is carried along. Volumes,
//! exec sessions, networks and exit codes are not part of the new file.
//!
//! Not redacting: the file is copied as it is (BoltDB: re-read until a copy validates,
//! since podman may write meanwhile; SQLite: `VACUUM INTO`, a consistent copy taken in one
//! read transaction).

use std::path::{Path, PathBuf};

use crate::capture::redact::{RecordKind, Redactor};
use crate::capture::sqlite_state::{create_owner_only, SqliteWriteError};
use crate::capture::writer::{create_private_dir, SkipReason, SnapshotWriter, WriteError};
use crate::host::HostRoot;
use crate::libpod::bolt::writer::Writer as BoltWriter;
use crate::libpod::bolt::BoltDb;
use crate::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use crate::libpod::raw::RawState;
use crate::libpod::sqlite::read_sqlite_state;
use crate::libpod::stores::{StateFile, StateFormat};

/// How often a raw BoltDB copy is retried when podman wrote during the read.
const BOLT_COPY_ATTEMPTS: usize = 5;

/// Writing the captured database failed (fatal: the destination side).
#[derive(Debug, thiserror::Error)]
pub enum StateDbError {
    /// A plain write failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The new SQLite file could not be written.
    #[error(transparent)]
    Sqlite(#[from] SqliteWriteError),
    /// The new BoltDB could not be built.
    #[error("{path}: building the BoltDB: {reason}")]
    Bolt {
        /// The destination.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Redacts a record's config and state JSON in place; false, both left as they were, when
/// either cannot be parsed. A pod without state JSON keeps none.
fn redact_record(
    redactor: &Redactor,
    kinds: (RecordKind, RecordKind),
    config: &mut Vec<u8>,
    state: &mut Vec<u8>,
) -> bool {
    let state_out = if state.is_empty() && kinds.1 == RecordKind::PodState {
        Ok(Vec::new())
    } else {
        redactor.redact_bytes(kinds.1, state)
    };
    match (redactor.redact_bytes(kinds.0, config), state_out) {
        (Ok(c), Ok(s)) => {
            *config = c;
            *state = s;
            true
        }
        _ => false,
    }
}

/// Redacts every record's JSON in place. A record whose JSON cannot be parsed is dropped
/// (it cannot be redacted, so it is not shared); the return value names them.
pub(crate) fn redact_raw_state(state: &mut RawState, redactor: &Redactor) -> Vec<String> {
    let mut dropped = Vec::new();
    let container = (RecordKind::ContainerConfig, RecordKind::ContainerState);
    let pod = (RecordKind::PodConfig, RecordKind::PodState);
    state.containers.retain_mut(|c| {
        let kept = redact_record(redactor, container, &mut c.config_json, &mut c.state_json);
        if !kept {
            dropped.push(format!("container {}", c.id));
        }
        kept
    });
    state.pods.retain_mut(|p| {
        let kept = redact_record(redactor, pod, &mut p.config_json, &mut p.state_json);
        if !kept {
            dropped.push(format!("pod {}", p.id));
        }
        kept
    });
    dropped
}

fn skip(path: &Path, reason: impl ToString) -> Result<(), SkipReason> {
    Err(SkipReason::NotRedactable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    })
}

fn write_owner_only(dest: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| WriteError {
        path: dest.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)
}

/// Captures `state` from `source` as the file `dest`, its records redacted by `redact`
/// (`None`: copied whole). The outer error is fatal (the destination); the inner one says
/// why the source database was not captured.
pub(crate) fn copy_state_db(
    source: &HostRoot,
    state: &StateFile,
    dest: &Path,
    redact: Option<&Redactor>,
) -> Result<Result<(), SkipReason>, StateDbError> {
    if let Some(parent) = dest.parent() {
        create_private_dir(parent)?;
    }
    match (state.format, redact) {
        (StateFormat::Bolt, Some(redactor)) => {
            let mut raw = match read_bolt_state(source, &state.path) {
                Ok(raw) => raw,
                Err(e) => return Ok(skip(&state.path, e)),
            };
            redact_raw_state(&mut raw, redactor);
            let bytes =
                write_bolt_state(&raw, &BoltWriter::new()).map_err(|e| StateDbError::Bolt {
                    path: dest.to_path_buf(),
                    reason: e.to_string(),
                })?;
            write_owner_only(dest, &bytes)?;
            Ok(Ok(()))
        }
        (StateFormat::Bolt, None) => {
            let mut last = None;
            for _ in 0..BOLT_COPY_ATTEMPTS {
                let bytes = match SnapshotWriter::read_source(source, &state.path) {
                    Ok(b) => b,
                    Err(reason) => return Ok(Err(reason)),
                };
                match BoltDb::from_bytes(bytes.clone(), state.path.clone()) {
                    Ok(_) => {
                        write_owner_only(dest, &bytes)?;
                        return Ok(Ok(()));
                    }
                    Err(e) => last = Some(e.to_string()),
                }
            }
            Ok(skip(
                &state.path,
                format!(
                    "no consistent copy in {BOLT_COPY_ATTEMPTS} attempts: {}",
                    last.unwrap_or_default()
                ),
            ))
        }
        (StateFormat::Sqlite, Some(redactor)) => {
            let mut raw = match read_sqlite_state(source, &state.path) {
                Ok(raw) => raw,
                Err(e) => return Ok(skip(&state.path, e)),
            };
            redact_raw_state(&mut raw, redactor);
            create_owner_only(&raw, dest)?;
            Ok(Ok(()))
        }
        (StateFormat::Sqlite, None) => Ok(vacuum_into(source, &state.path, dest)),
    }
}

/// A consistent copy of a SQLite database via `VACUUM INTO` on a read-only connection.
fn vacuum_into(source: &HostRoot, host_path: &Path, dest: &Path) -> Result<(), SkipReason> {
    use rusqlite::{Connection, OpenFlags};
    let real = source.resolve(host_path)?;
    // Owner-only from the start: VACUUM INTO accepts an empty existing file.
    if let Err(e) = write_owner_only(dest, b"") {
        return skip(host_path, e);
    }
    let result = Connection::open_with_flags(
        &real,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|conn| {
        conn.busy_timeout(crate::libpod::sqlite::BUSY_TIMEOUT)?;
        conn.execute("VACUUM INTO ?1", [dest.to_string_lossy().as_ref()])
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(dest);
            skip(host_path, e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::raw::{RawContainer, RawPod};

    fn state() -> RawState {
        RawState {
            containers: vec![
                RawContainer {
                    id: "a".repeat(64),
                    name: Some("web".into()),
                    config_json:
                        br#"{"spec":{"process":{"env":["PW=hunter2"]}},"labels":{"k":"topsecret"}}"#
                            .to_vec(),
                    state_json: br#"{"state":3}"#.to_vec(),
                    ..RawContainer::default()
                },
                RawContainer {
                    id: "b".repeat(64),
                    config_json: b"{not json".to_vec(),
                    state_json: b"{}".to_vec(),
                    ..RawContainer::default()
                },
            ],
            pods: vec![RawPod {
                id: "p".repeat(64),
                config_json: br#"{"hostname":"podhost"}"#.to_vec(),
                state_json: b"{}".to_vec(),
                ..RawPod::default()
            }],
            ..RawState::default()
        }
    }

    #[test]
    fn records_are_redacted_and_unparseable_ones_dropped() {
        let mut s = state();
        let dropped = redact_raw_state(&mut s, &Redactor::default());
        assert_eq!(dropped, [format!("container {}", "b".repeat(64))]);
        assert_eq!(s.containers.len(), 1);
        let text = String::from_utf8(s.containers[0].config_json.clone()).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("topsecret"),
            "{text}"
        );
        assert!(!String::from_utf8_lossy(&s.pods[0].config_json).contains("podhost"));
    }

    fn copy_both_ways(format: StateFormat, file: &str) {
        let src = tempfile::tempdir().unwrap();
        let mut s = state();
        s.containers.truncate(1);
        let path = src.path().join(file);
        match format {
            StateFormat::Bolt => {
                std::fs::write(&path, write_bolt_state(&s, &BoltWriter::new()).unwrap()).unwrap()
            }
            StateFormat::Sqlite => create_owner_only(&s, &path).unwrap(),
        }
        let root = HostRoot::new(src.path()).unwrap();
        let sf = StateFile {
            format,
            path: PathBuf::from("/").join(file),
        };
        for redact in [true, false] {
            let out = tempfile::tempdir().unwrap();
            let dest = out.path().join("x").join(file);
            let redactor = Redactor::default();
            copy_state_db(&root, &sf, &dest, redact.then_some(&redactor))
                .unwrap()
                .unwrap();
            let bytes = std::fs::read(&dest).unwrap();
            let leaked = bytes.windows(7).any(|w| w == b"hunter2");
            assert_eq!(leaked, !redact, "{format:?} redact={redact}");
            let back_root = HostRoot::new(dest.parent().unwrap()).unwrap();
            let back_path = PathBuf::from("/").join(file);
            let back = match format {
                StateFormat::Bolt => read_bolt_state(&back_root, &back_path).unwrap(),
                StateFormat::Sqlite => read_sqlite_state(&back_root, &back_path).unwrap(),
            };
            assert_eq!(back.containers.len(), 1);
            assert_eq!(back.containers[0].id, s.containers[0].id);
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn bolt_state_is_rewritten_or_copied() {
        copy_both_ways(StateFormat::Bolt, "bolt_state.db");
    }

    #[test]
    fn sqlite_state_is_rewritten_or_vacuumed() {
        copy_both_ways(StateFormat::Sqlite, "db.sql");
    }
}
