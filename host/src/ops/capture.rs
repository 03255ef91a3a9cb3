//! `bkt capture`: write what changed on this machine back into the manifests. Which items it
//! takes is decided from the sync record: changes made here, never manifest edits, never a
//! default over a manifest value.

use super::drift;
use super::report::{Exit, Report};
use super::settle::{Side, settle};
use super::ui::{Tone, Ui};
use super::write::{Written, with_containerfile, write_files};
use crate::app::App;
use crate::model::CallError;
use crate::os::atomic::FileChange;
use crate::os::text::count;
use crate::plan::{self, PluginPlan};
use crate::repo::Repo;
use crate::runtime::{Loaded, Readings};
use crate::sync::{Drift, Records, capture_takes};
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Captured {
    pub written: Written,
    pub exit: Exit,
}

impl Report for Captured {
    fn json(&self) -> serde_json::Value {
        self.written.json()
    }
    fn exit(&self) -> Exit {
        self.exit
    }
}

pub fn run(
    app: &App,
    ui: &dyn Ui,
    dry_run: bool,
    overwrite: bool,
    only: &[String],
) -> Result<Captured> {
    let repo = if dry_run {
        app.repo()?
    } else {
        app.repo_to_edit()?
    };
    if !dry_run {
        repo.lock()?;
    }
    let plugins = app.select(only)?;
    // Capture changes nothing on the machine: a plugin's capture is told what its plan read
    // (and takes what the plan showed), without listing it all again.
    let readings = Readings::new();
    // Untracked subsystems are started only when named.
    let plans = plan::collect_with(&app.rt, &repo, &plugins, !only.is_empty(), Some(&readings));
    let mut records = Records::load(&repo.path, &app.root, &app.dirs);
    let drifts = drift::all(&plans, &records, &app.root, &app.dirs);
    // Items changed on both sides are left alone without --overwrite: named below.
    let conflicts: Vec<(&str, usize)> = plans
        .iter()
        .zip(&drifts)
        .map(|(p, d)| {
            (
                p.id(),
                d.iter().filter(|(_, d)| *d == Drift::Conflict).count(),
            )
        })
        .filter(|(_, n)| *n > 0 && !overwrite)
        .collect();
    // Per plugin, the item ids to take; plugins with nothing to take are not called.
    let takes: Vec<Vec<String>> = drifts
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
    let (mut changes, pending, exit) =
        new_manifests(app, ui, &inputs, &readings, only.is_empty(), dry_run);
    let changed: Vec<&Loaded> = plugins
        .iter()
        .copied()
        .filter(|p| pending.contains_key(&p.info.id))
        .collect();
    with_containerfile(app, ui, &repo, &changed, &pending, &mut changes)?;
    if changes.is_empty() {
        // Only what was read can be said to be in the manifests.
        ui.say(
            Tone::Plain,
            if exit == Exit::Ok {
                "Nothing to capture: no change made on this machine is missing from the manifests."
            } else {
                "Nothing to capture from the subsystems that could be read."
            },
        );
    }
    for (id, n) in conflicts {
        ui.say(
            Tone::Plain,
            &format!(
                "{id}: {} changed on both sides left as they are: `bkt capture --overwrite -s {id}` takes this machine's, `bkt apply --overwrite -s {id}` the manifest's (or edit the manifest)",
                count(n, "item")
            ),
        );
    }
    let written = write_files(ui, &repo, &changes, dry_run)?;
    if !dry_run {
        for (p, take) in &inputs {
            let Ok(plan) = &p.result else { continue };
            settle(&mut records, p.id(), &plan.agreed, &plan.changes, |c| {
                take.contains(&c.id).then_some(Side::Machine)
            });
        }
        records.save();
    }
    Ok(Captured { written, exit })
}

/// Each plugin's manifest with what it takes (in parallel): the files that change, the new
/// texts by plugin id (for the Containerfile), and the exit status its errors call for.
fn new_manifests(
    app: &App,
    ui: &dyn Ui,
    inputs: &[(&PluginPlan, &Vec<String>)],
    readings: &Arc<Readings>,
    all: bool,
    dry_run: bool,
) -> (Vec<FileChange>, BTreeMap<String, String>, Exit) {
    let results =
        crate::os::parallel::map(inputs, |(p, take)| capture_one(app, p, take, readings, all));
    let mut changes = Vec::new();
    let mut pending = BTreeMap::new();
    let mut exit = Exit::Ok;
    for ((p, take), result) in inputs.iter().zip(results) {
        let path = Repo::manifest_path(&p.plugin.info.manifest);
        match result.unwrap_or_else(|panic| Err(CallError::Crashed(panic.0))) {
            Ok(Some(new)) if p.manifest.as_deref() != Some(new.as_str()) => {
                if !take.is_empty() {
                    ui.say(
                        Tone::Plain,
                        &format!(
                            "{}: {} {}",
                            p.id(),
                            if dry_run { "would take" } else { "taking" },
                            count(take.len(), "item")
                        ),
                    );
                }
                pending.insert(p.id().to_string(), new.clone());
                changes.push(FileChange {
                    name: path,
                    old: p.manifest.clone().map(String::into_bytes),
                    new: new.into_bytes(),
                });
            }
            Ok(_) => {}
            Err(CallError::Unavailable(m)) => ui.warn(&format!("{}: skipped, {m}", p.id())),
            Err(e) => {
                exit = exit.max(if e.is_bad_input() {
                    Exit::BadInput
                } else {
                    Exit::Failed
                });
                ui.error("error", p.id(), &e.describe(&path));
            }
        }
    }
    (changes, pending, exit)
}

/// The plugin's new manifest with the items in `take`; `None` when it has nothing to take.
fn capture_one(
    app: &App,
    p: &PluginPlan,
    take: &[String],
    readings: &Arc<Readings>,
    all: bool,
) -> Result<Option<String>, CallError> {
    if let Err(e) = &p.result {
        return Err(e.clone());
    }
    // A named untracked subsystem gets its manifest even when nothing is live yet.
    if take.is_empty() && (p.manifest.is_some() || all) {
        return Ok(None);
    }
    let mut session = app
        .rt
        .session_reading(p.plugin, readings)
        .map_err(|e| CallError::Crashed(format!("{e:#}")))?;
    session.capture(p.manifest.as_deref(), take).map(Some)
}
