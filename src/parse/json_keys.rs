//! A JSON object cut down to the keys a reader wants, before serde sees it.
//!
//! A container's config JSON in libpod's state is about 20 KB, most of it the OCI spec
//! (its seccomp profile alone holds hundreds of short strings) that discovery never reads.
//! serde skips unknown keys by scanning every value through its full tokenizer (1.6 M
//! instructions for ten containers). [`keep_keys`] walks the top-level object once, skips
//! each unwanted value with a byte scan that tracks only strings and brackets, and copies
//! the wanted `"key": value` pairs, in their order, into a small object for serde to parse.
//!
//! It answers `None` whenever the input is not a well-formed object at the top level, or an
//! unwanted value's strings or brackets do not close: the caller then parses the original
//! bytes, so such input fails with serde's own message. An unwanted value is checked for
//! what the scan sees (strings closed, no control characters in them, brackets matched);
//! the grammar of its numbers and literals is not checked, serde would only have skipped
//! them.

/// Bytes of nesting the skip scan follows before giving up (`None`: serde decides).
const MAX_DEPTH: usize = 128;

/// The top-level object of `json` with only the pairs whose (raw, unescaped) key `keep`
/// accepts, as a new JSON object; `None` when `json` is not a plain object this scan
/// understands (see the module docs). A key written with escapes is always kept.
pub fn keep_keys(json: &[u8], keep: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let mut at = skip_ws(json, 0);
    if json.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    let mut out = Vec::with_capacity(512);
    out.push(b'{');
    at = skip_ws(json, at);
    if json.get(at) == Some(&b'}') {
        at = skip_ws(json, at + 1);
        out.push(b'}');
        return (at == json.len()).then_some(out);
    }
    loop {
        // "key"
        if json.get(at) != Some(&b'"') {
            return None;
        }
        let key_start = at;
        let key_end = skip_string(json, at)?;
        let raw_key = &json[key_start + 1..key_end - 1];
        at = skip_ws(json, key_end);
        if json.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(json, at + 1);
        let value_end = skip_value(json, at)?;
        if raw_key.contains(&b'\\') || keep(raw_key) {
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(&json[key_start..value_end]);
        }
        at = skip_ws(json, value_end);
        match json.get(at) {
            Some(b',') => at = skip_ws(json, at + 1),
            Some(b'}') => {
                at = skip_ws(json, at + 1);
                out.push(b'}');
                return (at == json.len()).then_some(out);
            }
            _ => return None,
        }
    }
}

fn skip_ws(json: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = json.get(at) {
        at += 1;
    }
    at
}

/// The index just past the string that opens at `at` (a `"`); `None` when it does not close
/// or holds a raw control character.
fn skip_string(json: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i += json
            .get(i..)?
            .iter()
            .position(|&b| IN_STRING[usize::from(b)])?;
        match json[i] {
            b'"' => return Some(i + 1),
            // An escape: the next byte is taken as it is (serde checks escapes it parses).
            b'\\' if i + 1 < json.len() => i += 2,
            _ => return None,
        }
    }
}

/// The bytes that end a run of a string's plain bytes: its closing quote, an escape, a raw
/// control character.
static IN_STRING: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The bytes outside strings that a skip of a nested value stops at.
static STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t
};

/// The index just past the value that starts at `at`: a string, an object or array (brackets
/// matched, strings inside skipped), or a scalar (up to the next delimiter).
fn skip_value(json: &[u8], at: usize) -> Option<usize> {
    match *json.get(at)? {
        b'"' => skip_string(json, at),
        b'{' | b'[' => skip_nested(json, at),
        b',' | b'}' | b']' | b':' => None,
        _ => {
            let n = json[at..]
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(json.len() - at);
            let scalar = &json[at..at + n];
            scalar
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                .then_some(at + n)
        }
    }
}

/// Skips an object or array opening at `at`, its brackets matched by kind.
fn skip_nested(json: &[u8], at: usize) -> Option<usize> {
    let mut stack = [0u8; MAX_DEPTH];
    let mut depth = 0usize;
    let mut i = at;
    loop {
        i += json
            .get(i..)?
            .iter()
            .position(|&b| STRUCTURAL[usize::from(b)])?;
        match json[i] {
            b'"' => {
                i = skip_string(json, i)?;
                continue;
            }
            open @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return None;
                }
                stack[depth] = if open == b'{' { b'}' } else { b']' };
                depth += 1;
            }
            close => {
                depth = depth.checked_sub(1)?;
                if stack[depth] != close {
                    return None;
                }
                if depth == 0 {
                    return Some(i + 1);
                }
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::keep_keys;

    fn kept(json: &str, keys: &[&str]) -> Option<String> {
        keep_keys(json.as_bytes(), |k| keys.iter().any(|w| w.as_bytes() == k))
            .map(|v| String::from_utf8(v).expect("utf-8"))
    }

    #[test]
    fn keeps_wanted_pairs_in_order() {
        let json = r#" { "spec": {"linux": {"seccomp": {"syscalls": [{"names": ["a", "b\"]}"]}]}}},
            "name" : "web", "x": [1, {"y": null}], "id":"ab", "n": -1.5e3, "t": true } "#;
        assert_eq!(
            kept(json, &["name", "id", "n", "t"]).as_deref(),
            Some(r#"{"name" : "web","id":"ab","n": -1.5e3,"t": true}"#)
        );
        assert_eq!(kept("{}", &["a"]).as_deref(), Some("{}"));
        assert_eq!(kept(r#"{"a":1}"#, &[]).as_deref(), Some("{}"));
    }

    #[test]
    fn duplicate_and_escaped_keys_are_kept_for_serde() {
        assert_eq!(
            kept(r#"{"id":"a","id":"b","i\u0064":"c","z":0}"#, &["id"]).as_deref(),
            Some(r#"{"id":"a","id":"b","i\u0064":"c"}"#)
        );
    }

    #[test]
    fn what_the_scan_cannot_vouch_for_is_left_to_serde() {
        for bad in [
            "",
            "[]",
            "null",
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            r#"{"a":[1,2}"#,
            r#"{"a":{"b":"c]}"#,
            r#"{"a":"unterminated}"#,
            "{\"a\":\"raw\ncontrol\"}",
            r#"{"a" 1}"#,
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{a:1}"#,
            r#"{"a":@}"#,
            r#"{"a":"x\"#,
        ] {
            assert_eq!(kept(bad, &["b"]), None, "{bad:?}");
        }
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(kept(&deep, &["b"]), None);
    }
}
