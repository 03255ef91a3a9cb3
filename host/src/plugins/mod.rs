//! Where plugins come from: compiled into the binary, or dropped into a plugin folder and
//! trusted by the user. Loading them all happens in parallel.

pub mod trust;

use crate::runtime::bindings::PluginInfo;
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

/// Words a plugin's command may not take: bkt's own commands.
pub const RESERVED_COMMANDS: &[&str] = &[
    "status",
    "apply",
    "capture",
    "containerfile",
    "plugin",
    "completions",
    "help",
    "local",
    "admin",
];

/// Loads the builtin plugins and the trusted third-party ones, in parallel. Untrusted files
/// are returned with an error that says how to trust them; a file that declares other things
/// than it did when trusted, or a name another plugin holds, is refused.
pub fn load_all(rt: &Runtime, trusted: &trust::Store) -> Vec<Entry> {
    let mut sources = builtin();
    sources.extend(discover());
    let loaded = crate::parallel::map(&sources, |src| {
        let pinned = match (&src.origin, trusted.check(src)) {
            (Origin::File(_), Err(why)) => return Err(why),
            (_, Ok(pinned)) => pinned,
            (Origin::Builtin, Err(_)) => None,
        };
        let loaded = rt
            .load(&src.name, &src.sha256, src.wasm.clone())
            .map_err(|e| format!("{e:#}"))?;
        if let Some(pinned) = pinned {
            trust::Store::check_declared(pinned, &loaded.info)?;
        }
        Ok(loaded)
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
    claim_names(entries)
}

/// Every name a plugin answers to belongs to one plugin: its id, command word, manifest file
/// and each Containerfile section. Builtins come first and so win; a later plugin that claims
/// a taken name is not loaded, and the reason names both.
fn claim_names(mut entries: Vec<Entry>) -> Vec<Entry> {
    let mut claims = Claims::new();
    for e in &mut entries {
        if let Ok(p) = &e.plugin
            && let Err(why) = claims.claim(&p.info)
        {
            e.plugin = Err(why);
        }
    }
    entries
}

/// Who holds which name.
pub struct Claims {
    owners: std::collections::HashMap<(&'static str, String), String>,
}

impl Claims {
    pub fn new() -> Claims {
        let mut owners = std::collections::HashMap::new();
        for word in RESERVED_COMMANDS {
            owners.insert(("command", word.to_string()), String::new());
        }
        Claims { owners }
    }

    /// Takes every name of `info`, or says which one another plugin (or bkt) holds.
    pub fn claim(&mut self, info: &PluginInfo) -> Result<(), String> {
        let mut names = vec![
            ("id", info.id.clone()),
            ("command", info.command.clone()),
            ("manifest", info.manifest.clone()),
        ];
        names.extend(info.sections.iter().map(|s| ("section", s.clone())));
        // A plugin's id also works as its command word (`-s` and `bkt ID`).
        if info.id != info.command {
            names.push(("command", info.id.clone()));
        }
        for key in &names {
            if let Some(owner) = self.owners.get(key).filter(|o| **o != info.id) {
                let (kind, name) = key;
                let holder = if owner.is_empty() {
                    "bkt itself".to_string()
                } else {
                    format!("the plugin {owner}")
                };
                return Err(format!(
                    "{} claims the {kind} {name:?}, which {holder} already has; it is not loaded",
                    info.id
                ));
            }
        }
        for key in names {
            self.owners.insert(key, info.id.clone());
        }
        Ok(())
    }
}
