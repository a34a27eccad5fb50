//! The layers of ARCHITECTURE.md, enforced: every `crate::<module>` path in
//! `src/` must follow an allowed edge. Commands use stages and the lower
//! modules; stages use the lower modules; among the lower modules only the
//! edges listed below, none both ways.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// module → the modules it may use (besides itself). Keep in step with
/// ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("cli", &["state"]),
    (
        "commands",
        &[
            "stages", "sqlite", "convert", "pg", "state", "config", "ui", "error", "pool",
            "shutdown",
        ],
    ),
    (
        "stages",
        &[
            "sqlite", "convert", "pg", "state", "config", "ui", "error", "pool", "shutdown",
        ],
    ),
    ("sqlite", &["config", "convert", "pg", "error"]),
    ("config", &["convert", "pg", "error"]),
    ("state", &["convert", "pg", "error"]),
    ("convert", &["pg"]),
    ("pg", &["error"]),
    ("shutdown", &["error"]),
    ("ui", &[]),
    ("error", &[]),
    ("pool", &[]),
];

fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every module each module refers to through `crate::`.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let from = top_module(&src, &f);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("crate::") {
            // Skip `sqlite2pg::…`-like paths that merely end in "crate::".
            if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[i + "crate::".len()..];
            let to: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                out.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, to)| (*m, to.iter().copied().collect()))
        .collect();
    let mut bad = Vec::new();
    for (from, tos) in edges() {
        let Some(ok) = allowed.get(from.as_str()) else {
            bad.push(format!(
                "module `{from}` is not in the layer table (ARCHITECTURE.md)"
            ));
            continue;
        };
        for to in tos {
            if !ok.contains(to.as_str()) {
                bad.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "edges outside ARCHITECTURE.md's layers:\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn no_two_modules_use_each_other() {
    for (from, to) in ALLOWED {
        for t in *to {
            let back = ALLOWED
                .iter()
                .find(|(m, _)| m == t)
                .is_some_and(|(_, x)| x.contains(from));
            assert!(!back, "{from} and {t} may use each other");
        }
    }
}

#[test]
fn no_source_file_exceeds_900_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 900).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}
