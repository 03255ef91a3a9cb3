//! `bkt local list|commit|clear` for people.

use super::printer::Printer;
use crate::app::App;
use crate::ops::local::{CommitArgs, Listed, clear, commit, list};
use crate::ops::{Exit, Report};
use anyhow::Result;
use clap::Subcommand;

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

pub fn run(app: &App, out: &Printer, cmd: LocalCommand) -> Result<Exit> {
    match cmd {
        LocalCommand::List => {
            let listed = list(app)?;
            if out.human() {
                render_list(out, &listed);
            }
            out.emit(&listed);
            Ok(listed.exit())
        }
        LocalCommand::Clear => clear(app, out),
        LocalCommand::Commit {
            message,
            branch,
            no_push,
        } => commit(
            app,
            out,
            CommitArgs {
                message,
                branch,
                no_push,
            },
        ),
    }
}

fn render_list(out: &Printer, listed: &Listed) {
    if listed.record.is_none() {
        println!("No local changes this boot.");
        return;
    }
    for (id, commands, diff) in &listed.plugins {
        println!("{}", out.style.bold(id));
        for c in commands {
            println!("    $ {c}");
        }
        if diff.is_empty() {
            println!("    (no net change: the commands cancel out)");
        } else {
            print!("{diff}");
        }
    }
}
