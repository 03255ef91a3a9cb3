//! `bkt containerfile sync|check`.

use super::printer::Printer;
use crate::app::App;
use crate::ops::{Exit, Report};
use anyhow::Result;
use clap::Subcommand;

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

pub fn run(app: &App, out: &Printer, cmd: ContainerfileCommand) -> Result<Exit> {
    let sync = matches!(cmd, ContainerfileCommand::Sync);
    let checked = crate::ops::containerfile::run(app, out, sync, !out.human())?;
    out.emit(&checked);
    Ok(checked.exit())
}
