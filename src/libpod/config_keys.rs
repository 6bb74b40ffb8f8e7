//! The keys of `storage.conf` and `containers.conf` that decide where a store and its
//! database are, as TOML models; which files hold them is `config_files`,
//! how they combine into stores is [`stores`](super::stores).

use serde::{Deserialize, Serialize};

mod comment_lines;

use comment_lines::blank_comment_lines;

/// containers.conf `[engine] database_backend`: which libpod database podman uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DbBackend {
    /// Unset: `db.sql` when it exists, else `bolt_state.db`.
    #[default]
    Default,
    /// `sqlite`: only `db.sql`.
    Sqlite,
    /// `boltdb`: only `bolt_state.db` (podman 5 and older; podman 6 refuses to start).
    Boltdb,
}

impl DbBackend {
    /// The value podman accepts (`""`, `sqlite`, `boltdb`), or `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "" => Some(DbBackend::Default),
            "sqlite" => Some(DbBackend::Sqlite),
            "boltdb" => Some(DbBackend::Boltdb),
            _ => None,
        }
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == DbBackend::Default
    }
}

/// `storage.conf`'s `[storage]` keys that matter here.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct StorageConf {
    /// `driver`.
    pub driver: Option<String>,
    /// `graphroot`.
    pub graphroot: Option<String>,
    /// `runroot`.
    pub runroot: Option<String>,
    /// `rootless_storage_path`.
    pub rootless_storage_path: Option<String>,
    /// `transient_store`.
    pub transient_store: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StorageConfFile {
    storage: StorageConf,
}

impl StorageConf {
    /// Parses a `storage.conf` (unknown keys and tables are ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str::<StorageConfFile>(&blank_comment_lines(text))
            .map(|f| f.storage)
            .map_err(|e| e.to_string().trim_end().to_string())
    }
}

/// containers.conf `[engine]` keys that move libpod's database.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EngineKeys {
    /// `static_dir`.
    pub static_dir: Option<String>,
    /// `tmp_dir`.
    pub tmp_dir: Option<String>,
    /// `database_backend`.
    pub database_backend: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContainersConfFile {
    engine: EngineKeys,
}

impl EngineKeys {
    /// Parses a `containers.conf` (unknown keys and tables are ignored); a
    /// `database_backend` podman would refuse is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = toml::from_str::<ContainersConfFile>(&blank_comment_lines(text))
            .map(|f| f.engine)
            .map_err(|e| e.to_string().trim_end().to_string())?;
        match keys.database_backend.as_deref().map(DbBackend::parse) {
            Some(None) => Err(format!(
                "unsupported database_backend {:?}",
                keys.database_backend.unwrap_or_default()
            )),
            _ => Ok(keys),
        }
    }

    /// Layers `later` over these keys: each key it sets wins.
    pub(crate) fn apply(&mut self, later: &EngineKeys) {
        for (mine, theirs) in [
            (&mut self.static_dir, &later.static_dir),
            (&mut self.tmp_dir, &later.tmp_dir),
            (&mut self.database_backend, &later.database_backend),
        ] {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
    }

    pub(crate) fn db_backend(&self) -> DbBackend {
        self.database_backend
            .as_deref()
            .and_then(DbBackend::parse)
            .unwrap_or_default()
    }
}

impl StorageConf {
    /// Layers `later` over this file's keys: each key it sets wins.
    pub(crate) fn apply(&mut self, later: &StorageConf) {
        for (mine, theirs) in [
            (&mut self.driver, &later.driver),
            (&mut self.graphroot, &later.graphroot),
            (&mut self.runroot, &later.runroot),
            (
                &mut self.rootless_storage_path,
                &later.rootless_storage_path,
            ),
        ] {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
        if later.transient_store.is_some() {
            self.transient_store = later.transient_store;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_conf_keys() {
        let conf = StorageConf::parse(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"/srv/g\"\ntransient_store = true\n\
             [storage.options]\nmount_program = \"/x\"\n",
        )
        .unwrap();
        assert_eq!(conf.driver.as_deref(), Some("vfs"));
        assert_eq!(conf.graphroot.as_deref(), Some("/srv/g"));
        assert_eq!(conf.transient_store, Some(true));
        assert!(StorageConf::parse("[storage\n").is_err());
    }

    proptest::proptest! {
        /// Any text as storage.conf or containers.conf is parsed or refused, never a panic.
        #[test]
        fn odd_config_text_never_panics(text in "\\PC{0,300}") {
            let _ = StorageConf::parse(&text);
            let _ = EngineKeys::parse(&text);
        }
    }
}
