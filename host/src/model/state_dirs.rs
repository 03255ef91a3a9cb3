//! Where bkt keeps what it remembers, for every kind of record: the one rule.
//!
//! A user's records live in their XDG folders. The system's live in `/var/lib/bkt` under the
//! root when bkt may write there for the system: as root (the boot unit), or inside a
//! mounted tree (`--root`, which belongs to whoever mounted it). A user running on the host
//! keeps system-scope sync records beside their own.

use super::root::SystemRoot;
use crate::os::atomic::{self, Mode};
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct StateDirs {
    /// `$XDG_STATE_HOME/bkt`, when the user has one.
    user_state: Option<PathBuf>,
    /// `$XDG_DATA_HOME/bkt`, when the user has one.
    user_data: Option<PathBuf>,
    /// `<root>/var/lib/bkt`.
    system: PathBuf,
    /// The root it is in.
    root: PathBuf,
    as_root: bool,
    root_is_host: bool,
}

impl StateDirs {
    pub fn new(root: &SystemRoot, euid: u32) -> StateDirs {
        let base = directories::BaseDirs::new();
        StateDirs {
            user_state: base
                .as_ref()
                .and_then(|b| b.state_dir().map(|d| d.join("bkt"))),
            user_data: base.as_ref().map(|b| b.data_dir().join("bkt")),
            system: root.join("var/lib/bkt"),
            root: root.path().to_path_buf(),
            as_root: euid == 0,
            root_is_host: root.is_host(),
        }
    }

    /// The system's folder, `<root>/var/lib/bkt`.
    pub fn system(&self) -> PathBuf {
        self.system.clone()
    }

    /// The user's state folder, or an error saying why there is none.
    pub fn user_state(&self) -> Result<PathBuf> {
        self.user_state
            .clone()
            .context("no state folder for the user (is HOME set?)")
    }

    /// Writes one of bkt's state files atomically. A file in the system's folder is written
    /// beneath the root without following symlinks: `<root>/var/lib/bkt` planted as a link
    /// out of a mounted image must not send bkt's records elsewhere.
    pub fn write(&self, path: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
        match path.strip_prefix(&self.root) {
            Ok(rel) if path.starts_with(&self.system) => {
                let rel = format!("/{}", rel.to_string_lossy());
                atomic::write_beneath(&self.root, &rel, bytes, mode)
            }
            _ => atomic::write(path, bytes, mode),
        }
    }

    /// The sync record files of one repository (`key`): the user's, and the system's.
    pub fn sync_files(&self, key: &str) -> (Option<PathBuf>, Option<PathBuf>) {
        let user_dir = self.user_state.as_ref().map(|d| d.join("sync"));
        let user = user_dir.as_ref().map(|d| d.join(format!("{key}.json")));
        let system = if self.as_root || !self.root_is_host {
            Some(self.system.join("sync").join(format!("{key}.json")))
        } else {
            user_dir.map(|d| d.join(format!("{key}.system.json")))
        };
        (user, system)
    }

    /// The record of `--local` changes: root's with the system, a user's in their data
    /// folder (it is work in progress, not state to rebuild).
    pub fn local_changes(&self) -> Result<PathBuf> {
        if self.as_root {
            return Ok(self.system.join("ephemeral.json"));
        }
        self.user_data
            .as_ref()
            .map(|d| d.join("ephemeral.json"))
            .context("no data folder for the user (is HOME set?)")
    }
}
