//! `bkt local list|commit|clear`: the changes made with `--local` this boot, folded into the
//! manifests through each plugin's own `edit`, committed on a branch and proposed as a pull
//! request.

use super::drift::count;
use crate::app::{App, Format};
use crate::local::{Record, Store};
use crate::plan::describe_error;
use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::program;
use anyhow::{Context as _, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[derive(Subcommand)]
pub enum LocalCommand {
    /// The local changes of this boot, per subsystem, with the commands that made them
    List,
    /// Fold the local changes into the manifests, commit them on a branch, push, and open a
    /// pull request
    #[command(
        long_about = "Replays every `--local` command of this boot on the manifests through its \
        plugin (an add then a remove cancels out), re-renders the Containerfile, creates a \
        branch, and commits manifests and Containerfile together with a message that lists \
        the changes. When the repository has a remote it pushes the branch, and when `gh` is \
        installed and the remote is on GitHub it opens a pull request; otherwise it prints what \
        to run. A command that no longer fits the manifests stops everything and changes \
        nothing. The record is cleared only once the commit exists."
    )]
    Commit {
        /// The commit message's first line
        #[arg(short, long)]
        message: Option<String>,
        /// The branch to create [default: bkt/local-DATE-TIME]
        #[arg(short, long)]
        branch: Option<String>,
        /// Commit, but do not push or open a pull request
        #[arg(long)]
        no_push: bool,
    },
    /// Forget the local changes of this boot (the machine keeps them; the record is kept aside)
    Clear,
}

pub fn run(app: &App, cmd: LocalCommand) -> Result<i32> {
    let store = Store::open(&app.root)?;
    let record = store.load()?;
    match cmd {
        LocalCommand::List => list(app, record.as_ref()),
        LocalCommand::Clear => match record {
            None => {
                println!("No local changes this boot.");
                Ok(0)
            }
            Some(r) => {
                let aside = store.set_aside("cleared")?;
                println!(
                    "Forgot {} made with --local (kept in {}); this machine keeps them, and `bkt status` shows them as drift again.",
                    count(r.commands.len(), "command"),
                    aside.display()
                );
                Ok(0)
            }
        },
        LocalCommand::Commit {
            message,
            branch,
            no_push,
        } => {
            let Some(record) = record else {
                println!("No local changes this boot: nothing to commit.");
                return Ok(0);
            };
            commit(app, &store, &record, message, branch, no_push)
        }
    }
}

/// Each plugin's manifest with its commands replayed, in the order they were made.
fn fold(app: &App, repo: &Repo, record: &Record) -> Result<Vec<(String, Option<String>, String)>> {
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
                describe_error(&path, &e)
            ))
        })?;
        out.push((plugin.info.id.clone(), old, text.unwrap_or_default()));
    }
    Ok(out)
}

