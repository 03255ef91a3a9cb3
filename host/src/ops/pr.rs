//! `bkt pr` and `--pr`: propose what bkt changed in the checkout as a pull request. Only the
//! files bkt writes (each plugin's manifest and the Containerfile) go into the commit; other
//! files changed in the checkout stay out and are named.

use super::propose::{self, Proposal};
use super::report::Exit;
use super::ui::{Tone, Ui};
use crate::app::App;
use crate::repo::Repo;
use anyhow::{Context as _, Result};
use std::collections::BTreeSet;

/// What `bkt pr` (or `--pr`) was asked to do.
#[derive(Default)]
pub struct PrArgs {
    pub message: Option<String>,
    pub branch: Option<String>,
    pub no_push: bool,
    pub dry_run: bool,
}

/// The files bkt writes in this repository: every loaded plugin's manifest and the
/// Containerfile.
fn bkt_files(app: &App) -> BTreeSet<String> {
    app.loaded()
        .iter()
        .map(|p| Repo::manifest_path(&p.info.manifest))
        .chain(std::iter::once("Containerfile".to_string()))
        .collect()
}

/// The paths that differ from HEAD in the checkout (changed, added or untracked), from
/// `git status --porcelain -z`.
fn changed_paths(repo: &Repo) -> Result<Vec<String>> {
    let out = crate::os::git::untrimmed(
        &repo.path,
        &["status", "--porcelain=v1", "-z", "--untracked-files=all"],
        &[],
        None,
    )?;
    let mut paths = Vec::new();
    let mut entries = out.split('\0');
    while let Some(entry) = entries.next() {
        if entry.len() < 4 {
            continue;
        }
        let (status, path) = entry.split_at(3);
        paths.push(path.to_string());
        // A rename or copy names its source next: that path changed too.
        if status.starts_with(['R', 'C'])
            && let Some(from) = entries.next()
        {
            paths.push(from.to_string());
        }
    }
    Ok(paths)
}

/// `bkt pr`: what bkt changed in the checkout, proposed.
pub fn run(app: &App, ui: &dyn Ui, args: PrArgs) -> Result<Exit> {
    let repo = app.repo_to_edit()?;
    propose::check_checkout(&repo.path)?;
    let ours = bkt_files(app);
    let (mine, others): (Vec<String>, Vec<String>) = changed_paths(&repo)?
        .into_iter()
        .partition(|p| ours.contains(p) && repo.path.join(p).is_file());
    if !others.is_empty() {
        ui.say(
            Tone::Plain,
            &format!(
                "Left out (bkt did not write them; commit them yourself): {}",
                others.join(", ")
            ),
        );
    }
    if mine.is_empty() {
        ui.say(
            Tone::Plain,
            "Nothing to propose: the manifests and the Containerfile are as committed.",
        );
        return Ok(Exit::Ok);
    }
    let subject = format!("Update {}", mine.join(", "));
    let body = diff_lines(&repo, &mine);
    propose_files(ui, &repo, &mine, subject, body, "bkt/pr", args)
}

/// `--pr` after a command wrote `names`: those files, proposed with `subject`; the message
/// lists `what` (the command, or the items taken) and each file's lines added and dropped.
pub fn after_command(
    app: &App,
    ui: &dyn Ui,
    names: &[String],
    subject: String,
    what: Vec<String>,
    branch_stem: &str,
) -> Result<Exit> {
    let repo = app.repo_to_edit()?;
    propose::check_checkout(&repo.path)?;
    let mut body = what;
    body.extend(diff_lines(&repo, names));
    propose_files(
        ui,
        &repo,
        names,
        subject,
        body,
        branch_stem,
        PrArgs::default(),
    )
}

/// The lines each file adds and drops, against HEAD, for the commit message.
fn diff_lines(repo: &Repo, names: &[String]) -> Vec<String> {
    let mut args = vec!["diff", "--numstat", "HEAD", "--"];
    args.extend(names.iter().map(String::as_str));
    let numstat = crate::os::git::run(&repo.path, &args).unwrap_or_default();
    names
        .iter()
        .map(|name| {
            let counts = numstat
                .lines()
                .filter_map(|l| {
                    let mut f = l.split('\t');
                    let (added, dropped, file) = (f.next()?, f.next()?, f.next()?);
                    (file == name).then(|| format!(" (+{added} −{dropped})"))
                })
                .next()
                .unwrap_or_else(|| " (new)".into());
            format!("- {name}{counts}")
        })
        .collect()
}

fn propose_files(
    ui: &dyn Ui,
    repo: &Repo,
    names: &[String],
    subject: String,
    body: Vec<String>,
    branch_stem: &str,
    args: PrArgs,
) -> Result<Exit> {
    let mut files = Vec::new();
    for name in names {
        let bytes = std::fs::read(repo.path.join(name))
            .with_context(|| format!("reading {name} to propose it"))?;
        files.push((name.clone(), bytes));
    }
    let proposal = Proposal {
        files,
        subject: args.message.unwrap_or(subject),
        body,
        branch: args
            .branch
            .unwrap_or_else(|| propose::free_branch(&repo.path, branch_stem)),
        push: !args.no_push,
    };
    if args.dry_run {
        ui.say(
            Tone::Plain,
            &format!(
                "Dry run: would commit {} on the branch {} with the message:\n{}\n\n{}\nNothing was committed or pushed.",
                names.join(" and "),
                proposal.branch,
                proposal.subject,
                proposal.body.join("\n")
            ),
        );
        return Ok(Exit::Ok);
    }
    Ok(propose::propose(ui, &repo.path, &proposal)?.exit())
}
