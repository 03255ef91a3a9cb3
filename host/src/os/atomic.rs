//! Atomic file writes: a temp file in the same folder, then rename. The file keeps its mode.
//! Everything goes through a cap-std `Dir`, so a name cannot climb out of the folder it is
//! written in.

use anyhow::{Context as _, Result};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt, Permissions, PermissionsExt};
use std::io::Write;
use std::path::Path;

fn temp_name(name: &str) -> String {
    let base = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = Path::new(name)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = format!(".{base}.bkt-{}", std::process::id());
    if parent.is_empty() {
        tmp
    } else {
        format!("{parent}/{tmp}")
    }
}

/// The mode a written file ends up with. It is set on the temp file, before the rename, so
/// the file never exists with another one.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// The replaced file's mode; 0644 for a new file.
    Keep,
    Exactly(u32),
}

/// Writes `name` (relative to `dir`) to a temp file beside it and returns the temp's name.
///
/// The temp file is created new (never opened through an existing name, which could be a
/// symlink planted there) with its final mode, and the mode is set again through the open
/// handle, since the umask may have narrowed it: no name is looked up twice.
pub fn stage(dir: &Dir, name: &str, bytes: &[u8], mode: Mode) -> Result<String> {
    stage_as(dir, name, bytes, mode, Sync::Yes)
}

/// Whether a written file reaches the disk before it replaces the old one.
#[derive(Clone, Copy, PartialEq)]
enum Sync {
    Yes,
    /// For a cache: a crash may leave the file short or empty, which its reader must detect
    /// (bkt's caches record each file's sha256) and rebuild; no `fsync` on every store.
    No,
}

fn stage_as(dir: &Dir, name: &str, bytes: &[u8], mode: Mode, sync: Sync) -> Result<String> {
    let mode = match (mode, dir.symlink_metadata(name)) {
        (Mode::Exactly(m), _) => m,
        // A symlink's own mode means nothing; the file replacing it gets the default.
        (Mode::Keep, Ok(m)) if !m.is_symlink() => m.permissions().mode() & 0o7777,
        (Mode::Keep, _) => 0o644,
    };
    let tmp = temp_name(name);
    let create = || {
        dir.open_with(
            &tmp,
            OpenOptions::new().write(true).create_new(true).mode(mode),
        )
    };
    let mut file = match create() {
        // Left behind by a run that was killed (the name has bkt's pid in it): remove the
        // entry itself, whatever it is, and create the file anew.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = dir.remove_file(&tmp);
            create()
        }
        other => other,
    }
    .with_context(|| format!("creating a temporary file beside {name}"))?;
    let written = file
        .set_permissions(Permissions::from_mode(mode))
        .and_then(|_| file.write_all(bytes))
        .and_then(|_| match sync {
            Sync::Yes => file.sync_all(),
            Sync::No => Ok(()),
        });
    if let Err(e) = written {
        let _ = dir.remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {name}"));
    }
    Ok(tmp)
}

/// Writes one file atomically.
pub fn write_in(dir: &Dir, name: &str, bytes: &[u8], mode: Mode) -> Result<()> {
    replace(dir, name, bytes, mode, Sync::Yes)
}

fn replace(dir: &Dir, name: &str, bytes: &[u8], mode: Mode, sync: Sync) -> Result<()> {
    let tmp = stage_as(dir, name, bytes, mode, sync)?;
    dir.rename(&tmp, dir, name)
        .inspect_err(|_| {
            let _ = dir.remove_file(&tmp);
        })
        .with_context(|| format!("replacing {name}"))
}

/// Writes an absolute path atomically. Missing folders on the way are created 0700: this is
/// for bkt's own private files (trust store, state).
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
    write_private(path, bytes, mode, Sync::Yes)
}

/// The same for a cache file, which is not synced: what a crash leaves of it must be
/// detected by its reader (a recorded hash) and rebuilt, and a store costs no disk flush.
pub fn write_cache(path: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
    write_private(path, bytes, mode, Sync::No)
}

