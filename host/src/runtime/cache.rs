//! Compiled plugin code, cached per component hash and engine under `$XDG_CACHE_HOME/bkt`.
//!
//! Compiling a component with Cranelift takes tens to hundreds of milliseconds; loading the
//! cached artifact maps it from disk in well under one. The folder is private to the user
//! (0700) because a cached artifact is native code that bkt runs.

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
        if path.is_file() {
            // SAFETY: the artifact was written by bkt itself into a 0700 folder of the user's,
            // for this engine configuration (the folder name is the engine's compatibility hash);
            // wasmtime checks the header and refuses an artifact from another engine.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::debug!(
                    "cached {} does not load ({e:#}); recompiling",
                    path.display()
                ),
            }
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

fn store(dir: &Path, path: &Path, component: &Component) -> Result<()> {
    let bytes = component.serialize()?;
    crate::repo::atomic::write(path, &bytes, crate::repo::atomic::Mode::Exactly(0o600))?;
    // The folder may predate bkt's (created by something else): make it private anyway.
    if let Some(top) = dir.parent().and_then(Path::parent) {
        std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
