//! Where plugins come from: compiled into the binary, or dropped into a plugin folder and
//! trusted by the user. Loading them all happens in parallel.

pub mod trust;

use crate::runtime::{Loaded, Runtime};
use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
}

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Builtin,
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin => f.write_str("builtin"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A component before it is compiled.
pub struct Source {
    pub name: String,
    pub origin: Origin,
    pub sha256: String,
    pub wasm: Cow<'static, [u8]>,
}

pub fn builtin() -> Vec<Source> {
    builtin::BUILTIN
        .iter()
        .map(|(name, wasm, sha)| Source {
            name: name.trim_start_matches("bkt-plugin-").to_string(),
            origin: Origin::Builtin,
            sha256: sha.to_string(),
            wasm: Cow::Borrowed(*wasm),
        })
        .collect()
}

/// The folders searched for third-party plugins, most specific first.
pub fn plugin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(data) = directories::BaseDirs::new().map(|b| b.data_dir().to_path_buf()) {
        dirs.push(data.join("bkt/plugins"));
    }
    dirs.push(PathBuf::from("/etc/bkt/plugins"));
    dirs.push(PathBuf::from("/usr/share/bkt/plugins"));
    dirs
}

/// Every `*.wasm` in the plugin folders, with its hash.
pub fn discover() -> Vec<Source> {
    let mut found = Vec::new();
    for dir in plugin_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        {
            match read(&path) {
                Ok(source) => found.push(source),
                Err(e) => tracing::warn!("skipping {}: {e:#}", path.display()),
            }
        }
    }
    found
}

pub fn read(path: &Path) -> Result<Source> {
    let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Source {
        name,
        origin: Origin::File(path.to_path_buf()),
        sha256: sha256_hex(&wasm),
        wasm: Cow::Owned(wasm),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A plugin ready to use, or why it is not.
pub struct Entry {
    pub origin: Origin,
    pub name: String,
    pub sha256: String,
    pub plugin: Result<Loaded, String>,
}

/// Loads the builtin plugins and the trusted third-party ones, in parallel. Untrusted files
/// are returned with an error that says how to trust them.
pub fn load_all(rt: &Runtime, trusted: &trust::Store) -> Vec<Entry> {
    let mut sources = builtin();
    sources.extend(discover());
    let loaded = crate::parallel::map(&sources, |src| match (&src.origin, trusted.check(src)) {
        (Origin::File(_), Err(why)) => Err(why),
        _ => rt
            .load(&src.name, &src.sha256, &src.wasm)
            .map_err(|e| format!("{e:#}")),
    });
    let entries = sources
        .into_iter()
        .zip(loaded)
        .map(|(src, plugin)| Entry {
            origin: src.origin,
            name: src.name,
            sha256: src.sha256,
            plugin: plugin.and_then(|p| p),
        })
        .collect();
    dedupe(entries)
}

/// A plugin id provided twice: the builtin wins and the file is reported.
fn dedupe(mut entries: Vec<Entry>) -> Vec<Entry> {
    let mut seen = std::collections::HashSet::new();
    for e in &mut entries {
        if let Ok(p) = &e.plugin
            && !seen.insert(p.info.id.clone())
        {
            e.plugin = Err(format!(
                "another plugin already has the id {:?}; this one is ignored",
                p.info.id
            ));
        }
    }
    entries
}
