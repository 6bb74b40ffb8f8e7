//! Podman-style container filters (`--filter key=value`), as `podman ps` and `podman stats`
//! apply them in podman 5:
//!
//! - `name=REGEX`: the name matches the regular expression anywhere (unanchored);
//! - `id=ID`: the id starts with a hexadecimal value, or matches it as a regular expression;
//! - `label=KEY` or `label=KEY=VALUE`: the container has the label (with that value);
//! - `pod=POD`: the container's pod has this name, or an id starting with it;
//! - `status=STATE`: the state's name (`created`, `running`, `paused`, `exited`, ...).
//!
//! Values of the same key are ORed and different keys ANDed, except `label`, whose values
//! must all match (podman's one exception). Container arguments (`stats NAME|ID ...`)
//! are one more ORed group: an exact name, or an id or a prefix of one.

use regex::Regex;

use super::model::{Container, ContainerState};

/// A filter that is not `key=value` with a known key and a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad filter `{filter}`: {reason}")]
pub struct FilterError {
    /// The filter as given.
    pub filter: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The keys `--filter` accepts.
pub(crate) const FILTER_KEYS: [&str; 5] = ["name", "id", "label", "pod", "status"];

/// A set of container filters; the empty set matches every container.
#[derive(Debug, Clone, Default)]
pub struct ContainerFilter {
    names: Vec<Regex>,
    ids: Vec<IdPattern>,
    labels: Vec<(String, Option<String>)>,
    pods: Vec<String>,
    statuses: Vec<ContainerState>,
    refs: Vec<String>,
    /// When any: a container must have one of these labels (the plugin's `IncludeLabel`).
    any_labels: Vec<LabelMatch>,
    /// A container with one of these labels is left out (the plugin's `ExcludeLabel`).
    no_labels: Vec<LabelMatch>,
}

/// `KEY` (the label is set) or `KEY=VALUE` (set to exactly this value).
type LabelMatch = (String, Option<String>);

/// Parses `KEY` or `KEY=VALUE`; `None` when the key is empty.
pub fn parse_label(text: &str) -> Option<LabelMatch> {
    let (k, v) = match text.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (text, None),
    };
    (!k.is_empty()).then(|| (k.to_string(), v))
}

