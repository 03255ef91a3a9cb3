//! Local changes: subsystem commands run with `--local` change this machine only and are
//! remembered here, with the boot they belong to, until `bkt local commit` folds them into
//! the manifests (and a pull request) or `bkt local clear` drops them. A record from an
//! earlier boot is stale: kept aside, never replayed, never silently deleted.

use crate::model::{CallError, StateDirs, SystemRoot};
use crate::os::atomic::Mode;
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One `--local` command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Seconds since the epoch.
    pub at: u64,
    /// As typed: `bkt dnf install htop --local`.
    pub command_line: String,
    pub plugin: String,
    pub verb: String,
    pub args: Vec<String>,
    /// The items it changed on the machine: these are local, not drift.
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub boot_id: String,
    pub created: u64,
    pub commands: Vec<Command>,
}

/// Where the record lives: root's in `/var/lib/bkt` (under the root), a user's in their data
/// folder.
pub struct Store {
    pub path: PathBuf,
    boot_id: String,
    dirs: StateDirs,
}

/// `/proc/sys/kernel/random/boot_id` of the root: a new one after every reboot.
pub fn boot_id(root: &SystemRoot) -> String {
    std::fs::read_to_string(root.join("proc/sys/kernel/random/boot_id"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl Store {
    pub fn open(root: &SystemRoot, dirs: &StateDirs) -> Result<Store> {
        Ok(Store {
            path: dirs.local_changes()?,
            dirs: dirs.clone(),
            boot_id: boot_id(root),
        })
    }

    /// This boot's record, for commands that only look (status, apply, capture): a stale one
    /// counts as none and stays where it is.
    pub fn peek(&self) -> Option<Record> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str::<Record>(&text)
            .ok()
            .filter(|r| r.boot_id == self.boot_id)
    }

    /// This boot's record. A record from an earlier boot is moved aside (and said so); one
    /// that cannot be read is an error naming the file, never a silent reset.
    pub fn load(&self) -> Result<Option<Record>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        let record: Record = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a record of local changes; move it away to start a new one",
                self.path.display()
            )
        })?;
        if record.boot_id != self.boot_id {
            let aside = self.set_aside("stale")?;
            eprintln!(
                "warning: the local changes recorded before the last reboot are stale; they were not replayed and are kept in {}",
                aside.display()
            );
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// Adds a command to this boot's record.
    pub fn add(&self, command: Command) -> Result<()> {
        let mut record = self.load()?.unwrap_or(Record {
            boot_id: self.boot_id.clone(),
            created: command.at,
            commands: vec![],
        });
        record.commands.push(command);
        self.save(&record)
    }

    fn save(&self, record: &Record) -> Result<()> {
        let text = serde_json::to_string_pretty(record)? + "\n";
        self.dirs
            .write(&self.path, text.as_bytes(), Mode::Exactly(0o600))
    }

    /// Renames the record beside itself (`ephemeral.json.WHY-SECONDS`).
    pub fn set_aside(&self, why: &str) -> Result<PathBuf> {
        let aside = self
            .path
            .with_extension(format!("json.{why}-{}", crate::os::time::now()));
        std::fs::rename(&self.path, &aside)
            .with_context(|| format!("moving {} aside", self.path.display()))?;
        Ok(aside)
    }
}

/// A manifest with `commands` (one plugin's, in the order they were made) replayed on it
/// through the plugin's own `edit`. A command whose edit fails goes to `failed`, which says
/// whether that ends the replay (an error) or skips the command.
pub fn replay<'c>(
    session: &mut crate::runtime::Session,
    mut text: Option<String>,
    commands: impl IntoIterator<Item = &'c Command>,
    mut failed: impl FnMut(&'c Command, CallError) -> Result<()>,
) -> Result<Option<String>> {
    for c in commands {
        match session.edit(text.as_deref(), &c.verb, &c.args) {
            Ok(result) => {
                if let Some(m) = result.manifest {
                    text = Some(m);
                }
            }
            Err(e) => failed(c, e)?,
        }
    }
    Ok(text)
}

/// Plugin → the items local changes own.
pub type Items = BTreeMap<String, BTreeSet<String>>;

/// The items of each plugin that this boot's local changes own (none when it has no record
/// or no usable place for one).
pub fn current_items(root: &SystemRoot, dirs: &StateDirs) -> Items {
    Store::open(root, dirs)
        .ok()
        .and_then(|s| s.peek())
        .map(|r| items(Some(&r)))
        .unwrap_or_default()
}

/// The items of each plugin that local changes own.
pub fn items(record: Option<&Record>) -> Items {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in record.map(|r| r.commands.as_slice()).unwrap_or_default() {
        out.entry(c.plugin.clone())
            .or_default()
            .extend(c.items.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_from_another_boot_is_kept_aside_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = StateDirs::new(&SystemRoot::at(dir.path().join("root")), 1000);
        let store = Store {
            path: dir.path().join("ephemeral.json"),
            boot_id: "boot-1".into(),
            dirs: dirs.clone(),
        };
        store
            .add(Command {
                at: 1,
                command_line: "bkt dnf install htop --local".into(),
                plugin: "dnf".into(),
                verb: "install".into(),
                args: vec!["htop".into()],
                items: vec!["htop".into()],
            })
            .unwrap();
        assert_eq!(store.load().unwrap().unwrap().commands.len(), 1);
        let after_reboot = Store {
            path: store.path.clone(),
            boot_id: "boot-2".into(),
            dirs,
        };
        assert!(after_reboot.load().unwrap().is_none());
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].starts_with("ephemeral.json.stale-"), "{kept:?}");
    }
}
