//! Cgroups: the host's layout (v1, v2, hybrid) and typed reads of one container's cgroup.
//!
//! [`layout::CgroupLayout`] finds the mounts, [`reader::CgroupReader`] reads one cgroup into
//! [`stats::CgroupStats`] through the file table in [`files`], with the per-version meaning
//! of each file kept in `v1` and `v2`. [`handle::OpenCgroup`] holds a cgroup's files open
//! and re-reads them without allocating, for collectors that read every few seconds.

pub(crate) mod error;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod files;
pub(crate) mod handle;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod layout;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod memory_stat;
pub(crate) mod path;
pub(crate) mod reader;
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
pub mod stats;
mod v1;
mod v2;

pub use error::CgroupError;
pub use handle::OpenCgroup;
pub use path::{CgroupPath, InvalidCgroupPath};
pub use reader::CgroupReader;
pub use stats::CgroupStats;
