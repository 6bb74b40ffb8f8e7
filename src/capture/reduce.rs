//! The host's text files a redacted capture takes, reduced to what the readers use.
//!
//! - `/etc/passwd`: the users who own a captured store, each as `name:x:uid:::home:` (the
//!   password, gid, GECOS and shell fields are blank; discovery reads name, uid and home);
//! - `/proc/<pid>/stat`: the command name between the parentheses is blanked (the parent
//!   pid after it is what is read);
//! - `/proc/self/mountinfo`: only the lines of the cgroup mounts the layout uses (no other
//!   mount point, source or volume name);
//! - `storage.conf` / `containers.conf`: a new TOML file with only the keys discovery reads
//!   (`[storage]` `driver`, `graphroot`, `runroot`, `rootless_storage_path`,
//!   `transient_store`; `[engine]` `static_dir`, `tmp_dir`, `database_backend`).
//! - a container's health check log (`healthcheck.log`): a new JSON object with only
//!   `Status` (one of podman's words) and `FailingStreak`; the `Log` of the check command's
//!   outputs, which can hold anything the command prints, is never copied.
//!
//! A file that cannot be reduced (it does not parse) is not shared at all.

use std::path::Path;

use crate::cgroup::layout::CgroupLayout;
use crate::libpod::discover::StoreReport;
use crate::libpod::stores::StoreKind;
use crate::libpod::users::users_of_passwd;
use crate::parse::mountinfo;

/// The TOML keys kept, per table: what `libpod::config_keys` models.
pub(crate) const TOML_KEYS: &[(&str, &[&str])] = &[
    (
        "storage",
        &[
            "driver",
            "graphroot",
            "runroot",
            "rootless_storage_path",
            "transient_store",
        ],
    ),
    ("engine", &["static_dir", "tmp_dir", "database_backend"]),
];

/// `/etc/passwd` reduced to the users that own one of `stores` (a rootless store's user, or
/// a home that holds a store's graph root, as podman 6 or podman 5 reads it):
/// `name:x:uid:::home:`.
pub(crate) fn passwd(text: &[u8], stores: &[StoreReport]) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut out = String::new();
    for user in users_of_passwd(&text) {
        let owns = stores
            .iter()
            .flat_map(|s| std::iter::once(&s.store).chain(s.store.podman5.as_deref()))
            .any(|store| match &store.kind {
                StoreKind::Rootless { user: name } if *name == user.name => true,
                _ => user.home_holds(&store.graph_root),
            });
        // A name or home with a line break or colon could not have been parsed from one
        // line; the check keeps the output one entry per line all the same.
        let home = user.home.to_string_lossy();
        if owns && !home.contains(['\n', ':']) && !user.name.contains('\n') {
            out.push_str(&format!("{}:x:{}:::{home}:\n", user.name, user.uid));
        }
    }
    out.into_bytes()
}

/// `/proc/<pid>/stat` with the command name blanked: `pid () state ppid ...`. `None` when
/// the text has no `(`...`)`.
pub(crate) fn proc_stat(text: &[u8]) -> Option<Vec<u8>> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let mut out = text[..=open].to_vec();
    out.extend_from_slice(&text[close..]);
    Some(out)
}

/// The lines of `mountinfo` that mount a cgroup file system where the layout reads it.
/// `None` when it does not parse (the reader would refuse it too).
pub(crate) fn mountinfo(text: &[u8]) -> Option<Vec<u8>> {
    let layout = CgroupLayout::from_mountinfo(text).ok()?;
    let used: Vec<&Path> = layout
        .iter()
        .flat_map(|l| l.hierarchies().filter_map(|h| l.mount(h)))
        .collect();
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(Ok(m)) = mountinfo::iter(line).next() else {
            continue;
        };
        let cgroup = m.fs_type == b"cgroup" || m.fs_type == b"cgroup2";
        if cgroup && used.contains(&m.mount_point.to_path_buf().as_path()) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    Some(out)
}

/// A new TOML text with only the [`TOML_KEYS`] of `text`; `None` when it does not parse.
/// A kept key of the wrong type (a table or array) keeps its type, emptied.
pub(crate) fn containers_toml(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let parsed: toml::Table = text.parse().ok()?;
    let mut out = toml::Table::new();
    for (table, keys) in TOML_KEYS {
        let Some(toml::Value::Table(found)) = parsed.get(*table) else {
            continue;
        };
        let mut kept = toml::Table::new();
        for key in *keys {
            if let Some(v) = found.get(*key) {
                let v = match v {
                    toml::Value::Table(_) => toml::Value::Table(toml::Table::new()),
                    toml::Value::Array(_) => toml::Value::Array(Vec::new()),
                    other => other.clone(),
                };
                kept.insert((*key).to_string(), v);
            }
        }
        out.insert((*table).to_string(), toml::Value::Table(kept));
    }
    toml::to_string(&out).ok().map(String::into_bytes)
}

