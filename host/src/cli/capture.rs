//! `bkt capture`: write what changed on this machine back into the manifests. Which items it
//! takes is decided from the sync record: changes made here, never manifest edits, never a
//! default over a manifest value.

use super::drift::count;
use crate::app::{App, Format};
use crate::containerfile;
use crate::exec::euid;
use crate::plan::{self, PluginPlan, describe_error};
use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::{CallError, Loaded};
use crate::sync::{Records, Settled, capture_takes};
use anyhow::Result;
use serde_json::json;
use std::collections::BTreeMap;

pub fn run(app: &App, dry_run: bool, overwrite: bool, only: &[String]) -> Result<i32> {
    let repo = app.repo()?;
    if !dry_run {
        repo.lock()?;
    }
    let plugins = app.select(only)?;
    // Untracked subsystems are started only when named.
    let plans = plan::collect_with(&app.rt, &repo, &plugins, !only.is_empty());
    let mut records = Records::load(&repo.path, &app.root, euid());
    // Per plugin, the item ids to take; plugins with nothing to take are not called.
    let takes: Vec<Vec<String>> = super::drift::all(&plans, &records, &app.root)
        .into_iter()
        .map(|drifts| {
            drifts
                .into_iter()
                .filter(|(c, d)| capture_takes(*d, c, overwrite))
                .map(|(c, _)| c.id.clone())
                .collect()
        })
        .collect();
    let inputs: Vec<(&PluginPlan, &Vec<String>)> = plans.iter().zip(&takes).collect();
    let results = crate::parallel::map(&inputs, |(p, take)| {
        if let Err(e) = &p.result {
            return Err(e.clone());
        }
        // A named untracked subsystem gets its manifest even when nothing is live yet.
        if take.is_empty() && (p.manifest.is_some() || only.is_empty()) {
            return Ok(None);
        }
        let mut session = app
            .rt
            .session(p.plugin)
            .map_err(|e| CallError::Crashed(format!("{e:#}")))?;
        session.capture(p.manifest.as_deref(), take).map(Some)
    });
    let mut changes = Vec::new();
    let mut pending = BTreeMap::new();
    let mut errors = 0;
    let mut invalid = false;
    for ((p, take), result) in inputs.iter().zip(results) {
        let path = Repo::manifest_path(&p.plugin.info.manifest);
        match result.unwrap_or_else(|panic| Err(CallError::Crashed(panic))) {
            Ok(Some(new)) if p.manifest.as_deref() != Some(new.as_str()) => {
                if app.format == Format::Human && !take.is_empty() {
                    println!("{}: taking {}", p.id(), count(take.len(), "item"));
                }
                pending.insert(p.id().to_string(), new.clone());
                changes.push(FileChange {
                    name: path,
                    old: p.manifest.clone().map(String::into_bytes),
                    new: new.into_bytes(),
                });
            }
            Ok(_) => {}
            Err(CallError::Unavailable(m)) => eprintln!("{}: skipped, {m}", p.id()),
            Err(e) => {
                errors += 1;
                invalid |= matches!(e, CallError::Invalid(_));
                eprintln!(
                    "{} {}: {}",
                    app.style.red("error"),
                    p.id(),
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
        println!(
            "Nothing to capture: no change made on this machine is missing from the manifests."
        );
    }
    let report = write_files(app, &repo, &changes, dry_run)?;
    if !dry_run {
        for ((p, take), _) in inputs.iter().zip(&takes) {
            settle(&mut records, p, take);
        }
        records.save();
    }
    if app.format == Format::Json {
        let mut report = report;
        report["format_version"] = json!(super::FORMAT_VERSION);
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(if invalid {
        2
    } else if errors > 0 {
        1
    } else {
        0
    })
}

/// After capture, the taken items agree at the machine's value.
fn settle(records: &mut Records, p: &PluginPlan, take: &[String]) {
    let Ok(plan) = &p.result else { return };
    let mut settled = Settled {
        agreed: &plan.agreed,
        changed: vec![],
        unsettled: vec![],
    };
    for c in &plan.changes {
        if take.contains(&c.id) {
            settled.changed.push((c.scope, &c.id, c.live.as_deref()));
        } else {
            settled.unsettled.push((c.scope, &c.id));
        }
    }
    records.settle(p.id(), &settled);
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
