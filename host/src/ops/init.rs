//! `bkt init`: a new distribution repository in one step. A Containerfile `FROM` the base
//! image with every builtin's section, every builtin's manifest (new and empty, as the plugin
//! makes it) with its schema, the CI workflow and a README are built in a private folder
//! inside the target, with `git init` there when the target is in no git repository, and
//! moved in together; then, with `--capture`, `bkt capture` fills the manifests.

use super::capture::{self, Captured};
use super::report::{Exit, Report};
use super::ui::{Tone, Ui};
use crate::app::App;
use crate::containerfile::{self, FILE, Pending};
use crate::os::staging::Staging;
use crate::plugins::Origin;
use crate::repo::{self, Repo, schemas};
use crate::runtime::Loaded;
use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The base image when none is given.
pub const DEFAULT_IMAGE: &str = "quay.io/fedora/fedora-bootc:42";

/// What a build that was not released names as bkt's image.
const STAND_IN_BKT_IMAGE: &str = "ghcr.io/owner/bkt";

/// bkt's release image, where a new repository's Containerfile and CI take bkt from: the
/// image of this bkt's own version. A released bkt knows where it was published (the
/// release workflow builds it with BKT_RELEASE_IMAGE set); another build names a stand-in
/// owner, which `--bkt-image` replaces.
pub fn default_bkt_image() -> String {
    let image = option_env!("BKT_RELEASE_IMAGE").unwrap_or(STAND_IN_BKT_IMAGE);
    format!("{image}:{}", env!("CARGO_PKG_VERSION"))
}

const WORKFLOW: &str = ".github/workflows/image.yml";
const README: &str = "README.md";
const CONTAINERFILE_HEAD: &str = include_str!("../../templates/init/Containerfile.head");
const CONTAINERFILE_TAIL: &str = include_str!("../../templates/init/Containerfile.tail");
const WORKFLOW_TEXT: &str = include_str!("../../templates/init/image.yml");
const README_TEXT: &str = include_str!("../../templates/init/README.md");

/// What `bkt init` was asked to do.
pub struct Args {
    /// The folder of the new repository, absolute.
    pub dir: PathBuf,
    /// The base image the Containerfile starts `FROM`.
    pub image: String,
    /// bkt's release image, which the Containerfile and CI copy bkt from.
    pub bkt_image: String,
    /// Fill the manifests from this machine.
    pub capture: bool,
}

pub struct Initialized {
    dir: PathBuf,
    image: String,
    /// Every file written, relative to the folder, in name order.
    files: Vec<String>,
    /// A README the folder already had, kept as it is.
    readme_kept: bool,
    /// Whether `git init` made the folder a git repository.
    git_initialized: bool,
    captured: Option<Captured>,
}

impl Report for Initialized {
    fn json(&self) -> serde_json::Value {
        json!({
            "dir": self.dir.display().to_string(),
            "image": self.image,
            "files": self.files,
            "kept": if self.readme_kept { vec![README] } else { vec![] },
            "git_initialized": self.git_initialized,
            "captured": self.captured.as_ref().map(|c| c.json()),
        })
    }

    fn exit(&self) -> Exit {
        self.captured.as_ref().map_or(Exit::Ok, |c| c.exit())
    }
}

