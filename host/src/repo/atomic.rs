//! Atomic file writes: a temp file in the same folder, then rename. The file keeps its mode.
//! Everything goes through a cap-std `Dir`, so a name cannot climb out of the folder it is
//! written in.

use anyhow::{Context as _, Result};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions, Permissions, PermissionsExt};
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
pub fn stage(dir: &Dir, name: &str, bytes: &[u8], mode: Mode) -> Result<String> {
    let mode = match (mode, dir.metadata(name)) {
        (Mode::Exactly(m), _) => m,
        (Mode::Keep, Ok(m)) => m.permissions().mode() & 0o7777,
        (Mode::Keep, Err(_)) => 0o644,
    };
    let tmp = temp_name(name);
    let mut file = dir
        .open_with(
            &tmp,
            OpenOptions::new().write(true).create(true).truncate(true),
        )
        .with_context(|| format!("creating a temporary file beside {name}"))?;
    let written = file
        .write_all(bytes)
        .and_then(|_| file.sync_all())
        .and_then(|_| dir.set_permissions(&tmp, Permissions::from_mode(mode)));
    if let Err(e) = written {
        let _ = dir.remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {name}"));
    }
    Ok(tmp)
}

/// Writes one file atomically.
pub fn write_in(dir: &Dir, name: &str, bytes: &[u8], mode: Mode) -> Result<()> {
    let tmp = stage(dir, name, bytes, mode)?;
    dir.rename(&tmp, dir, name)
        .inspect_err(|_| {
            let _ = dir.remove_file(&tmp);
        })
        .with_context(|| format!("replacing {name}"))
}

/// Writes an absolute path atomically. Missing folders on the way are created 0700: this is
/// for bkt's own private files (trust store, compiled-code cache).
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> Result<()> {
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
    write_in(&dir, &name, bytes, mode)
}

/// One file of a transaction: its new bytes and the old ones to restore.
pub struct FileChange {
    pub name: String,
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
}

/// Replaces several files so that either all change or none does. Every temp file is written
/// first (where nearly all failures happen); if a rename then fails, the files already
/// replaced get their old bytes back.
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
            return Err(
                anyhow::Error::new(e).context(format!("replacing {}; nothing was changed", c.name))
            );
        }
    }
    Ok(())
}
