//! Cgroups: the host's layout (v1, v2, hybrid) and typed reads of one container's cgroup.
//!
//! [`layout::CgroupLayout`] finds the mounts, [`reader::CgroupReader`] reads one cgroup into
//! [`stats::CgroupStats`] through the file table in [`files`], with the per-version meaning
//! of each file kept in `v1` and `v2`. [`handle::OpenCgroup`] holds a cgroup's files open
//! and re-reads them without allocating, for collectors that read every few seconds.

pub mod error;
pub mod files;
pub mod handle;
pub mod layout;
pub mod memory_stat;
pub mod path;
pub mod reader;
pub mod stats;
mod v1;
mod v2;

pub use error::CgroupError;
pub use files::{CgroupFile, FileSet};
pub use handle::OpenCgroup;
pub use layout::{CgroupLayout, LayoutKind};
pub use memory_stat::MemoryStatKeys;
pub use path::{CgroupPath, InvalidCgroupPath};
pub use reader::CgroupReader;
pub use stats::CgroupStats;
