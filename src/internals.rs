//! The internals this workspace's fuzz targets, benches and integration tests reach (the
//! `internals` feature; not API, see the crate docs). Each module here opens a module of the
//! crate as it is.

/// The parsers of every file format read.
pub mod parse {
    pub use crate::parse::*;
}

/// Podman's records: the BoltDB reader and writer, the state formats, stores.
pub mod libpod {
    pub use crate::libpod::{
        bolt, bolt_state, cgroup_path, config_keys, discover, health, interpret, sqlite, storage,
        stores,
    };
}

/// The cgroup layout, files and stats types.
pub mod cgroup {
    pub use crate::cgroup::{files, layout, memory_stat, stats};
}

/// The collector's state watch and its slow files.
pub mod stats {
    pub use crate::stats::collector::{SLOW_FILES, SLOW_FILES_EVERY};
    pub use crate::stats::state_watch;
}

/// Redaction of podman's records and reduction of host files in a capture.
pub mod capture {
    pub use crate::capture::{redact, reduce};
}

/// The snapshot layout.
pub mod snapshot {
    pub use crate::snapshot::*;
}
