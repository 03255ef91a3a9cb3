//! `bkt local list|commit|clear`: the changes made with `--local` this boot, folded into the
//! manifests through each plugin's own `edit`, committed on a branch and proposed as a pull
//! request.

use super::report::{Exit, Report};
use super::ui::{Tone, Ui};
use super::write::with_containerfile;
use crate::app::App;
use crate::local::{Record, Store};
use crate::os::atomic::FileChange;
use crate::os::process;
use crate::os::text::{count, failure_detail};
use crate::repo::Repo;
use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One plugin's manifest before and after its local commands.
struct Folded {
    id: String,
    old: Option<String>,
    new: String,
}

/// Each plugin's manifest with its commands replayed, in the order they were made.
fn fold(app: &App, repo: &Repo, record: &Record) -> Result<Vec<Folded>> {
    let mut by_plugin: BTreeMap<&str, Vec<&crate::local::Command>> = BTreeMap::new();
    for c in &record.commands {
        by_plugin.entry(c.plugin.as_str()).or_default().push(c);
    }
    let mut out = Vec::new();
    for (id, commands) in by_plugin {
        let plugin = app
            .by_command(id)
            .ok_or_else(|| anyhow!("the plugin {id} that made local changes is not loaded"))?;
        let path = Repo::manifest_path(&plugin.info.manifest);
        let old = repo.read_manifest(&plugin.info.manifest)?;
        let mut session = app.rt.session(plugin)?;
        let text = crate::local::replay(&mut session, old.clone(), commands, |c, e| {
            Err(anyhow!(
                "`{}` no longer fits {path}: {}; nothing was changed (bkt local clear forgets it)",
                c.command_line,
                e.describe(&path)
            ))
        })?;
        out.push(Folded {
            id: plugin.info.id.clone(),
            old,
            new: text.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// This boot's local changes, per plugin: the commands and the manifest diff they add up to.
pub struct Listed {
    pub record: Option<Record>,
    /// Per plugin: its id, the command lines, and the diff.
    pub plugins: Vec<(String, Vec<String>, String)>,
}

impl Report for Listed {
    fn json(&self) -> serde_json::Value {
        let Some(record) = &self.record else {
            return json!({ "plugins": [] });
        };
        let plugins: Vec<_> = self
            .plugins
            .iter()
            .map(|(id, commands, diff)| json!({"plugin": id, "commands": commands, "diff": diff}))
            .collect();
        json!({"boot_id": record.boot_id, "created": record.created, "plugins": plugins})
    }
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

pub fn list(app: &App) -> Result<Listed> {
    let record = Store::open(&app.root, &app.dirs)?.load()?;
    let Some(record) = record else {
        return Ok(Listed {
            record: None,
            plugins: vec![],
        });
    };
    let repo = app.repo()?;
    let mut plugins = Vec::new();
    for f in fold(app, &repo, &record)? {
        let commands: Vec<String> = record
            .commands
            .iter()
            .filter(|c| c.plugin == f.id)
            .map(|c| c.command_line.clone())
            .collect();
        let file = app
            .by_command(&f.id)
            .map_or(String::new(), |p| Repo::manifest_path(&p.info.manifest));
        let diff = crate::os::diff::unified(&file, f.old.as_deref().unwrap_or(""), &f.new);
        plugins.push((f.id, commands, diff));
    }
    Ok(Listed {
        record: Some(record),
        plugins,
    })
}

pub fn clear(app: &App, ui: &dyn Ui) -> Result<Exit> {
    let store = Store::open(&app.root, &app.dirs)?;
    match store.load()? {
        None => ui.say(Tone::Plain, "No local changes this boot."),
        Some(r) => {
            let aside = store.set_aside("cleared")?;
            ui.say(
                Tone::Plain,
                &format!(
                    "Forgot {} made with --local (kept in {}); this machine keeps them, and `bkt status` shows them as drift again.",
                    count(r.commands.len(), "command"),
                    aside.display()
                ),
            );
        }
    }
    Ok(Exit::Ok)
}

/// `git` (or another program) in the repository, as the user runs it: their environment
/// carries their identity, keys and agent.
fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let path = process::resolve("git").map_err(|_| anyhow!("git is not installed here"))?;
    let out = Command::new(path)
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            failure_detail(&out.stderr, &out.stdout)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Writes the files, then commits exactly them.
fn write_and_commit(
    repo: &Repo,
    files: &[FileChange],
    paths: &[&str],
    message: &str,
) -> Result<()> {
    repo.commit(files)?;
    let mut add = vec!["add", "--"];
    add.extend(paths);
    git(&repo.path, &add)?;
    let mut commit = vec!["commit", "--quiet", "-m", message, "--"];
    commit.extend(paths);
    git(&repo.path, &commit)?;
    Ok(())
}

/// What `bkt local commit` was asked to do.
pub struct CommitArgs {
    pub message: Option<String>,
    pub branch: Option<String>,
    pub no_push: bool,
}

pub fn commit(app: &App, ui: &dyn Ui, args: CommitArgs) -> Result<Exit> {
    let store = Store::open(&app.root, &app.dirs)?;
    let Some(record) = store.load()? else {
        ui.say(
            Tone::Plain,
            "No local changes this boot: nothing to commit.",
        );
        return Ok(Exit::Ok);
    };
    let repo = app.repo()?;
    repo.lock()?;
    git(&repo.path, &["rev-parse", "--is-inside-work-tree"]).map_err(|_| {
        anyhow!(
            "{} is not a git repository: `git init` it (and add your remote) to commit local changes, or `bkt local list` shows them to copy by hand",
            repo.path.display()
        )
    })?;
    let files = folded_files(app, ui, &repo, &record)?;
    if files.is_empty() {
        let aside = store.set_aside("committed")?;
        ui.say(
            Tone::Plain,
            &format!(
                "The local changes cancel out: nothing to commit (the record is kept in {}).",
                aside.display()
            ),
        );
        return Ok(Exit::Ok);
    }
    let branch = args.branch.unwrap_or_else(default_branch);
    let paths: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let subject = args
        .message
        .unwrap_or_else(|| format!("Local changes: {}", count(record.commands.len(), "command")));
    let body: Vec<String> = record
        .commands
        .iter()
        .map(|c| format!("- {}", c.command_line))
        .collect();
    let text = format!("{subject}\n\n{}\n", body.join("\n"));
    let previous = git(&repo.path, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    commit_on_branch(&repo, &files, &paths, &branch, &text)?;
    let short = git(&repo.path, &["rev-parse", "--short", "HEAD"])?;
    // The commit exists: only now is the record let go.
    let aside = store.set_aside("committed")?;
    ui.say(
        Tone::Plain,
        &format!(
            "Committed {} on the branch {branch} ({short}); the record is kept in {}.",
            paths.join(" and "),
            aside.display()
        ),
    );
    // Back where the user was, so that the next command does not land on the proposal's
    // branch.
    match git(&repo.path, &["switch", "--quiet", &previous]) {
        Ok(_) => ui.say(Tone::Plain, &format!("Back on {previous}.")),
        Err(e) => ui.warn(&format!(
            "bkt: staying on {branch}: switching back to {previous} failed: {e:#}"
        )),
    }
    if args.no_push {
        ui.say(
            Tone::Plain,
            &format!("Not pushed (--no-push): `git push -u origin {branch}` when you are ready."),
        );
        return Ok(Exit::Ok);
    }
    push_and_propose(ui, &repo, &branch)
}

/// The manifests the local commands change, and the Containerfile with them.
fn folded_files(app: &App, ui: &dyn Ui, repo: &Repo, record: &Record) -> Result<Vec<FileChange>> {
    let mut files = Vec::new();
    let mut pending = BTreeMap::new();
    for f in fold(app, repo, record)? {
        if f.old.as_deref() == Some(f.new.as_str()) {
            continue;
        }
        let plugin = app
            .by_command(&f.id)
            .ok_or_else(|| anyhow!("the plugin {} is not loaded", f.id))?;
        files.push(FileChange {
            name: Repo::manifest_path(&plugin.info.manifest),
            old: f.old.map(String::into_bytes),
            new: f.new.clone().into_bytes(),
        });
        pending.insert(f.id, f.new);
    }
    if files.is_empty() {
        return Ok(files);
    }
    let changed: Vec<&crate::runtime::Loaded> = app
        .loaded()
        .into_iter()
        .filter(|p| pending.contains_key(&p.info.id))
        .collect();
    with_containerfile(app, ui, repo, &changed, &pending, &mut files)?;
    Ok(files)
}

/// `bkt/local-YYYYMMDDHHMM`.
fn default_branch() -> String {
    let stamp: String = crate::os::time::utc(crate::os::time::now())
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(12)
        .collect();
    format!("bkt/local-{stamp}")
}

/// A new branch with one commit of `files`; on failure the files, the branch and the checkout
/// are as they were.
fn commit_on_branch(
    repo: &Repo,
    files: &[FileChange],
    paths: &[&str],
    branch: &str,
    message: &str,
) -> Result<()> {
    let previous = git(&repo.path, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    git(&repo.path, &["switch", "--quiet", "-c", branch])?;
    if let Err(e) = write_and_commit(repo, files, paths, message) {
        // Back to where things were: the files, the branch, and the record, untouched.
        let _ = repo.restore(files);
        let _ = git(&repo.path, &["switch", &previous]);
        let _ = git(&repo.path, &["branch", "-D", branch]);
        return Err(e.context(format!(
            "nothing was committed; {} and the local record are as they were",
            paths.join(" and ")
        )));
    }
    Ok(())
}

/// Pushes the branch to the repository's remote and opens a pull request where `gh` can.
fn push_and_propose(ui: &dyn Ui, repo: &Repo, branch: &str) -> Result<Exit> {
    let say = |line: String| ui.say(Tone::Plain, &line);
    let remotes = git(&repo.path, &["remote"])?;
    let Some(remote) = remotes
        .lines()
        .find(|r| *r == "origin")
        .or_else(|| remotes.lines().next())
    else {
        say(format!(
            "The repository has no remote: add one, then `git push -u <remote> {branch}`."
        ));
        return Ok(Exit::Ok);
    };
    if let Err(e) = git(&repo.path, &["push", "--quiet", "-u", remote, branch]) {
        say(format!(
            "Not pushed: {e:#}. Run `git push -u {remote} {branch}` when you can."
        ));
        return Ok(Exit::Failed);
    }
    say(format!("Pushed {branch} to {remote}."));
    let url = git(&repo.path, &["remote", "get-url", remote]).unwrap_or_default();
    let on_github = url.contains("github.com");
    match process::resolve("gh") {
        Ok(gh) if on_github => {
            let out = Command::new(gh)
                .current_dir(&repo.path)
                .args(["pr", "create", "--fill", "--head", branch])
                .output()
                .context("running gh")?;
            if !out.status.success() {
                say(format!(
                    "gh could not open the pull request ({}); run `gh pr create --fill --head {branch}`.",
                    failure_detail(&out.stderr, &out.stdout)
                ));
                return Ok(Exit::Failed);
            }
            ui.show(&String::from_utf8_lossy(&out.stdout));
            say(format!("Opened a pull request for {branch}."));
        }
        _ if on_github => say(format!(
            "Open a pull request for {branch}: install gh and run `gh pr create --fill --head {branch}`, or use the link git printed."
        )),
        _ => say(format!(
            "Open a pull request (or merge request) for {branch} on {url}."
        )),
    }
    Ok(Exit::Ok)
}
