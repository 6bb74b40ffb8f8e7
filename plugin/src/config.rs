//! The `<Plugin libpodstats>` block: every option, its default, and its validation.
//!
//! Parsing is a pure function over the items the `collectd-plugin` crate hands us, so every
//! option and every error is unit-tested without collectd. Keys are matched case-insensitively
//! (as collectd's own plugins do). An unknown key, a missing or extra value, or a value of the
//! wrong kind is an error that names the option: the plugin then refuses to start rather than
//! run on a silent default.

use std::fmt;
use std::path::PathBuf;

use collectd_plugin::{ConfigItem, ConfigValue};
use regex::Regex;

/// Which metric groups are dispatched (`Metrics` option): the collector's own type, so the
/// groups dispatched are exactly the groups read. The seed's six groups are on by default
/// (`MetricGroups::BASIC`).
pub use libpod_stats::MetricGroups;

/// The names `Metrics` accepts, in the order the README lists them (the first six are the
/// default).
pub const METRIC_GROUP_NAMES: [&str; 12] = [
    "cpu",
    "memory",
    "pids",
    "blkio",
    "net",
    "oom",
    "throttle",
    "pressure",
    "memevents",
    "netdetail",
    "state",
    "seed",
];

/// Turns on the group `name` (any case); `false` when no group has that name.
fn enable_group(groups: &mut MetricGroups, name: &str) -> bool {
    let flag = match name.to_ascii_lowercase().as_str() {
        "cpu" => &mut groups.cpu,
        "memory" => &mut groups.memory,
        "pids" => &mut groups.pids,
        "blkio" => &mut groups.blkio,
        "net" => &mut groups.net,
        "oom" => &mut groups.oom,
        "throttle" => &mut groups.throttle,
        "pressure" => &mut groups.pressure,
        "memevents" => &mut groups.memevents,
        "netdetail" => &mut groups.netdetail,
        "state" => &mut groups.state,
        "seed" => &mut groups.seed,
        _ => return false,
    };
    *flag = true;
    true
}

/// What a container's plugin instance is built from (`InstanceBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceBy {
    /// The container name (the seed plugin's behaviour).
    #[default]
    Name,
    /// The 64-hex container id.
    Id,
    /// `<name>-<12-hex short id>`: readable and stable across renames of other containers.
    NameId,
    /// The systemd unit that runs the container (label `PODMAN_SYSTEMD_UNIT`, Quadlet):
    /// stable across the unit's restarts, though each restart makes a new container.
    Unit,
}

/// Which cpu percent `pod_cpu`'s `percent` carries (`CpuPercent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuPercent {
    /// As `podman stats`: 100 = one full core, so up to 100 x cores.
    #[default]
    Podman,
    /// Divided by the online cpus: 100 = the whole host.
    Normalized,
}

/// What `pod_memory` carries (`MemoryUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryUsage {
    /// The kernel's usage (v1 `memory.usage_in_bytes`, v2 `memory.current`): the seed
    /// plugin's number, podman 4.3's MemUsage on v1.
    #[default]
    Raw,
    /// Usage minus inactive file cache: podman 5.6+, kubelet and cAdvisor.
    WorkingSet,
    /// Anonymous memory (v2 `memory.stat` `anon`, v1 `total_rss`): podman 4.x-5.5 on v2.
    Anon,
}

