//! The host's structure stays as designed: every module imports only from the layers below
//! it, and no file imports, through any chain, from itself.
//!
//! Layers, bottom to top (modules on one line are side by side and may not import each
//! other):
//!
//! ```text
//! os
//! model
//! exec, runtime
//! plugins
//! repo, boot
//! plan, local
//! containerfile, sync
//! app
//! ops
//! cli
//! ```
//!
//! Edges are read from the source: every `crate::…` and `super::…` path, and every `use` of
//! a child module, resolved to the file that defines it. Declaring a module (`mod x;`) is not
//! an edge. A child names its siblings by their own path (`super::report::Exit`), never
//! through its parent's re-exports, so that a parent and its children do not form a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[&[&str]] = &[
    &["os"],
    &["model"],
    &["exec", "runtime"],
    &["plugins"],
    &["repo", "boot"],
    &["plan", "local"],
    &["containerfile", "sync"],
    &["app"],
    &["ops"],
    &["cli"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `a/b.rs` → `["a", "b"]`; `a/mod.rs` → `["a"]`; `main.rs` → `[]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The file that defines the longest prefix of `path` (a module path from the crate root).
fn file_of(files: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<PathBuf> {
    (0..=path.len())
        .rev()
        .find_map(|n| files.get(&path[..n]).cloned())
}

/// `text` without its test modules: inside `mod tests { use super::*; }`, `super` is the
/// file itself, and tests may reach anywhere.
fn strip_tests(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find("#[cfg(test)]") {
        let Some(open) = out[start..].find('{').map(|i| start + i) else {
            break;
        };
        let mut depth = 0;
        let mut end = out.len();
        for (i, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(start..end, "");
    }
    out
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.trim_end_matches("::self").to_string()];
    };
    let prefix = &tree[..open];
    let close = tree.rfind('}').filter(|c| *c > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| {
            let p = p.trim();
            if p == "self" {
                vec![prefix.trim_end_matches("::").to_string()]
            } else {
                expand(&format!("{prefix}{p}"))
            }
        })
        .collect()
}

/// The module paths (from the crate root) a file refers to.
fn references(module: &[String], text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let text = strip_tests(&strip_comments(text));
    let mut paths: Vec<String> = Vec::new();
    // `use` trees, which may name children or group paths in braces.
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_start();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        let Some(tree) = line.strip_prefix("use ") else {
            continue;
        };
        // A tree may go on over several lines, up to its `;`.
        let mut whole = tree.to_string();
        let mut next = i + 1;
        while !whole.contains(';') && next < lines.len() {
            whole.push_str(lines[next]);
            next += 1;
        }
        let end = whole.find(';').unwrap_or(whole.len());
        paths.extend(expand(&whole[..end]));
    }
    // Paths written out in code.
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        // A path that ends in `::` opens a `{…}` group: the `use` trees above read those.
        if (word.starts_with("crate::") || word.starts_with("super::")) && !word.ends_with("::") {
            paths.push(word.to_string());
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let Some(first) = segs.first() else { continue };
        let resolved: Vec<String> = match *first {
            "crate" => segs[1..].iter().map(|s| s.to_string()).collect(),
            "super" => {
                let mut base = module.to_vec();
                let mut i = 0;
                while segs.get(i) == Some(&"super") {
                    // A file `a/b.rs` is module `a::b`; its `super` is `a`.
                    base.pop();
                    i += 1;
                }
                base.extend(segs[i..].iter().map(|s| s.to_string()));
                base
            }
            "self" => {
                let mut base = module.to_vec();
                base.extend(segs[1..].iter().map(|s| s.to_string()));
                base
            }
            child if children.contains(child) => {
                let mut base = module.to_vec();
                base.extend(segs.iter().map(|s| s.to_string()));
                base
            }
            _ => continue,
        };
        out.push(resolved);
    }
    out
}

fn rank(top: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&top))
}

fn sources() -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = BTreeMap::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src()).expect("under src").to_path_buf();
                files.insert(module_of(&rel), rel);
            }
        }
    }
    files
}

/// Every file's edges to the files it refers to.
fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = sources();
    let mut edges = BTreeMap::new();
    for (module, rel) in &files {
        let text = std::fs::read_to_string(src().join(rel)).expect("read file");
        let children: BTreeSet<String> = files
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .filter_map(|m| m.last().cloned())
            .collect();
        let targets: BTreeSet<PathBuf> = references(module, &text, &children)
            .iter()
            .filter_map(|path| file_of(&files, path))
            .filter(|target| target != rel && target != Path::new("main.rs"))
            .collect();
        edges.insert(rel.clone(), targets);
    }
    edges
}

fn top(file: &Path) -> String {
    module_of(file).first().cloned().unwrap_or_default()
}

#[test]
fn every_module_imports_only_from_layers_below_it() {
    let mut wrong = Vec::new();
    for (file, targets) in graph() {
        let from = top(&file);
        if from.is_empty() {
            continue; // main.rs sits above every layer.
        }
        let Some(r) = rank(&from) else {
            wrong.push(format!(
                "{} is in no layer: add `{from}` to LAYERS",
                file.display()
            ));
            continue;
        };
        for target in targets {
            let to = top(&target);
            if to == from {
                continue;
            }
            match rank(&to) {
                Some(t) if t < r => {}
                _ => wrong.push(format!(
                    "{} ({from}) imports {} ({to}), which is not below it",
                    file.display(),
                    target.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_imports_from_itself_through_others() {
    let graph = graph();
    let mut circles = Vec::new();
    let mut reported = BTreeSet::new();
    // Depth-first search from every file, reporting each circle once by its files.
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    let members: BTreeSet<&PathBuf> = path.iter().collect();
                    if reported.insert(members.into_iter().cloned().collect::<Vec<_>>()) {
                        let names: Vec<String> =
                            path.iter().map(|p| p.display().to_string()).collect();
                        circles.push(format!("{} → {}", names.join(" → "), start.display()));
                    }
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_checks() {
    // A circle and an upward import in made-up text are found, so the tests above can fail.
    let children = BTreeSet::new();
    let refs = references(
        &["os".to_string(), "text".to_string()],
        "use crate::cli::printer::{Printer, Format};\nfn f() { super::hash::sha256_hex(b\"\"); }",
        &children,
    );
    assert!(refs.contains(&vec!["cli".into(), "printer".into(), "Printer".into()]));
    assert!(refs.contains(&vec!["os".into(), "hash".into(), "sha256_hex".into()]));
    assert!(rank("cli") > rank("os"));
    assert_eq!(
        expand("a::{b, c::{d, e as f}, self}"),
        ["a::b", "a::c::d", "a::c::e", "a"]
    );
    // The real graph has edges at all: the parser reads this crate.
    let graph = graph();
    let ops_apply = graph
        .get(Path::new("ops/apply.rs"))
        .expect("ops/apply.rs is read");
    assert!(
        ops_apply.contains(Path::new("sync/mod.rs")),
        "{ops_apply:?}"
    );
}
