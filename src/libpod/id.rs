//! The container id: checked once where a record is read, trusted everywhere after.
//!
//! An id from a database or `containers.json` becomes part of host paths (run directories,
//! cgroup names), so a crafted one (`../..`) must never get that far. Every reader of
//! podman's records turns the text into a [`ContainerId`] first; code further in takes the
//! type and does not check again.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A container (or pod) id as podman makes them: exactly 64 lowercase hex digits.
///
/// Serialized as the plain string, so JSON output is the same as with a `String`.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(String);

/// Text that is not a container id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} id {shown:?} is not 64 lowercase hex digits")]
pub struct InvalidId {
    /// `container` or `pod`.
    pub what: &'static str,
    /// The text (cut to 80 characters: it came from a file and may be anything).
    pub shown: String,
}

impl ContainerId {
    /// The id, when `text` is exactly 64 lowercase hex digits.
    pub fn new(text: impl Into<String>) -> Result<ContainerId, InvalidId> {
        Self::checked(text.into(), "container")
    }

    /// Like [`new`](Self::new) for a pod id (same form; the error says `pod`).
    pub fn new_pod(text: impl Into<String>) -> Result<ContainerId, InvalidId> {
        Self::checked(text.into(), "pod")
    }

    fn checked(text: String, what: &'static str) -> Result<ContainerId, InvalidId> {
        if is_id(&text) {
            Ok(ContainerId(text))
        } else {
            Err(InvalidId {
                what,
                shown: text.chars().take(80).collect(),
            })
        }
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, as `podman ps` shows ids.
    pub fn short(&self) -> &str {
        // Always 64 ASCII bytes.
        self.0.get(..12).unwrap_or(&self.0)
    }
}

/// True when `text` is exactly 64 lowercase hex digits.
fn is_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Clone for ContainerId {
    fn clone(&self) -> Self {
        ContainerId(self.0.clone())
    }

    /// Reuses the string: the collector refreshes each reused sample's id every cycle.
    fn clone_from(&mut self, source: &Self) {
        self.0.clone_from(&source.0);
    }
}

impl std::ops::Deref for ContainerId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ContainerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An id is one safe path component (a run directory, a bundle).
impl AsRef<std::path::Path> for ContainerId {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

impl std::borrow::Borrow<str> for ContainerId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ContainerId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ContainerId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ContainerId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ContainerId> for String {
    fn eq(&self, other: &ContainerId) -> bool {
        *self == other.0
    }
}

impl PartialEq<ContainerId> for str {
    fn eq(&self, other: &ContainerId) -> bool {
        self == other.0
    }
}

impl PartialEq<ContainerId> for &str {
    fn eq(&self, other: &ContainerId) -> bool {
        *self == other.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<ContainerId> for String {
    fn from(id: ContainerId) -> String {
        id.0
    }
}

impl TryFrom<String> for ContainerId {
    type Error = InvalidId;
    fn try_from(text: String) -> Result<Self, InvalidId> {
        ContainerId::new(text)
    }
}

impl TryFrom<&str> for ContainerId {
    type Error = InvalidId;
    fn try_from(text: &str) -> Result<Self, InvalidId> {
        ContainerId::new(text)
    }
}

impl std::str::FromStr for ContainerId {
    type Err = InvalidId;
    fn from_str(text: &str) -> Result<Self, InvalidId> {
        ContainerId::new(text)
    }
}

impl Serialize for ContainerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ContainerId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ContainerId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::ContainerId;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn only_64_lowercase_hex_digits_are_ids() {
        assert_eq!(ContainerId::new(ID).unwrap().as_str(), ID);
        assert_eq!(ContainerId::new(ID).unwrap().short(), "0123456789ab");
        for bad in [
            "",
            &ID[1..],
            &ID.to_uppercase(),
            &format!("{ID}0"),
            "../../../../etc/passwd",
            &format!("{}/x", &ID[2..]),
        ] {
            let err = ContainerId::new(bad).unwrap_err();
            assert!(err.to_string().contains("64 lowercase hex"), "{err}");
        }
        assert!(ContainerId::new_pod("x")
            .unwrap_err()
            .to_string()
            .starts_with("pod id"));
    }

    #[test]
    fn serializes_as_the_plain_string_and_checks_when_read() {
        let id = ContainerId::new(ID).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{ID}\""));
        let back: ContainerId = serde_json::from_str(&format!("\"{ID}\"")).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ContainerId>("\"../x\"").is_err());
    }
}
