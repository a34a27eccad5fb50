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

// ---------------------------------------------------------------------------
// Shape: function length, `#[path]` folders, import circles between files.
// These read the source with a small tokenizer (comments, strings and char
// literals blanked out, lines kept), not rustc: good enough for this tree's
// code, and each check says what it found so a false hit is easy to see.
// ---------------------------------------------------------------------------

/// The functions allowed over `MAX_FN_LINES`, as `file::Type::fn` (or
/// `file::fn`), each with the reason.
const LONG_FN_ALLOWED: &[&str] = &[
    // The view expression translator's token loop: one `match` over SQLite's
    // expression grammar, read top to bottom with the section map at its head;
    // cut apart it would pass the same half-dozen cursors between pieces.
    "sqlite/sql/views/expr.rs::Tx::expr",
];
const MAX_FN_LINES: usize = 150;

/// `text` with comments, string and char literals replaced by spaces (line
/// breaks kept), so braces and paths can be counted on what is left.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let blank = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }))
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if c == b'/' && next == b'/' {
            let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'/' && next == b'*' {
            let (mut j, mut depth) = (i + 2, 1);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &b[i..j]);
            i = j;
        } else if !prev_ident && (c == b'r' || (c == b'b' && next == b'r')) && {
            let k = if c == b'b' { i + 2 } else { i + 1 };
            let hashes = b[k..].iter().take_while(|&&h| h == b'#').count();
            b.get(k + hashes) == Some(&b'"')
        } {
            let k = if c == b'b' { i + 2 } else { i + 1 };
            let hashes = b[k..].iter().take_while(|&&h| h == b'#').count();
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = k + hashes + 1;
            let end = text[body..]
                .find(&close)
                .map_or(b.len(), |e| body + e + close.len());
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'\'' && !prev_ident {
            // A char literal ('x', '\n', '\u{..}', '{') or a lifetime ('a).
            let end = if next == b'\\' {
                let mut j = i + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                Some(j + 1)
            } else {
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 2 + ch_len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, &b[i..end]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 outside literals")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Punct(char),
    Path, // `::`
}

/// Tokens of code-only text, each with its 1-based line.
fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = code.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            line += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !(d.is_alphanumeric() || d == '_') {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            out.push((Tok::Ident(code[i..end].to_string()), line));
        } else if c == ':' && chars.peek().is_some_and(|&(_, d)| d == ':') {
            chars.next();
            out.push((Tok::Path, line));
        } else if !c.is_whitespace() {
            out.push((Tok::Punct(c), line));
        }
    }
    out
}

fn ident(t: &Tok) -> Option<&str> {
    match t {
        Tok::Ident(s) => Some(s),
        _ => None,
    }
}

