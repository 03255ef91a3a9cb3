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
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = plugins
            .iter()
            .map(|plugin| {
                let repo = &repo;
                s.spawn(move || {
                    let path = Repo::manifest_path(&plugin.info.manifest);
                    let old = repo
                        .read_manifest(&plugin.info.manifest)
                        .map_err(|e| CallError::Failed(format!("{e:#}")))?;
                    let mut session = app
                        .rt
                        .session(plugin)
                        .map_err(|e| CallError::Crashed(format!("{e:#}")))?;
                    let new = session.capture(old.as_deref())?;
                    Ok::<_, CallError>((path, old, new))
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut changes = Vec::new();
    let mut overrides = BTreeMap::new();
    let mut errors = 0;
    for (plugin, result) in plugins.iter().zip(results) {
        match result {
            Ok((path, old, new)) if old.as_deref() != Some(new.as_str()) => {
                overrides.insert(plugin.info.id.clone(), Some(new.clone()));
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
        .filter(|p| overrides.contains_key(&p.info.id))
        .collect();
    with_containerfile(app, &repo, &changed, &overrides, &mut changes)?;
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
    overrides: &BTreeMap<String, Option<String>>,
    changes: &mut Vec<FileChange>,
) -> Result<()> {
    if plugins.iter().all(|p| p.info.sections.is_empty()) {
        return Ok(());
    }
    let rendered = containerfile::rerender(&app.rt, repo, plugins, overrides)
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
    if app.format == Format::Human {
        super::diff::print(changes);
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
        .map(|c| {
            let old = c.old.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            json!({"file": c.name, "diff": super::diff::unified(&c.name, &old, &String::from_utf8_lossy(&c.new))})
        })
        .collect();
    Ok(json!({"files": files, "written": written}))
}