fn has_label(c: &Container, (k, v): &LabelMatch) -> bool {
    match (c.labels.get(k), v) {
        (Some(have), Some(want)) => have == want,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// An `id=` value: a hexadecimal prefix, or else a regular expression.
#[derive(Debug, Clone)]
enum IdPattern {
    Prefix(String),
    Regex(Regex),
}

impl ContainerFilter {
    /// Parses `key=value` filters; the first malformed one is an error naming it.
    pub fn parse<S: AsRef<str>>(filters: &[S]) -> Result<ContainerFilter, FilterError> {
        let mut out = ContainerFilter::default();
        for filter in filters {
            out.add(filter.as_ref())?;
        }
        Ok(out)
    }

    fn add(&mut self, filter: &str) -> Result<(), FilterError> {
        let bad = |reason: String| FilterError {
            filter: filter.to_string(),
            reason,
        };
        let Some((key, value)) = filter.split_once('=') else {
            return Err(bad(format!(
                "expected key=value (keys: {})",
                FILTER_KEYS.join(", ")
            )));
        };
        if value.is_empty() {
            return Err(bad(format!("`{key}` needs a value")));
        }
        let regex =
            |v: &str| Regex::new(v).map_err(|e| bad(format!("bad regular expression: {e}")));
        match key {
            "name" => self.names.push(regex(value)?),
            "id" if value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.ids.push(IdPattern::Prefix(value.to_ascii_lowercase()));
            }
            "id" => self.ids.push(IdPattern::Regex(regex(value)?)),
            "label" => {
                let label =
                    parse_label(value).ok_or_else(|| bad("a label filter needs a key".into()))?;
                self.labels.push(label);
            }
            "pod" => self.pods.push(value.to_string()),
            "status" => {
                let state = ContainerState::ALL
                    .into_iter()
                    .find(|s| s.as_str() == value)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            ContainerState::ALL.iter().map(|s| s.as_str()).collect();
                        bad(format!("unknown status (one of {})", names.join(", ")))
                    })?;
                self.statuses.push(state);
            }
            other => {
                return Err(bad(format!(
                    "unknown key `{other}` (keys: {})",
                    FILTER_KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// Adds container arguments: each an exact name, a full id or an id prefix (ORed).
    pub fn with_refs(mut self, refs: &[String]) -> ContainerFilter {
        self.refs.extend(refs.iter().cloned());
        self
    }

    /// Adds label selections: with `include`, a container must have one of those labels
    /// (ORed); with `exclude`, none of those. Each is `KEY` or `KEY=VALUE`; an empty key is
    /// returned as the error.
    pub fn with_label_selection<'a>(
        mut self,
        include: &'a [String],
        exclude: &'a [String],
    ) -> Result<ContainerFilter, &'a str> {
        for (texts, into) in [
            (include, &mut self.any_labels),
            (exclude, &mut self.no_labels),
        ] {
            for t in texts {
                into.push(parse_label(t).ok_or(t.as_str())?);
            }
        }
        Ok(self)
    }

    /// True when a `status=` filter was given: it selects stopped containers too, so the
    /// caller lists every container (as `podman ps` does).
    pub fn has_status(&self) -> bool {
        !self.statuses.is_empty()
    }

    /// True when the filter matches every container.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.ids.is_empty()
            && self.labels.is_empty()
            && self.pods.is_empty()
            && self.statuses.is_empty()
            && self.refs.is_empty()
            && self.any_labels.is_empty()
            && self.no_labels.is_empty()
    }

    /// True when `c` passes every filter.
    pub fn matches(&self, c: &Container) -> bool {
        fn any<T>(set: &[T], f: impl Fn(&T) -> bool) -> bool {
            set.is_empty() || set.iter().any(f)
        }
        any(&self.names, |r| r.is_match(&c.name))
            && any(&self.ids, |p| match p {
                IdPattern::Prefix(p) => c.id.starts_with(p.as_str()),
                IdPattern::Regex(r) => r.is_match(&c.id),
            })
            && self.labels.iter().all(|l| has_label(c, l))
            && any(&self.any_labels, |l| has_label(c, l))
            && !self.no_labels.iter().any(|l| has_label(c, l))
            && any(&self.pods, |p| {
                c.pod_name.as_deref() == Some(p.as_str())
                    || c.pod_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with(p.as_str()))
            })
            && any(&self.statuses, |s| *s == c.state)
            && any(&self.refs, |r| refers_to(r, &c.name, &c.id))
    }

    /// The container arguments that name none of the listed `(name, id)` pairs (what was
    /// shown: containers, or samples).
    pub fn unmatched_refs<'a>(&'a self, listed: &[(&str, &str)]) -> Vec<&'a str> {
        self.refs
            .iter()
            .filter(|r| !listed.iter().any(|(name, id)| refers_to(r, name, id)))
            .map(String::as_str)
            .collect()
    }
}

