//! Capturing a host (or a snapshot) into the snapshot layout, to replay it anywhere.
//!
//! - [`snapshot`]: what one capture copies (an allow-list built from discovery) and series.
//! - [`writer`]: safe copies of regular files and symlinks into an owner-only snapshot dir.
//! - [`redact`]: what is blanked out of config and state JSON before it leaves the host.
//! - [`state_db`]: the libpod database, rewritten from redacted records or copied whole.
//! - [`sqlite_state`]: a fresh owner-only `db.sql` from (redacted) records.

pub mod redact;
pub mod snapshot;
pub mod sqlite_state;
pub mod state_db;
pub mod writer;