/// Every function with a body: (`Type::name` or `name`, lines it spans).
fn function_lengths(code: &str) -> Vec<(String, usize)> {
    let toks = tokens(code);
    let mut out = Vec::new();
    // Open braces: the impl type each `impl … {` opened, None for others.
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut pending_impl: Option<String> = None;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Ident(w) if w == "impl" => {
                // `impl<G> Trait<X> for Type<Y> {` or `impl<G> Type<Y> {`: the
                // type is the first name at angle depth 0 after `for`, else
                // after `impl`.
                let mut j = i + 1;
                let (mut depth, mut name) = (0i32, None);
                while j < toks.len() && toks[j].0 != Tok::Punct('{') && toks[j].0 != Tok::Punct(';')
                {
                    match &toks[j].0 {
                        Tok::Punct('<') => depth += 1,
                        Tok::Punct('>') if j > 0 && toks[j - 1].0 != Tok::Punct('-') => depth -= 1,
                        Tok::Ident(w) if w == "for" && depth == 0 => name = None,
                        Tok::Ident(w) if depth == 0 && name.is_none() && w != "dyn" => {
                            name = Some(w.clone());
                        }
                        _ => {}
                    }
                    j += 1;
                }
                pending_impl = name;
                i += 1;
            }
            Tok::Ident(w) if w == "fn" => {
                let Some(name) = toks.get(i + 1).and_then(|t| ident(&t.0)) else {
                    i += 1;
                    continue;
                };
                let start = toks[i].1;
                // The body opens at the first `{` at paren/angle depth 0
                // before any `;` (a declaration without a body).
                let mut j = i + 2;
                let mut depth = 0i32;
                while j < toks.len() {
                    match toks[j].0 {
                        Tok::Punct('(') | Tok::Punct('[') => depth += 1,
                        Tok::Punct(')') | Tok::Punct(']') => depth -= 1,
                        Tok::Punct(';') if depth == 0 => break,
                        Tok::Punct('{') if depth == 0 => break,
                        _ => {}
                    }
                    j += 1;
                }
                if j < toks.len() && toks[j].0 == Tok::Punct('{') {
                    let mut k = j;
                    let mut braces = 0;
                    while k < toks.len() {
                        match toks[k].0 {
                            Tok::Punct('{') => braces += 1,
                            Tok::Punct('}') => {
                                braces -= 1;
                                if braces == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        k += 1;
                    }
                    let end = toks.get(k).map_or(start, |t| t.1);
                    let owner = stack.iter().rev().flatten().next();
                    let full = match owner {
                        Some(t) => format!("{t}::{name}"),
                        None => name.to_string(),
                    };
                    out.push((full, end - start + 1));
                }
                i += 2;
            }
            Tok::Punct('{') => {
                stack.push(pending_impl.take());
                i += 1;
            }
            Tok::Punct('}') => {
                stack.pop();
                i += 1;
            }
            Tok::Punct(';') => {
                pending_impl = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn src_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rel(file: &Path) -> String {
    file.strip_prefix(src_dir())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn no_function_is_longer_than_150_lines_outside_the_allow_list() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut long = Vec::new();
    let mut seen_allowed = BTreeSet::new();
    for f in &files {
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        for (name, lines) in function_lengths(&code) {
            let key = format!("{}::{name}", rel(f));
            if LONG_FN_ALLOWED.contains(&key.as_str()) {
                seen_allowed.insert(key);
            } else if lines > MAX_FN_LINES {
                long.push(format!("{key} ({lines} lines)"));
            }
        }
    }
    long.sort();
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (make a short driver of named phases):\n  {}",
        long.join("\n  ")
    );
    for a in LONG_FN_ALLOWED {
        assert!(
            seen_allowed.contains(*a),
            "the allow-list names {a}, which no longer exists: take it out"
        );
    }
}

#[test]
fn the_function_length_reader_sees_through_strings_comments_and_impls() {
    let code = code_only(
        "impl<'a> Tx<'a> {\n fn a(&self) -> &'a str {\n let s = \"}}{\"; // }\n let c = '}';\n /* { */\n r#\"}\"#\n }\n}\nfn b() {}\n",
    );
    assert_eq!(
        function_lengths(&code),
        vec![("Tx::a".to_string(), 6), ("b".to_string(), 1)]
    );
}

#[test]
fn path_attributes_are_only_the_sibling_test_file_convention() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (n, l) in lines.iter().enumerate() {
            let Some(rest) = l.trim().strip_prefix("#[path = \"") else {
                continue;
            };
            let target = rest.split('"').next().unwrap_or("");
            let stem = f.file_stem().unwrap().to_string_lossy();
            let ok = target == format!("{stem}_tests.rs")
                && n > 0
                && lines[n - 1].trim() == "#[cfg(test)]"
                && lines.get(n + 1).is_some_and(|m| m.trim() == "mod tests;");
            if !ok {
                bad.push(format!("{}:{}: {}", rel(f), n + 1, l.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "a #[path] other than `#[cfg(test)] #[path = \"X_tests.rs\"] mod tests;` is a folder in disguise: make the folder\n  {}",
        bad.join("\n  ")
    );
}

/// The module path of a file under `src/` (`sqlite/views/mod.rs` →
/// `["sqlite", "views"]`), with the `#[path]` test files mapped to their
/// `tests` module.
fn module_files() -> BTreeMap<Vec<String>, std::path::PathBuf> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut map = BTreeMap::new();
    for f in &files {
        let r = rel(f);
        let mut segs: Vec<String> = r
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if segs
            .last()
            .is_some_and(|s| s == "mod" || s == "lib" || s == "main")
        {
            segs.pop();
        }
        map.insert(segs, f.clone());
    }
    // `#[path = "X_tests.rs"] mod tests;` in X.rs: the file is X's `tests`.
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for l in text.lines() {
            if let Some(rest) = l.trim().strip_prefix("#[path = \"") {
                let target = rest.split('"').next().unwrap_or("");
                let dir = f.parent().unwrap();
                let tf = dir.join(target);
                let old: Vec<String> = map
                    .iter()
                    .find(|(_, p)| **p == tf)
                    .map(|(k, _)| k.clone())
                    .unwrap_or_default();
                map.remove(&old);
                let mut segs = module_of(&map, f);
                segs.push("tests".into());
                map.insert(segs, tf);
            }
        }
    }
    map
}

fn module_of(map: &BTreeMap<Vec<String>, std::path::PathBuf>, f: &Path) -> Vec<String> {
    map.iter()
        .find(|(_, p)| *p == f)
        .map(|(k, _)| k.clone())
        .unwrap_or_default()
}

/// Parses a use tree or path at `toks[i..]`: every full path it names (the
/// leading segments, then one path per `{…}` item). Returns the paths and
/// where it stopped.
fn use_paths(
    toks: &[(Tok, usize)],
    mut i: usize,
    prefix: Vec<String>,
) -> (Vec<Vec<String>>, usize) {
    let mut segs = prefix;
    let mut out = Vec::new();
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(w)) if w != "as" => {
                segs.push(w.clone());
                i += 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i).map(|t| &t.0) {
                        Some(Tok::Punct('}')) | None => {
                            i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => i += 1,
                        Some(Tok::Ident(w)) if w == "as" => i += 2,
                        _ => {
                            let (mut inner, j) = use_paths(toks, i, segs.clone());
                            out.append(&mut inner);
                            i = if j > i { j } else { i + 1 };
                        }
                    }
                }
                return (out, i);
            }
            _ => {
                out.push(segs);
                return (out, i);
            }
        }
        if toks.get(i).map(|t| &t.0) == Some(&Tok::Path) {
            i += 1;
        } else {
            out.push(segs);
            return (out, i);
        }
    }
}

