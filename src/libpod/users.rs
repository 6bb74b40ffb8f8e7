//! The host's users as discovery needs them: who has a home where, and what `$HOME` and
//! `$UID` mean in a user's configuration values.

use std::path::{Path, PathBuf};

use super::stores::clean_abs;
use crate::parse::passwd::PasswdEntry;

/// The user database that maps homes to uids.
pub const PASSWD: &str = "/etc/passwd";

/// Expands `$HOME`, `${HOME}`, `$UID` and `${UID}` as containers/storage does.
pub fn expand(value: &str, home: &Path, uid: u32) -> String {
    let home = home.to_string_lossy();
    let uid = uid.to_string();
    value
        .replace("${HOME}", &home)
        .replace("$HOME", &home)
        .replace("${UID}", &uid)
        .replace("$UID", &uid)
}

/// A configured path with the user's `$HOME` and `$UID` expanded, when it is clean and
/// absolute.
pub(crate) fn expand_abs(value: &Option<String>, user: &PasswdEntry) -> Option<PathBuf> {
    value
        .as_deref()
        .map(|s| expand(s, &user.home, user.uid))
        .as_deref()
        .and_then(clean_abs)
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
    }

    proptest::proptest! {
        /// Any text expands without a panic.
        #[test]
        fn odd_text_expands(text in "\\PC{0,300}") {
            let _ = expand(&text, Path::new("/home/x"), 7);
        }
    }
}
