//! Opening the folder of a path beneath a root one name at a time, never through a symlink.
//!
//! A textual check of a plugin's path (`/etc/probe/...`) says nothing about where writing it
//! lands: with `ROOT/etc/probe/link -> ../../home/victim`, following the link writes into a
//! victim's home, and the root is `/` at boot, so "stays under the root" is no protection.
//! Each folder is opened with `O_NOFOLLOW` relative to the one before it, so no symlink is
//! followed anywhere on the way, and a symlink swapped in between two steps is refused too.

use anyhow::{Context as _, Result, bail};
use cap_std::fs::{Dir, DirBuilder, DirBuilderExt};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The folder holding `path` (absolute, with no `.` or `..`) beneath `root`, and the file's
/// name in it. Missing folders are created (mode 0755) when `create` is set, else the answer
/// is `None`. A symlink anywhere on the way is refused with a message naming it.
pub fn parent_of(root: &Dir, path: &str, create: bool) -> Result<Option<(Dir, String)>> {
    let (folders, name) = split(path)?;
    let mut dir = root.try_clone().context("opening the root")?;
    let mut walked = String::new();
    for folder in folders {
        walked.push('/');
        walked.push_str(folder);
        dir = match open_folder(&dir, folder) {
            Ok(next) => next,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut builder = DirBuilder::new();
                builder.mode(0o755);
                match dir.create_dir_with(folder, &builder) {
                    Ok(()) => {}
                    // Made by someone else meanwhile: opened (and checked) below like any.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e).with_context(|| format!("creating {walked}")),
                }
                open_folder(&dir, folder).map_err(|e| refusal(&dir, folder, &walked, e))?
            }
            Err(e) => return Err(refusal(&dir, folder, &walked, e)),
        };
    }
    Ok(Some((dir, name.to_string())))
}

/// The folder names and the file name of a clean absolute path. Checked as text: `Path`
/// would quietly drop a `.` and merge `//`, and such a path is a plugin's mistake or trick.
fn split(path: &str) -> Result<(Vec<&str>, &str)> {
    let Some(rest) = path.strip_prefix('/') else {
        bail!("{path:?}: paths must be absolute");
    };
    let mut names: Vec<&str> = rest.split('/').collect();
    if names
        .iter()
        .any(|n| n.is_empty() || *n == "." || *n == "..")
    {
        bail!("{path:?}: paths must name a file, without `.`, `..` or empty parts");
    }
    let name = names.pop().unwrap_or_default();
    Ok((names, name))
}

/// Opens one entry of `dir` as a folder, failing (ELOOP) if it is a symlink.
fn open_folder(dir: &Dir, name: &str) -> std::io::Result<Dir> {
    let name = CString::new(Path::new(name).as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: the descriptor is a live folder of `dir`, the name a NUL-terminated string
    // without slashes, and the returned descriptor is owned by the `OwnedFd` below alone.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(Dir::from_std_file(std::fs::File::from(owned)))
}

/// The error for a folder that did not open: a symlink is named as one.
fn refusal(dir: &Dir, name: &str, walked: &str, e: std::io::Error) -> anyhow::Error {
    if dir.symlink_metadata(name).is_ok_and(|m| m.is_symlink()) {
        anyhow::anyhow!(
            "refusing {walked}: it is a symlink, and bkt does not follow symlinks in the \
             paths it writes or removes"
        )
    } else {
        anyhow::Error::new(e).context(format!("opening {walked}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;

    fn root(t: &tempfile::TempDir) -> Dir {
        Dir::open_ambient_dir(t.path(), ambient_authority()).unwrap()
    }

    #[test]
    fn folders_are_created_and_opened() {
        let t = tempfile::tempdir().unwrap();
        let (dir, name) = parent_of(&root(&t), "/etc/a/b/file", true)
            .unwrap()
            .unwrap();
        assert_eq!(name, "file");
        dir.write("file", "x").unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join("etc/a/b/file")).unwrap(),
            "x"
        );
        assert!(
            parent_of(&root(&t), "/etc/none/file", false)
                .unwrap()
                .is_none()
        );
        let (_, name) = parent_of(&root(&t), "/top", false).unwrap().unwrap();
        assert_eq!(name, "top");
    }

    #[test]
    fn a_symlinked_folder_is_refused_and_nothing_is_made_beyond_it() {
        let t = tempfile::tempdir().unwrap();
        let victim = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/hostile")).unwrap();
        std::os::unix::fs::symlink(victim.path(), t.path().join("etc/hostile/inlink")).unwrap();
        for create in [true, false] {
            let e = parent_of(&root(&t), "/etc/hostile/inlink/sub/PWNED", create).unwrap_err();
            let msg = format!("{e:#}");
            assert!(
                msg.contains("/etc/hostile/inlink: it is a symlink"),
                "{msg}"
            );
        }
        assert_eq!(std::fs::read_dir(victim.path()).unwrap().count(), 0);
        // A symlink to a folder inside the root is refused just the same.
        std::os::unix::fs::symlink("../", t.path().join("etc/hostile/up")).unwrap();
        assert!(parent_of(&root(&t), "/etc/hostile/up/x", true).is_err());
    }

    #[test]
    fn only_clean_absolute_paths() {
        let t = tempfile::tempdir().unwrap();
        for bad in [
            "etc/x",
            "/etc/../x",
            "/etc/./x",
            "/",
            "",
            "/etc//x",
            "/etc/x/",
        ] {
            assert!(parent_of(&root(&t), bad, true).is_err(), "{bad}");
        }
    }
}
