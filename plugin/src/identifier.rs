//! Plugin instances collectd accepts, one per container (or pod), never shared.
//!
//! collectd keeps identifier fields in 128-byte buffers (127 bytes + NUL) and joins them with
//! `/` and `-` into `host/plugin-instance/type-instance`; writers turn them into file names,
//! graphite paths or Prometheus labels. So an instance must be short, must not contain `/`, and
//! is safest in a small alphabet. The rule, applied to the text [`InstanceBy`] picks (the name,
//! the id, or `<name>-<short id>`):
//!
//! 1. **Valid text is kept as is**: 1 to 127 bytes of `A-Z a-z 0-9 _ . -` (every name podman
//!    itself accepts that is not too long).
//! 2. **Anything else is made valid**: each other character becomes `_`, the result is cut to
//!    118 bytes, and `-` plus 8 hex digits of the FNV-1a hash of the *original* text is added.
//!    The hash keeps two names that differ only in replaced or cut characters apart. An empty
//!    text becomes `_-<hash>`.
//! 3. **Collisions are resolved over the whole set**: when two containers end up with the same
//!    instance (the same name in two stores, a crafted name equal to another's rule-2 form, a
//!    hash collision), each of them gets `-<12-hex short id>` appended (the base cut so the
//!    whole stays within 127 bytes); if that still collides, the whole id's hash, and last a
//!    counter `-2`, `-3`, ... in the order of (base, id, name). Instances that did not collide
//!    are reserved first and never change because of another container.
//!
//! The result depends only on the set of containers, not their order.

use std::collections::{HashMap, HashSet};

use crate::config::InstanceBy;

/// collectd's limit on an identifier field, without the terminating NUL.
pub const MAX_LEN: usize = 127;

/// Length of the hash suffix added by rule 2, with its `-`.
const HASH_SUFFIX_LEN: usize = 9;

/// Characters kept as they are.
fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// True when `s` is a valid instance by rule 1.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_LEN && s.chars().all(is_allowed)
}

/// FNV-1a (32 bit): small, fixed across Rust versions and platforms (unlike std's hasher), so
/// an instance never changes with a rebuild.
fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `base` cut to leave room for `-<suffix>`, then the suffix. `base` is ASCII here.
fn with_suffix(base: &str, suffix: &str) -> String {
    let keep = MAX_LEN.saturating_sub(suffix.len() + 1).min(base.len());
    let mut out = String::with_capacity(keep + 1 + suffix.len());
    out.push_str(&base[..keep]);
    out.push('-');
    out.push_str(suffix);
    out
}

/// Rules 1 and 2: a valid instance for one text, on its own.
pub fn sanitize(text: &str) -> String {
    if is_valid(text) {
        return text.to_string();
    }
    let replaced: String = text
        .chars()
        .map(|c| if is_allowed(c) { c } else { '_' })
        .collect();
    let base = if replaced.is_empty() {
        "_"
    } else {
        &replaced[..replaced.len().min(MAX_LEN - HASH_SUFFIX_LEN)]
    };
    with_suffix(base, &format!("{:08x}", fnv1a32(text.as_bytes())))
}

/// The text an instance is built from, as [`InstanceBy`] says (`Unit` needs the whole set:
/// see [`unit_text`]; alone it is the name).
pub fn instance_text(by: InstanceBy, name: &str, id: &str) -> String {
    match by {
        InstanceBy::Name | InstanceBy::Unit => name.to_string(),
        InstanceBy::Id => id.to_string(),
        InstanceBy::NameId => format!("{name}-{}", short_id(id)),
    }
}

/// `InstanceBy "unit"`: the unit's name when the unit runs this container alone,
/// `<unit>-<container name>` when it runs several (a `.kube` or `.pod` unit: `shared`), the
/// container name when no unit runs it. A rootless user's unit is prefixed `user<uid>-`, so
/// root's `web.service` and a user's never share an instance. Quadlet recreates a container
/// on each restart with a new id but the same unit: the instance stays.
pub fn unit_text(name: &str, uid: Option<u32>, unit: Option<&str>, shared: bool) -> String {
    let Some(unit) = unit else {
        return name.to_string();
    };
    let mut text = match uid {
        Some(uid) if uid != 0 => format!("user{uid}-{unit}"),
        _ => unit.to_string(),
    };
    if shared {
        text.push('-');
        text.push_str(name);
    }
    text
}

/// The first 12 characters of an id (podman's short id), or all of it when shorter.
fn short_id(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// One entity to name: its identity (container or pod id) and the text its instance comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Named<'a> {
    /// The id: it tells apart entities whose texts collide.
    pub id: &'a str,
    /// The text from [`instance_text`] (or a pod name).
    pub text: &'a str,
}