/// The whole configuration of the plugin, defaults filled in.
#[derive(Debug, Clone)]
pub struct PluginConfig {
    /// Root all host paths resolve under (`HostRoot`), `None` = `/`.
    pub host_root: Option<PathBuf>,
    /// A captured series to replay instead of reading the host (`Replay`).
    pub replay: Option<PathBuf>,
    /// Groups dispatched (`Metrics`).
    pub metrics: MetricGroups,
    /// What names the container plugin instance (`InstanceBy`).
    pub instance_by: InstanceBy,
    /// Container names must match one of these when any is given (`Include`).
    pub include: Vec<Regex>,
    /// Container names matching any of these are skipped (`Exclude`).
    pub exclude: Vec<Regex>,
    /// Containers must have one of these labels, `KEY` or `KEY=VALUE`, when any is given
    /// (`IncludeLabel`).
    pub include_labels: Vec<String>,
    /// Containers with one of these labels are skipped (`ExcludeLabel`).
    pub exclude_labels: Vec<String>,
    /// The percent `pod_cpu` carries (`CpuPercent`).
    pub cpu_percent: CpuPercent,
    /// The bytes `pod_memory` carries (`MemoryUsage`).
    pub memory_usage: MemoryUsage,
    /// Dispatch pod aggregates under `libpodstats_pod` (`Pods`).
    pub pods: bool,
    /// Also look at rootless users' stores under their home directories (`RootlessStores`).
    pub rootless_stores: bool,
    /// Extra containers/storage graphroots (`Store`, repeatable).
    pub stores: Vec<PathBuf>,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            host_root: None,
            replay: None,
            metrics: MetricGroups::BASIC,
            instance_by: InstanceBy::Name,
            include: Vec::new(),
            exclude: Vec::new(),
            include_labels: Vec::new(),
            exclude_labels: Vec::new(),
            cpu_percent: CpuPercent::Podman,
            memory_usage: MemoryUsage::Raw,
            pods: true,
            rootless_stores: true,
            stores: Vec::new(),
        }
    }
}

impl PluginConfig {
    /// True when a container with this name passes `Include` and `Exclude`.
    pub fn selects(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(name)))
            && !self.exclude.iter().any(|r| r.is_match(name))
    }
}

/// A configuration the plugin refuses, naming the option (as written) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The key is not an option of this plugin.
    #[error("unknown option `{key}` (options: {})", OPTION_NAMES.join(", "))]
    UnknownOption {
        /// The key as written.
        key: String,
    },
    /// The option has the wrong number or kind of values, or a value out of its set.
    #[error("option `{key}`: {problem}")]
    BadValue {
        /// The key as written.
        key: String,
        /// What is wrong, with what was found.
        problem: String,
    },
    /// The option takes no sub-block.
    #[error("option `{key}` takes no sub-block")]
    UnexpectedBlock {
        /// The key as written.
        key: String,
    },
    /// Two options that cannot go together.
    #[error("options `{first}` and `{second}` cannot be used together")]
    Conflict {
        /// One option.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
}

/// Every option `<Plugin libpodstats>` accepts, as the README spells them.
pub const OPTION_NAMES: [&str; 13] = [
    "HostRoot",
    "Replay",
    "Metrics",
    "InstanceBy",
    "Include",
    "Exclude",
    "IncludeLabel",
    "ExcludeLabel",
    "CpuPercent",
    "MemoryUsage",
    "Pods",
    "RootlessStores",
    "Store",
];

