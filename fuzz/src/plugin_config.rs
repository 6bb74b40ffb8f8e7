//! The plugin's configuration parser, fed collectd configuration text.
//!
//! collectd parses `<Plugin libpodstats>` itself and hands the plugin a tree of items; the
//! plugin's [`podstats::config::parse`] is a pure function over that tree. The fuzz input
//! is the block's body in collectd's syntax (`Key "string" 1.5 true`, `<Block v>` ...
//! `</Block>`), read here by a small reader into the same tree, so the corpus stays readable
//! and seeds can be real configurations.

use collectd_plugin::{ConfigItem, ConfigValue};

/// An item with owned strings (collectd's strings are unescaped copies too).
#[derive(Debug, Default)]
struct Item {
    key: String,
    values: Vec<Value>,
    children: Vec<Item>,
}

#[derive(Debug)]
enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
}

/// Splits a line into tokens: quoted strings (with `\"` and `\\`) and bare words.
fn tokens(line: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    '"' => break,
                    c => s.push(c),
                }
            }
            out.push((true, s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push((false, s));
        }
    }
    out
}

fn value(quoted: bool, word: String) -> Value {
    if quoted {
        return Value::Str(word);
    }
    match word.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Value::Bool(true),
        "false" | "no" | "off" => Value::Bool(false),
        _ => match word.parse::<f64>() {
            Ok(n) => Value::Num(n),
            Err(_) => Value::Str(word),
        },
    }
}

/// Reads the items of collectd configuration text (bounded nesting; unbalanced blocks are
/// closed at the end, as a lenient reader would).
fn items(text: &str) -> Vec<Item> {
    let mut stack: Vec<Item> = vec![Item::default()];
    for line in text.lines() {
        let line = line.trim();
        if let Some(inner) = line.strip_prefix("</") {
            let _ = inner;
            if stack.len() > 1 {
                if let Some(done) = stack.pop() {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(done);
                    }
                }
            }
            continue;
        }
        let (open, body) = match line.strip_prefix('<') {
            Some(rest) => (true, rest.strip_suffix('>').unwrap_or(rest)),
            None => (false, line),
        };
        let mut toks = tokens(body).into_iter();
        let Some((_, key)) = toks.next() else {
            continue;
        };
        let item = Item {
            key,
            values: toks.map(|(q, w)| value(q, w)).collect(),
            children: Vec::new(),
        };
        if open && stack.len() < 8 {
            stack.push(item);
        } else if let Some(parent) = stack.last_mut() {
            parent.children.push(item);
        }
    }
    while stack.len() > 1 {
        if let Some(done) = stack.pop() {
            if let Some(parent) = stack.last_mut() {
                parent.children.push(done);
            }
        }
    }
    stack.pop().map(|root| root.children).unwrap_or_default()
}

fn borrowed(item: &Item) -> ConfigItem<'_> {
    ConfigItem {
        key: &item.key,
        values: item
            .values
            .iter()
            .map(|v| match v {
                Value::Str(s) => ConfigValue::String(s),
                Value::Num(n) => ConfigValue::Number(*n),
                Value::Bool(b) => ConfigValue::Boolean(*b),
            })
            .collect(),
        children: item.children.iter().map(borrowed).collect(),
    }
}

/// Parses `data` as the body of `<Plugin libpodstats>`; a configuration that parses is used
/// the way the plugin uses it (name selection), and an error must render as a message.
pub fn plugin_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let owned = items(&text);
    let config: Vec<ConfigItem<'_>> = owned.iter().map(borrowed).collect();
    match podstats::config::parse(Some(&config)) {
        Ok(cfg) => {
            for name in ["web", "", "lpstest-a", "\u{0}", "pod-infra"] {
                let _ = cfg.selects(name);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = podstats::config::parse(None);
}
