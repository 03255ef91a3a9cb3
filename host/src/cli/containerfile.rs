//! `bkt containerfile sync|check`.

use crate::app::{App, Format};
use crate::containerfile::{self, FILE};
use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum ContainerfileCommand {
    /// Re-render every managed section from the manifests and write the file
    #[command(
        long_about = "Re-renders every `# === NAME (managed by bkt) ===` section from its \
        plugin and writes the Containerfile atomically. Text outside the markers is kept byte \
        for byte. Prints which sections changed. Exit status 1 when a plugin renders a section \
        the file has no markers for (the message shows the lines to add)."
    )]
    Sync,
    /// Show what sync would change; exit 1 on drift, 0 when in step, 2 on error
    Check,
}

pub fn run(app: &App, cmd: ContainerfileCommand) -> Result<i32> {
    let repo = app.repo()?;
    if matches!(cmd, ContainerfileCommand::Sync) {
        repo.lock()?;
    }
    let Some(r) = containerfile::rerender(
        &app.rt,
        &repo,
        &app.loaded(),
        &containerfile::Pending::new(),
    )?
    else {
        bail!("{} has no {FILE}", repo.path.display());
    };
    let drift = r.old != r.new;
    // A diff of a large rewrite is costly; sync prints only section names.
    let want_diff = app.format == Format::Json || matches!(cmd, ContainerfileCommand::Check);
    let diff = if want_diff {
        super::diff::unified(FILE, &r.old, &r.new)
    } else {
        String::new()
    };
    if app.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "format_version": super::FORMAT_VERSION,
                "file": FILE,
                "in_step": !drift && r.missing.is_empty(),
                "changed_sections": r.changed,
                "missing_sections": r.missing.iter().map(|(p, s)| json!({"plugin": p, "section": s,
                    "markers": [containerfile::sections::begin_marker(s), containerfile::sections::end_marker(s)]})).collect::<Vec<_>>(),
                "diff": diff,
                "written": matches!(cmd, ContainerfileCommand::Sync) && drift,
            }))?
        );
    }
    for advice in r.missing_advice() {
        eprintln!("{advice}");
    }
    match cmd {
        ContainerfileCommand::Check => {
            if app.format == Format::Human {
                if drift {
                    print!("{diff}");
                } else if r.missing.is_empty() {
                    println!("{FILE} is in step with the manifests.");
                }
            }
            Ok(if drift || !r.missing.is_empty() { 1 } else { 0 })
        }
        ContainerfileCommand::Sync => {
            if let Some(change) = r.file_change() {
                repo.commit(&[change])?;
            }
            if app.format == Format::Human {
                if !r.changed.is_empty() {
                    println!("Updated {FILE}: {}", r.changed.join(", "));
                } else if r.missing.is_empty() {
                    println!("{FILE} is in step with the manifests.");
                } else {
                    println!("{FILE} was not changed: it lacks the sections named above.");
                }
            }
            Ok(if r.missing.is_empty() { 0 } else { 1 })
        }
    }
}