pub fn run(app: &App, ui: &dyn Ui, args: &Args) -> Result<Initialized> {
    check_image(&args.image).map_err(|why| anyhow!("--from {:?}: {why}", args.image))?;
    check_image(&args.bkt_image)
        .map_err(|why| anyhow!("--bkt-image {:?}: {why}", args.bkt_image))?;
    let dir = &args.dir;
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        bail!("{} exists and is not a folder", dir.display());
    }
    let taken = in_the_way(dir);
    if !taken.is_empty() {
        let hint = if taken.contains(&"manifests/") {
            format!(
                "; `bkt --repo {} status` works with the repository there",
                dir.display()
            )
        } else {
            String::new()
        };
        bail!(
            "{} already holds {}: bkt init writes only into a folder without them, and wrote nothing{hint}",
            dir.display(),
            taken.join(", ")
        );
    }
    if args.bkt_image.starts_with(STAND_IN_BKT_IMAGE) {
        ui.warn(&format!(
            "warning: this bkt was not built by a release, so it does not know where its image is \
             published; the Containerfile names {} until you set ARG BKT_IMAGE (or run bkt init \
             --bkt-image IMAGE)",
            args.bkt_image
        ));
    }
    let created = !dir.exists();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let written = write(app, args);
    if written.is_err() && created {
        // Empty again: everything written was taken back out.
        let _ = std::fs::remove_dir(dir);
    }
    let (files, readme_kept, git_initialized) = written?;
    ui.say(
        Tone::Plain,
        &format!(
            "Wrote a new bkt repository in {}: {FILE} (FROM {}), {} manifests with their schemas, {WORKFLOW}{}",
            dir.display(),
            args.image,
            files.iter().filter(|f| f.starts_with("manifests/")).count(),
            if readme_kept { "" } else { ", README.md" },
        ),
    );
    if readme_kept {
        ui.say(
            Tone::Plain,
            "README.md was there already and is kept as it is.",
        );
    }
    if git_initialized {
        ui.say(
            Tone::Plain,
            "Made it a git repository (git init); nothing is committed yet.",
        );
    }
    let captured = if args.capture {
        Some(capture::run(app, ui, false, false, &[])?)
    } else {
        None
    };
    if !args.capture {
        ui.say(
            Tone::Dim,
            &format!(
                "Next: `{}` takes what this machine has into the manifests.",
                repo_command(dir, "capture")
            ),
        );
    }
    Ok(Initialized {
        dir: dir.clone(),
        image: args.image.clone(),
        files,
        readme_kept,
        git_initialized,
        captured,
    })
}

/// What bkt init would write that the folder already has, as the user would name it.
fn in_the_way(dir: &Path) -> Vec<&'static str> {
    [
        (FILE, FILE),
        ("manifests", "manifests/"),
        (schemas::FOLDER, "schemas/"),
        (WORKFLOW, WORKFLOW),
    ]
    .into_iter()
    .filter(|(path, _)| std::fs::symlink_metadata(dir.join(path)).is_ok())
    .map(|(_, shown)| shown)
    .collect()
}

/// Builds the repository in a staging folder inside `args.dir` and moves it in: the files
/// written, whether a README was kept, and whether git was initialized.
fn write(app: &App, args: &Args) -> Result<(Vec<String>, bool, bool)> {
    let staging = Staging::new(&args.dir)?;
    // Phase order, as every command lists plugins, and so as sync places sections.
    let builtins: Vec<&Loaded> = app
        .entries
        .iter()
        .filter(|e| e.origin == Origin::Builtin)
        .filter_map(|e| e.plugin.as_ref().ok())
        .collect();
    let mut manifests = Pending::new();
    for plugin in &builtins {
        let name = &plugin.info.manifest;
        repo::check_manifest_name(name)?;
        let path = Repo::manifest_path(name);
        // Told to take nothing from no manifest, a plugin makes its new, empty manifest.
        let text = app
            .rt
            .session(plugin)?
            .capture(None, &[])
            .map_err(|e| anyhow!("{}: {}", plugin.info.id, e.describe(&path)))?;
        let (schema_file, schema) = schemas::of_manifest(name)
            .ok_or_else(|| anyhow!("bkt was built without a schema for {path}"))?;
        staging.write(&path, text.as_bytes())?;
        staging.write(
            &format!("{}/{schema_file}", schemas::FOLDER),
            schema.as_bytes(),
        )?;
        manifests.insert(plugin.info.id.clone(), text);
    }
    let head = CONTAINERFILE_HEAD
        .replace("{IMAGE}", &args.image)
        .replace("@BKT_IMAGE@", &args.bkt_image);
    let text = containerfile::new_file(&app.rt, &builtins, &manifests, &head, CONTAINERFILE_TAIL)?;
    staging.write(FILE, text.as_bytes())?;
    staging.write(WORKFLOW, WORKFLOW_TEXT.as_bytes())?;
    let readme_kept = std::fs::symlink_metadata(args.dir.join(README)).is_ok();
    if !readme_kept {
        staging.write(
            README,
            README_TEXT
                .replace("{IMAGE}", &args.image)
                .replace("@BKT_IMAGE@", &args.bkt_image)
                .as_bytes(),
        )?;
    }
    let files = staging.files(&[".git"])?;
    let git_initialized = !inside_git(&args.dir)?;
    if git_initialized {
        crate::os::git::run(staging.path(), &["init", "--quiet"])?;
    }
    staging.move_in()?;
    Ok((files, readme_kept, git_initialized))
}

/// Whether `dir` is inside a git work tree, as git itself says.
fn inside_git(dir: &Path) -> Result<bool> {
    Ok(
        crate::os::git::run(dir, &["rev-parse", "--is-inside-work-tree"])
            .is_ok_and(|out| out == "true"),
    )
}