fn write_private(path: &Path, bytes: &[u8], mode: Mode, sync: Sync) -> Result<()> {
    let parent = path.parent().context("a file path needs a folder")?;
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(parent)
        .with_context(|| format!("creating {}", parent.display()))?;
    let dir = Dir::open_ambient_dir(parent, ambient_authority())
        .with_context(|| format!("opening {}", parent.display()))?;
    let name = path
        .file_name()
        .context("a file path needs a name")?
        .to_string_lossy()
        .into_owned();
    replace(&dir, &name, bytes, mode, sync)
}

/// Writes `path` (absolute, no `.` or `..`) beneath the folder `root` atomically, opening each
/// folder on the way without following a symlink (missing ones are created 0755): for files
/// bkt keeps inside a system root, where a planted link must not send them elsewhere.
pub fn write_beneath(root: &Path, path: &str, bytes: &[u8], mode: Mode) -> Result<()> {
    let root_dir = Dir::open_ambient_dir(root, ambient_authority())
        .with_context(|| format!("opening {}", root.display()))?;
    let (dir, name) = super::nofollow::parent_of(&root_dir, path, true)?
        .context("the folder was just created")?;
    write_in(&dir, &name, bytes, mode)
}

/// One file of a transaction: its new bytes and the old ones to restore.
pub struct FileChange {
    pub name: String,
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
}

/// The journal of a commit in progress, in the folder the commit writes in.
pub const JOURNAL: &str = ".bkt-journal";

#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    /// (temp file, final name) pairs, relative to the folder.
    renames: Vec<(String, String)>,
}

/// Replaces several files so that either all change or none does, even if bkt is killed at
/// any instant. Every temp file is written and synced first (where nearly all failures
/// happen); then a journal naming the renames; then the renames; then the journal goes. A
/// commit interrupted before its journal exists leaves only temp files, which [`recover`]
/// removes; one interrupted after is finished by [`recover`]. If a rename fails, the files
/// already replaced get their old bytes back.
pub fn commit(dir: &Dir, changes: &[FileChange]) -> Result<()> {
    let mut staged = Vec::new();
    for c in changes {
        match stage(dir, &c.name, &c.new, Mode::Keep) {
            Ok(tmp) => staged.push(tmp),
            Err(e) => {
                for tmp in &staged {
                    let _ = dir.remove_file(tmp);
                }
                return Err(e.context("nothing was changed"));
            }
        }
    }
    let journal = Journal {
        renames: staged
            .iter()
            .cloned()
            .zip(changes.iter().map(|c| c.name.clone()))
            .collect(),
    };
    if changes.len() > 1 {
        let text = serde_json::to_vec(&journal)?;
        if let Err(e) = write_in(dir, JOURNAL, &text, Mode::Exactly(0o600)) {
            for tmp in &staged {
                let _ = dir.remove_file(tmp);
            }
            return Err(e.context("nothing was changed"));
        }
    }
    for (i, (c, tmp)) in changes.iter().zip(&staged).enumerate() {
        if let Err(e) = dir.rename(tmp, dir, &c.name) {
            for tmp in &staged[i..] {
                let _ = dir.remove_file(tmp);
            }
            for done in &changes[..i] {
                let _ = match &done.old {
                    Some(old) => write_in(dir, &done.name, old, Mode::Keep),
                    None => dir.remove_file(&done.name).map_err(Into::into),
                };
            }
            let _ = dir.remove_file(JOURNAL);
            return Err(
                anyhow::Error::new(e).context(format!("replacing {}; nothing was changed", c.name))
            );
        }
    }
    if changes.len() > 1 {
        dir.remove_file(JOURNAL)
            .context("removing the commit journal")?;
    }
    Ok(())
}

