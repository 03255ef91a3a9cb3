//! Compiled code of third-party plugins, cached per component hash and engine under
//! `$XDG_CACHE_HOME/bkt`, with their info; and the mechanics every cached file of bkt's
//! shares ([`Kept`]), which the rendered sections use too (`rendered.rs`). (The builtins' code
//! is compiled when bkt is built and embedded.)
//!
//! Compiling a component with Cranelift takes tens to hundreds of milliseconds; loading the
//! cached artifact takes well under one. A cached artifact is native code that bkt runs, so it
//! is loaded only when (1) it and its folder belong to bkt's user and nobody else may write
//! them, (2) no plugin may write there either (bkt's own folders are refused to every
//! plugin's declared folders), and (3) its sha256 matches the record bkt made when it wrote
//! it, kept in bkt's state folder, away from the cache. Anything else is compiled again.
//! Root's cache is `/var/cache/bkt`, never a folder a user's environment names (under
//! `sudo -E`, XDG_CACHE_HOME is the user's).

use crate::os::atomic::{self, Mode};
use crate::os::hash::sha256_hex;
use anyhow::{Context as _, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled code is kept, and where the record of what bkt wrote there is.
pub struct Folders {
    /// `$XDG_CACHE_HOME/bkt` (root: `/var/cache/bkt`).
    pub cache: PathBuf,
    /// A folder in bkt's state (`$XDG_STATE_HOME/bkt/compiled`, root: `/var/lib/bkt/compiled`).
    pub record: PathBuf,
}

pub struct Cache {
    /// `None` compiles every time (no usable cache folder).
    kept: Option<Kept>,
}

/// A cache folder whose files are loaded only under the rules in the module comment, and the
/// folder in bkt's state recording what bkt wrote there.
pub struct Kept {
    /// bkt's cache folder (`Folders::cache`), kept private.
    top: PathBuf,
    cache: PathBuf,
    record: PathBuf,
}

impl Cache {
    pub fn new(engine: &Engine, folders: Option<&Folders>) -> Cache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let kept = folders.map(|f| Kept {
            top: f.cache.clone(),
            cache: f.cache.join("components").join(&engine_key),
            record: f.record.join(&engine_key),
        });
        Cache { kept }
    }

    /// The component for `wasm` (whose sha256 is `hash`): from the cache when an artifact
    /// loads, else compiled and stored.
    pub fn load(&self, engine: &Engine, hash: &str, wasm: &[u8]) -> Result<Component> {
        let Some(kept) = &self.kept else {
            return Ok(Component::new(engine, wasm)?);
        };
        let name = format!("{hash}.cwasm");
        if let Some(bytes) = kept.read(&name) {
            // SAFETY: these bytes are what bkt itself wrote for this engine configuration (the
            // folder name is the engine's compatibility hash): the file is private to bkt's
            // user and its hash is the one recorded when it was written (checked in `read`).
            // wasmtime checks the header and refuses an artifact from another engine.
            match unsafe { Component::deserialize(engine, &bytes) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::debug!("cached {name} does not load ({e:#}); recompiling"),
            }
        }
        let component = Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .context("compiling the plugin")?;
        let stored = component
            .serialize()
            .map_err(anyhow::Error::from)
            .and_then(|bytes| kept.write(&name, &bytes));
        if let Err(e) = stored {
            tracing::warn!(
                "cannot cache compiled plugin code in {}: {e:#}",
                kept.cache.display()
            );
        }
        Ok(component)
    }

    /// The info a component declared, read when it was first loaded: info() sees a fixed
    /// context, so it is the same every time. `None` when not cached (or not usable).
    pub fn info(&self, hash: &str) -> Option<crate::model::PluginInfo> {
        let bytes = self.kept.as_ref()?.read(&format!("{hash}.info.json"))?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn store_info(&self, hash: &str, info: &crate::model::PluginInfo) {
        let Some(kept) = &self.kept else { return };
        let stored = serde_json::to_vec(info)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| kept.write(&format!("{hash}.info.json"), &bytes));
        if let Err(e) = stored {
            tracing::debug!("cannot cache the info of {hash}: {e:#}");
        }
    }
}

impl Kept {
    /// The folder `name` of bkt's cache, and its record.
    pub fn new(folders: &Folders, name: &str) -> Kept {
        Kept {
            top: folders.cache.clone(),
            cache: folders.cache.join(name),
            record: folders.record.join(name),
        }
    }