/// `bkt WORDS` for the repository at `dir`: without `--repo` when it is the working directory.
fn repo_command(dir: &Path, words: &str) -> String {
    if std::env::current_dir().is_ok_and(|cwd| cwd == dir) {
        format!("bkt {words}")
    } else {
        format!("bkt --repo {} {words}", dir.display())
    }
}

/// An image reference as podman takes one: `[HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX]`, with
/// no character a shell or a Containerfile would read as anything else.
fn check_image(image: &str) -> Result<(), String> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Err(format!("{d:?} is not a digest such as sha256:0123…"));
        }
    }
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(tag) = tag {
        let ok = tag.len() <= 128
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return Err(format!(
                "{tag:?} is not an image tag (letters, digits and `_.-`)"
            ));
        }
    }
    let parts: Vec<&str> = name.split('/').collect();
    let (host, path) = match parts.as_slice() {
        [first, rest @ ..]
            if !rest.is_empty() && (first.contains(['.', ':']) || *first == "localhost") =>
        {
            (Some(*first), rest)
        }
        all => (None, all),
    };
    if let Some(host) = host {
        let (h, port) = match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        };
        let ok = !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
            && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("{host:?} is not a registry host"));
        }
    }
    for part in path {
        let ok = part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !ok {
            return Err(format!(
                "{part:?} is not a part of an image name (lower-case letters, digits and `._-`)"
            ));
        }
    }
    Ok(())
}

/// What `bkt init --clone` did.
pub struct Cloned {
    dir: PathBuf,
    url: String,
    config: PathBuf,
}

impl Report for Cloned {
    fn json(&self) -> serde_json::Value {
        json!({"dir": self.dir.display().to_string(), "url": self.url,
               "config": self.config.display().to_string()})
    }
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

/// The folder a clone of `url` goes into by default: its last part, without `.git`.
pub fn clone_folder(url: &str) -> Option<&str> {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

/// `bkt init --clone URL [DIR]`: a checkout of one's own distribution, made the repository
/// bkt uses (`repo` in the user's config.json), for a machine whose bkt found only the
/// image's read-only copy.
pub fn clone(ui: &dyn Ui, url: &str, dir: &Path) -> Result<Cloned> {
    if url.starts_with('-') || url.contains(char::is_whitespace) || url.is_empty() {
        bail!("{url:?} is not a repository address git can clone");
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} is not empty; name another folder (bkt init --clone URL DIR)",
            dir.display()
        );
    }
    // An address that is a path is the working directory's, as for a `git clone` typed there.
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let target = dir.display().to_string();
    crate::os::git::run(&cwd, &["clone", "--quiet", "--", url, &target])?;
    if !dir.join("manifests").is_dir() {
        bail!(
            "cloned {url} into {}, but it has no manifests/ folder: it is not a bkt repository, \
             so bkt's config is left as it was",
            dir.display()
        );
    }
    let config = crate::os::config::set_string("config.json", "repo", &dir.display().to_string())?;
    ui.say(
        Tone::Plain,
        &format!(
            "Cloned {url} into {}; bkt uses it from now on (repo in {}).",
            dir.display(),
            config.display()
        ),
    );
    Ok(Cloned {
        dir: dir.to_path_buf(),
        url: url.to_string(),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::check_image;

    #[test]
    fn image_references_podman_takes_pass() {
        for image in [
            super::DEFAULT_IMAGE,
            "fedora",
            "ghcr.io/me/my-distro:latest",
            "localhost:5000/base",
            "localhost/base:v1.2_rc",
            "quay.io/fedora/fedora-bootc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.example.com:8443/a/b/c:42",
        ] {
            assert_eq!(check_image(image), Ok(()), "{image}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_part_at_fault() {
        for (image, part) in [
            ("", "\"\""),
            ("fedora; rm -rf /", "\"fedora; rm -rf \""),
            ("quay.io/Fedora/x", "\"Fedora\""),
            ("x:$(id)", "\"$(id)\""),
            ("x:42 AS y", "\"42 AS y\""),
            ("x@sha256:zz", "sha256:zz"),
            ("x\ny", "x\\ny"),
            ("quay.io//x", "\"\""),
            ("-x", "\"-x\""),
            ("bad_host.io:port/x", "bad_host.io:port"),
        ] {
            let e = check_image(image).expect_err(image);
            assert!(e.contains(part), "{image}: {e}");
        }
    }
}
