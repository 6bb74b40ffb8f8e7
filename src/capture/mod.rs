//! Capturing a host (or a snapshot) into the snapshot layout, to replay it anywhere.
//!
//! - [`allow_list`]: what one capture copies (an allow-list built from discovery), and
//!   series of captures; its entry points are re-exported here.
//! - [`writer`]: safe copies of regular files and symlinks into an owner-only snapshot dir.
//! - [`redact`]: the allow-list of what podman's and the OCI bundle's JSON records keep.
//! - [`reduce`]: `/etc/passwd`, `stat`, `mountinfo` and the configuration files reduced to
//!   what discovery reads.
//! - [`state_db`]: the libpod database, rewritten from redacted records or copied whole.
//! - [`sqlite_state`]: a fresh owner-only `db.sql` from (redacted) records.

pub(crate) mod allow_list;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod redact;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod reduce;
pub(crate) mod sqlite_state;
pub(crate) mod state_db;
pub(crate) mod writer;

pub use allow_list::{
    capture_series, capture_snapshot, CaptureError, CaptureOptions, CaptureSummary,
};
