//! What went wrong with one container in one read cycle, kept typed up to the front ends.
//!
//! The collector does not decide how a problem is shown: the CLI prints it, the plugin logs
//! it once per container, a replay records it. Each gets the container, the path concerned
//! and the underlying error, and formats them itself ([`ContainerProblem`]'s `Display` is
//! the one line all three print today).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cgroup::{CgroupError, CgroupPath};
use crate::libpod::health::HealthLogError;
use crate::libpod::ContainerId;
use crate::parse::ParseError;

/// One container that could not be read (or whose cgroup vanished) in a cycle.
#[derive(Debug, Clone)]
pub struct ContainerProblem {
    /// The container's id.
    pub id: ContainerId,
    /// The container's name.
    pub name: String,
    /// What failed, and where.
    pub cause: ProblemCause,
}

/// Why a container's read failed, with the path concerned. The message includes the
/// underlying error's, so no `source` is chained (a chain printer would repeat it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProblemCause {
    /// Its cgroup could not be read: gone since discovery ([`CgroupError::NotFound`]), a
    /// file that does not parse, an I/O error. The error names the file.
    #[error("{error}")]
    Cgroup {
        /// The cgroup read.
        cgroup: CgroupPath,
        /// What went wrong (shared: a report is cloned for each front end).
        error: Arc<CgroupError>,
    },
    /// Its `/proc/<pid>/net/dev` does not parse.
    #[error("{}: {error}", path.display())]
    NetDev {
        /// The host path of the file.
        path: PathBuf,
        /// What was wrong, and on which line.
        error: ParseError,
    },
    /// Its health check log exists but cannot be used (unreadable, someone else's, not
    /// podman's JSON). The error names the file.
    #[error("{error}")]
    HealthLog {
        /// The host path of the log.
        path: PathBuf,
        /// What went wrong.
        error: Arc<HealthLogError>,
    },
}

impl ContainerProblem {
    /// True when the container's cgroup is gone (it stopped between discovery and the read).
    pub fn is_vanished(&self) -> bool {
        matches!(&self.cause, ProblemCause::Cgroup { error, .. } if error.is_not_found())
    }
}

/// `<name>: <cause>`, as the CLI prints it and the plugin logs it.
impl fmt::Display for ContainerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.cause)
    }
}

impl std::error::Error for ContainerProblem {}
