//! Which `containers.conf` and `storage.conf` files podman reads, and in which order.
//!
//! Podman 6 and podman 5 read them differently, and a host may run either:
//!
//! - **Podman 6** (one parser for every file, `go.podman.io/storage/pkg/configfile`): the
//!   *first* main file that exists of the user's own, `/etc/containers/` and
//!   `/usr/share/containers/`; then the drop-in `*.conf` files of `<name>.conf.d`,
//!   `<name>.rootful.conf.d` (uid 0) or `<name>.rootless.conf.d` and its `<uid>/`
//!   subdirectory (other uids) under `/usr/share/containers/` and `/etc/containers/`, and
//!   the user's `<name>.conf.d`. A drop-in's name in a later directory replaces the same name
//!   in an earlier one; the drop-ins then apply in name order, each later key winning.
//! - **Podman 5** `containers.conf`: every main file, in layers (`/usr/share`, `/etc`, its
//!   `containers.conf.d`, for rootless users `/etc/containers/containers.rootless.conf` with
//!   its `.d` and `.d/<uid>` directories, then the user's file and `.d`). Podman 5's
//!   `storage.conf` is one file, no drop-ins ([`SYSTEM_STORAGE_CONF`]).
//!
//! We read as a root agent for every user, so the user's directory is always
//! `$HOME/.config/containers`: a user's `$XDG_CONFIG_HOME`, and the `CONTAINERS_CONF`,
//! `CONTAINERS_STORAGE_CONF` and `*_OVERRIDE` variables, live in that user's environment
//! and are not ours to know.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The vendor's configuration directory.
pub(crate) const VENDOR_DIR: &str = "/usr/share/containers";
/// The administrator's configuration directory.
pub(crate) const ADMIN_DIR: &str = "/etc/containers";
/// Podman 5's `storage.conf` (one file, no drop-ins): the first of these that exists, in the
/// order containers/storage tries them.
pub(crate) const SYSTEM_STORAGE_CONF: [&str; 2] = [
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
];

/// Whose configuration: podman reads the files of the user it runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConfUser<'a> {
    /// The uid (0 reads the `rootful` drop-ins, others the `rootless` ones).
    pub uid: u32,
    /// The home directory, whose `.config/containers` holds the user's own files.
    pub home: &'a Path,
}

impl ConfUser<'_> {
    fn user_dir(&self) -> PathBuf {
        self.home.join(".config/containers")
    }
}

/// Podman 6's main files for `name` (`containers`, `storage`), highest priority first:
/// only the first that exists is read.
pub(crate) fn podman6_main_files(name: &str, user: ConfUser<'_>) -> [PathBuf; 3] {
    let file = format!("{name}.conf");
    [
        user.user_dir().join(&file),
        Path::new(ADMIN_DIR).join(&file),
        Path::new(VENDOR_DIR).join(&file),
    ]
}

/// Podman 6's drop-in directories for `name`, lowest priority first.
pub(crate) fn podman6_dropin_dirs(name: &str, user: ConfUser<'_>) -> Vec<PathBuf> {
    let mut dirs = Vec::with_capacity(7);
    for base in [VENDOR_DIR, ADMIN_DIR] {
        let base = Path::new(base);
        dirs.push(base.join(format!("{name}.conf.d")));
        if user.uid == 0 {
            dirs.push(base.join(format!("{name}.rootful.conf.d")));
        } else {
            let special = base.join(format!("{name}.rootless.conf.d"));
            dirs.push(special.clone());
            dirs.push(special.join(user.uid.to_string()));
        }
    }
    dirs.push(user.user_dir().join(format!("{name}.conf.d")));
    dirs
}

/// Podman 6's drop-in files from each directory's `*.conf` names (directories lowest
/// priority first): one file per name, the last directory's, in name order.
pub(crate) fn podman6_merge_dropins(listings: &[(PathBuf, Vec<String>)]) -> Vec<PathBuf> {
    let mut by_name: BTreeMap<&str, &Path> = BTreeMap::new();
    for (dir, names) in listings {
        for n in names {
            by_name.insert(n, dir);
        }
    }
    by_name
        .into_iter()
        .map(|(name, dir)| dir.join(name))
        .collect()
}

/// One layer of podman 5's `containers.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layer {
    /// A file, read when it exists.
    File(PathBuf),
    /// A directory's `*.conf` files, in name order.
    Dir(PathBuf),
}

