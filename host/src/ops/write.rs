//! What every editing command shares: the Containerfile re-rendered with the new manifests,
//! and the files shown as diffs and written together.

use super::ui::{Tone, Ui};
use crate::app::App;
use crate::containerfile;
use crate::os::atomic::FileChange;
use crate::repo::Repo;
use crate::runtime::Loaded;
use anyhow::Result;
use serde_json::json;

/// Adds the Containerfile, re-rendered from the new manifest texts, to the files to write.
/// A Containerfile that does not parse stops everything: nothing is written.
pub fn with_containerfile(
    app: &App,
    ui: &dyn Ui,
    repo: &Repo,
    plugins: &[&Loaded],
    pending: &containerfile::Pending,
    changes: &mut Vec<FileChange>,
) -> Result<()> {
    if plugins.iter().all(|p| p.info.sections.is_empty()) {
        return Ok(());
    }
    let rendered = containerfile::rerender(&app.rt, repo, plugins, pending)
        .map_err(|e| e.context("the manifests were not written"))?;
    if let Some(r) = rendered {
        for advice in r.missing_advice() {
            ui.warn(&advice);
        }
        changes.extend(r.file_change());
    }
    Ok(())
}

/// The files an editing command changed (or would change), for its report.
#[derive(Debug, Default)]
pub struct Written {
    /// Each file with its unified diff.
    pub files: Vec<(String, String)>,
    pub written: bool,
}

impl Written {
    pub fn json(&self) -> serde_json::Value {
        json!({
            "files": self.files.iter().map(|(file, diff)| json!({"file": file, "diff": diff})).collect::<Vec<_>>(),
            "written": self.written,
        })
    }
}

/// Shows the diffs (for people) and, unless `dry_run`, writes every file together.
pub fn write_files(
    ui: &dyn Ui,
    repo: &Repo,
    changes: &[FileChange],
    dry_run: bool,
) -> Result<Written> {
    let diffs: Vec<String> = changes.iter().map(crate::os::diff::of_change).collect();
    for diff in &diffs {
        ui.show(diff);
    }
    let written = !dry_run && !changes.is_empty();
    if written {
        repo.commit(changes)?;
        let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
        ui.say(Tone::Plain, &format!("Wrote {}", names.join(", ")));
    }
    Ok(Written {
        files: changes.iter().map(|c| c.name.clone()).zip(diffs).collect(),
        written,
    })
}
