//! `bkt capture`: merge the live state into the manifests.

use crate::app::{App, Format};
use crate::containerfile;
use crate::plan::describe_error;
use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::{CallError, Loaded};
use anyhow::Result;
use serde_json::json;
use std::collections::BTreeMap;

pub fn run(app: &App, dry_run: bool, only: &[String]) -> Result<i32> {
    let repo = app.repo()?;
    if !dry_run {
        repo.lock()?;
    }
    let plugins = app.select(only)?;
    let results = crate::parallel::map(&plugins, |plugin| {
        let old = repo
            .read_manifest(&plugin.info.manifest)
            .map_err(|e| CallError::Failed(format!("{e:#}")))?;
        let mut session = app
            .rt
            .session(plugin)
            .map_err(|e| CallError::Crashed(format!("{e:#}")))?;
        let new = session.capture(old.as_deref())?;
        Ok((Repo::manifest_path(&plugin.info.manifest), old, new))
    });
    let mut changes = Vec::new();
    let mut pending = BTreeMap::new();
    let mut errors = 0;
    for (plugin, result) in plugins.iter().zip(results) {
        match result.unwrap_or_else(|panic| Err(CallError::Crashed(panic))) {
            Ok((path, old, new)) if old.as_deref() != Some(new.as_str()) => {
                pending.insert(plugin.info.id.clone(), new.clone());
                changes.push(FileChange {
                    name: path,
                    old: old.map(String::into_bytes),
                    new: new.into_bytes(),
                });
            }
            Ok(_) => {}
            Err(CallError::Unavailable(m)) => eprintln!("{}: skipped, {m}", plugin.info.id),
            Err(e) => {
                errors += 1;
                let path = Repo::manifest_path(&plugin.info.manifest);
                eprintln!(
                    "{} {}: {}",
                    app.style.red("error"),
                    plugin.info.id,
                    describe_error(&path, &e)
                );
            }
        }
    }
    let changed: Vec<&Loaded> = plugins
        .iter()
        .copied()
        .filter(|p| pending.contains_key(&p.info.id))
        .collect();
    with_containerfile(app, &repo, &changed, &pending, &mut changes)?;
    if changes.is_empty() && app.format == Format::Human {
        println!("Nothing to capture: the manifests already match the machine.");
    }
    let report = write_files(app, &repo, &changes, dry_run)?;
    if app.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

/// Adds the Containerfile, re-rendered from the new manifest texts, to the files to write.
/// A Containerfile that does not parse stops everything: nothing is written.
pub fn with_containerfile(
    app: &App,
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
            eprintln!("{advice}");
        }
        changes.extend(r.file_change());
    }
    Ok(())
}

/// Shows the diffs (for people) and, unless `dry_run`, writes every file together. Returns
/// the same as JSON, for `--format json` callers to print in their report.
pub fn write_files(
    app: &App,
    repo: &Repo,
    changes: &[FileChange],
    dry_run: bool,
) -> Result<serde_json::Value> {
    let diffs: Vec<String> = changes.iter().map(super::diff::of_change).collect();
    if app.format == Format::Human {
        diffs.iter().for_each(|d| print!("{d}"));
    }
    let written = !dry_run && !changes.is_empty();
    if written {
        repo.commit(changes)?;
        if app.format == Format::Human {
            let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
            println!("Wrote {}", names.join(", "));
        }
    }
    let files: Vec<_> = changes
        .iter()
        .zip(&diffs)
        .map(|(c, diff)| json!({"file": c.name, "diff": diff}))
        .collect();
    Ok(json!({"files": files, "written": written}))
}
