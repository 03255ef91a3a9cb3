//! Where plugins come from: compiled into the binary, or dropped into a plugin folder.

use crate::os::hash::sha256_hex;
use anyhow::{Context as _, Result};
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
    /// What bkt's build made of a builtin: its native code and its info.
    pub builtin: Option<crate::runtime::Builtin>,
}

impl Source {
    pub fn code(&self) -> crate::runtime::Code {
        crate::runtime::Code {
            hash: self.sha256.clone(),
            wasm: self.wasm.clone(),
            builtin: self.builtin,
        }
    }
}

pub fn builtin() -> Vec<Source> {
    builtin::BUILTIN
        .iter()
        .map(|b| Source {
            name: b.crate_name.trim_start_matches("bkt-plugin-").to_string(),
            origin: Origin::Builtin,
            sha256: b.sha256.to_string(),
            wasm: Cow::Borrowed(b.wasm),
            builtin: Some(crate::runtime::Builtin {
                native: b.native,
                info: b.info,
            }),
        })
        .collect()
}

/// The folders searched for third-party plugins, most specific first.
pub fn plugin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(data) = crate::os::paths::user_data_dir() {
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
        // Canonical paths, so trust matches through symlinked folders (`/home` → `var/home`).
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().canonicalize().unwrap_or_else(|_| e.path()))
            .collect();
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
        builtin: None,
    })
}
