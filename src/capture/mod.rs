//! Capturing a host (or a snapshot) into the snapshot layout, to replay it anywhere.
//!
//! - [`writer`]: safe copies of regular files and symlinks into an owner-only snapshot dir.
//! - [`redact`]: what is blanked out of config and state JSON before it leaves the host.
//! - [`sqlite_state`]: a fresh `db.sql` from (redacted) records, so no free page keeps a secret.

pub mod redact;
pub mod sqlite_state;
pub mod writer;