/// A health check log reduced to what the health reader uses: `{"Status": ..,
/// "FailingStreak": ..}`, the status as one of podman's words (anything else as `unknown`).
/// `None` when it does not parse.
pub fn health_log(text: &[u8]) -> Option<Vec<u8>> {
    let health = crate::libpod::health::parse(text).ok()?;
    serde_json::to_vec(&serde_json::json!({
        "Status": health.status.as_str(),
        "FailingStreak": health.failing_streak,
    }))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::stores::{Store, StoreKind};
    use std::path::PathBuf;

    fn report(kind: StoreKind, graph_root: &str) -> StoreReport {
        StoreReport {
            store: Store {
                kind,
                graph_root: PathBuf::from(graph_root),
                run_root: None,
                driver: None,
                transient: false,
                static_dir: None,
                tmp_dir: None,
                db_backend: Default::default(),
                uid: None,
                podman5: None,
            },
            state_file: None,
            source: None,
            containers: 0,
        }
    }

    #[test]
    fn passwd_keeps_store_owners_name_uid_home() {
        let text = b"root:x:0:0:root:/root:/bin/bash\n\
            alice:x:1000:1000:Alice Secret,Room 1:/home/alice:/bin/zsh\n\
            bob:x:1001:1001::/home/bob:/bin/sh\n\
            svc:x:999:999::/:/usr/sbin/nologin\n";
        let stores = [
            report(StoreKind::Root, "/var/lib/containers/storage"),
            report(
                StoreKind::Rootless {
                    user: "alice".into(),
                },
                "/srv/alice-store",
            ),
            report(StoreKind::Explicit, "/home/bob/x/storage"),
        ];
        let out = String::from_utf8(passwd(text, &stores)).unwrap();
        assert_eq!(
            out,
            "alice:x:1000:::/home/alice:\nbob:x:1001:::/home/bob:\n"
        );
        let back = users_of_passwd(&out);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].home, PathBuf::from("/home/alice"));
    }

    #[test]
    fn stat_loses_its_command_name_only() {
        let text = b"4242 (secret) cmd)) S 4200 4242 4242 0 -1 4194560\n";
        let out = proc_stat(text).unwrap();
        assert_eq!(out, b"4242 () S 4200 4242 4242 0 -1 4194560\n");
        assert_eq!(crate::parse::proc_stat::parent_pid(&out), Ok(4200));
        assert_eq!(proc_stat(b"no parens"), None);
    }

    #[test]
    fn mountinfo_keeps_the_used_cgroup_mounts() {
        let text = b"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
            31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
            32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
            40 22 0:29 / /var/lib/secret-volume/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            41 22 8:2 / /home/alice/secret rw - ext4 /dev/sda2 rw\n";
        let out = mountinfo(text).unwrap();
        let s = String::from_utf8(out.clone()).unwrap();
        assert_eq!(s.lines().count(), 2, "{s}");
        assert!(!s.contains("secret"), "{s}");
        assert_eq!(
            CgroupLayout::from_mountinfo(&out).unwrap(),
            CgroupLayout::from_mountinfo(text).unwrap()
        );
        assert_eq!(mountinfo(b"garbage\n"), None);
    }

    #[test]
    fn toml_keeps_the_read_keys_only() {
        let text = br#"
# a comment with a secret
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
transient_store = true
secret = "x"
[storage.options]
mount_program = "/secret/fuse"
[engine]
static_dir = "/srv/libpod"
env = ["TOKEN=secret"]
"#;
        let out = containers_toml(text).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("secret"), "{s}");
        let conf = crate::libpod::config_keys::StorageConf::parse(&s).unwrap();
        assert_eq!(conf.driver.as_deref(), Some("overlay"));
        assert_eq!(conf.transient_store, Some(true));
        assert!(s.contains("static_dir = \"/srv/libpod\""), "{s}");
        let engine = crate::libpod::config_keys::EngineKeys::parse(&s).unwrap();
        assert_eq!(engine.static_dir.as_deref(), Some("/srv/libpod"));
        assert_eq!(containers_toml(b"x = ["), None);
    }

    #[test]
    fn health_logs_keep_status_and_streak_only() {
        let log =
            br#"{"Status":"unhealthy","FailingStreak":4,"Log":[{"Output":"pw=hunter2"}],"x":"y"}"#;
        let kept = health_log(log).unwrap();
        assert_eq!(kept, br#"{"FailingStreak":4,"Status":"unhealthy"}"#);
        assert_eq!(
            health_log(br#"{"Status":"pw=hunter2","FailingStreak":0}"#).unwrap(),
            br#"{"FailingStreak":0,"Status":"unknown"}"#
        );
        assert_eq!(health_log(b"pw=hunter2"), None);
    }
}
