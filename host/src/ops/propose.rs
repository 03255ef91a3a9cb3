//! Proposing changes to the distribution: one commit of bkt's files on a new branch, pushed,
//! and a pull request where `gh` can open one. `bkt local commit`, `bkt pr` and `--pr` all end
//! here.
//!
//! The commit is built beside the checkout, not in it: git writes the files as objects, a
//! temporary index holds HEAD's tree with them, and `git commit-tree` makes the commit the new
//! branch points at. The working tree, the index and the current branch are never touched,
//! so the machine and the checkout keep agreeing, and a failure at any step leaves nothing
//! but unreferenced objects (a refused push also takes the new branch away again).

use super::report::Exit;
use super::ui::{Tone, Ui};
use crate::os::git;
use crate::os::process;
use crate::os::text::failure_detail;
use anyhow::{Context as _, Result, anyhow};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to propose.
pub struct Proposal {
    /// Files relative to the repository, with their new contents.
    pub files: Vec<(String, Vec<u8>)>,
    /// The commit message's first line.
    pub subject: String,
    /// The lines of the message below it: what changed.
    pub body: Vec<String>,
    /// The branch to create.
    pub branch: String,
    /// Push and open a pull request (else only the branch is made).
    pub push: bool,
}

/// What became of a proposal.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The branch exists and, when asked, was pushed and proposed.
    Done,
    /// The branch was pushed but no pull request could be opened (said why).
    NotProposed,
    /// The push was refused: the branch was taken away again and nothing is left (said why).
    Refused,
}

/// Fails with what to do unless `repo` is a git checkout with a commit to build on.
pub fn check_checkout(repo: &Path) -> Result<()> {
    git::run(repo, &["rev-parse", "--is-inside-work-tree"]).map_err(|_| {
        anyhow!(
            "{} is not a git repository: `git init` it and add your remote, then propose changes",
            repo.display()
        )
    })?;
    git::run(repo, &["rev-parse", "--verify", "--quiet", "HEAD"]).map_err(|_| {
        anyhow!(
            "{} has no commit yet: commit it once, then propose changes",
            repo.display()
        )
    })?;
    Ok(())
}

/// A branch name that is free: `stem-YYYYMMDDHHMM`, with `-2`, `-3` … when taken.
pub fn free_branch(repo: &Path, stem: &str) -> String {
    let stamp: String = crate::os::time::utc(crate::os::time::now())
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(12)
        .collect();
    let base = format!("{stem}-{stamp}");
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|b| {
            git::run(
                repo,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("refs/heads/{b}"),
                ],
            )
            .is_err()
        })
        .unwrap_or(base)
}

/// A temporary index file, removed when done with.
struct ScratchIndex(PathBuf);

impl Drop for ScratchIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The commit of `files` on top of HEAD, made without touching the checkout.
fn commit_beside(repo: &Path, files: &[(String, Vec<u8>)], message: &str) -> Result<String> {
    // The temporary index lives in the repository's git folder, beside git's own.
    let git_dir = PathBuf::from(git::run(repo, &["rev-parse", "--absolute-git-dir"])?);
    let index = ScratchIndex(git_dir.join(format!("bkt-index-{}", std::process::id())));
    let env = [("GIT_INDEX_FILE", index.0.as_path())];
    git::with(repo, &["read-tree", "HEAD"], &env, None)?;
    for (name, bytes) in files {
        let blob = git::with(repo, &["hash-object", "-w", "--stdin"], &[], Some(bytes))?;
        let info = format!("100644,{blob},{name}");
        git::with(
            repo,
            &["update-index", "--add", "--cacheinfo", &info],
            &env,
            None,
        )?;
    }
    let tree = git::with(repo, &["write-tree"], &env, None)?;
    git::with(
        repo,
        &["commit-tree", &tree, "-p", "HEAD", "-F", "-"],
        &[],
        Some(message.as_bytes()),
    )
}

/// Makes the branch with the commit, then pushes and proposes it. The checkout stays as it
/// is; on an error before the branch exists nothing is left.
pub fn propose(ui: &dyn Ui, repo: &Path, p: &Proposal) -> Result<Outcome> {
    check_checkout(repo)?;
    let names: Vec<&str> = p.files.iter().map(|(n, _)| n.as_str()).collect();
    let mut message = format!("{}\n", p.subject);
    if !p.body.is_empty() {
        message.push('\n');
        for line in &p.body {
            message.push_str(line);
            message.push('\n');
        }
    }
    let commit = commit_beside(repo, &p.files, &message).map_err(|e| {
        e.context(format!(
            "nothing was committed; {} are as they were",
            names.join(" and ")
        ))
    })?;
    git::run(repo, &["branch", &p.branch, &commit])
        .map_err(|e| e.context("nothing was committed"))?;
    let short: String = commit.chars().take(7).collect();
    let here = git::run(repo, &["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_default();
    ui.say(
        Tone::Plain,
        &format!(
            "Committed {} on the branch {} ({short}); your checkout stays on {here}.",
            names.join(" and "),
            p.branch
        ),
    );
    if !p.push {
        ui.say(
            Tone::Plain,
            &format!(
                "Not pushed (--no-push): `git push -u origin {}` when you are ready.",
                p.branch
            ),
        );
        return Ok(Outcome::Done);
    }
    push_and_open(ui, repo, &p.branch)
}

/// Pushes the branch and opens a pull request where `gh` can. A refused push takes the
/// branch away again, so that nothing is left half done.
fn push_and_open(ui: &dyn Ui, repo: &Path, branch: &str) -> Result<Outcome> {
    let say = |line: String| ui.say(Tone::Plain, &line);
    let remotes = git::run(repo, &["remote"])?;
    let Some(remote) = remotes
        .lines()
        .find(|r| *r == "origin")
        .or_else(|| remotes.lines().next())
    else {
        say(format!(
            "The repository has no remote: add one, then `git push -u <remote> {branch}`."
        ));
        return Ok(Outcome::Done);
    };
    if let Err(e) = git::run(repo, &["push", "--quiet", "-u", remote, branch]) {
        let _ = git::run(repo, &["branch", "-D", branch]);
        ui.warn(&format!(
            "error: not pushed, so the branch {branch} is taken away again and nothing changed: {e:#}\n\
             hint: once {remote} accepts the push, run the same bkt command again"
        ));
        return Ok(Outcome::Refused);
    }
    say(format!("Pushed {branch} to {remote}."));
    let url = git::run(repo, &["remote", "get-url", remote]).unwrap_or_default();
    let on_github = url.contains("github.com");
    match process::resolve("gh") {
        Ok(gh) if on_github => {
            let out = Command::new(gh)
                .current_dir(repo)
                .args(["pr", "create", "--fill", "--head", branch])
                .output()
                .context("running gh")?;
            if !out.status.success() {
                say(format!(
                    "gh could not open the pull request ({}); run `gh pr create --fill --head {branch}`.",
                    failure_detail(&out.stderr, &out.stdout)
                ));
                return Ok(Outcome::NotProposed);
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
    Ok(Outcome::Done)
}

impl Outcome {
    pub fn exit(&self) -> Exit {
        match self {
            Outcome::Done => Exit::Ok,
            Outcome::NotProposed | Outcome::Refused => Exit::Failed,
        }
    }
}
