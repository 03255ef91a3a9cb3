//! The system bkt acts on: `/`, or a tree mounted elsewhere (`--root`).

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRoot {
    path: PathBuf,
    /// The path as text, as argv words and plugins see it.
    text: String,
}

impl SystemRoot {
    /// The running system.
    pub fn host() -> SystemRoot {
        SystemRoot::at(PathBuf::from("/"))
    }

    /// `path` as it is, unchecked: for a root already checked, or a test's.
    pub fn at(path: PathBuf) -> SystemRoot {
        let text = path.to_string_lossy().into_owned();
        SystemRoot { path, text }
    }

    /// `--root DIR`, made absolute and checked, or `/` without it.
    pub fn from_flag(flag: Option<&Path>) -> Result<SystemRoot> {
        let Some(r) = flag else {
            return Ok(SystemRoot::host());
        };
        let path = r
            .canonicalize()
            .with_context(|| format!("--root {}", r.display()))?;
        if !path.is_dir() {
            bail!("--root {} is not a folder", path.display());
        }
        Ok(SystemRoot::at(path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is the running system, not a mounted tree.
    pub fn is_host(&self) -> bool {
        self.path == Path::new("/")
    }

    /// `rel` (without a leading `/`) inside the root.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel.trim_start_matches('/'))
    }

    /// Whether the root is an ostree-based system.
    pub fn is_ostree(&self) -> bool {
        self.join("run/ostree-booted").exists() || self.join("ostree").is_dir()
    }

    /// The root as plugins are told it (`host-context.root`) and argv words name it.
    pub fn as_text(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for SystemRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())
    }
}
