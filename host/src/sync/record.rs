//! The sync record: per repository, plugin and item, a fingerprint of the value the manifest
//! and the machine last agreed on. User-scope items live in `$XDG_STATE_HOME/bkt/sync/`;
//! system-scope ones in `/var/lib/bkt/sync/` (inside the root with `--root`) when bkt may
//! write there, and beside the user's otherwise.

use crate::model::{Agreed, Scope, StateDirs, SystemRoot};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

/// A value's fingerprint: enough of its sha256 that two values never share one in practice.
pub fn fingerprint(value: &str) -> String {
    let mut hex = crate::os::hash::sha256_hex(value.as_bytes());
    hex.truncate(24);
    hex
}

/// Plugin → item → fingerprint.
pub type Entries = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    /// The repository (and root) this record belongs to, for people reading it.
    repo: String,
    plugins: Entries,
}

/// One record file.
struct Store {
    path: Option<PathBuf>,
    file: File,
    dirty: bool,
}

impl Store {
    fn load(path: Option<PathBuf>, repo: &str) -> Store {
        let mut store = Store {
            path,
            file: File {
                version: VERSION,
                repo: repo.to_string(),
                plugins: Entries::new(),
            },
            dirty: false,
        };
        let Some(path) = &store.path else {
            return store;
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return store,
            Err(e) => {
                tracing::warn!("cannot read the sync record {}: {e}", path.display());
                store.path = None;
                return store;
            }
        };
        match serde_json::from_str::<File>(&text) {
            Ok(file) if file.version == VERSION => store.file = file,
            Ok(file) => set_aside(path, &format!("it has version {}", file.version)),
            Err(e) => set_aside(path, &e.to_string()),
        }
        store
    }

    fn save(&self, dirs: &StateDirs) -> Result<()> {
        let (Some(path), true) = (&self.path, self.dirty) else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(&self.file)? + "\n";
        dirs.write(
            path,
            text.as_bytes(),
            crate::os::atomic::Mode::Exactly(0o644),
        )
    }
}

/// A record that cannot be read is kept for inspection and every item starts over as first
/// contact: never a crash, never a silent reset.
fn set_aside(path: &Path, why: &str) {
    let aside = path.with_extension(format!("json.corrupt-{}", crate::os::time::now()));
    match std::fs::rename(path, &aside) {
        Ok(()) => eprintln!(
            "warning: the sync record {} could not be read ({why}); it was moved to {} and bkt treats every item as not synced yet",
            path.display(),
            aside.display()
        ),
        Err(e) => eprintln!(
            "warning: the sync record {} could not be read ({why}) nor moved aside ({e})",
            path.display()
        ),
    }
}

/// What a command settled for one plugin: the items that agree now, and for each drifting
/// item either its new agreed value (`Some`: both sides hold it, `None`: neither has it) or
/// nothing (left as it was: keeps its old entry).
pub struct Settled<'a> {
    pub agreed: &'a [Agreed],
    pub changed: Vec<(Scope, &'a str, Option<&'a str>)>,
    pub unsettled: Vec<(Scope, &'a str)>,
}

/// The user's and the system's record for one repository.
pub struct Records {
    user: Store,
    system: Store,
    /// Where they are written: the system's beneath the root, without following links.
    dirs: StateDirs,
}

impl Records {
    /// The records of the repository at `repo` operating on `root`.
    pub fn load(repo: &Path, root: &SystemRoot, dirs: &StateDirs) -> Records {
        let label = format!("{} (root {root})", repo.display());
        let key = &fingerprint(&label)[..16];
        let (user, system) = dirs.sync_files(key);
        Records {
            user: Store::load(user, &label),
            system: Store::load(system, &label),
            dirs: dirs.clone(),
        }
    }

    fn store(&self, scope: Scope) -> &Store {
        match scope {
            Scope::User => &self.user,
            Scope::System => &self.system,
        }
    }

    /// A plugin's entries in one scope; `None` when it was never synced there.
    pub fn entries(&self, scope: Scope, plugin: &str) -> Option<&BTreeMap<String, String>> {
        self.store(scope).file.plugins.get(plugin)
    }

    /// Rebuilds a plugin's entries from what a command settled: items neither agreed nor
    /// drifting are gone from both sides and drop out.
    pub fn settle(&mut self, plugin: &str, settled: &Settled) {
        for scope in [Scope::User, Scope::System] {
            let old = self.entries(scope, plugin).cloned().unwrap_or_default();
            let mut new = BTreeMap::new();
            for a in settled.agreed.iter().filter(|a| a.scope == scope) {
                new.insert(a.id.clone(), fingerprint(&a.value));
            }
            for (s, id, value) in &settled.changed {
                if *s == scope
                    && let Some(value) = value
                {
                    new.insert(id.to_string(), fingerprint(value));
                }
            }
            for (s, id) in &settled.unsettled {
                if *s == scope
                    && let Some(fp) = old.get(*id)
                {
                    new.insert(id.to_string(), fp.clone());
                }
            }
            let store = match scope {
                Scope::User => &mut self.user,
                Scope::System => &mut self.system,
            };
            // A scope the plugin has no items in stays unrecorded: nothing to remember there.
            let known = store.file.plugins.contains_key(plugin);
            if (known || !new.is_empty()) && store.file.plugins.get(plugin) != Some(&new) {
                store.file.plugins.insert(plugin.to_string(), new);
                store.dirty = true;
            }
        }
    }

    /// Writes the records that changed, atomically. A record that cannot be written is a
    /// warning: the manifests and the machine are already right, only the memory is lost.
    pub fn save(&self) {
        for store in [&self.user, &self.system] {
            if let Err(e) = store.save(&self.dirs) {
                let path = store.path.as_deref().unwrap_or(Path::new("?"));
                eprintln!(
                    "warning: cannot write the sync record {}: {e:#}",
                    path.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_record_is_moved_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = Store::load(Some(path.clone()), "repo");
        assert!(store.file.plugins.is_empty());
        assert!(!path.exists());
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(aside[0].starts_with("r.json.corrupt-"), "{aside:?}");
    }

    #[test]
    fn settling_keeps_unsettled_entries_and_drops_vanished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut records = Records {
            user: Store::load(Some(dir.path().join("u.json")), "r"),
            system: Store::load(Some(dir.path().join("s.json")), "r"),
            dirs: StateDirs::new(&SystemRoot::at(dir.path().join("root")), 1000),
        };
        let agreed = vec![Agreed {
            id: "a".into(),
            value: "1".into(),
            scope: Scope::System,
        }];
        records.settle(
            "p",
            &Settled {
                agreed: &agreed,
                changed: vec![(Scope::System, "b", Some("2")), (Scope::System, "c", None)],
                unsettled: vec![],
            },
        );
        records.save();
        let again = Store::load(Some(dir.path().join("s.json")), "r");
        let p = &again.file.plugins["p"];
        assert_eq!(p.len(), 2);
        assert_eq!(p["b"], fingerprint("2"));
        records.settle(
            "p",
            &Settled {
                agreed: &[],
                changed: vec![],
                unsettled: vec![(Scope::System, "b"), (Scope::System, "zzz")],
            },
        );
        let p = records.entries(Scope::System, "p").unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["b"]);
        assert!(records.entries(Scope::User, "p").is_none());
    }
}
