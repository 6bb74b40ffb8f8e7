//! Podman's SQLite state (`db.sql`), read without disturbing podman.
//!
//! The file is opened read-only (never `immutable`: podman may be writing) with a short
//! busy timeout, so a reader gives up quickly instead of holding podman up. Container state
//! comes from `ContainerState.JSON`: the `State` column is written once at creation and is
//! stale afterwards. Podman binds its JSON as bytes, so the JSON columns are read whether
//! SQLite stored them as BLOB or TEXT.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::raw::{RawContainer, RawPod, RawState, RuntimeConfig};
use super::state_error::StateError;
use crate::host::HostRoot;

/// How long a read waits for podman's write lock before it gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// The 16 bytes every SQLite 3 database file starts with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Reads every container, pod and the runtime's recorded paths from `host_path` (a host
/// path resolved under `root`) in one read transaction.
pub fn read_sqlite_state(root: &HostRoot, host_path: &Path) -> Result<RawState, StateError> {
    check_header(root, host_path)?;
    let real = root.resolve(host_path)?;
    let sql_err = |source| StateError::Sqlite {
        path: root.shown(host_path).file(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&real, flags).map_err(sql_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
    let tx = conn.transaction().map_err(sql_err)?;
    let containers = read_containers(&tx).map_err(sql_err)?;
    let pods = read_pods(&tx).map_err(sql_err)?;
    let runtime = read_runtime(&tx).map_err(sql_err)?;
    tx.finish().map_err(sql_err)?;
    Ok(RawState {
        containers,
        pods,
        runtime,
    })
}

/// Refuses a file that does not start with SQLite's magic before SQLite sees it (SQLite
/// would call an empty file an empty database, and its own message does not name the file).
fn check_header(root: &HostRoot, host_path: &Path) -> Result<(), StateError> {
    let mut file = root.open(host_path)?;
    let mut header = [0u8; 100];
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(StateError::Host(crate::host::HostError {
                    root: root.dir().to_path_buf(),
                    path: host_path.to_path_buf(),
                    source,
                }))
            }
        }
    }
    let reason = if filled == 0 {
        Some("the file is empty".to_string())
    } else if filled < header.len() {
        Some(format!("only {filled} bytes, shorter than a SQLite header"))
    } else if &header[..16] != SQLITE_MAGIC {
        Some("no `SQLite format 3` header".to_string())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StateError::NotSqlite {
            path: root.shown(host_path).file(),
            reason,
        }),
        None => Ok(()),
    }
}

fn read_containers(conn: &Connection) -> rusqlite::Result<Vec<RawContainer>> {
    let mut stmt = conn.prepare(
        "SELECT c.ID, c.Name, c.PodID, c.JSON, s.JSON \
         FROM ContainerConfig AS c LEFT JOIN ContainerState AS s ON c.ID = s.ID \
         ORDER BY c.ID",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(RawContainer {
            id: text(row.get_ref(0)?).unwrap_or_default(),
            name: text(row.get_ref(1)?),
            pod_id: text(row.get_ref(2)?).filter(|s| !s.is_empty()),
            config_json: bytes(row.get_ref(3)?),
            state_json: bytes(row.get_ref(4)?),
        })
    })?;
    rows.collect()
}

fn read_pods(conn: &Connection) -> rusqlite::Result<Vec<RawPod>> {
    let mut stmt = conn.prepare(
        "SELECT p.ID, p.Name, p.JSON, s.JSON \
         FROM PodConfig AS p LEFT JOIN PodState AS s ON p.ID = s.ID \
         ORDER BY p.ID",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(RawPod {
            id: text(row.get_ref(0)?).unwrap_or_default(),
            name: text(row.get_ref(1)?),
            config_json: bytes(row.get_ref(2)?),
            state_json: bytes(row.get_ref(3)?),
        })
    })?;
    rows.collect()
}

fn read_runtime(conn: &Connection) -> rusqlite::Result<RuntimeConfig> {
    let mut stmt = conn.prepare(
        "SELECT StaticDir, TmpDir, GraphRoot, RunRoot, GraphDriver FROM DBConfig \
         ORDER BY ID LIMIT 1",
    )?;
    let mut rows = stmt.query([])?;
    let Some(row) = rows.next()? else {
        return Ok(RuntimeConfig::default());
    };
    let path = |i| -> rusqlite::Result<Option<PathBuf>> {
        Ok(text(row.get_ref(i)?)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from))
    };
    Ok(RuntimeConfig {
        static_dir: path(0)?,
        tmp_dir: path(1)?,
        graph_root: path(2)?,
        run_root: path(3)?,
        graph_driver: text(row.get_ref(4)?).filter(|s| !s.is_empty()),
    })
}

