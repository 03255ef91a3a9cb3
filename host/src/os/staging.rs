//! New files built in a private folder beside where they belong, then moved in without
//! replacing anything: a reader sees each file whole or not at all, and a failure on the way
//! takes back out what was already moved, so nothing is left half done.

use anyhow::{Context as _, Result, bail};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// A folder of new files for `dest`, removed (with whatever is still in it) when dropped.
pub struct Staging {
    dir: PathBuf,
    dest: PathBuf,
}

impl Staging {
    /// A new private folder inside `dest` (which must exist), named after this process so
    /// that two runs never share one.
    pub fn new(dest: &Path) -> Result<Staging> {
        let dir = dest.join(format!(".bkt-staging-{}", std::process::id()));
        // One left by a killed run of the same pid holds nothing anyone wants.
        if std::fs::symlink_metadata(&dir).is_ok() {
            remove(&dir).with_context(|| format!("removing the leftover {}", dir.display()))?;
        }
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        Ok(Staging {
            dir,
            dest: dest.to_path_buf(),
        })
    }

    /// The staging folder itself, for programs that fill it (`git init`).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `rel` (a relative path with `/`) into the staging folder, creating its folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the folder of {rel}"))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {rel}"))
    }

    /// Every file staged, as relative paths in name order (folders by their files; the
    /// contents of `skip` folders are not listed).
    pub fn files(&self, skip: &[&str]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        list(&self.dir, "", skip, &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Moves every staged entry into the destination. An entry is renamed whole when the
    /// destination has nothing of its name; a folder the destination already has is entered
    /// and its entries moved one by one; a file the destination already has is an error.
    /// On an error, everything moved so far is removed again.
    pub fn move_in(self) -> Result<()> {
        let mut moved = Vec::new();
        if let Err(e) = move_children(&self.dir, &self.dest, &mut moved) {
            for path in moved.iter().rev() {
                let _ = remove(path);
            }
            return Err(e);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = remove(&self.dir);
    }
}

fn list(dir: &Path, prefix: &str, skip: &[&str], out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            if !skip.contains(&rel.as_str()) {
                list(&entry.path(), &format!("{rel}/"), skip, out)?;
            }
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

fn move_children(from: &Path, to: &Path, moved: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for entry in entries {
        let Some(name) = entry.file_name() else {
            continue;
        };
        let target = to.join(name);
        match rename_noreplace(&entry, &target) {
            Ok(()) => moved.push(target),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let both_folders =
                    entry.is_dir() && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir());
                if !both_folders {
                    bail!("{} appeared while bkt was writing", target.display());
                }
                move_children(&entry, &target, moved)?;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("moving {} into place", target.display()));
            }
        }
    }
    Ok(())
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then), in one step where the
/// file system can (renameat2 with RENAME_NOREPLACE).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))
    };
    let (cfrom, cto) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths that live across the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            cfrom.as_ptr(),
            libc::AT_FDCWD,
            cto.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        // A file system without the flag: check, then rename.
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(from, to)
        }
        _ => Err(e),
    }
}

/// Removes a file, a symlink or a whole folder.
fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_in_beside_existing_files_and_folders() {
        let dest = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dest.path().join(".github/other")).unwrap();
        std::fs::write(dest.path().join("LICENSE"), "mine").unwrap();
        let s = Staging::new(dest.path()).unwrap();
        s.write("a/b.txt", b"b").unwrap();
        s.write(".github/workflows/x.yml", b"x").unwrap();
        assert_eq!(
            s.files(&[]).unwrap(),
            [".github/workflows/x.yml", "a/b.txt"]
        );
        let staged = s.path().to_path_buf();
        s.move_in().unwrap();
        assert!(!staged.exists());
        assert_eq!(std::fs::read(dest.path().join("a/b.txt")).unwrap(), b"b");
        assert!(dest.path().join(".github/workflows/x.yml").is_file());
        assert!(dest.path().join(".github/other").is_dir());
        assert_eq!(std::fs::read(dest.path().join("LICENSE")).unwrap(), b"mine");
    }

    #[test]
    fn a_file_in_the_way_undoes_every_move() {
        let dest = tempfile::tempdir().unwrap();
        std::fs::write(dest.path().join("z"), "mine").unwrap();
        let s = Staging::new(dest.path()).unwrap();
        s.write("a", b"new").unwrap();
        s.write("z", b"new").unwrap();
        let e = s.move_in().unwrap_err();
        assert!(e.to_string().contains("appeared"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dest.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["z"]);
        assert_eq!(std::fs::read(dest.path().join("z")).unwrap(), b"mine");
    }
}