/// Finishes a commit a killed bkt left behind (its journal names every rename, and every temp
/// file it names is complete), then removes temp files of commits that never reached their
/// journal. Runs under the repository lock. Returns what it did, for a message.
pub fn recover(dir: &Dir, folders: &[&str]) -> Result<Option<String>> {
    let mut done = None;
    match dir.read(JOURNAL) {
        Ok(bytes) => {
            let journal: Journal =
                serde_json::from_slice(&bytes).unwrap_or(Journal { renames: vec![] });
            let mut finished = Vec::new();
            for (tmp, name) in &journal.renames {
                if dir.exists(tmp) {
                    dir.rename(tmp, dir, name)
                        .with_context(|| format!("finishing the interrupted write of {name}"))?;
                    finished.push(name.as_str());
                }
            }
            dir.remove_file(JOURNAL)
                .context("removing the commit journal")?;
            if !finished.is_empty() {
                done = Some(format!(
                    "finished an interrupted write of {}",
                    finished.join(", ")
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("reading the commit journal"),
    }
    for folder in folders {
        let Ok(entries) = dir.read_dir(folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temp_name(&name) {
                let path = if folder.is_empty() || *folder == "." {
                    name
                } else {
                    format!("{folder}/{name}")
                };
                let _ = dir.remove_file(&path);
            }
        }
    }
    Ok(done)
}

/// Whether a killed commit left a journal or temp files behind in `folders`.
pub fn has_leftovers(dir: &Dir, folders: &[&str]) -> bool {
    dir.exists(JOURNAL)
        || folders.iter().any(|f| {
            dir.read_dir(f).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|e| is_temp_name(&e.file_name().to_string_lossy()))
            })
        })
}

/// `.NAME.bkt-PID`, as [`temp_name`] makes them.
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".bkt-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, Dir) {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("m")).unwrap();
        let d = Dir::open_ambient_dir(t.path(), ambient_authority()).unwrap();
        (t, d)
    }

    #[test]
    fn an_interrupted_commit_is_finished_from_its_journal() {
        let (t, d) = dir();
        std::fs::write(t.path().join("m/a"), "old a").unwrap();
        std::fs::write(t.path().join("b"), "old b").unwrap();
        // As if killed after the journal and the first rename.
        let ta = stage(&d, "m/a", b"new a", Mode::Keep).unwrap();
        let tb = stage(&d, "b", b"new b", Mode::Keep).unwrap();
        let j = Journal {
            renames: vec![(ta.clone(), "m/a".into()), (tb, "b".into())],
        };
        write_in(&d, JOURNAL, &serde_json::to_vec(&j).unwrap(), Mode::Keep).unwrap();
        d.rename(&ta, &d, "m/a").unwrap();
        let note = recover(&d, &[".", "m"]).unwrap();
        assert!(note.unwrap().contains("b"));
        assert_eq!(
            std::fs::read_to_string(t.path().join("m/a")).unwrap(),
            "new a"
        );
        assert_eq!(
            std::fs::read_to_string(t.path().join("b")).unwrap(),
            "new b"
        );
        assert!(!t.path().join(JOURNAL).exists());
    }

    #[test]
    fn temp_files_without_a_journal_are_removed() {
        let (t, d) = dir();
        std::fs::write(t.path().join("m/a"), "old a").unwrap();
        stage(&d, "m/a", b"new a", Mode::Keep).unwrap();
        std::fs::write(t.path().join("m/.keep.bkt-notes"), "mine").unwrap();
        assert_eq!(recover(&d, &[".", "m"]).unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(t.path().join("m/a")).unwrap(),
            "old a"
        );
        let left: Vec<String> = std::fs::read_dir(t.path().join("m"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}

#[cfg(test)]
mod mode_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn dir(t: &tempfile::TempDir) -> Dir {
        Dir::open_ambient_dir(t.path(), ambient_authority()).unwrap()
    }

    fn mode_of(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn the_file_gets_exactly_its_mode() {
        let t = tempfile::tempdir().unwrap();
        write_in(&dir(&t), "a", b"x", Mode::Exactly(0o640)).unwrap();
        assert_eq!(mode_of(&t.path().join("a")), 0o640);
        // Kept on rewrite.
        write_in(&dir(&t), "a", b"y", Mode::Keep).unwrap();
        assert_eq!(mode_of(&t.path().join("a")), 0o640);
    }

    #[test]
    fn a_symlink_at_the_name_is_replaced_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, t.path().join("conf")).unwrap();
        write_in(&dir(&t), "conf", b"new", Mode::Keep).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let conf = t.path().join("conf");
        assert!(!std::fs::symlink_metadata(&conf).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), "new");
        assert_eq!(mode_of(&conf), 0o644);
    }

    #[test]
    fn a_symlink_planted_at_the_temp_name_is_not_written_through() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let tmp = t.path().join(temp_name("conf"));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_in(&dir(&t), "conf", b"new", Mode::Exactly(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(t.path().join("conf")).unwrap(),
            "new"
        );
        assert!(!tmp.exists());
    }
}