/// A TEXT or BLOB column as a string (lossless for UTF-8, replacement characters otherwise).
fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Null | ValueRef::Real(_) => None,
    }
}

/// A JSON column's bytes, whichever storage class SQLite used; empty for NULL.
fn bytes(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
        _ => Vec::new(),
    }
}

/// Podman's SQLite schema (version 1): every table, column and constraint of the state
/// database, so a file written with it is one podman itself could open.
pub const PODMAN_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS DBConfig(
    ID INTEGER PRIMARY KEY NOT NULL, SchemaVersion INTEGER NOT NULL, OS TEXT NOT NULL,
    StaticDir TEXT NOT NULL, TmpDir TEXT NOT NULL, GraphRoot TEXT NOT NULL,
    RunRoot TEXT NOT NULL, GraphDriver TEXT NOT NULL, VolumeDir TEXT NOT NULL,
    CHECK (ID IN (1)));
CREATE TABLE IF NOT EXISTS IDNamespace(ID TEXT PRIMARY KEY NOT NULL);
CREATE TABLE IF NOT EXISTS ContainerConfig(
    ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, PodID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (ID) REFERENCES ContainerState(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (PodID) REFERENCES PodConfig(ID));
CREATE TABLE IF NOT EXISTS ContainerState(
    ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL, ExitCode INTEGER, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    CHECK (ExitCode BETWEEN -1 AND 255));
CREATE TABLE IF NOT EXISTS ContainerExecSession(
    ID TEXT PRIMARY KEY NOT NULL, ContainerID TEXT NOT NULL,
    FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID));
CREATE TABLE IF NOT EXISTS ContainerDependency(
    ID TEXT NOT NULL, DependencyID TEXT NOT NULL, PRIMARY KEY (ID, DependencyID),
    FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (DependencyID) REFERENCES ContainerConfig(ID),
    CHECK (ID <> DependencyID));
CREATE TABLE IF NOT EXISTS ContainerVolume(
    ContainerID TEXT NOT NULL, VolumeName TEXT NOT NULL, PRIMARY KEY (ContainerID, VolumeName),
    FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (VolumeName) REFERENCES VolumeConfig(Name));
CREATE TABLE IF NOT EXISTS ContainerExitCode(
    ID TEXT PRIMARY KEY NOT NULL, Timestamp INTEGER NOT NULL, ExitCode INTEGER NOT NULL,
    CHECK (ExitCode BETWEEN -1 AND 255));
