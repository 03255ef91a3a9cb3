//! Gathering every plugin's plan (in parallel), checking each effect against the plugin's
//! declared capabilities before anything is shown, and ordering them by phase.

use crate::model::{CallError, ChangeKind, Effect, Plan, Problem, Severity};
use crate::repo::Repo;
use crate::runtime::caps::{Grant, Refusal};
use crate::runtime::{Loaded, Readings, Runtime};
use std::sync::Arc;

pub struct PluginPlan<'a> {
    pub plugin: &'a Loaded,
    /// The manifest text the plan was made from (`None`: no file yet).
    pub manifest: Option<String>,
    pub result: Result<Plan, CallError>,
}

impl PluginPlan<'_> {
    pub fn id(&self) -> &str {
        &self.plugin.info.id
    }
    pub fn manifest_path(&self) -> String {
        Repo::manifest_path(&self.plugin.info.manifest)
    }
}

/// Plans for `plugins` in phase order. Each runs in its own thread and store, so their
/// queries overlap. A subsystem without a manifest is not tracked and not queried.
pub fn collect<'a>(rt: &Runtime, repo: &Repo, plugins: &[&'a Loaded]) -> Vec<PluginPlan<'a>> {
    collect_with(rt, repo, plugins, false, None)
}

/// Like [`collect`], but untracked subsystems are queried too when `untracked` (`capture -s
/// ID` starts them), and the queries' answers are kept in `readings` when given.
pub fn collect_with<'a>(
    rt: &Runtime,
    repo: &Repo,
    plugins: &[&'a Loaded],
    untracked: bool,
    readings: Option<&Arc<Readings>>,
) -> Vec<PluginPlan<'a>> {
    let results = crate::os::parallel::map(plugins, |plugin| {
        plan_one(rt, repo, plugin, untracked, readings)
    });
    plugins
        .iter()
        .zip(results)
        .map(|(plugin, result)| {
            result.unwrap_or_else(|panic| PluginPlan {
                plugin,
                manifest: None,
                result: Err(CallError::Crashed(panic.0)),
            })
        })
        .collect()
}

fn plan_one<'a>(
    rt: &Runtime,
    repo: &Repo,
    plugin: &'a Loaded,
    untracked: bool,
    readings: Option<&Arc<Readings>>,
) -> PluginPlan<'a> {
    let manifest = match repo.read_manifest(&plugin.info.manifest) {
        Ok(m) => m,
        Err(e) => {
            return PluginPlan {
                plugin,
                manifest: None,
                result: Err(CallError::Failed(format!("{e:#}"))),
            };
        }
    };
    // Without a manifest the subsystem is not tracked here: skip its queries entirely, so a
    // repository that uses two subsystems pays for two.
    if manifest.is_none() && !untracked {
        return PluginPlan {
            plugin,
            manifest,
            result: Ok(Plan::default()),
        };
    }
    let session = match readings {
        Some(readings) => rt.session_reading(plugin, readings),
        None => rt.session(plugin),
    };
    let result = session
        .map_err(|e| CallError::Crashed(format!("{e:#}")))
        .and_then(|mut s| s.plan(manifest.as_deref()))
        .and_then(|plan| {
            let started = std::time::Instant::now();
            let effects: usize = plan.changes.iter().map(|c| c.effects.len()).sum();
            let checked = check(plugin, plan, rt);
            tracing::debug!(
                target: "bkt::timing",
                "plugin {}: capability checks of {effects} effects in {} µs",
                plugin.info.id,
                started.elapsed().as_micros()
            );
            checked
        });
    PluginPlan {
        plugin,
        manifest,
        result,
    }
}

/// Refuses the whole plan if any effect was not declared: a plugin that tries is not trusted
/// with the rest either. A declared change that cannot act inside the mounted root (`--root`)
/// becomes a problem that says why, before anything runs.
pub fn check(plugin: &Loaded, mut plan: Plan, rt: &Runtime) -> Result<Plan, CallError> {
    let grant = Grant {
        caps: &plugin.info.capabilities,
        root: &rt.root,
        home: &rt.context.home,
    };
    let mut outside = Vec::new();
    for change in &plan.changes {
        for effect in &change.effects {
            match grant.effect(effect) {
                Ok(()) => {}
                Err(Refusal::Undeclared(why)) => {
                    // The refusal quotes the plugin's argv or path: escaped like all its text.
                    let why = crate::os::text::printable(&why);
                    return Err(CallError::Refused(format!(
                        "plugin {} {why}; its plan was refused and nothing of it runs",
                        plugin.info.id
                    )));
                }
                Err(Refusal::OutsideRoot(why)) => {
                    let why = crate::os::text::printable(&why);
                    outside.push(Problem {
                        id: change.id.clone(),
                        message: format!("not applied: {why}"),
                        severity: Severity::Error,
                    });
                    break;
                }
            }
        }
    }
    if !outside.is_empty() {
        plan.changes
            .retain(|c| !outside.iter().any(|p| p.id == c.id));
        plan.problems.extend(outside);
    }
    // Each fetch carries the plugin's declared limit to whoever runs it, and each run of a
    // program declared outside the system folders the file it is.
    for effect in plan.changes.iter_mut().flat_map(|c| c.effects.iter_mut()) {
        match effect {
            Effect::Fetch(f) => f.max_bytes = grant.fetch_limit(),
            Effect::Run(r) => r.declared_path = grant.program_path(&r.program),
            _ => {}
        }
    }
    Ok(plan)
}

#[derive(Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub missing: usize,
    pub extra: usize,
    pub differs: usize,
}

pub fn counts(plan: &Plan) -> Counts {
    let mut c = Counts::default();
    for change in &plan.changes {
        match change.kind {
            ChangeKind::Missing => c.missing += 1,
            ChangeKind::Extra => c.extra += 1,
            ChangeKind::Differs => c.differs += 1,
        }
    }
    c
}
