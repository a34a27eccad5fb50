//! Deserializing a mapping so that *every* serde problem is found, not just
//! the first: deserialize, note the failing key (through
//! `serde_path_to_error`), take that key out of the way (remove it, or put a
//! placeholder of a type that fits where the key is required), and try
//! again. A key set aside this way is *poisoned*: later problems at or under
//! it are its follow-ons, not problems of their own.

use super::issue::MappingIssue;
use super::locate::key_seg;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;

/// At most this many serde problems per deserialized value.
const MAX_PROBLEMS: usize = 200;

/// Problems found so far and the keys set aside for them.
#[derive(Default)]
pub(super) struct Collected {
    pub issues: Vec<MappingIssue>,
    pub poisoned: BTreeSet<String>,
}

impl Collected {
    /// Whether `key` is, or lies under, a key set aside for an earlier
    /// problem (a column whose `type` was set aside counts as a whole).
    pub fn is_follow_on(&self, key: &str) -> bool {
        self.poisoned.iter().any(|p| {
            let under = |p: &str| key == p || key.starts_with(&format!("{p}."));
            under(p) || p.strip_suffix(".type").is_some_and(under)
        })
    }
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render(prefix: &str, segs: &[Seg]) -> String {
    let mut out = prefix.to_string();
    for s in segs {
        if !out.is_empty() {
            out.push('.');
        }
        match s {
            Seg::Key(k) => out.push_str(&key_seg(k)),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// The name inside the first pair of backticks of `msg` after `lead`.
fn quoted_after<'a>(msg: &'a str, lead: &str) -> Option<&'a str> {
    let rest = &msg[msg.find(lead)? + lead.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(&rest[..rest.find('`')?])
}

/// Deserialize `value` (found at key path `prefix`) into `T`, recording
/// every problem in `out`. `None` when the value cannot be made to fit (its
/// problem is recorded).
pub(super) fn deserialize<T: DeserializeOwned>(
    mut value: toml::Value,
    prefix: &str,
    out: &mut Collected,
) -> Option<T> {
    for _ in 0..MAX_PROBLEMS {
        let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(t) => return Some(t),
            Err(e) => e,
        };
        let segs = problem_path(&e);
        let message = plain_types(e.inner().message().trim());
        let missing = message.contains("missing field ");
        let key = render(prefix, &segs);
        if !out.is_follow_on(&key) {
            out.issues.push(MappingIssue {
                key: key.clone(),
                line: None,
                message,
            });
        }
        out.poisoned.insert(key.clone());
        if !set_aside::<T>(&mut value, &segs, !missing) {
            return None;
        }
    }
    None
}

/// Take the key at `segs` out of the way: remove it (when `may_remove`),
/// else put a placeholder of the first type that moves the first problem
/// elsewhere.
fn set_aside<T: DeserializeOwned>(value: &mut toml::Value, segs: &[Seg], may_remove: bool) -> bool {
    let Some((last, parent)) = segs.split_last() else {
        return false;
    };
    let mut candidates: Vec<Option<toml::Value>> = Vec::new();
    if may_remove && matches!(last, Seg::Key(_)) {
        candidates.push(None);
    }
    candidates.extend(
        [
            toml::Value::String(String::new()),
            toml::Value::Array(Vec::new()),
            toml::Value::Integer(0),
            toml::Value::Boolean(false),
            toml::Value::Table(Default::default()),
        ]
        .into_iter()
        .map(Some),
    );
    let here = render("", segs);
    for c in candidates {
        let mut v = value.clone();
        let Some(p) = walk(&mut v, parent) else {
            return false;
        };
        match (p, last, c) {
            (toml::Value::Table(t), Seg::Key(k), None) => {
                t.remove(k);
            }
            (toml::Value::Table(t), Seg::Key(k), Some(c)) => {
                t.insert(k.clone(), c);
            }
            (toml::Value::Array(a), Seg::Index(i), Some(c)) if *i < a.len() => a[*i] = c,
            _ => continue,
        }
        let moved = match serde_path_to_error::deserialize::<_, T>(v.clone()) {
            Ok(_) => true,
            Err(e) => render("", &problem_path(&e)) != here,
        };
        if moved {
            *value = v;
            return true;
        }
    }
    false
}

/// The key path of a problem, an unknown or missing key included.
fn problem_path(e: &serde_path_to_error::Error<toml::de::Error>) -> Vec<Seg> {
    let mut segs: Vec<Seg> = e
        .path()
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            _ => None,
        })
        .collect();
    let message = e.inner().message();
    let named =
        quoted_after(message, "unknown field ").or_else(|| quoted_after(message, "missing field "));
    if let Some(k) = named {
        if !matches!(segs.last(), Some(Seg::Key(l)) if l == k) {
            segs.push(Seg::Key(k.to_string()));
        }
    }
    segs
}

fn walk<'a>(v: &'a mut toml::Value, segs: &[Seg]) -> Option<&'a mut toml::Value> {
    let mut cur = v;
    for s in segs {
        cur = match (cur, s) {
            (toml::Value::Table(t), Seg::Key(k)) => t.get_mut(k)?,
            (toml::Value::Array(a), Seg::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// serde's Rust type names in words an operator reads.
fn plain_types(msg: &str) -> String {
    let mut m = msg.to_string();
    for (rust, plain) in [
        ("expected usize", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
    ] {
        m = m.replace(rust, plain);
    }
    m
}
