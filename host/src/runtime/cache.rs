//! Compiled plugin code, cached per component hash and engine under `$XDG_CACHE_HOME/bkt`.
//!
//! Compiling a component with Cranelift takes tens to hundreds of milliseconds; loading the
//! cached artifact maps it from disk in well under one. The folder is private to the user
//! (0700) because a cached artifact is native code that bkt runs: an artifact is loaded only
//! from a folder and file that belong to bkt's user and that nobody else may write, else it
//! is compiled again. Root's cache is `/var/cache/bkt`, never a folder a user's environment
//! names (under `sudo -E`, XDG_CACHE_HOME is the user's).

use anyhow::{Context as _, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// `dir` is `$XDG_CACHE_HOME/bkt`; `None` compiles every time (no usable cache folder).
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Cache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let dir = dir.map(|d| d.join("components").join(engine_key));
        Cache { dir }
    }

    /// The component for `wasm` (whose sha256 is `hash`): from the cache when an artifact
    /// loads, else compiled and stored.
    pub fn load(&self, engine: &Engine, hash: &str, wasm: &[u8]) -> Result<Component> {
        let Some(dir) = &self.dir else {
            return Ok(Component::new(engine, wasm)?);
        };
        let path = dir.join(format!("{hash}.cwasm"));
        match private_artifact(dir, &path) {
            Ok(()) => {
                // SAFETY: the artifact is in a folder and file only bkt's user can write (checked
                // just above), where bkt itself wrote it for this engine configuration (the
                // folder name is the engine's compatibility hash); wasmtime checks the header
                // and refuses an artifact from another engine.
                match unsafe { Component::deserialize_file(engine, &path) } {
                    Ok(component) => return Ok(component),
                    Err(e) => tracing::debug!(
                        "cached {} does not load ({e:#}); recompiling",
                        path.display()
                    ),
                }
            }
            Err(Unusable::Missing) => {}
            Err(Unusable::NotPrivate(why)) => tracing::warn!(
                "not loading compiled code from {}: {why}; compiling the plugin again",
                path.display()
            ),
        }
        let component = Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .context("compiling the plugin")?;
        if let Err(e) = store(dir, &path, &component) {
            tracing::warn!(
                "cannot cache compiled plugin code in {}: {e:#}",
                dir.display()
            );
        }
        Ok(component)
    }
}

impl Cache {
    /// The info a component declared, read when it was first loaded: info() sees a fixed
    /// context, so it is the same every time. `None` when not cached (or not readable).
    pub fn info(&self, hash: &str) -> Option<crate::model::PluginInfo> {
        let dir = self.dir.as_ref()?;
        let path = dir.join(format!("{hash}.info.json"));
        private_artifact(dir, &path).ok()?;
        serde_json::from_slice(&std::fs::read(&path).ok()?).ok()
    }

    pub fn store_info(&self, hash: &str, info: &crate::model::PluginInfo) {
        let Some(dir) = &self.dir else { return };
        let path = dir.join(format!("{hash}.info.json"));
        let stored = serde_json::to_vec(info)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| {
                crate::os::atomic::write(&path, &bytes, crate::os::atomic::Mode::Exactly(0o600))
            });
        if let Err(e) = stored {
            tracing::debug!("cannot cache the info of {hash}: {e:#}");
        }
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

fn store(dir: &Path, path: &Path, component: &Component) -> Result<()> {
    let bytes = component.serialize()?;
    crate::os::atomic::write(path, &bytes, crate::os::atomic::Mode::Exactly(0o600))?;
    // The folder may predate bkt's (created by something else): make it private anyway.
    if let Some(top) = dir.parent().and_then(Path::parent) {
        std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
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