    /// The bytes of the cached file `name`, when every rule in the module comment holds.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.cache.join(name);
        match private_artifact(&self.cache, &path) {
            Ok(()) => {}
            Err(Unusable::Missing) => return None,
            Err(Unusable::NotPrivate(why)) => {
                tracing::warn!("not using {}: {why}; making it again", path.display());
                return None;
            }
        }
        let bytes = std::fs::read(&path).ok()?;
        // No record: bkt's state was cleared, or another bkt wrote the file; compiled again
        // without a word. A record of other bytes: the file was replaced.
        let recorded = std::fs::read_to_string(self.record_path(name)).ok()?;
        if recorded.trim() != sha256_hex(&bytes) {
            tracing::warn!(
                "not using {}: it is not what bkt recorded writing there (replaced, or cut \
                 short by a crash); making it again",
                path.display()
            );
            return None;
        }
        Some(bytes)
    }

    /// Writes `bytes` as the cached file `name` and records its hash. The record is written
    /// last: a file without its record is never loaded. Neither is synced: what a crash
    /// leaves of them does not match, and is rebuilt.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        atomic::write_cache(&self.cache.join(name), bytes, Mode::Exactly(0o600))?;
        // The folder may predate bkt's (created by something else): make it private anyway.
        std::fs::set_permissions(&self.top, std::fs::Permissions::from_mode(0o700))?;
        atomic::write_cache(
            &self.record_path(name),
            sha256_hex(bytes).as_bytes(),
            Mode::Exactly(0o600),
        )
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.record.join(format!("{name}.sha256"))
    }
}

enum Unusable {
    Missing,
    NotPrivate(String),
}

/// Whether the artifact at `path` and its folder `dir` may be loaded: both exist, belong to
/// the effective user, and are writable by nobody else. The artifact itself is not followed
/// if it is a symlink.
fn private_artifact(dir: &Path, path: &Path) -> Result<(), Unusable> {
    let file = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Err(Unusable::Missing),
    };
    if !file.is_file() {
        return Err(Unusable::NotPrivate("it is not a plain file".into()));
    }
    let folder = std::fs::metadata(dir).map_err(|_| Unusable::Missing)?;
    crate::os::identity::private_to_us(&folder)
        .map_err(|why| Unusable::NotPrivate(format!("its folder {}: {why}", dir.display())))?;
    crate::os::identity::private_to_us(&file).map_err(|why| Unusable::NotPrivate(why.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A cached file is used only when its bytes are the ones bkt recorded writing.
    #[test]
    fn a_replaced_artifact_is_not_loaded() {
        let t = tempfile::tempdir().unwrap();
        let engine = Engine::new(&super::super::engine::config()).unwrap();
        let cache = Cache::new(
            &engine,
            Some(&Folders {
                cache: t.path().join("cache"),
                record: t.path().join("state"),
            }),
        );
        let kept = cache.kept.as_ref().unwrap();
        let info = crate::model::PluginInfo {
            id: "p".into(),
            command: "p".into(),
            summary: String::new(),
            version: "1".into(),
            manifest: "p.json".into(),
            sections: vec![],
            phase: crate::model::Phase::Packages,
            verbs: vec![],
            capabilities: Default::default(),
            about: Default::default(),
            requires_bkt: String::new(),
        };
        cache.store_info("h", &info);
        assert_eq!(cache.info("h"), Some(info.clone()));
        // Another plugin's info (here: one granting more) put in its place is refused.
        let mut granted = info.clone();
        granted.capabilities.writes.push("/".into());
        let path = kept.cache.join("h.info.json");
        std::fs::write(&path, serde_json::to_vec(&granted).unwrap()).unwrap();
        assert_eq!(cache.info("h"), None);
        // So is a file bkt has no record of.
        std::fs::remove_file(kept.record_path("h.info.json")).unwrap();
        assert_eq!(cache.info("h"), None);
    }

    #[test]
    fn only_private_artifacts_load() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("engine");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o700);
        let path = dir.join("x.cwasm");
        assert!(matches!(
            private_artifact(&dir, &path),
            Err(Unusable::Missing)
        ));
        std::fs::write(&path, "code").unwrap();
        chmod(&path, 0o600);
        assert!(private_artifact(&dir, &path).is_ok());
        chmod(&path, 0o666);
        assert!(matches!(
            private_artifact(&dir, &path),
            Err(Unusable::NotPrivate(_))
        ));
        chmod(&path, 0o600);
        chmod(&dir, 0o777);
        assert!(
            matches!(private_artifact(&dir, &path), Err(Unusable::NotPrivate(w)) if w.contains("folder"))
        );
        chmod(&dir, 0o700);
        // A symlink to an artifact elsewhere is not followed.
        let link = dir.join("y.cwasm");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            private_artifact(&dir, &link),
            Err(Unusable::NotPrivate(_))
        ));
    }
}
