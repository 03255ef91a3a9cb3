//! `bkt manpages DIR`: a manual page for bkt and one for each command, plugin commands and
//! their verbs included (`bkt-dnf-install.1`), rendered from the same command line that
//! completion uses.

use crate::os::atomic::{self, Mode};
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

/// Writes every page into `dir` (made if missing), each file atomically; returns them.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut cmd = super::complete::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_tree(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render(&mut page)
        .with_context(|| format!("rendering the page of {}", cmd.get_name()))?;
    let path = dir.join(man.get_filename());
    atomic::write(&path, &page, Mode::Exactly(0o644))?;
    written.push(path);
    Ok(())
}
