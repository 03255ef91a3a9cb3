//! The trust store: which third-party components the user has approved, by sha256.
//! A changed file has another hash and is refused until trusted again.

use super::{Origin, Source};
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    #[serde(default)]
    pub trusted: Vec<Trusted>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trusted {
    pub path: PathBuf,
    pub sha256: String,
    pub id: String,
}

impl Store {
    /// `$XDG_CONFIG_HOME/bkt/trusted-plugins.json`; missing means nothing is trusted.
    pub fn load() -> Result<Store> {
        let (path, mut store): (_, Store) = crate::app::read_config_json("trusted-plugins.json")?;
        store.path = path;
        Ok(store)
    }

    pub fn check(&self, src: &Source) -> Result<(), String> {
        let Origin::File(path) = &src.origin else {
            return Ok(());
        };
        match self.trusted.iter().find(|t| t.path == *path) {
            Some(t) if t.sha256 == src.sha256 => Ok(()),
            Some(_) => Err(format!(
                "{} changed since it was trusted; check it, then run `bkt plugin trust {}`",
                path.display(),
                path.display()
            )),
            None => Err(format!(
                "not trusted yet; review it with `bkt plugin trust {}`",
                path.display()
            )),
        }
    }

    pub fn trust(&mut self, path: PathBuf, sha256: String, id: String) -> Result<()> {
        self.trusted.retain(|t| t.path != path);
        self.trusted.push(Trusted { path, sha256, id });
        self.save()
    }

    pub fn revoke(&mut self, path: &std::path::Path) -> Result<bool> {
        let before = self.trusted.len();
        self.trusted.retain(|t| t.path != path);
        let changed = before != self.trusted.len();
        if changed {
            self.save()?;
        }
        Ok(changed)
    }

    fn save(&self) -> Result<()> {
        let path = self
            .path
            .clone()
            .context("no config folder to keep the trust store in")?;
        let text = serde_json::to_string_pretty(self)? + "\n";
        crate::repo::atomic::write(
            &path,
            text.as_bytes(),
            crate::repo::atomic::Mode::Exactly(0o600),
        )
    }
}
