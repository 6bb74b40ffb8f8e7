//! The host's users as discovery needs them: who has a home where, and what `$HOME` and
//! `$UID` mean in a user's configuration values.

use std::path::{Path, PathBuf};

use super::stores::clean_abs;
use crate::parse::passwd;

/// The user database that maps homes to uids.
pub(crate) const PASSWD: &str = "/etc/passwd";

/// One user of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The user name.
    pub name: String,
    /// The uid.
    pub uid: u32,
    /// The home directory (absolute).
    pub home: PathBuf,
}

/// The users of an `/etc/passwd` text, in file order; lines that are not entries are
/// skipped (a user we cannot parse simply has no store found).
pub(crate) fn users_of_passwd(text: &str) -> Vec<User> {
    passwd::iter(text.as_bytes())
        .filter_map(|e| {
            Some(User {
                // Fields split at `:` of a `str` are `str`s themselves.
                name: std::str::from_utf8(e.name).ok()?.to_string(),
                uid: e.uid,
                home: e.home_path().to_path_buf(),
            })
        })
        .collect()
}

impl User {
    /// A configured value with this user's `$HOME` and `$UID` expanded, when the result is
    /// a clean absolute path.
    pub(crate) fn expand_path(&self, value: Option<&str>) -> Option<PathBuf> {
        value
            .map(|s| expand(s, &self.home, self.uid))
            .as_deref()
            .and_then(clean_abs)
    }

    /// True when `path` lies under this user's home (a home of `/` holds nothing).
    pub(crate) fn home_holds(&self, path: &Path) -> bool {
        self.home != Path::new("/") && path.starts_with(&self.home)
    }
}

/// Expands `$HOME`, `${HOME}`, `$UID` and `${UID}` as containers/storage does.
pub(crate) fn expand(value: &str, home: &Path, uid: u32) -> String {
    let home = home.to_string_lossy();
    let uid = uid.to_string();
    value
        .replace("${HOME}", &home)
        .replace("$HOME", &home)
        .replace("${UID}", &uid)
        .replace("$UID", &uid)
}

/// The uid of the user whose home holds `path` (the deepest such home): who owns a
/// directory where the file system does not say (a snapshot keeps no owners).
pub(crate) fn home_owner(users: &[User], path: &Path) -> Option<u32> {
    users
        .iter()
        .filter(|u| u.home_holds(path))
        .max_by_key(|u| u.home.components().count())
        .map(|u| u.uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion() {
        assert_eq!(
            expand("$HOME/x/${UID}/$UID", Path::new("/home/a"), 7),
            "/home/a/x/7/7"
        );
        let alice = User {
            name: "alice".into(),
            uid: 1000,
            home: PathBuf::from("/home/alice"),
        };
        assert_eq!(
            alice.expand_path(Some("${HOME}/s/$UID")),
            Some(PathBuf::from("/home/alice/s/1000"))
        );
        assert_eq!(alice.expand_path(Some("$HOME/../x")), None);
        assert_eq!(alice.expand_path(None), None);
    }

    #[test]
    fn users_and_the_homes_that_hold_a_path() {
        let users = users_of_passwd(crate::parse::passwd::tests::PASSWD_TEXT);
        let names: Vec<_> = users.iter().map(|u| (u.name.as_str(), u.uid)).collect();
        assert_eq!(names, [("root", 0), ("alice", 1000), ("bob", 1001)]);
        let path = Path::new("/home/alice/.local/share/containers/storage");
        assert_eq!(home_owner(&users, path), Some(1000));
        assert_eq!(home_owner(&users, Path::new("/home/alicex")), None);
        let slash = users_of_passwd("nobody:x:65534:65534::/:/bin/false\n");
        assert_eq!(home_owner(&slash, path), None);
    }

    proptest::proptest! {
        /// Any text is users or nothing, never a panic; every user has an absolute home,
        /// and any text expands.
        #[test]
        fn odd_text_never_panics(text in "\\PC{0,300}") {
            for u in users_of_passwd(&text) {
                proptest::prop_assert!(u.home.is_absolute());
            }
            let _ = expand(&text, Path::new("/home/x"), 7);
        }
    }
}
