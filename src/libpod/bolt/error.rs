//! What can be wrong with a BoltDB file, said so a person can find the broken spot.

use std::fmt;
use std::path::PathBuf;

use crate::host::HostError;

/// Reading a BoltDB file failed.
#[derive(Debug, thiserror::Error)]
pub enum BoltError {
    /// The file could not be read.
    #[error("reading BoltDB: {0}")]
    Io(#[from] HostError),
    /// The file is not a valid BoltDB, or a page reached from its root is broken.
    #[error("{}: corrupt BoltDB: {what}{}", path.display(), in_bucket(bucket))]
    Corrupt {
        /// The file (its real path, under the snapshot root if any).
        path: PathBuf,
        /// The bucket being read (`ctr/<id>`), when inside one.
        bucket: Option<String>,
        /// What is wrong.
        what: Corruption,
    },
    /// The file kept changing under the reader (a writer committed during every attempt).
    /// Trying again later will most likely succeed.
    #[error("{}: BoltDB changed while being read, {attempts} attempts", path.display())]
    Unstable {
        /// The file.
        path: PathBuf,
        /// How many times it was read.
        attempts: u32,
    },
}

fn in_bucket(bucket: &Option<String>) -> String {
    match bucket {
        Some(b) if !b.is_empty() => format!(" (in bucket {b})"),
        _ => String::new(),
    }
}

impl BoltError {
    /// True when the same read may succeed later (the file was being written).
    pub fn is_retryable(&self) -> bool {
        matches!(self, BoltError::Unstable { .. })
    }

    /// True when the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BoltError::Io(e) if e.is_not_found())
    }

    /// The corruption, when that is what went wrong.
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            BoltError::Corrupt { what, .. } => Some(what),
            _ => None,
        }
    }
}

/// Why a meta page was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaProblem {
    /// The file ends before the meta page.
    Missing,
    /// The page header's flags are not the meta flag.
    NotAMetaPage {
        /// The flags found.
        flags: u16,
    },
    /// `magic` is not 0xED0CDAED.
    BadMagic {
        /// The magic found.
        found: u32,
    },
    /// `version` is not 2.
    BadVersion {
        /// The version found.
        found: u32,
    },
    /// The stored checksum does not match the FNV-1a of the record.
    BadChecksum {
        /// Stored in the file.
        stored: u64,
        /// Computed from the record.
        computed: u64,
    },
    /// The page size is outside what any bbolt writes.
    BadPageSize {
        /// The page size found.
        found: u32,
    },
}

impl fmt::Display for MetaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaProblem::Missing => write!(f, "missing (file too short)"),
            MetaProblem::NotAMetaPage { flags } => {
                write!(f, "page flags {flags:#06x} are not the meta flag 0x0004")
            }
            MetaProblem::BadMagic { found } => {
                write!(f, "magic {found:#010x}, expected 0xed0cdaed")
            }
            MetaProblem::BadVersion { found } => write!(f, "version {found}, expected 2"),
            MetaProblem::BadChecksum { stored, computed } => write!(
                f,
                "checksum {stored:#018x} does not match the record ({computed:#018x})"
            ),
            MetaProblem::BadPageSize { found } => write!(f, "page size {found} is not plausible"),
        }
    }
}