/// Every path a file names through `crate::`, `super::`, `self::` or a
/// `use` of a child module, made absolute (from the crate root), with
/// whether it sits in a `pub use` (a re-export).
fn named_paths(
    code: &str,
    module: &[String],
    is_mod_file: bool,
    modules: &BTreeMap<Vec<String>, std::path::PathBuf>,
) -> Vec<(Vec<String>, bool)> {
    let toks = tokens(code);
    let mut out = Vec::new();
    // Inline `mod name {` blocks change what `super::` and `self::` mean.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let here: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        let prev_is_path = i > 0 && toks[i - 1].0 == Tok::Path;
        match &toks[i].0 {
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(w)
                if w == "mod" && toks.get(i + 2).map(|t| &t.0) == Some(&Tok::Punct('{')) =>
            {
                let name = ident(&toks[i + 1].0).unwrap_or_default().to_string();
                depth += 1;
                inline.push((name, depth));
                i += 3;
            }
            Tok::Ident(w) if !prev_is_path && (w == "crate" || w == "super" || w == "self") => {
                let public_use = i >= 2
                    && toks[i - 1].0 == Tok::Ident("use".into())
                    && matches!(&toks[i - 2].0, Tok::Ident(p) if p == "pub")
                    || i >= 5
                        && toks[i - 1].0 == Tok::Ident("use".into())
                        && toks[i - 2].0 == Tok::Punct(')');
                // Resolve the leading crate/super/self chain.
                let mut base: Vec<String> = if w == "crate" { vec![] } else { here.clone() };
                if w == "super" {
                    base.pop();
                }
                let mut j = i + 1;
                while toks.get(j).map(|t| &t.0) == Some(&Tok::Path)
                    && toks.get(j + 1).map(|t| &t.0) == Some(&Tok::Ident("super".into()))
                {
                    base.pop();
                    j += 2;
                }
                if toks.get(j).map(|t| &t.0) != Some(&Tok::Path) {
                    i = j;
                    continue;
                }
                let (paths, end) = use_paths(&toks, j + 1, base);
                out.extend(paths.into_iter().map(|p| (p, public_use)));
                i = end.max(i + 1);
            }
            Tok::Ident(w) if w == "use" && !prev_is_path => {
                // `use child::X` (a path relative to this module) in 2018+.
                if let Some(Tok::Ident(first)) = toks.get(i + 1).map(|t| &t.0) {
                    let mut child = here.clone();
                    child.push(first.clone());
                    if first != "crate"
                        && first != "super"
                        && first != "self"
                        && (is_mod_file || !inline.is_empty())
                        && modules.contains_key(&child)
                    {
                        let public = i > 0
                            && (matches!(&toks[i - 1].0, Tok::Ident(p) if p == "pub")
                                || toks[i - 1].0 == Tok::Punct(')'));
                        let (paths, end) = use_paths(&toks, i + 1, here.clone());
                        out.extend(paths.into_iter().map(|p| (p, public)));
                        i = end.max(i + 1);
                        continue;
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The file a path leads to: the longest module prefix that is a file, then
/// through that file's re-exports (`pub use`) once.
fn resolve(
    path: &[String],
    modules: &BTreeMap<Vec<String>, std::path::PathBuf>,
    reexports: &BTreeMap<(std::path::PathBuf, String), std::path::PathBuf>,
) -> Option<std::path::PathBuf> {
    let (n, file) = (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).map(|f| (n, f.clone())))?;
    if let Some(item) = path.get(n) {
        if let Some(f) = reexports.get(&(file.clone(), item.clone())) {
            return Some(f.clone());
        }
    }
    Some(file)
}

/// file → the files it uses (a child's use of its own ancestors left out).
fn file_edges() -> BTreeMap<std::path::PathBuf, BTreeSet<std::path::PathBuf>> {
    let modules = module_files();
    type Parsed = (std::path::PathBuf, Vec<String>, Vec<(Vec<String>, bool)>);
    let parsed: Vec<Parsed> = modules
        .iter()
        .map(|(m, f)| {
            let code = code_only(&std::fs::read_to_string(f).unwrap());
            let is_mod = f
                .file_name()
                .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
            (
                f.clone(),
                m.clone(),
                named_paths(&code, m, is_mod, &modules),
            )
        })
        .collect();
    let none = BTreeMap::new();
    let mut reexports = BTreeMap::new();
    for (f, _, paths) in &parsed {
        for (p, public) in paths {
            if let (true, Some(last), Some(to)) = (*public, p.last(), resolve(p, &modules, &none)) {
                if to != *f {
                    reexports.insert((f.clone(), last.clone()), to);
                }
            }
        }
    }
    let mut out: BTreeMap<_, BTreeSet<_>> = BTreeMap::new();
    for (f, m, paths) in &parsed {
        for (p, _) in paths {
            let Some(to) = resolve(p, &modules, &reexports) else {
                continue;
            };
            let to_mod = module_of(&modules, &to);
            let ancestor = to_mod.len() < m.len() && m.starts_with(&to_mod);
            if to != *f && !ancestor {
                out.entry(f.clone()).or_default().insert(to);
            }
        }
    }
    out
}

#[test]
fn no_two_files_use_each_other_directly_or_around_a_loop() {
    let edges = file_edges();
    // Tarjan-free: a file is in a loop when it reaches itself.
    let reach = |from: &std::path::PathBuf| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<_> = edges.get(from).into_iter().flatten().cloned().collect();
        while let Some(f) = todo.pop() {
            if seen.insert(f.clone()) {
                todo.extend(edges.get(&f).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let mut loops: BTreeSet<Vec<String>> = BTreeSet::new();
    for f in edges.keys() {
        let mine = reach(f);
        if mine.contains(f) {
            let mut members: Vec<String> = mine
                .iter()
                .filter(|g| reach(g).contains(f))
                .map(|g| rel(g))
                .collect();
            members.sort();
            loops.insert(members);
        }
    }
    let text: Vec<String> = loops.iter().map(|l| l.join(" ↔ ")).collect();
    assert!(
        loops.is_empty(),
        "files that use each other, directly or around a loop (move the shared item so one side only uses the other):\n  {}",
        text.join("\n  ")
    );
}

/// Sibling test files (`X_tests.rs`, `tests.rs`, files under a `tests/`
/// folder) belong to the module they test and are not listed.
fn is_test_file(rel: &str) -> bool {
    rel.ends_with("_tests.rs") || rel.ends_with("/tests.rs") || rel.contains("/tests/")
}

#[test]
fn architecture_md_names_every_source_file() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut missing: Vec<String> = files
        .iter()
        .map(|f| rel(f))
        .filter(|r| !is_test_file(r) && !doc.contains(&format!("`{r}`")))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md has a line per source file, as `path/under/src.rs`; missing:\n  {}",
        missing.join("\n  ")
    );
}