/// Reads the children of `<Plugin libpodstats>` (or `None` when the block is absent) into a
/// [`PluginConfig`]: defaults for what is not given, an error for anything not understood.
pub fn parse(items: Option<&[ConfigItem<'_>]>) -> Result<PluginConfig, ConfigError> {
    let mut cfg = PluginConfig::default();
    let mut metrics: Option<MetricGroups> = None;
    for item in items.unwrap_or(&[]) {
        if !item.children.is_empty() {
            return Err(ConfigError::UnexpectedBlock {
                key: item.key.to_string(),
            });
        }
        match item.key.to_ascii_lowercase().as_str() {
            "hostroot" => cfg.host_root = Some(PathBuf::from(one_string(item)?)),
            "replay" => cfg.replay = Some(PathBuf::from(one_string(item)?)),
            "metrics" => {
                let groups = metrics.get_or_insert(MetricGroups::NONE);
                for name in strings(item)? {
                    if !enable_group(groups, name) {
                        return Err(bad(
                            item,
                            format!(
                                "unknown metric group \"{name}\" (groups: {})",
                                METRIC_GROUP_NAMES.join(", ")
                            ),
                        ));
                    }
                }
            }
            "instanceby" => {
                cfg.instance_by = match one_string(item)?.to_ascii_lowercase().as_str() {
                    "name" => InstanceBy::Name,
                    "id" => InstanceBy::Id,
                    "name-id" => InstanceBy::NameId,
                    "unit" => InstanceBy::Unit,
                    other => return Err(choice(item, other, "name, id, name-id or unit")),
                }
            }
            "include" => cfg.include.extend(regexes(item)?),
            "exclude" => cfg.exclude.extend(regexes(item)?),
            "includelabel" => cfg.include_labels.extend(labels(item)?),
            "excludelabel" => cfg.exclude_labels.extend(labels(item)?),
            "cpupercent" => {
                cfg.cpu_percent = match one_string(item)?.to_ascii_lowercase().as_str() {
                    "podman" => CpuPercent::Podman,
                    "normalized" => CpuPercent::Normalized,
                    other => return Err(choice(item, other, "podman or normalized")),
                }
            }
            "memoryusage" => {
                cfg.memory_usage = match one_string(item)?.to_ascii_lowercase().as_str() {
                    "raw" => MemoryUsage::Raw,
                    "working_set" => MemoryUsage::WorkingSet,
                    "anon" => MemoryUsage::Anon,
                    other => return Err(choice(item, other, "raw, working_set or anon")),
                }
            }
            "pods" => cfg.pods = one_bool(item)?,
            "rootlessstores" => cfg.rootless_stores = one_bool(item)?,
            "store" => {
                for s in strings(item)? {
                    // A store is a host path, read under the host root: it must be absolute.
                    if !s.starts_with('/') {
                        return Err(bad(item, format!("\"{s}\" is not an absolute path")));
                    }
                    cfg.stores.push(PathBuf::from(s));
                }
            }
            _ => {
                return Err(ConfigError::UnknownOption {
                    key: item.key.to_string(),
                })
            }
        }
    }
    if let Some(groups) = metrics {
        cfg.metrics = groups;
    }
    if cfg.replay.is_some() && cfg.host_root.is_some() {
        return Err(ConfigError::Conflict {
            first: "Replay",
            second: "HostRoot",
        });
    }
    Ok(cfg)
}

fn bad(item: &ConfigItem<'_>, problem: String) -> ConfigError {
    ConfigError::BadValue {
        key: item.key.to_string(),
        problem,
    }
}

fn choice(item: &ConfigItem<'_>, found: &str, expected: &str) -> ConfigError {
    bad(item, format!("\"{found}\" is not one of {expected}"))
}

/// A short description of a value for error messages.
struct Shown<'a>(&'a ConfigValue<'a>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ConfigValue::String(s) => write!(f, "the string \"{s}\""),
            ConfigValue::Number(n) => write!(f, "the number {n}"),
            ConfigValue::Boolean(b) => write!(f, "the boolean {b}"),
        }
    }
}

/// One or more quoted strings, nothing else.
fn strings<'a>(item: &'a ConfigItem<'a>) -> Result<Vec<&'a str>, ConfigError> {
    if item.values.is_empty() {
        return Err(bad(item, "expected at least one quoted string".into()));
    }
    item.values
        .iter()
        .map(|v| match v {
            ConfigValue::String(s) => Ok(*s),
            other => Err(bad(
                item,
                format!("expected a quoted string, found {}", Shown(other)),
            )),
        })
        .collect()
}

/// Exactly one quoted string, not empty.
fn one_string<'a>(item: &'a ConfigItem<'a>) -> Result<&'a str, ConfigError> {
    match item.values.as_slice() {
        [ConfigValue::String(s)] if !s.is_empty() => Ok(s),
        [ConfigValue::String(_)] => Err(bad(item, "expected a non-empty value".into())),
        [other] => Err(bad(
            item,
            format!("expected a quoted string, found {}", Shown(other)),
        )),
        values => Err(bad(
            item,
            format!("expected exactly one value, found {}", values.len()),
        )),
    }
}