/// Rule 3 over a whole set: one valid, distinct instance per entry, in the entries' order.
///
/// Entries that are exactly equal (same id and text) are the same entity and get the same
/// instance.
pub fn assign(entries: &[Named<'_>]) -> Vec<String> {
    let bases: Vec<String> = entries.iter().map(|e| sanitize(e.text)).collect();

    // How many distinct entities want each base.
    let mut wanting: HashMap<&str, HashSet<(&str, &str)>> = HashMap::new();
    for (e, base) in entries.iter().zip(&bases) {
        wanting
            .entry(base.as_str())
            .or_default()
            .insert((e.id, e.text));
    }

    let mut used: HashSet<String> = HashSet::new();
    let mut out: Vec<Option<String>> = vec![None; entries.len()];
    for (slot, base) in out.iter_mut().zip(&bases) {
        if wanting.get(base.as_str()).map_or(0, HashSet::len) == 1 {
            used.insert(base.clone());
            *slot = Some(base.clone());
        }
    }

    // The colliding ones, in an order that depends only on the set.
    let mut pending: Vec<usize> = (0..entries.len()).filter(|&i| out[i].is_none()).collect();
    pending.sort_by(|&a, &b| {
        (&bases[a], entries[a].id, entries[a].text).cmp(&(
            &bases[b],
            entries[b].id,
            entries[b].text,
        ))
    });
    let mut given: HashMap<(&str, &str), String> = HashMap::new();
    for i in pending {
        let key = (entries[i].id, entries[i].text);
        if let Some(done) = given.get(&key) {
            out[i] = Some(done.clone());
            continue;
        }
        let base = &bases[i];
        let id_text = sanitize(entries[i].id);
        let mut candidates = vec![
            with_suffix(base, short_id(&id_text)),
            with_suffix(base, &format!("{:08x}", fnv1a32(entries[i].id.as_bytes()))),
        ];
        let mut n = 2u64;
        let chosen = loop {
            let candidate = if candidates.is_empty() {
                let c = with_suffix(base, &n.to_string());
                n += 1;
                c
            } else {
                candidates.remove(0)
            };
            if !used.contains(&candidate) && !wanting.contains_key(candidate.as_str()) {
                break candidate;
            }
        };
        used.insert(chosen.clone());
        given.insert(key, chosen.clone());
        out[i] = Some(chosen);
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

/// The instances of the last set of entities, reused while the set stays the same (the usual
/// case from one interval to the next), so a steady state assigns nothing and allocates
/// nothing.
#[derive(Debug, Default)]
pub struct InstanceCache {
    keys: Vec<(String, String)>,
    instances: Vec<String>,
}

impl InstanceCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The instances of `entries` (`(id, name)` pairs, in order), `text_of` giving the text
    /// an instance is built from.
    pub fn instances<'e>(
        &mut self,
        entries: impl Iterator<Item = (&'e str, &'e str)> + Clone,
        text_of: impl Fn(&str, &str) -> String,
    ) -> &[String] {
        let same = entries.clone().count() == self.keys.len()
            && entries
                .clone()
                .zip(&self.keys)
                .all(|((id, name), (kid, kname))| id == kid && name == kname);
        if !same {
            self.keys = entries
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect();
            let texts: Vec<String> = self.keys.iter().map(|(id, n)| text_of(id, n)).collect();
            let named: Vec<Named<'_>> = self
                .keys
                .iter()
                .zip(&texts)
                .map(|((id, _), text)| Named { id, text })
                .collect();
            self.instances = assign(&named);
        }
        &self.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID_A: &str = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001";
    const ID_B: &str = "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002";

    #[test]
    fn podman_names_are_kept() {
        for name in ["web", "my_db.1", "a-b-c", "X9", &"n".repeat(127)] {
            assert_eq!(sanitize(name), name);
        }
    }

    #[test]
    fn bad_characters_become_underscores_plus_a_hash() {
        let s = sanitize("we/b");
        assert!(s.starts_with("we_b-"), "{s}");
        assert_eq!(s.len(), 4 + HASH_SUFFIX_LEN);
        assert_ne!(sanitize("we/b"), sanitize("we b"));
        assert!(sanitize("café").starts_with("caf_-"));
        assert!(sanitize("").starts_with("_-"));
        assert!(is_valid(&sanitize("")));
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long = "x".repeat(200);
        let s = sanitize(&long);
        assert_eq!(s.len(), MAX_LEN);
        assert!(is_valid(&s));
        let longer = "x".repeat(201);
        assert_ne!(sanitize(&longer), s);
        assert_eq!(sanitize(&long), s, "deterministic");
    }

    #[test]
    fn the_hash_is_fixed() {
        // FNV-1a 32 of "a" is 0xe40c292c: a rebuild must never rename a series.
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(sanitize("a/"), "a_-02248fb9");
        assert_eq!(sanitize("we/b"), "we_b-e4183fb0");
    }

    #[test]
    fn unit_texts() {
        assert_eq!(
            unit_text("web", Some(0), Some("web.service"), false),
            "web.service"
        );
        assert_eq!(
            unit_text("web", Some(1000), Some("web.service"), false),
            "user1000-web.service"
        );
        assert_eq!(
            unit_text("db", None, Some("shop-pod.service"), true),
            "shop-pod.service-db"
        );
        assert_eq!(unit_text("plain", Some(0), None, false), "plain");
    }

    #[test]
    fn instance_text_follows_instance_by() {
        assert_eq!(instance_text(InstanceBy::Name, "web", ID_A), "web");
        assert_eq!(instance_text(InstanceBy::Id, "web", ID_A), ID_A);
        assert_eq!(
            instance_text(InstanceBy::NameId, "web", ID_A),
            "web-aaaaaaaaaaaa"
        );
    }

    #[test]
    fn the_same_name_in_two_stores_gets_short_ids() {
        let got = assign(&[
            Named {
                id: ID_B,
                text: "web",
            },
            Named {
                id: ID_A,
                text: "web",
            },
            Named {
                id: "c",
                text: "db",
            },
        ]);
        assert_eq!(got, vec!["web-bbbbbbbbbbbb", "web-aaaaaaaaaaaa", "db"]);
    }

    #[test]
    fn a_crafted_name_cannot_steal_an_instance() {
        let crafted = sanitize("we/b");
        let got = assign(&[
            Named {
                id: ID_A,
                text: "we/b",
            },
            Named {
                id: ID_B,
                text: &crafted,
            },
        ]);
        assert_ne!(got[0], got[1]);
        assert!(got.iter().all(|g| is_valid(g)));
    }

    #[test]
    fn a_suffixed_instance_never_takes_a_plain_one() {
        let got = assign(&[
            Named {
                id: ID_A,
                text: "web",
            },
            Named {
                id: ID_B,
                text: "web",
            },
            Named {
                id: "x",
                text: "web-aaaaaaaaaaaa",
            },
        ]);
        assert_eq!(got[2], "web-aaaaaaaaaaaa");
        assert_ne!(got[0], got[2]);
        assert_ne!(got[0], got[1]);
    }

    #[test]
    fn one_entity_listed_twice_keeps_one_instance() {
        let got = assign(&[
            Named {
                id: ID_A,
                text: "web",
            },
            Named {
                id: ID_A,
                text: "web",
            },
        ]);
        assert_eq!(got, vec!["web", "web"]);
    }

    #[test]
    fn the_cache_recomputes_only_when_the_set_changes() {
        let mut cache = InstanceCache::new();
        let text = |_: &str, name: &str| name.to_string();
        let a = [(ID_A, "web"), (ID_B, "db")];
        assert_eq!(cache.instances(a.iter().copied(), text), ["web", "db"]);
        assert_eq!(cache.instances(a.iter().copied(), text), ["web", "db"]);
        let b = [(ID_A, "web"), (ID_B, "web")];
        assert_eq!(
            cache.instances(b.iter().copied(), text),
            ["web-aaaaaaaaaaaa", "web-bbbbbbbbbbbb"]
        );
        assert!(cache.instances([].into_iter(), text).is_empty());
    }

    fn entity() -> impl Strategy<Value = (String, String)> {
        (
            prop_oneof![
                "[a-c]{1,3}",
                "[a-c/ é]{0,4}",
                "x{120,140}",
                Just("a-aaaaaaaaaaaa".to_string()),
            ],
            prop_oneof!["[ab]{1,2}", "a{12}[0-9]{0,3}", Just(String::new())],
        )
    }

    proptest! {
        #[test]
        fn instances_are_valid_distinct_and_order_free(
            set in proptest::collection::hash_set(entity(), 0..12)
        ) {
            let list: Vec<(String, String)> = set.into_iter().collect();
            let named: Vec<Named<'_>> = list.iter().map(|(t, id)| Named { id, text: t }).collect();
            let got = assign(&named);
            let distinct: HashSet<&String> = got.iter().collect();
            prop_assert_eq!(distinct.len(), got.len());
            for g in &got {
                prop_assert!(is_valid(g), "{:?}", g);
            }
            let mut reversed = named.clone();
            reversed.reverse();
            let mut got_rev = assign(&reversed);
            got_rev.reverse();
            prop_assert_eq!(got, got_rev);
        }

        #[test]
        fn sanitize_is_always_valid(text in any::<String>()) {
            prop_assert!(is_valid(&sanitize(&text)));
        }
    }
}
