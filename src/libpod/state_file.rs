//! Writing a libpod database as podman writes it, for synthetic hosts and tests: the one
//! entry point over the BoltDB writer and the SQLite writer.

use std::io;
use std::path::Path;

use super::bolt::writer::Writer;
use super::bolt_state::write_bolt_state;
use super::raw::RawState;
use super::sqlite::write_sqlite_state;
use super::stores::StateFormat;

/// Writes `state` as a whole new libpod database at `file` (a real path, not a host path),
/// in `format`: `bolt_state.db` as podman 4 writes it, or `db.sql` as podman 5 and later do.
/// An existing file is replaced.
pub fn write_state(state: &RawState, format: StateFormat, file: &Path) -> io::Result<()> {
    let named = |e: &dyn std::fmt::Display| io::Error::other(format!("{}: {e}", file.display()));
    match format {
        StateFormat::Bolt => {
            let bytes = write_bolt_state(state, &Writer::new()).map_err(|e| named(&e))?;
            std::fs::write(file, bytes)
        }
        StateFormat::Sqlite => {
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            write_sqlite_state(state, file).map_err(|e| named(&e))
        }
    }
}