CREATE TABLE IF NOT EXISTS PodConfig(
    ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (ID) REFERENCES PodState(ID) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS PodState(
    ID TEXT PRIMARY KEY NOT NULL, InfraContainerID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES PodConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (InfraContainerID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS VolumeConfig(
    Name TEXT PRIMARY KEY NOT NULL, StorageID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (Name) REFERENCES VolumeState(Name) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS VolumeState(
    Name TEXT PRIMARY KEY NOT NULL, JSON TEXT NOT NULL,
    FOREIGN KEY (Name) REFERENCES VolumeConfig(Name) DEFERRABLE INITIALLY DEFERRED);
";

/// Writes `state` as a new podman SQLite database at `file` (a real path, not a host path:
/// this is for fixtures and tests). Like podman, the JSON is stored as bytes and the
/// `State`/`ExitCode` columns get the values of the state JSON at the time of writing.
/// Container names must be unique and pod ids must refer to pods in `state`, as in podman.
pub fn write_sqlite_state(state: &RawState, file: &Path) -> rusqlite::Result<()> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct StateNumbers {
        state: i64,
        #[serde(rename = "exitCode")]
        exit_code: i64,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct PodStateKeys {
        #[serde(rename = "InfraContainerID")]
        infra: Option<String>,
    }
    let mut conn = Connection::open(file)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let tx = conn.transaction()?;
    tx.execute_batch(PODMAN_SCHEMA)?;
    let rt = &state.runtime;
    let path_text = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let volume_dir = rt
        .graph_root
        .as_ref()
        .map(|g| g.join("volumes").to_string_lossy().into_owned())
        .unwrap_or_default();
    tx.execute(
        "INSERT INTO DBConfig VALUES (1, 1, 'linux', ?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            path_text(&rt.static_dir),
            path_text(&rt.tmp_dir),
            path_text(&rt.graph_root),
            path_text(&rt.run_root),
            rt.graph_driver.clone().unwrap_or_default(),
            volume_dir,
        ],
    )?;
    for pod in &state.pods {
        let keys: PodStateKeys = serde_json::from_slice(&pod.state_json).unwrap_or_default();
        tx.execute("INSERT INTO IDNamespace VALUES (?1)", [&pod.id])?;
        tx.execute(
            "INSERT INTO PodConfig VALUES (?1, ?2, ?3)",
            rusqlite::params![
                pod.id,
                pod.name.clone().unwrap_or_default(),
                pod.config_json
            ],
        )?;
        tx.execute(
            "INSERT INTO PodState VALUES (?1, ?2, ?3)",
            rusqlite::params![pod.id, keys.infra.filter(|s| !s.is_empty()), pod.state_json],
        )?;
    }
    for ctr in &state.containers {
        let numbers: StateNumbers = serde_json::from_slice(&ctr.state_json).unwrap_or_default();
        tx.execute("INSERT INTO IDNamespace VALUES (?1)", [&ctr.id])?;
        tx.execute(
            "INSERT INTO ContainerConfig VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                ctr.id,
                ctr.name.clone().unwrap_or_default(),
                ctr.pod_id,
                ctr.config_json
            ],
        )?;
        tx.execute(
            "INSERT INTO ContainerState VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![ctr.id, numbers.state, numbers.exit_code, ctr.state_json],
        )?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/containers/storage")).unwrap();
        let root = HostRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    const DB: &str = "/var/lib/containers/storage/db.sql";

    /// A snapshot whose `db.sql` (at the returned real path) holds one running container.
    fn one_running_container() -> (tempfile::TempDir, HostRoot, PathBuf) {
        let (dir, root) = snapshot();
        let real = dir.path().join(&DB[1..]);
        let id = "c".repeat(64);
        let state = RawState {
            containers: vec![RawContainer {
                id: id.clone(),
                name: Some("x".into()),
                pod_id: None,
                config_json: format!(r#"{{"id":"{id}"}}"#).into_bytes(),
                state_json: br#"{"state":3}"#.to_vec(),
            }],
            ..Default::default()
        };
        write_sqlite_state(&state, &real).unwrap();
        (dir, root, real)
    }

    #[test]
    fn reads_json_columns_and_ignores_the_state_column() {
        let (dir, root) = snapshot();
        let conn = Connection::open(dir.path().join(&DB[1..])).unwrap();
        conn.execute_batch(PODMAN_SCHEMA).unwrap();
        // Only the columns matter here, not the other tables' rows.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute(
            "INSERT INTO DBConfig VALUES (1, 1, 'linux', '/s', '/t', '/g', '/r', 'overlay', '/v')",
            [],
        )
        .unwrap();
        // Podman binds JSON as bytes: BLOB storage class.
        conn.execute(
            "INSERT INTO ContainerConfig VALUES ('a', 'one', 'p', ?1)",
            [br#"{"id":"a"}"#.as_slice()],
        )
        .unwrap();
        // State column says configured (1); the JSON says running (3).
        conn.execute(
            "INSERT INTO ContainerState VALUES ('a', 1, 0, ?1)",
            [br#"{"state":3}"#.as_slice()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO PodConfig VALUES ('p', 'pod', '{\"id\":\"p\"}')",
            [],
        )
        .unwrap();
        conn.execute("INSERT INTO PodState VALUES ('p', NULL, '{}')", [])
            .unwrap();
        drop(conn);

        let state = read_sqlite_state(&root, Path::new(DB)).unwrap();
        assert_eq!(state.containers.len(), 1);
        let c = &state.containers[0];
        assert_eq!(c.id, "a");
        assert_eq!(c.name.as_deref(), Some("one"));
        assert_eq!(c.pod_id.as_deref(), Some("p"));
        assert_eq!(c.state_json, br#"{"state":3}"#);
        assert_eq!(state.pods.len(), 1);
        assert_eq!(state.pods[0].name.as_deref(), Some("pod"));
        assert_eq!(state.runtime.graph_root.as_deref(), Some(Path::new("/g")));
        assert_eq!(state.runtime.graph_driver.as_deref(), Some("overlay"));
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_named() {
        let (dir, root) = snapshot();
        let real = dir.path().join(&DB[1..]);
        for (content, why) in [
            (&b""[..], "empty"),
            (b"SQLite format 3\0", "shorter"),
            (&[0u8; 4096][..], "no `SQLite format 3` header"),
        ] {
            std::fs::write(&real, content).unwrap();
            let err = read_sqlite_state(&root, Path::new(DB)).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, StateError::NotSqlite { .. }), "{msg}");
            assert!(msg.contains("var/lib/containers/storage/db.sql"), "{msg}");
            assert!(msg.contains(why), "{msg}");
        }
    }

    #[test]
    fn a_database_without_podman_tables_is_an_error_naming_the_file() {
        let (dir, root) = snapshot();
        let conn = Connection::open(dir.path().join(&DB[1..])).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        drop(conn);
        let err = read_sqlite_state(&root, Path::new(DB)).unwrap_err();
        assert!(matches!(err, StateError::Sqlite { .. }), "{err}");
        assert!(err.to_string().contains("db.sql"), "{err}");
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let (_dir, root) = snapshot();
        let err = read_sqlite_state(&root, Path::new(DB)).unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }

    #[test]
    fn written_state_reads_back() {
        let (dir, root) = snapshot();
        let id = "a".repeat(64);
        let pod = "b".repeat(64);
        let state = RawState {
            containers: vec![RawContainer {
                id: id.clone(),
                name: Some("x".into()),
                pod_id: Some(pod.clone()),
                config_json: format!(r#"{{"id":"{id}","name":"x","pod":"{pod}"}}"#).into_bytes(),
                state_json: br#"{"state":6,"exitCode":3}"#.to_vec(),
            }],
            pods: vec![RawPod {
                id: pod.clone(),
                name: Some("p".into()),
                config_json: format!(r#"{{"id":"{pod}","name":"p"}}"#).into_bytes(),
                state_json: format!(r#"{{"InfraContainerID":"{id}"}}"#).into_bytes(),
            }],
            runtime: RuntimeConfig {
                graph_root: Some("/var/lib/containers/storage".into()),
                graph_driver: Some("overlay".into()),
                ..Default::default()
            },
        };
        write_sqlite_state(&state, &dir.path().join(&DB[1..])).unwrap();
        let back = read_sqlite_state(&root, Path::new(DB)).unwrap();
        assert_eq!(back.containers, state.containers);
        assert_eq!(back.pods, state.pods);
        assert_eq!(back.runtime.graph_root, state.runtime.graph_root);
        let conn = Connection::open(dir.path().join(&DB[1..])).unwrap();
        let (n, code): (i64, i64) = conn
            .query_row("SELECT State, ExitCode FROM ContainerState", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, code), (6, 3));
        let typ: String = conn
            .query_row("SELECT typeof(JSON) FROM ContainerConfig", [], |r| r.get(0))
            .unwrap();
        assert_eq!(typ, "blob");
    }

    #[test]
    fn a_writer_in_a_transaction_does_not_block_and_an_exclusive_one_is_an_error() {
        let (_dir, root, real) = one_running_container();
        let writer = Connection::open(&real).unwrap();
        // podman's default journal mode (delete): a pending write leaves readers the old data
        writer
            .execute_batch("BEGIN IMMEDIATE; UPDATE ContainerState SET JSON = '{\"state\":6}';")
            .unwrap();
        let read = read_sqlite_state(&root, Path::new(DB)).unwrap();
        assert_eq!(read.containers[0].state_json, br#"{"state":3}"#);
        writer.execute_batch("ROLLBACK; BEGIN EXCLUSIVE;").unwrap();
        let err = read_sqlite_state(&root, Path::new(DB)).unwrap_err();
        assert!(matches!(err, StateError::Sqlite { .. }), "{err}");
        assert!(err.to_string().contains("db.sql"), "{err}");
        writer.execute_batch("ROLLBACK").unwrap();
        assert!(read_sqlite_state(&root, Path::new(DB)).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// A real database with bytes overwritten reads or fails with an error naming the
        /// file; it never panics or hangs.
        #[test]
        fn corrupted_databases_fail_cleanly(
            edits in proptest::collection::vec((0usize..16384, proptest::num::u8::ANY), 1..64),
        ) {
            let (_dir, root, real) = one_running_container();
            let mut bytes = std::fs::read(&real).unwrap();
            for (at, b) in edits {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            std::fs::write(&real, &bytes).unwrap();
            if let Err(e) = read_sqlite_state(&root, Path::new(DB)) {
                proptest::prop_assert!(e.to_string().contains("db.sql"), "{}", e);
            }
        }
    }
}
