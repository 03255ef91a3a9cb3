//! The distribution repository: finding it, reading manifests, and changing files under a
//! lock so two bkt runs never interleave.

pub mod schemas;

use crate::os::atomic;

use anyhow::{Context as _, Result, bail};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::path::{Path, PathBuf};

/// The copy of the repository shipped inside the image: read-only.
pub const IMAGE_COPY: &str = "/usr/share/bkt";

/// Where the repository was found, in the order bkt looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Variable,
    WorkingDirectory,
    ConfigFile,
    /// The read-only copy the image ships.
    ImageCopy,
}

impl Source {
    /// How it was found, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Source::Flag => "--repo",
            Source::Variable => "BKT_REPO",
            Source::WorkingDirectory => "the working directory",
            Source::ConfigFile => "the config file",
            Source::ImageCopy => "the image copy",
        }
    }
}

pub struct Repo {
    pub path: PathBuf,
    dir: Dir,
    /// How it was found, for messages (`--repo`, `BKT_REPO`, ...).
    pub found_by: &'static str,
    pub read_only: bool,
    /// The lock, once taken: held until bkt exits.
    lock: std::sync::OnceLock<std::fs::File>,
}

impl Repo {
    /// `--repo`, then `BKT_REPO`, then the nearest folder above the working directory with a
    /// `manifests/` folder, then `repo` in the config file, then the image copy.
    pub fn discover(flag: Option<&Path>, config_repo: Option<&Path>) -> Result<Repo> {
        let Some((path, source)) = Repo::locate(flag, config_repo) else {
            bail!(
                "no bkt repository found: run bkt inside your distribution's git checkout (a \
                 folder with manifests/), or point to it with --repo DIR or BKT_REPO"
            )
        };
        // Under sudo the working directory is a user's choice and root acts on it: say which
        // repository that is, before anything is read from it.
        if source == Source::WorkingDirectory
            && std::env::var_os("SUDO_USER").is_some_and(|u| !u.is_empty())
        {
            eprintln!(
                "warning: using the repository at {} (found from the working directory)",
                path.display()
            );
        }
        Repo::open(&path, source.name(), source == Source::ImageCopy)
    }

    /// Where the repository is, and how it was found, without opening or checking it.
    pub fn locate(flag: Option<&Path>, config_repo: Option<&Path>) -> Option<(PathBuf, Source)> {
        if let Some(p) = flag {
            return Some((p.to_path_buf(), Source::Flag));
        }
        if let Some(p) = std::env::var_os("BKT_REPO").filter(|v| !v.is_empty()) {
            return Some((PathBuf::from(p), Source::Variable));
        }
        if let Ok(cwd) = std::env::current_dir()
            && let Some(found) = cwd.ancestors().find(|a| a.join("manifests").is_dir())
        {
            return Some((found.to_path_buf(), Source::WorkingDirectory));
        }
        if let Some(p) = config_repo {
            return Some((p.to_path_buf(), Source::ConfigFile));
        }
        if Path::new(IMAGE_COPY).join("manifests").is_dir() {
            return Some((PathBuf::from(IMAGE_COPY), Source::ImageCopy));
        }
        None
    }

    /// A repository that is only read (another deployment's copy): never locked or written.
    pub fn read_only_at(path: &Path, found_by: &'static str) -> Result<Repo> {
        Repo::open(path, found_by, true)
    }

    fn open(path: &Path, found_by: &'static str, read_only: bool) -> Result<Repo> {
        if !path.exists() {
            bail!(
                "{} (from {found_by}) does not exist; point --repo or BKT_REPO at your distribution's checkout",
                path.display()
            );
        }
        if !path.join("manifests").is_dir() {
            bail!(
                "{} (from {found_by}) has no manifests/ folder; is it a bkt repository?",
                path.display()
            );
        }
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .with_context(|| format!("opening the repository {}", path.display()))?;
        let repo = Repo {
            path: path.to_path_buf(),
            dir,
            found_by,
            read_only,
            lock: std::sync::OnceLock::new(),
        };
        // A write another bkt did not finish is finished (or undone) before anything reads.
        if !repo.read_only && atomic::has_leftovers(&repo.dir, &[".", "manifests"]) {
            repo.lock()?;
        }
        Ok(repo)
    }

    /// `manifests/NAME` as shown to the user.
    pub fn manifest_path(name: &str) -> String {
        format!("manifests/{name}")
    }

    /// A repository-relative file's text; `None` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<String>> {
        match self.dir.read_to_string(rel) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.path.join(rel).display())),
        }
    }

    pub fn read_manifest(&self, name: &str) -> Result<Option<String>> {
        check_manifest_name(name)?;
        self.read(&Repo::manifest_path(name))
    }

    /// Replaces files all together (see [`atomic::commit`]). Takes the lock.
    pub fn commit(&self, changes: &[atomic::FileChange]) -> Result<()> {
        if self.read_only {
            bail!(
                "{} is the read-only copy inside the image; clone your repository and run bkt \
                 there (or pass --repo DIR) to change it",
                self.path.display()
            );
        }
        self.lock()?;
        atomic::commit(&self.dir, changes)
    }

    /// Undoes a commit of `changes`: every file gets its old bytes back, and one that did not
    /// exist before is removed.
    pub fn restore(&self, changes: &[atomic::FileChange]) -> Result<()> {
        let back: Vec<atomic::FileChange> = changes
            .iter()
            .filter_map(|c| {
                c.old.as_ref().map(|old| atomic::FileChange {
                    name: c.name.clone(),
                    old: Some(c.new.clone()),
                    new: old.clone(),
                })
            })
            .collect();
        self.commit(&back)?;
        for c in changes.iter().filter(|c| c.old.is_none()) {
            match self.dir.remove_file(&c.name) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", c.name));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Takes an exclusive lock on the manifests folder and holds it until bkt exits. Commands
    /// that write take it before they read, so two runs cannot both read the old manifest and
    /// each write their own change over the other's.
    pub fn lock(&self) -> Result<()> {
        if self.read_only || self.lock.get().is_some() {
            return Ok(());
        }
        let file = std::fs::File::open(self.path.join("manifests"))
            .with_context(|| format!("opening {}/manifests to lock it", self.path.display()))?;
        if file.try_lock().is_err() {
            eprintln!(
                "waiting for another bkt working on {} ...",
                self.path.display()
            );
            file.lock()?;
        }
        let _ = self.lock.set(file);
        if let Some(note) = atomic::recover(&self.dir, &[".", "manifests"])? {
            eprintln!("warning: {note} in {}", self.path.display());
        }
        Ok(())
    }
}

/// A plugin names its manifest; it must be a plain file name inside `manifests/`.
pub fn check_manifest_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        bail!("manifest name {name:?} is not a plain file name");
    }
    Ok(())
}
