//! A cgroup's path inside a hierarchy: checked once where it is found, trusted after.
//!
//! Cgroup paths come from files podman and the kernel wrote (`/proc/<pid>/cgroup`, the OCI
//! bundle's `cgroupsPath`, the database's cgroup parent) and are joined onto every
//! hierarchy's mount point. A [`CgroupPath`] can only lead below that mount point, so the
//! readers join it without checking again.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A cgroup relative to a hierarchy's root, written as the kernel writes it in
/// `/proc/<pid>/cgroup` and podman in `.State.CgroupPath`: `/` then components
/// (`/libpod_parent/libpod-<id>`, `/machine.slice/libpod-<id>.scope`; `/` is the root
/// cgroup). No component is empty, `.` or `..`, and there is no NUL byte.
///
/// Serialized as the plain string, so JSON output is the same as with a `String`.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CgroupPath(String);

/// Text that is not a cgroup path this library reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cgroup path {shown:?}: {reason}")]
pub struct InvalidCgroupPath {
    /// The text (cut to 200 characters).
    pub shown: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl CgroupPath {
    /// The path, when `text` is one (see the type's rules).
    pub fn new(text: impl Into<String>) -> Result<CgroupPath, InvalidCgroupPath> {
        let text = text.into();
        match refusal(&text) {
            None => Ok(CgroupPath(text)),
            Some(reason) => Err(InvalidCgroupPath {
                shown: text.chars().take(200).collect(),
                reason,
            }),
        }
    }

    /// Like [`new`](Self::new), also taking the path without its leading `/` (`a/b`), as
    /// the cgroup reader's callers may write it.
    pub fn lenient(text: &str) -> Result<CgroupPath, InvalidCgroupPath> {
        if text.starts_with('/') {
            CgroupPath::new(text)
        } else {
            CgroupPath::new(format!("/{text}"))
        }
    }

    /// The path as written (`/libpod_parent/libpod-<id>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path to join onto a hierarchy's mount point (`libpod_parent/libpod-<id>`, empty
    /// for the root cgroup).
    pub fn relative(&self) -> &Path {
        Path::new(self.0.get(1..).unwrap_or(""))
    }
}

/// Why `text` is not a cgroup path, or `None` when it is one.
fn refusal(text: &str) -> Option<&'static str> {
    let Some(rest) = text.strip_prefix('/') else {
        return Some("does not start with `/`");
    };
    if text.contains('\0') {
        return Some("contains a NUL byte");
    }
    if rest.is_empty() {
        return None;
    }
    for comp in rest.split('/') {
        match comp {
            "" => return Some("has an empty component"),
            "." => return Some("contains `.`"),
            ".." => return Some("contains `..`"),
            _ => {}
        }
    }
    None
}

impl Clone for CgroupPath {
    fn clone(&self) -> Self {
        CgroupPath(self.0.clone())
    }

    /// Reuses the string: the collector refreshes each reused sample's cgroup every cycle.
    fn clone_from(&mut self, source: &Self) {
        self.0.clone_from(&source.0);
    }
}

impl std::ops::Deref for CgroupPath {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CgroupPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for CgroupPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for CgroupPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for CgroupPath {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for CgroupPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CgroupPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<CgroupPath> for String {
    fn from(p: CgroupPath) -> String {
        p.0
    }
}

impl TryFrom<String> for CgroupPath {
    type Error = InvalidCgroupPath;
    fn try_from(text: String) -> Result<Self, InvalidCgroupPath> {
        CgroupPath::new(text)
    }
}

impl TryFrom<&str> for CgroupPath {
    type Error = InvalidCgroupPath;
    fn try_from(text: &str) -> Result<Self, InvalidCgroupPath> {
        CgroupPath::new(text)
    }
}

impl std::str::FromStr for CgroupPath {
    type Err = InvalidCgroupPath;
    fn from_str(text: &str) -> Result<Self, InvalidCgroupPath> {
        CgroupPath::new(text)
    }
}

impl Serialize for CgroupPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CgroupPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CgroupPath::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::CgroupPath;

    #[test]
    fn only_paths_below_the_hierarchy_root_are_accepted() {
        let p = CgroupPath::new("/libpod_parent/libpod-ab").unwrap();
        assert_eq!(p.relative(), Path::new("libpod_parent/libpod-ab"));
        assert_eq!(CgroupPath::new("/").unwrap().relative(), Path::new(""));
        assert_eq!(
            CgroupPath::lenient("a/b").unwrap().relative(),
            Path::new("a/b")
        );
        for (bad, why) in [
            ("a/b", "start with `/`"),
            ("", "start with `/`"),
            ("/a/../../etc", "`..`"),
            ("/..", "`..`"),
            ("/a/./b", "`.`"),
            ("/a//b", "empty"),
            ("/a/", "empty"),
            ("/a\0b", "NUL"),
        ] {
            let err = CgroupPath::new(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad:?}: {err}");
        }
        assert!(CgroupPath::lenient("a/../..").is_err());
    }

    #[test]
    fn serializes_as_the_plain_string_and_checks_when_read() {
        let p = CgroupPath::new("/machine.slice/libpod-ab.scope").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"/machine.slice/libpod-ab.scope\"");
        assert_eq!(serde_json::from_str::<CgroupPath>(&json).unwrap(), p);
        assert!(serde_json::from_str::<CgroupPath>("\"/a/../b\"").is_err());
    }
}