/// Podman 5's `containers.conf` layers, first applied first.
pub(crate) fn podman5_containers_conf(user: ConfUser<'_>) -> Vec<Layer> {
    let admin = Path::new(ADMIN_DIR);
    let mut layers = vec![
        Layer::File(Path::new(VENDOR_DIR).join("containers.conf")),
        Layer::File(admin.join("containers.conf")),
        Layer::Dir(admin.join("containers.conf.d")),
    ];
    if user.uid > 0 {
        let rootless = admin.join("containers.rootless.conf");
        let rootless_d = admin.join("containers.rootless.conf.d");
        layers.push(Layer::File(rootless));
        layers.push(Layer::Dir(rootless_d.clone()));
        layers.push(Layer::Dir(rootless_d.join(user.uid.to_string())));
    }
    layers.push(Layer::File(user.user_dir().join("containers.conf")));
    layers.push(Layer::Dir(user.user_dir().join("containers.conf.d")));
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| p.display().to_string()).collect()
    }

    /// Podman 6.0.0-rc1 (d0c9bb1b49), `vendor/go.podman.io/storage/pkg/configfile/parse.go`,
    /// `getSearchPaths`: the user's main file, then `/etc`'s, then `/usr/share`'s; and
    /// `getDropInPaths` / `getDropInPathsUnderMain`: the rootless `<uid>` directory, the
    /// rootless one, the plain `.d` under each main path (highest priority first; we list
    /// them lowest first, as `readDropInsFromPaths` walks them backwards).
    #[test]
    fn podman6_search_paths_for_a_rootless_user() {
        let alice = ConfUser {
            uid: 1000,
            home: Path::new("/home/alice"),
        };
        assert_eq!(
            strings(&podman6_main_files("containers", alice)),
            [
                "/home/alice/.config/containers/containers.conf",
                "/etc/containers/containers.conf",
                "/usr/share/containers/containers.conf",
            ]
        );
        assert_eq!(
            strings(&podman6_dropin_dirs("storage", alice)),
            [
                "/usr/share/containers/storage.conf.d",
                "/usr/share/containers/storage.rootless.conf.d",
                "/usr/share/containers/storage.rootless.conf.d/1000",
                "/etc/containers/storage.conf.d",
                "/etc/containers/storage.rootless.conf.d",
                "/etc/containers/storage.rootless.conf.d/1000",
                "/home/alice/.config/containers/storage.conf.d",
            ]
        );
    }

    /// Podman 6.0.0-rc1 (d0c9bb1b49), `vendor/go.podman.io/storage/pkg/configfile/parse.go`,
    /// `getDropInPathsUnderMain`: uid 0 reads `<name>.rootful.conf.d` and no per-uid
    /// directory; root's own `$HOME/.config/containers` counts too.
    #[test]
    fn podman6_search_paths_for_root() {
        let root = ConfUser {
            uid: 0,
            home: Path::new("/root"),
        };
        assert_eq!(
            strings(&podman6_dropin_dirs("containers", root)),
            [
                "/usr/share/containers/containers.conf.d",
                "/usr/share/containers/containers.rootful.conf.d",
                "/etc/containers/containers.conf.d",
                "/etc/containers/containers.rootful.conf.d",
                "/root/.config/containers/containers.conf.d",
            ]
        );
    }

    /// Podman 6.0.0-rc1 (d0c9bb1b49), `vendor/go.podman.io/storage/pkg/configfile/parse.go`,
    /// `readDropInsFromPaths`: a name in a higher-priority directory replaces the same name
    /// elsewhere (only that file is read), and all files apply sorted by name.
    #[test]
    fn podman6_dropins_merge_by_name() {
        let listings = vec![
            (
                PathBuf::from("/usr/share/containers/containers.conf.d"),
                vec![
                    "10-vendor.conf".to_string(),
                    "99-important.conf".to_string(),
                ],
            ),
            (
                PathBuf::from("/etc/containers/containers.rootless.conf.d/1000"),
                vec!["50-mine.conf".to_string()],
            ),
            (
                PathBuf::from("/home/a/.config/containers/containers.conf.d"),
                vec!["10-vendor.conf".to_string(), "33-opt.conf".to_string()],
            ),
        ];
        assert_eq!(
            strings(&podman6_merge_dropins(&listings)),
            [
                "/home/a/.config/containers/containers.conf.d/10-vendor.conf",
                "/home/a/.config/containers/containers.conf.d/33-opt.conf",
                "/etc/containers/containers.rootless.conf.d/1000/50-mine.conf",
                "/usr/share/containers/containers.conf.d/99-important.conf",
            ]
        );
    }

    /// Podman 5.8.3 (93dbfd0d86), `vendor/go.podman.io/common/pkg/config/new.go`,
    /// `systemConfigs`: `/usr/share`, `/etc`, `/etc`'s `.d`, the rootless overrides (file,
    /// `.d`, `.d/<uid>`), then the user's file and `.d`, each layered over the previous.
    #[test]
    fn podman5_layers() {
        let bob = ConfUser {
            uid: 1001,
            home: Path::new("/home/bob"),
        };
        let f = |p: &str| Layer::File(PathBuf::from(p));
        let d = |p: &str| Layer::Dir(PathBuf::from(p));
        assert_eq!(
            podman5_containers_conf(bob),
            [
                f("/usr/share/containers/containers.conf"),
                f("/etc/containers/containers.conf"),
                d("/etc/containers/containers.conf.d"),
                f("/etc/containers/containers.rootless.conf"),
                d("/etc/containers/containers.rootless.conf.d"),
                d("/etc/containers/containers.rootless.conf.d/1001"),
                f("/home/bob/.config/containers/containers.conf"),
                d("/home/bob/.config/containers/containers.conf.d"),
            ]
        );
        let root = ConfUser {
            uid: 0,
            home: Path::new("/root"),
        };
        assert_eq!(podman5_containers_conf(root).len(), 5);
    }
}
