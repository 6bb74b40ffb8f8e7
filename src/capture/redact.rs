//! Redaction of config and state JSON before it leaves the host.
//!
//! A capture is meant to be shared (attached to a bug, checked into fixtures), so by default
//! every value that commonly carries a secret or identifies a site is replaced, while the
//! structure, the keys and every number the reader needs stay as they were:
//!
//! - environment values (`env`: `KEY=value` becomes `KEY=REDACTED`; a map keeps its keys),
//! - label and annotation values (`labels`, `annotations`; the keys stay),
//! - secrets (`secrets`, `envSecrets`: every string inside),
//! - mount sources (`source` anywhere, e.g. OCI `mounts[].source`, podman `overlayVolumes`),
//! - host names (`hostname`, `hostAdd` / `hostadd` entries, `domainname`).
//!
//! Keys are matched case-insensitively, since podman's config, the OCI spec and the Docker
//! view each spell them their own way. Numbers, booleans and nulls are never changed, so a
//! redacted document deserializes into the same types as the original.

use serde_json::Value;

/// What a redacted string value becomes.
pub const REDACTED: &str = "REDACTED";

/// How a key's value is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// `KEY=value` strings (or a map of them): keep the key, replace the value.
    Env,
    /// A map whose keys stay and whose string values are replaced.
    MapValues,
    /// Every string anywhere inside is replaced.
    AllStrings,
    /// Look further down.
    Descend,
}

fn rule_for(key: &str) -> Rule {
    let key = key.to_ascii_lowercase();
    match key.as_str() {
        "env" => Rule::Env,
        "labels" | "annotations" => Rule::MapValues,
        "secrets" | "envsecrets" | "secretenv" | "source" | "hostname" | "hostadd"
        | "domainname" => Rule::AllStrings,
        _ => Rule::Descend,
    }
}

/// Redacts a JSON document given as bytes and serializes it again (compact).
///
/// An error means the bytes are not JSON; a caller that must not leak then withholds the
/// file rather than copy it unredacted.
pub fn redact_json_bytes(bytes: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let mut value: Value = serde_json::from_slice(bytes)?;
    redact_value(&mut value);
    serde_json::to_vec(&value)
}

/// Redacts a parsed JSON document in place.
pub fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                apply(rule_for(key), child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

fn apply(rule: Rule, value: &mut Value) {
    match rule {
        Rule::Descend => redact_value(value),
        Rule::AllStrings => redact_all_strings(value),
        Rule::MapValues => match value {
            Value::Object(map) => map.values_mut().for_each(redact_all_strings),
            other => redact_all_strings(other),
        },
        Rule::Env => match value {
            Value::Array(items) => items.iter_mut().for_each(redact_env_entry),
            Value::Object(map) => map.values_mut().for_each(redact_all_strings),
            other => redact_all_strings(other),
        },
    }
}

/// `KEY=value` becomes `KEY=REDACTED`; a bare `KEY` (inherit from the caller) stays.
fn redact_env_entry(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(eq) = s.find('=') {
                if eq + 1 < s.len() {
                    s.truncate(eq + 1);
                    s.push_str(REDACTED);
                }
            }
        }
        other => redact_all_strings(other),
    }
}

fn redact_all_strings(value: &mut Value) {
    match value {
        Value::String(s) if !s.is_empty() => *s = REDACTED.to_string(),
        Value::Array(items) => items.iter_mut().for_each(redact_all_strings),
        Value::Object(map) => map.values_mut().for_each(redact_all_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn podman_config_is_redacted_but_keeps_its_shape() {
        let mut config = json!({
            "id": "abc",
            "name": "web",
            "labels": {"com.example.owner": "alice@example.com"},
            "hostname": "db-primary.internal",
            "hostAdd": ["vault:10.0.0.5"],
            "secrets": [{"Secret": {"Name": "dbpass", "ID": "s1"}, "UID": 0}],
            "envSecrets": {"DB_PASS": {"Name": "dbpass"}},
            "overlayVolumes": [{"source": "/home/alice/src", "dest": "/src"}],
            "cgroupParent": "/libpod_parent",
            "spec": {
                "hostname": "db-primary",
                "process": {"env": ["PATH=/bin", "TOKEN=hunter2", "EMPTY=", "INHERIT"]},
                "annotations": {"io.podman.annotations.secret": "s3cr3t"},
                "mounts": [{"destination": "/data", "source": "/srv/private", "type": "bind"}],
                "linux": {"cgroupsPath": "/libpod_parent/libpod-abc", "resources": {"memory": {"limit": 1024}}}
            }
        });
        redact_value(&mut config);
        let text = config.to_string();
        for leaked in [
            "alice",
            "db-primary",
            "10.0.0.5",
            "dbpass",
            "/home/alice",
            "hunter2",
            "s3cr3t",
            "/srv/private",
            "/bin",
        ] {
            assert!(!text.contains(leaked), "{leaked} leaked: {text}");
        }
        assert_eq!(config["spec"]["process"]["env"][0], "PATH=REDACTED");
        assert_eq!(config["spec"]["process"]["env"][2], "EMPTY=");
        assert_eq!(config["spec"]["process"]["env"][3], "INHERIT");
        assert_eq!(config["labels"]["com.example.owner"], REDACTED);
        assert_eq!(config["secrets"][0]["UID"], 0);
        // What the reader needs survives.
        assert_eq!(config["cgroupParent"], "/libpod_parent");
        assert_eq!(
            config["spec"]["linux"]["cgroupsPath"],
            "/libpod_parent/libpod-abc"
        );
        assert_eq!(
            config["spec"]["linux"]["resources"]["memory"]["limit"],
            1024
        );
        assert_eq!(config["spec"]["mounts"][0]["destination"], "/data");
    }

    #[test]
    fn keys_match_case_insensitively() {
        let mut v = json!({"Config": {"Env": ["A=b"], "Labels": {"x": "y"}, "Hostname": "h"}});
        redact_value(&mut v);
        assert_eq!(
            v,
            json!({"Config": {"Env": ["A=REDACTED"], "Labels": {"x": "REDACTED"}, "Hostname": "REDACTED"}})
        );
    }

    #[test]
    fn bytes_round_trip_and_non_json_is_an_error() {
        let out = redact_json_bytes(br#"{"env":["K=V"],"pid":42}"#).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"env":["K=REDACTED"],"pid":42})
        );
        assert!(redact_json_bytes(b"not json").is_err());
    }
}