fn list(app: &App, record: Option<&Record>) -> Result<i32> {
    let Some(record) = record else {
        if app.format == Format::Json {
            println!(
                "{}",
                json!({"format_version": super::FORMAT_VERSION, "plugins": []})
            );
        } else {
            println!("No local changes this boot.");
        }
        return Ok(0);
    };
    let repo = app.repo()?;
    let folded = fold(app, &repo, record)?;
    let mut plugins = Vec::new();
    for (id, old, new) in &folded {
        let commands: Vec<&str> = record
            .commands
            .iter()
            .filter(|c| c.plugin == *id)
            .map(|c| c.command_line.as_str())
            .collect();
        let plugin = app.by_command(id);
        let file = plugin.map_or(String::new(), |p| Repo::manifest_path(&p.info.manifest));
        let diff = super::diff::unified(&file, old.as_deref().unwrap_or(""), new);
        if app.format == Format::Human {
            println!("{}", app.style.bold(id));
            for c in &commands {
                println!("    $ {c}");
            }
            if diff.is_empty() {
                println!("    (no net change: the commands cancel out)");
            } else {
                print!("{diff}");
            }
        }
        plugins.push(json!({"plugin": id, "commands": commands, "diff": diff}));
    }
    if app.format == Format::Json {
        let doc = json!({"format_version": super::FORMAT_VERSION, "boot_id": record.boot_id,
                         "created": record.created, "plugins": plugins});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(0)
}

/// `git` (or another program) in the repository, as the user runs it: their environment
/// carries their identity, keys and agent.
fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let path = program::resolve("git").map_err(|_| anyhow!("git is not installed here"))?;
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
            crate::exec::failure_detail(&out.stderr, &out.stdout)
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

fn commit(
    app: &App,
    store: &Store,
    record: &Record,
    message: Option<String>,
    branch: Option<String>,
    no_push: bool,
) -> Result<i32> {
    let repo = app.repo()?;
    repo.lock()?;
    git(&repo.path, &["rev-parse", "--is-inside-work-tree"]).map_err(|_| {
        anyhow!(
            "{} is not a git repository: `git init` it (and add your remote) to commit local changes, or `bkt local list` shows them to copy by hand",
            repo.path.display()
        )
    })?;
    let folded = fold(app, &repo, record)?;
    let mut files = Vec::new();
    let mut pending = BTreeMap::new();
    for (id, old, new) in &folded {
        if old.as_deref() == Some(new.as_str()) {
            continue;
        }
        let plugin = app
            .by_command(id)
            .ok_or_else(|| anyhow!("the plugin {id} is not loaded"))?;
        pending.insert(id.clone(), new.clone());
        files.push(FileChange {
            name: Repo::manifest_path(&plugin.info.manifest),
            old: old.clone().map(String::into_bytes),
            new: new.clone().into_bytes(),
        });
    }
    if files.is_empty() {
        let aside = store.set_aside("committed")?;
        println!(
            "The local changes cancel out: nothing to commit (the record is kept in {}).",
            aside.display()
        );
        return Ok(0);
    }
    let changed: Vec<&crate::runtime::Loaded> = app
        .loaded()
        .into_iter()
        .filter(|p| pending.contains_key(&p.info.id))
        .collect();
    super::capture::with_containerfile(app, &repo, &changed, &pending, &mut files)?;
    let branch = branch.unwrap_or_else(|| {
        let stamp = crate::boot::utc(crate::boot::now());
        let stamp: String = stamp
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(12)
            .collect();
        format!("bkt/local-{stamp}")
    });
    let paths: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let subject = message
        .unwrap_or_else(|| format!("Local changes: {}", count(record.commands.len(), "command")));
    let body: Vec<String> = record
        .commands
        .iter()
        .map(|c| format!("- {}", c.command_line))
        .collect();
    let text = format!("{subject}\n\n{}\n", body.join("\n"));
    let previous = git(&repo.path, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    git(&repo.path, &["switch", "-c", &branch])?;
    if let Err(e) = write_and_commit(&repo, &files, &paths, &text) {
        // Back to where things were: the files, the branch, and the record, untouched.
        let _ = repo.restore(&files);
        let _ = git(&repo.path, &["switch", &previous]);
        let _ = git(&repo.path, &["branch", "-D", &branch]);
        return Err(e.context(format!(
            "nothing was committed; {} and the local record are as they were",
            paths.join(" and ")
        )));
    }
    // The commit exists: only now is the record let go.
    let aside = store.set_aside("committed")?;
    println!(
        "Committed {} on the branch {branch} ({}); the record is kept in {}.",
        paths.join(" and "),
        git(&repo.path, &["rev-parse", "--short", "HEAD"])?,
        aside.display()
    );
    if no_push {
        println!("Not pushed (--no-push): `git push -u origin {branch}` when you are ready.");
        return Ok(0);
    }
    let remotes = git(&repo.path, &["remote"])?;
    let Some(remote) = remotes
        .lines()
        .find(|r| *r == "origin")
        .or_else(|| remotes.lines().next())
    else {
        println!("The repository has no remote: add one, then `git push -u <remote> {branch}`.");
        return Ok(0);
    };
    if let Err(e) = git(&repo.path, &["push", "--quiet", "-u", remote, &branch]) {
        println!("Not pushed: {e:#}. Run `git push -u {remote} {branch}` when you can.");
        return Ok(1);
    }
    println!("Pushed {branch} to {remote}.");
    let url = git(&repo.path, &["remote", "get-url", remote]).unwrap_or_default();
    let on_github = url.contains("github.com");
    match program::resolve("gh") {
        Ok(gh) if on_github => {
            let out = Command::new(gh)
                .current_dir(&repo.path)
                .args(["pr", "create", "--fill", "--head", &branch])
                .output()
                .context("running gh")?;
            if out.status.success() {
                print!("{}", String::from_utf8_lossy(&out.stdout));
                println!("Opened a pull request for {branch}.");
            } else {
                println!(
                    "gh could not open the pull request ({}); run `gh pr create --fill --head {branch}`.",
                    crate::exec::failure_detail(&out.stderr, &out.stdout)
                );
                return Ok(1);
            }
        }
        _ if on_github => println!(
            "Open a pull request for {branch}: install gh and run `gh pr create --fill --head {branch}`, or use the link git printed."
        ),
        _ => println!("Open a pull request (or merge request) for {branch} on {url}."),
    }
    Ok(0)
}