/// True when a container argument names the container `name`/`id`: its exact name, or its
/// id or an id prefix.
pub(crate) fn refers_to(arg: &str, name: &str, id: &str) -> bool {
    name == arg || (!arg.is_empty() && id.starts_with(arg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libpod::model::Source;

    fn ctr(name: &str, id: char, pod: Option<(&str, char)>, labels: &[(&str, &str)]) -> Container {
        Container {
            id: id.to_string().repeat(64).parse().unwrap(),
            name: name.into(),
            pod_id: pod.map(|(_, c)| c.to_string().repeat(64).parse().unwrap()),
            pod_name: pod.map(|(n, _)| n.to_string()),
            image: None,
            state: ContainerState::Running,
            pid: None,
            conmon_pid: None,
            cgroup: None,
            created_at_ns: None,
            started_at_ns: None,
            source: Source::Sqlite,
            uid: Some(0),
            graph_root: None,
            is_infra: false,
            netns: None,
            cgroup_manager: None,
            cgroup_parent: None,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            systemd_unit: None,
            exit_code: None,
            restart_count: None,
            health_log: None,
            health: None,
            health_code: None,
            health_failing_streak: None,
        }
    }

    fn names(filters: &[&str], cs: &[Container]) -> Vec<String> {
        let f = ContainerFilter::parse(filters).unwrap();
        cs.iter()
            .filter(|c| f.matches(c))
            .map(|c| c.name.clone())
            .collect()
    }

    fn host() -> Vec<Container> {
        let mut exited = ctr("db", 'b', None, &[("tier", "back")]);
        exited.state = ContainerState::Exited;
        vec![
            ctr(
                "web-1",
                'a',
                Some(("shop", 'e')),
                &[("tier", "front"), ("env", "prod")],
            ),
            exited,
            ctr("web-2", 'c', None, &[("tier", "front")]),
        ]
    }

    #[test]
    fn name_is_an_unanchored_regex_and_the_same_key_is_ored() {
        assert_eq!(names(&["name=eb"], &host()), ["web-1", "web-2"]);
        assert_eq!(names(&["name=^web-1$"], &host()), ["web-1"]);
        assert_eq!(names(&["name=^db", "name=2$"], &host()), ["db", "web-2"]);
    }

    #[test]
    fn id_is_a_prefix_or_a_regex() {
        assert_eq!(names(&["id=aaa"], &host()), ["web-1"]);
        assert_eq!(names(&["id=AAA"], &host()), ["web-1"]);
        assert_eq!(names(&["id=aaa", "id=cc"], &host()), ["web-1", "web-2"]);
        assert!(
            names(&["id=baa"], &host()).is_empty(),
            "a prefix, not a substring"
        );
        assert_eq!(names(&["id=^b+$"], &host()), ["db"]);
    }

    #[test]
    fn different_keys_are_anded_and_labels_all_must_match() {
        assert_eq!(names(&["name=web", "label=env"], &host()), ["web-1"]);
        assert_eq!(names(&["label=tier=front"], &host()), ["web-1", "web-2"]);
        assert_eq!(
            names(&["label=tier=front", "label=env=prod"], &host()),
            ["web-1"],
            "podman ANDs label filters"
        );
        assert!(names(&["label=tier=side"], &host()).is_empty());
        assert!(
            names(&["label=tier=fro"], &host()).is_empty(),
            "values are exact"
        );
    }

    #[test]
    fn pod_and_status() {
        assert_eq!(names(&["pod=shop"], &host()), ["web-1"]);
        assert_eq!(names(&["pod=eee"], &host()), ["web-1"]);
        assert!(names(&["pod=sho"], &host()).is_empty(), "a name is exact");
        assert_eq!(names(&["status=exited"], &host()), ["db"]);
        assert_eq!(
            names(&["status=exited", "status=running"], &host()),
            ["web-1", "db", "web-2"]
        );
        assert!(ContainerFilter::parse(&["status=exited"])
            .unwrap()
            .has_status());
    }

    #[test]
    fn container_arguments_are_names_or_id_prefixes() {
        let f = ContainerFilter::default().with_refs(&["web-2".into(), "aa".into(), "zz".into()]);
        let cs = host();
        let matched: Vec<&Container> = cs.iter().filter(|c| f.matches(c)).collect();
        let got: Vec<&str> = matched.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["web-1", "web-2"]);
        let listed: Vec<(&str, &str)> = matched
            .iter()
            .map(|c| (c.name.as_str(), c.id.as_str()))
            .collect();
        assert_eq!(f.unmatched_refs(&listed), ["zz"]);
        assert!(ContainerFilter::default().is_empty());
        assert!(ContainerFilter::default().matches(&cs[0]));
    }

    #[test]
    fn label_selection_includes_any_and_excludes_all() {
        let select = |inc: &[&str], exc: &[&str]| {
            let inc: Vec<String> = inc.iter().map(|s| s.to_string()).collect();
            let exc: Vec<String> = exc.iter().map(|s| s.to_string()).collect();
            let f = ContainerFilter::default()
                .with_label_selection(&inc, &exc)
                .unwrap();
            host()
                .into_iter()
                .filter(|c| f.matches(c))
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(select(&["env=prod", "tier=back"], &[]), ["web-1", "db"]);
        assert_eq!(select(&[], &["env"]), ["db", "web-2"]);
        assert_eq!(select(&["tier=front"], &["env=prod"]), ["web-2"]);
        assert_eq!(
            ContainerFilter::default()
                .with_label_selection(&["=x".to_string()], &[])
                .unwrap_err(),
            "=x"
        );
    }

    #[test]
    fn malformed_filters_are_errors_naming_them() {
        for (filter, needle) in [
            ("name", "expected key=value"),
            ("name=", "needs a value"),
            ("name=(", "bad regular expression"),
            ("colour=red", "unknown key `colour`"),
            ("status=dead", "unknown status"),
            ("label==x", "needs a key"),
            ("id=zz(", "bad regular expression"),
        ] {
            let e = ContainerFilter::parse(&[filter]).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(&format!("`{filter}`")), "{text}");
            assert!(text.contains(needle), "{filter}: {text}");
        }
    }
}
