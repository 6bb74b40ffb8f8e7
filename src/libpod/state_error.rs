//! The one error type of both libpod database readers (BoltDB and SQLite).
//!
//! Discovery reports a store whose database cannot be read and falls back to
//! containers/storage; callers only need to know which file failed and why.

use std::path::PathBuf;

use crate::host::HostError;

/// Reading a libpod state database failed. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The BoltDB file is corrupt, unreadable or kept changing (the error names the file).
    #[error(transparent)]
    Bolt(#[from] crate::libpod::bolt::BoltError),
    /// The file exists but is not a SQLite database (wrong header, empty, truncated).
    #[error("{path}: not a SQLite database ({reason})")]
    NotSqlite {
        /// The host path of the file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// SQLite refused the file or a query failed (locked, corrupt, missing table).
    #[error("{path}: {source}")]
    Sqlite {
        /// The host path of the file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database holds something podman never writes (a row without an id, a bad type).
    #[error("{path}: {reason}")]
    Invalid {
        /// The host path of the file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No reader for this kind of file is available in this build.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The host path of the file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
}

impl StateError {
    /// True when the database file does not exist at all.
    pub fn is_not_found(&self) -> bool {
        match self {
            StateError::Host(e) => e.is_not_found(),
            StateError::Bolt(e) => e.is_not_found(),
            _ => false,
        }
    }
}
