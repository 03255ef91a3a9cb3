//! `bkt status`: per subsystem, what the manifest holds, how the machine differs, which side
//! moved since the last sync, and the commands that resolve it; the Containerfile's sections;
//! the boot-time apply's last runs. Read-only.

use super::drift;
use super::report::{Exit, Report};
use crate::app::App;
use crate::boot::{Half, LastRun};
use crate::containerfile::{self, FILE, Rendered};
use crate::model::{CallError, Change, ScopeFilter};
use crate::plan::{self, PluginPlan, counts};
use crate::sync::{Drift, Records};
use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;

pub struct Status<'a> {
    pub repo: PathBuf,
    /// How the repository was found, for people.
    pub found_by: &'static str,
    pub plans: Vec<PluginPlan<'a>>,
    /// Per plan, the drift of each of its changes, in order.
    drifts: Vec<Vec<Drift>>,
    pub containerfile: Result<Option<Rendered>>,
    /// The boot-time apply's last runs, system half then user half.
    pub boot: Vec<(&'static str, LastRun)>,
    /// Third-party plugins present but not loaded, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

pub fn run<'a>(app: &'a App, only: &[String]) -> Result<Status<'a>> {
    let repo = app.repo()?;
    let plugins = app.select(only)?;
    // The Containerfile renders while the plugins query the machine.
    let (plans, containerfile) = std::thread::scope(|s| {
        let rendering = s.spawn(|| {
            containerfile::rerender(&app.rt, &repo, &plugins, &containerfile::Pending::new())
        });
        let plans = plan::collect(&app.rt, &repo, &plugins);
        let containerfile = rendering
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("rendering the Containerfile panicked")));
        (plans, containerfile)
    });
    let records = Records::load(&repo.path, &app.root, &app.dirs);
    let drifts = drift::all(&plans, &records, &app.root, &app.dirs)
        .into_iter()
        .map(|d| d.into_iter().map(|(_, drift)| drift).collect())
        .collect();
    Ok(Status {
        repo: repo.path.clone(),
        found_by: repo.found_by,
        plans,
        drifts,
        containerfile,
        boot: boot_runs(app),
        skipped: app
            .skipped()
            .into_iter()
            .map(|(p, why)| (p.to_path_buf(), why.to_string()))
            .collect(),
    })
}

impl Status<'_> {
    /// The changes of plan `i`, each with its drift.
    pub fn drifts(&self, i: usize) -> Vec<(&Change, Drift)> {
        let changes = match &self.plans[i].result {
            Ok(plan) => plan.changes.as_slice(),
            Err(_) => &[],
        };
        changes.iter().zip(self.drifts[i].iter().copied()).collect()
    }
}

/// The boot-time apply's last runs, system half then user half.
fn boot_runs(app: &App) -> Vec<(&'static str, LastRun)> {
    [ScopeFilter::System, ScopeFilter::User]
        .into_iter()
        .filter_map(|scope| {
            let half = Half::new(scope, &app.dirs).ok()?;
            Some((half.name(), half.last_run()?))
        })
        .collect()
}

impl Report for Status<'_> {
    /// 0 in step, 1 drift or a failure, 2 a manifest or Containerfile that cannot be used.
    fn exit(&self) -> Exit {
        let invalid = self
            .plans
            .iter()
            .any(|p| matches!(p.result, Err(CallError::Invalid(_))))
            || self.containerfile.is_err();
        if invalid {
            return Exit::BadInput;
        }
        // Local changes are known, not drift.
        let drift = self
            .plans
            .iter()
            .zip(&self.drifts)
            .any(|(p, d)| match &p.result {
                Err(CallError::Unavailable(_)) => false,
                Err(_) => true,
                Ok(plan) => {
                    d.iter().any(|drift| *drift != Drift::Local) || plan.errors().next().is_some()
                }
            })
            || matches!(&self.containerfile, Ok(Some(r)) if !r.changed.is_empty() || !r.missing.is_empty());
        Exit::failed_if(drift)
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "repo": self.repo,
            "plugins": (0..self.plans.len()).map(|i| plugin_json(&self.plans[i], &self.drifts(i))).collect::<Vec<_>>(),
            "containerfile": containerfile_json(&self.containerfile),
            "skipped_plugins": self.skipped.iter().map(|(path, why)| json!({"file": path, "reason": why})).collect::<Vec<_>>(),
            "boot_apply": boot_json(&self.boot),
        })
    }
}

fn plugin_json(p: &PluginPlan, drifts: &[(&Change, Drift)]) -> serde_json::Value {
    let base = json!({ "id": p.id(), "manifest": p.manifest_path(), "manifest_exists": p.manifest.is_some() });
    let mut obj = base.as_object().cloned().unwrap_or_default();
    match &p.result {
        Err(CallError::Unavailable(m)) => {
            obj.insert("state".into(), json!("unavailable"));
            obj.insert("error".into(), json!(m));
        }
        Err(e) => {
            obj.insert("state".into(), json!("error"));
            obj.insert("error".into(), json!(e.describe(&p.manifest_path())));
        }
        Ok(plan) => {
            let c = counts(plan);
            let drift = !plan.changes.is_empty() || plan.errors().next().is_some();
            let state = match (p.manifest.is_some(), drift) {
                (false, _) => "untracked",
                (true, true) => "drift",
                (true, false) => "ok",
            };
            obj.insert("state".into(), json!(state));
            obj.insert("items".into(), json!(plan.items));
            obj.insert("missing".into(), json!(c.missing));
            obj.insert("extra".into(), json!(c.extra));
            obj.insert("differs".into(), json!(c.differs));
            obj.insert(
                "changes".into(),
                json!(
                    drifts
                        .iter()
                        .map(|(c, d)| drift::change_json(c, *d))
                        .collect::<Vec<_>>()
                ),
            );
            obj.insert(
                "problems".into(),
                json!(
                    plan.problems
                        .iter()
                        .map(|pr| json!({"id": pr.id, "message": pr.message, "severity": pr.severity.name()}))
                        .collect::<Vec<_>>()
                ),
            );
            obj.insert("next".into(), json!(drift::next_steps(p.id(), drifts)));
        }
    }
    serde_json::Value::Object(obj)
}

fn containerfile_json(result: &Result<Option<Rendered>>) -> serde_json::Value {
    match result {
        Ok(None) => serde_json::Value::Null,
        Err(e) => json!({"file": FILE, "state": "error", "error": format!("{e:#}")}),
        Ok(Some(r)) => json!({
            "file": FILE,
            "state": if r.changed.is_empty() && r.missing.is_empty() { "ok" } else { "drift" },
            "changed_sections": r.changed,
            "missing_sections": r.missing.iter().map(|(p, s)| json!({"plugin": p, "section": s})).collect::<Vec<_>>(),
        }),
    }
}

fn boot_json(runs: &[(&'static str, LastRun)]) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    for (half, run) in runs {
        obj.insert(
            half.to_string(),
            json!({"at": run.at, "at_utc": crate::os::time::utc(run.at), "deployment": run.deployment,
                   "short": run.short, "ok": run.ok, "applied": run.applied, "failures": run.failures}),
        );
    }
    serde_json::Value::Object(obj)
}