/// What is structurally wrong with a BoltDB file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// Neither meta page is valid.
    NoValidMeta {
        /// Why meta page 0 was rejected.
        meta0: MetaProblem,
        /// Why meta page 1 was rejected.
        meta1: MetaProblem,
    },
    /// The chosen meta's fields contradict each other.
    BadMeta {
        /// What is wrong.
        detail: String,
    },
    /// A page id is at or above the meta's high-water mark, or names a meta page.
    PageOutOfRange {
        /// The id found.
        pgid: u64,
        /// The meta's high-water mark.
        high_water: u64,
    },
    /// A page (with its overflow) runs past the end of the file.
    PageBeyondEof {
        /// The page.
        pgid: u64,
        /// Its overflow count.
        overflow: u32,
        /// The file's length.
        file_len: usize,
    },
    /// A page's overflow runs past the meta's high-water mark.
    OverflowOutOfRange {
        /// The page.
        pgid: u64,
        /// Its overflow count.
        overflow: u32,
        /// The meta's high-water mark.
        high_water: u64,
    },
    /// The id in a page's header is not the page's number.
    PageIdMismatch {
        /// The page the reader went to.
        expected: u64,
        /// The id in its header.
        found: u64,
    },
    /// A page's flags are not what the reference to it promised.
    UnexpectedPageFlags {
        /// The page (`None` for an inline bucket's page).
        pgid: Option<u64>,
        /// The flags found.
        flags: u16,
        /// What the reader expected.
        expected: &'static str,
    },
    /// The page's element array does not fit in the page.
    ElementsOutOfBounds {
        /// The page (`None` for an inline bucket's page).
        pgid: Option<u64>,
        /// Number of elements the header claims.
        count: u16,
    },
    /// An element's key or value lies outside its page.
    ElementOutOfBounds {
        /// The page (`None` for an inline bucket's page).
        pgid: Option<u64>,
        /// The element's index.
        index: usize,
    },
    /// A branch page has no elements.
    EmptyBranch {
        /// The page.
        pgid: u64,
    },
    /// Keys on a page are not in strictly increasing order.
    KeysOutOfOrder {
        /// The page (`None` for an inline bucket's page).
        pgid: Option<u64>,
        /// The element's index.
        index: usize,
    },
    /// A page is reached twice: a cycle, or two parents sharing a page.
    PageReachedTwice {
        /// The page.
        pgid: u64,
    },
    /// The tree (or bucket nesting) is deeper than any real file's.
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A sub-bucket's value is too short for its header or inline page.
    BadBucketValue {
        /// The value's length.
        len: usize,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let page = |p: &Option<u64>| match p {
            Some(id) => format!("page {id}"),
            None => "inline bucket page".to_string(),
        };
        match self {
            Corruption::NoValidMeta { meta0, meta1 } => {
                write!(f, "no valid meta page (meta 0: {meta0}; meta 1: {meta1})")
            }
            Corruption::BadMeta { detail } => write!(f, "meta page: {detail}"),
            Corruption::PageOutOfRange { pgid, high_water } => write!(
                f,
                "page id {pgid} is out of range (data pages are 2..{high_water})"
            ),
            Corruption::PageBeyondEof {
                pgid,
                overflow,
                file_len,
            } => write!(
                f,
                "page {pgid} (overflow {overflow}) runs past the end of the file ({file_len} bytes)"
            ),
            Corruption::OverflowOutOfRange {
                pgid,
                overflow,
                high_water,
            } => write!(
                f,
                "page {pgid} with overflow {overflow} runs past the high-water mark {high_water}"
            ),
            Corruption::PageIdMismatch { expected, found } => {
                write!(f, "page {expected} has id {found} in its header")
            }
            Corruption::UnexpectedPageFlags {
                pgid,
                flags,
                expected,
            } => write!(
                f,
                "{} has flags {flags:#06x}, expected {expected}",
                page(pgid)
            ),
            Corruption::ElementsOutOfBounds { pgid, count } => {
                write!(f, "{}: {count} elements do not fit in the page", page(pgid))
            }
            Corruption::ElementOutOfBounds { pgid, index } => {
                write!(f, "{}: element {index} points outside the page", page(pgid))
            }
            Corruption::EmptyBranch { pgid } => write!(f, "branch page {pgid} has no elements"),
            Corruption::KeysOutOfOrder { pgid, index } => write!(
                f,
                "{}: key {index} is not greater than the key before it",
                page(pgid)
            ),
            Corruption::PageReachedTwice { pgid } => {
                write!(f, "page {pgid} is reached twice (a cycle or a shared page)")
            }
            Corruption::TooDeep { limit } => {
                write!(f, "tree or bucket nesting deeper than {limit} levels")
            }
            Corruption::BadBucketValue { len } => write!(
                f,
                "sub-bucket value of {len} bytes is too short for a bucket header"
            ),
        }
    }
}
