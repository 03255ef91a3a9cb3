//! Who may change a file or folder: the rules bkt applies before it runs a program from a
//! folder or loads native code from its cache. Either would let whoever can write there run
//! code as bkt, which at boot is root.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Mode bits that let users other than the owner change a file or a folder's entries.
const GROUP_OR_WORLD_WRITABLE: u32 = 0o022;
/// The sticky bit: in such a folder only an entry's owner may rename or remove it.
const STICKY: u32 = 0o1000;

super::reason!(
    /// Why bkt will not run a program from a folder, or load code from a file: someone other
    /// than root or bkt's user could change it.
    NotTrusted
);

/// The effective user id bkt runs as.
/// The user bkt runs as root on behalf of (sudo, pkexec), when it does.
pub fn invoking_user() -> Option<String> {
    std::env::var("SUDO_USER")
        .ok()
        .or_else(|| std::env::var("PKEXEC_UID").ok())
        .filter(|u| !u.is_empty() && u != "root" && u != "0")
}

pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether this process may write into `path` (the kernel's own answer, `access(W_OK)`).
pub fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Why a folder (or file) with this owner and mode cannot be trusted by a process running as
/// `euid`, or `None` when only root or that user can change it. `sticky_ok` allows a
/// world-writable sticky folder (`/tmp`) as an ancestor: nobody else can rename or replace
/// an entry in it that they do not own.
pub fn refusal(uid: u32, mode: u32, euid: u32, sticky_ok: bool) -> Option<String> {
    if uid != 0 && uid != euid {
        return Some(format!(
            "it belongs to user {uid}, not to root or user {euid}"
        ));
    }
    if mode & GROUP_OR_WORLD_WRITABLE != 0 && !(sticky_ok && mode & STICKY != 0) {
        return Some(format!("others may write to it (mode {:o})", mode & 0o7777));
    }
    None
}

/// `dir` made absolute and canonical, if it and every folder above it up to `/` can be
/// changed only by root or the effective user; else why not, naming the folder at fault.
pub fn trusted_folder(dir: &Path) -> Result<PathBuf, NotTrusted> {
    let real = dir
        .canonicalize()
        .map_err(|e| NotTrusted(format!("{}: {e}", dir.display())))?;
    let euid = euid();
    for (i, folder) in real.ancestors().enumerate() {
        let meta = std::fs::metadata(folder)
            .map_err(|e| NotTrusted(format!("{}: {e}", folder.display())))?;
        if i == 0 && !meta.is_dir() {
            return Err(NotTrusted(format!("{} is not a folder", folder.display())));
        }
        if let Some(why) = refusal(meta.uid(), meta.mode(), euid, i > 0) {
            return Err(NotTrusted(format!("{}: {why}", folder.display())));
        }
    }
    Ok(real)
}

/// Whether `path` (file or folder) and every folder above it can be changed by root alone:
/// the rule for what an image or the machine's administrator decides for every user.
pub fn root_only(path: &Path) -> Result<(), NotTrusted> {
    let real = path
        .canonicalize()
        .map_err(|e| NotTrusted(format!("{}: {e}", path.display())))?;
    for folder in real.ancestors() {
        let meta = std::fs::metadata(folder)
            .map_err(|e| NotTrusted(format!("{}: {e}", folder.display())))?;
        if let Some(why) = refusal(meta.uid(), meta.mode(), 0, false) {
            return Err(NotTrusted(format!("{}: {why}", folder.display())));
        }
    }
    Ok(())
}

/// `path` made canonical, if it is an executable regular file that it and every folder above
/// it can be changed only by root or the user `runs_as`: the rule for a program a plugin
/// declared outside the system folders. Run as root, only root's own files pass.
pub fn trusted_program(path: &Path, runs_as: u32) -> Result<PathBuf, NotTrusted> {
    let real = path
        .canonicalize()
        .map_err(|e| NotTrusted(format!("{}: {e}", path.display())))?;
    for (i, part) in real.ancestors().enumerate() {
        let meta =
            std::fs::metadata(part).map_err(|e| NotTrusted(format!("{}: {e}", part.display())))?;
        if i == 0 && (!meta.is_file() || meta.mode() & 0o111 == 0) {
            return Err(NotTrusted(format!(
                "{} is not an executable file",
                part.display()
            )));
        }
        if let Some(why) = refusal(meta.uid(), meta.mode(), runs_as, i > 0) {
            return Err(NotTrusted(format!("{}: {why}", part.display())));
        }
    }
    Ok(real)
}

/// Whether a file or folder belongs to the effective user and nobody else may write to it:
/// the rule for bkt's own private files (compiled native code).
pub fn private_to_us(meta: &std::fs::Metadata) -> Result<(), NotTrusted> {
    let euid = euid();
    if meta.uid() != euid {
        return Err(NotTrusted(format!(
            "it belongs to user {}, not to user {euid}",
            meta.uid()
        )));
    }
    refusal(meta.uid(), meta.mode(), euid, false).map_or(Ok(()), |why| Err(NotTrusted(why)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_root_or_the_user_and_nobody_else_writing() {
        assert_eq!(refusal(0, 0o40755, 1000, false), None);
        assert_eq!(refusal(1000, 0o40700, 1000, false), None);
        assert!(refusal(1001, 0o40755, 1000, false).is_some_and(|w| w.contains("user 1001")));
        assert!(refusal(1000, 0o40775, 1000, false).is_some_and(|w| w.contains("775")));
        assert!(refusal(0, 0o40757, 1000, false).is_some());
        // /tmp: world-writable but sticky; fine above a folder, never as the folder itself.
        assert_eq!(refusal(0, 0o41777, 1000, true), None);
        assert!(refusal(0, 0o41777, 1000, false).is_some());
    }

    #[test]
    fn a_declared_program_runs_only_while_nobody_else_can_change_it() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("prefix/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let mode = |path: &Path, m: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap()
        };
        mode(&tool, 0o644);
        let why = trusted_program(&tool, euid()).unwrap_err();
        assert!(why.0.contains("not an executable file"), "{why}");
        mode(&tool, 0o755);
        assert_eq!(
            trusted_program(&tool, euid()).unwrap(),
            tool.canonicalize().unwrap()
        );
        mode(&bin, 0o775);
        let why = trusted_program(&tool, euid()).unwrap_err();
        assert!(why.0.contains("/prefix/bin: others may write"), "{why}");
        mode(&bin, 0o755);
        // Run as another user (root, when the tests are not root; else a user id nobody has),
        // a file of the test's user is refused.
        let other = if euid() == 0 { 4242 } else { 0 };
        if euid() != 0 {
            let why = trusted_program(&tool, other).unwrap_err();
            assert!(why.0.contains("belongs to user"), "{why}");
        } else {
            // Root's files may run as anyone.
            assert!(trusted_program(&tool, other).is_ok());
        }
    }

    #[test]
    fn a_writable_folder_or_parent_is_named() {
        let t = tempfile::tempdir().unwrap();
        let inner = t.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        assert!(trusted_folder(&inner).is_ok());
        std::fs::set_permissions(t.path().join("a"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        let why = trusted_folder(&inner).unwrap_err();
        assert!(why.0.contains("/a: others may write"), "{why}");
        assert!(trusted_folder(&t.path().join("missing")).is_err());
    }

    #[test]
    fn private_files_belong_to_us_alone() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(private_to_us(&std::fs::metadata(&f).unwrap()).is_ok());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(private_to_us(&std::fs::metadata(&f).unwrap()).is_err());
    }
}