/// Exactly one boolean: `true`/`false` unquoted (collectd also reads `yes`/`no`, `on`/`off`),
/// or the same words quoted.
fn one_bool(item: &ConfigItem<'_>) -> Result<bool, ConfigError> {
    match item.values.as_slice() {
        [ConfigValue::Boolean(b)] => Ok(*b),
        [ConfigValue::String(s)] => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(true),
            "false" | "no" | "off" => Ok(false),
            _ => Err(bad(item, format!("\"{s}\" is not true or false"))),
        },
        [other] => Err(bad(
            item,
            format!("expected true or false, found {}", Shown(other)),
        )),
        values => Err(bad(
            item,
            format!("expected exactly one value, found {}", values.len()),
        )),
    }
}

/// One or more label selections, `"KEY"` or `"KEY=VALUE"` (a key must not be empty).
fn labels(item: &ConfigItem<'_>) -> Result<Vec<String>, ConfigError> {
    strings(item)?
        .into_iter()
        .map(|s| match libpod_stats::parse_label(s) {
            Some(_) => Ok(s.to_string()),
            None => Err(bad(item, format!("\"{s}\" is not KEY or KEY=VALUE"))),
        })
        .collect()
}

/// One or more regular expressions (quoted strings that compile).
fn regexes(item: &ConfigItem<'_>) -> Result<Vec<Regex>, ConfigError> {
    strings(item)?
        .into_iter()
        .map(|s| {
            Regex::new(s).map_err(|e| bad(item, format!("bad regular expression \"{s}\": {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(key: &'a str, values: Vec<ConfigValue<'a>>) -> ConfigItem<'a> {
        ConfigItem {
            key,
            values,
            children: Vec::new(),
        }
    }

    fn s(v: &str) -> ConfigValue<'_> {
        ConfigValue::String(v)
    }

    fn err_of(items: &[ConfigItem<'_>]) -> String {
        parse(Some(items)).unwrap_err().to_string()
    }

    #[test]
    fn no_block_gives_the_defaults() {
        let cfg = parse(None).unwrap();
        assert_eq!(cfg.host_root, None);
        assert_eq!(cfg.replay, None);
        assert_eq!(cfg.metrics, MetricGroups::BASIC);
        assert_eq!(cfg.instance_by, InstanceBy::Name);
        assert_eq!(cfg.cpu_percent, CpuPercent::Podman);
        assert_eq!(cfg.memory_usage, MemoryUsage::Raw);
        assert!(cfg.pods);
        assert!(cfg.rootless_stores);
        assert!(cfg.stores.is_empty());
        assert!(cfg.selects("anything"));
        let empty = parse(Some(&[])).unwrap();
        assert_eq!(empty.metrics, MetricGroups::BASIC);
    }

    #[test]
    fn every_option_is_read() {
        let items = vec![
            item("HostRoot", vec![s("/snap")]),
            item("Metrics", vec![s("cpu"), s("memory")]),
            item("metrics", vec![s("OOM"), s("Pressure"), s("Seed")]),
            item("InstanceBy", vec![s("name-id")]),
            item("Include", vec![s("^web"), s("^db")]),
            item("Exclude", vec![s("-tmp$")]),
            item("CpuPercent", vec![s("normalized")]),
            item("MemoryUsage", vec![s("working_set")]),
            item("Pods", vec![ConfigValue::Boolean(false)]),
            item("ROOTLESSSTORES", vec![s("false")]),
            item("Store", vec![s("/a")]),
            item("Store", vec![s("/b"), s("/c")]),
            item("IncludeLabel", vec![s("tier=front"), s("app")]),
            item("excludelabel", vec![s("skip=yes")]),
        ];
        let cfg = parse(Some(&items)).unwrap();
        assert_eq!(cfg.host_root, Some(PathBuf::from("/snap")));
        assert_eq!(
            cfg.metrics,
            MetricGroups {
                cpu: true,
                memory: true,
                oom: true,
                pressure: true,
                seed: true,
                ..MetricGroups::NONE
            }
        );
        assert_eq!(cfg.instance_by, InstanceBy::NameId);
        assert_eq!(cfg.cpu_percent, CpuPercent::Normalized);
        assert_eq!(cfg.memory_usage, MemoryUsage::WorkingSet);
        assert!(!cfg.pods);
        assert!(!cfg.rootless_stores);
        assert_eq!(
            cfg.stores,
            vec![
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
        assert_eq!(cfg.include_labels, ["tier=front", "app"]);
        assert_eq!(cfg.exclude_labels, ["skip=yes"]);
        assert!(cfg.selects("web-1"));
        assert!(cfg.selects("db"));
        assert!(!cfg.selects("web-tmp"));
        assert!(!cfg.selects("cache"));
    }

    #[test]
    fn replay_and_instance_by_id() {
        let items = vec![
            item("Replay", vec![s("/series")]),
            item("InstanceBy", vec![s("id")]),
        ];
        let cfg = parse(Some(&items)).unwrap();
        assert_eq!(cfg.replay, Some(PathBuf::from("/series")));
        assert_eq!(cfg.instance_by, InstanceBy::Id);
    }

    #[test]
    fn memory_usage_anon() {
        let cfg = parse(Some(&[item("MemoryUsage", vec![s("ANON")])])).unwrap();
        assert_eq!(cfg.memory_usage, MemoryUsage::Anon);
    }

    #[test]
    fn exclude_alone_keeps_the_rest() {
        let cfg = parse(Some(&[item("Exclude", vec![s("^infra$")])])).unwrap();
        assert!(cfg.selects("web"));
        assert!(!cfg.selects("infra"));
    }

    #[test]
    fn an_unknown_option_is_named() {
        let e = err_of(&[item("Intervall", vec![s("1")])]);
        assert!(e.contains("unknown option `Intervall`"), "{e}");
    }

    #[test]
    fn bad_values_name_the_option_and_the_value() {
        let cases: Vec<(ConfigItem<'_>, &str)> = vec![
            (item("CpuPercent", vec![s("percent")]), "`CpuPercent`"),
            (item("MemoryUsage", vec![s("rss")]), "\"rss\""),
            (
                item("InstanceBy", vec![s("pid")]),
                "name, id, name-id or unit",
            ),
            (
                item("Metrics", vec![s("disk")]),
                "unknown metric group \"disk\"",
            ),
            (item("Metrics", vec![]), "at least one"),
            (item("Pods", vec![ConfigValue::Number(1.0)]), "the number 1"),
            (item("Pods", vec![s("maybe")]), "\"maybe\""),
            (item("RootlessStores", vec![]), "exactly one value"),
            (
                item("Include", vec![s("(")]),
                "bad regular expression \"(\"",
            ),
            (item("Exclude", vec![ConfigValue::Boolean(true)]), "boolean"),
            (
                item("HostRoot", vec![s("/a"), s("/b")]),
                "exactly one value",
            ),
            (item("HostRoot", vec![s("")]), "non-empty"),
            (item("Replay", vec![ConfigValue::Number(3.0)]), "`Replay`"),
            (item("Store", vec![ConfigValue::Number(3.0)]), "`Store`"),
            (item("Store", vec![s("var/lib")]), "not an absolute path"),
            (item("IncludeLabel", vec![s("=v")]), "not KEY or KEY=VALUE"),
            (
                item("ExcludeLabel", vec![ConfigValue::Number(1.0)]),
                "`ExcludeLabel`",
            ),
        ];
        for (it, needle) in cases {
            let key = it.key;
            let e = err_of(std::slice::from_ref(&it));
            assert!(e.contains(needle), "{key}: {e}");
            assert!(e.contains(&format!("`{key}`")), "{key}: {e}");
        }
    }

    #[test]
    fn a_sub_block_is_refused() {
        let mut it = item("Store", vec![s("/a")]);
        it.children.push(item("Nested", vec![]));
        assert!(err_of(&[it]).contains("takes no sub-block"));
    }

    #[test]
    fn replay_with_host_root_is_a_conflict() {
        let e = err_of(&[
            item("Replay", vec![s("/series")]),
            item("HostRoot", vec![s("/snap")]),
        ]);
        assert!(e.contains("`Replay` and `HostRoot`"), "{e}");
    }
}
