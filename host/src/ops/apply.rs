//! `bkt apply`: plan, decide per item from the side that moved, confirm, run in phase order,
//! record what now agrees, summarize.

use super::drift;
use super::report::{Exit, Report};
use super::settle::{Side, settle};
use super::steps::{Step, effect_key, execute};
use super::ui::Outcome;
use super::ui::{Tone, Ui};
use super::verify::verify;
use crate::app::App;
use crate::boot::Failure;
use crate::exec::Executor;
use crate::model::{CallError, Effect, ScopeFilter};
use crate::os::text::count;
use crate::plan::{self, PluginPlan};
use crate::sync::{ApplyDecision, Drift, Records, apply_decision};
use anyhow::Result;
use serde_json::json;

pub struct Args {
    pub dry_run: bool,
    pub yes: bool,
    pub prune: bool,
    pub overwrite: bool,
    /// Also apply changes that otherwise wait for the next image (kernel arguments).
    pub now: bool,
    pub only: Vec<String>,
    pub scope: ScopeFilter,
}

/// Why apply leaves a change as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Changed on this machine since the last sync, and not to be reverted.
    MachineChanged,
    /// Changed on both sides: a conflict.
    Conflict,
    /// Made with `--local`: waits for `bkt local commit|clear`.
    Local,
    /// Part of the next image.
    NextBoot,
    /// Shares an effect with a change left alone.
    Shared,
    /// Only on this machine (extra), without `--prune`.
    OnlyHere,
    /// A user's setting, and bkt runs as root: left to the user's own session.
    UserAsRoot,
}

impl SkipReason {
    pub fn text(self) -> &'static str {
        match self {
            SkipReason::MachineChanged => "changed on this machine",
            SkipReason::Conflict => "changed on both sides",
            SkipReason::Local => "a local change",
            SkipReason::NextBoot => "takes effect when the next image boots",
            SkipReason::Shared => "shares a write with a change left alone",
            SkipReason::OnlyHere => "only on this machine",
            SkipReason::UserAsRoot => {
                "a user setting: left to the user's own session, not changed as root"
            }
        }
    }
}

/// What apply will do with every drifting item.
pub struct Decided<'a> {
    pub run: Vec<Step<'a>>,
    /// Changes made on this machine: reverted only when the user agrees.
    pub ask: Vec<Step<'a>>,
    /// Left alone, with the reason.
    pub skipped: Vec<(Step<'a>, SkipReason)>,
}

/// What apply shows while it runs, besides progress: the command line renders these.
pub trait Observer: Ui {
    /// Plugin errors and per-entry problems, before the plan.
    fn problems(&self, plans: &[PluginPlan]);
    /// The plan: what runs, what is asked about, what is left and why.
    /// `stopped`: how many subsystems could not be planned (their errors were shown).
    fn plan(&self, decided: &Decided, stopped: usize);
    /// A change held back because it shares a write with one left alone.
    fn held_back(&self, step: &Step);
}

/// What a run did.
pub struct Applied {
    pub exit: Exit,
    /// Whether anything ran (the plan was not only shown).
    pub ran: bool,
    /// Changes that ran, and how many of them failed.
    pub total: usize,
    pub failed: usize,
    /// Changes made on this machine left as they are.
    pub kept: usize,
    /// Changes set on this deployment that take effect after a reboot.
    pub reboot: usize,
    /// Every failure, for the boot-time apply's record.
    pub failures: Vec<Failure>,
    json: serde_json::Value,
}

impl Applied {
    pub fn applied(&self) -> usize {
        self.total - self.failed
    }
}

impl Report for Applied {
    fn json(&self) -> serde_json::Value {
        self.json.clone()
    }
    fn exit(&self) -> Exit {
        self.exit
    }
}

/// Runs apply. `Ok(None)`: the user declined, and nothing was changed.
pub fn run(app: &App, args: &Args, ui: &dyn Observer) -> Result<Option<Applied>> {
    let repo = app.repo()?;
    if !args.dry_run {
        repo.lock()?;
    }
    let plugins = app.select(&args.only)?;
    let plans = plan::collect(&app.rt, &repo, &plugins);
    let mut records = Records::load(&repo.path, &app.root, &app.dirs);
    ui.problems(&plans);
    let mut decided = decide(app, &plans, &records, args);
    ui.plan(&decided, stopped(&plans));
    if (decided.run.is_empty() && decided.ask.is_empty()) || args.dry_run {
        if !args.dry_run {
            // Nothing to run, but what agrees is worth remembering.
            settle_all(&mut records, &plans, &[], &[]);
            records.save();
        }
        return Ok(Some(summarize(&plans, &decided, None)));
    }
    if !args.yes {
        if !decided.run.is_empty()
            && !ui.confirm(&format!("Apply {}?", count(decided.run.len(), "change")))?
        {
            ui.say(Tone::Plain, "Nothing was changed.");
            return Ok(None);
        }
        if !decided.ask.is_empty()
            && ui.confirm(&format!(
                "Also revert {} made on this machine?",
                count(decided.ask.len(), "change")
            ))?
        {
            decided.run.append(&mut decided.ask);
        }
    }
    for step in decided.ask.drain(..) {
        decided.skipped.push((step, SkipReason::MachineChanged));
    }
    hold_back_shared(ui, &mut decided);
    if decided.run.is_empty() {
        ui.say(Tone::Plain, "Nothing was changed.");
        settle_all(&mut records, &plans, &[], &[]);
        records.save();
        return Ok(Some(summarize(&plans, &decided, None)));
    }
    let exec = Executor::new(app.elevator, &app.root);
    let mut outcomes = execute(ui, &exec, &decided.run);
    let manifest_of = |id: &str| {
        plans
            .iter()
            .find(|p| p.id() == id)
            .and_then(|p| p.manifest.clone())
    };
    verify(app, ui, &decided.run, &mut outcomes, &manifest_of);
    settle_all(&mut records, &plans, &decided.run, &outcomes);
    records.save();
    Ok(Some(summarize(&plans, &decided, Some(&outcomes))))
}

/// The report of a run: counts, failures and the JSON document.
fn summarize(plans: &[PluginPlan], d: &Decided, outcomes: Option<&[Outcome]>) -> Applied {
    let ran: &[Step] = if outcomes.is_some() { &d.run } else { &[] };
    let outcomes = outcomes.unwrap_or_default();
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    // A manifest that cannot be used is bad input (2), whatever else happened.
    let bad_input = plans
        .iter()
        .any(|p| matches!(p.result, Err(CallError::Invalid(_))));
    let errors = failed + plan_errors(plans);
    Applied {
        exit: if bad_input {
            Exit::BadInput
        } else {
            Exit::failed_if(errors > 0)
        },
        ran: !ran.is_empty(),
        total: ran.len(),
        failed,
        kept: d
            .skipped
            .iter()
            .filter(|(s, _)| s.drift == Some(Drift::MachineChanged))
            .count(),
        reboot: ran
            .iter()
            .zip(outcomes)
            .filter(|(s, o)| s.change.next_boot && o.is_ok())
            .count(),
        failures: failures_of(plans, ran, outcomes),
        json: to_json(plans, d, (!ran.is_empty()).then_some(outcomes)),
    }
}

/// How many subsystems could not be planned at all (a tool missing here is not counted).
fn stopped(plans: &[PluginPlan]) -> usize {
    plans
        .iter()
        .filter(|p| matches!(&p.result, Err(e) if !matches!(e, CallError::Unavailable(_))))
        .count()
}

/// Plugin errors and per-entry problems that fail the run; warnings (a tool or schema not
/// here) do not.
fn plan_errors(plans: &[PluginPlan]) -> usize {
    plans
        .iter()
        .map(|p| match &p.result {
            Err(CallError::Unavailable(_)) => 0,
            Err(_) => 1,
            Ok(plan) => plan.errors().count(),
        })
        .sum()
}

/// Every plugin error and failed change of a run, with the plugin, item and effect.
fn failures_of(plans: &[PluginPlan], ran: &[Step], outcomes: &[Outcome]) -> Vec<Failure> {
    let mut out: Vec<Failure> = plans
        .iter()
        .filter_map(|p| match &p.result {
            Err(CallError::Unavailable(_)) | Ok(_) => None,
            Err(e) => Some(Failure {
                plugin: p.id().to_string(),
                item: String::new(),
                effect: String::new(),
                error: e.describe(&p.manifest_path()),
            }),
        })
        .collect();
    for p in plans {
        if let Ok(plan) = &p.result {
            out.extend(plan.errors().map(|pr| Failure {
                plugin: p.id().to_string(),
                item: pr.id.clone(),
                effect: String::new(),
                error: pr.message.clone(),
            }));
        }
    }
    for (step, outcome) in ran.iter().zip(outcomes) {
        if let Err(e) = outcome {
            out.push(Failure {
                plugin: step.plugin.to_string(),
                item: step.change.id.clone(),
                effect: step
                    .effects
                    .iter()
                    .map(|e| Executor::describe(e))
                    .collect::<Vec<_>>()
                    .join("; "),
                error: e.0.clone(),
            });
        }
    }
    out
}

/// Records, per plugin, what agrees after the run: the items that already did, and the
/// changes that ran successfully (at the manifest's value). The rest keep their old entry.
fn settle_all(records: &mut Records, plans: &[PluginPlan], ran: &[Step], outcomes: &[Outcome]) {
    for p in plans {
        let Ok(plan) = &p.result else { continue };
        if p.manifest.is_none() {
            continue;
        }
        let done = |c: &crate::model::Change| {
            ran.iter()
                .zip(outcomes)
                .any(|(s, o)| o.is_ok() && s.plugin == p.id() && std::ptr::eq(s.change, c))
        };
        settle(records, p.id(), &plan.agreed, &plan.changes, |c| {
            done(c).then_some(Side::Manifest)
        });
    }
}

fn decide<'a>(app: &App, plans: &'a [PluginPlan], records: &Records, args: &Args) -> Decided<'a> {
    let mut d = Decided {
        run: vec![],
        ask: vec![],
        skipped: vec![],
    };
    let as_root = crate::os::identity::euid() == 0;
    for (p, drifts) in plans
        .iter()
        .zip(drift::all(plans, records, &app.root, &app.dirs))
    {
        for (change, drift) in drifts {
            let effects: Vec<&Effect> = change
                .effects
                .iter()
                .filter(|e| args.scope.allows(e.scope()))
                .collect();
            let step = Step {
                plugin: p.id(),
                change,
                effects,
                drift: Some(drift),
            };
            // Named even where nothing can set it now (not an ostree system): it still waits.
            if change.next_boot && !args.now {
                if args.scope.allows(change.scope) {
                    d.skipped.push((step, SkipReason::NextBoot));
                }
                continue;
            }
            if step.effects.is_empty() {
                continue;
            }
            // Never planned as if it would run: as root, user settings land in root's home
            // (or make root-owned files in a user's), so they are skipped, not failed.
            if as_root && drift::for_the_user(step.effects.iter().copied(), change.scope) {
                d.skipped.push((step, SkipReason::UserAsRoot));
                continue;
            }
            match apply_decision(drift, change, args.prune, args.overwrite) {
                ApplyDecision::Run => d.run.push(step),
                ApplyDecision::Ask => d.ask.push(step),
                ApplyDecision::Skip if drift == Drift::Conflict => {
                    d.skipped.push((step, SkipReason::Conflict))
                }
                ApplyDecision::Skip if drift == Drift::Local => {
                    d.skipped.push((step, SkipReason::Local))
                }
                ApplyDecision::Skip => d.skipped.push((step, SkipReason::OnlyHere)),
            }
        }
    }
    d
}

/// Several changes may share one effect (a key written once with the whole new list). When
/// one of them is left alone, running the shared effect would change it anyway: the others
/// wait with it, and the user is told why.
fn hold_back_shared(ui: &dyn Observer, d: &mut Decided) {
    let left: Vec<String> = d
        .skipped
        .iter()
        .flat_map(|(s, _)| s.effects.iter().map(|e| effect_key(e)))
        .collect();
    if left.is_empty() {
        return;
    }
    let (held, run): (Vec<Step>, Vec<Step>) = d
        .run
        .drain(..)
        .partition(|s| s.effects.iter().any(|e| left.contains(&effect_key(e))));
    d.run = run;
    for step in held {
        ui.held_back(&step);
        d.skipped.push((step, SkipReason::Shared));
    }
}

fn to_json(plans: &[PluginPlan], d: &Decided, outcomes: Option<&[Outcome]>) -> serde_json::Value {
    let step_json = |s: &Step| {
        let mut v = drift::change_json(s.change, s.drift.unwrap_or(Drift::FirstContact));
        v["plugin"] = json!(s.plugin);
        v["effects"] = json!(
            s.effects
                .iter()
                .map(|e| Executor::describe(e))
                .collect::<Vec<_>>()
        );
        v
    };
    let steps: Vec<_> = d
        .run
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = step_json(s);
            if let Some(o) = outcomes.and_then(|o| o.get(i)) {
                v["ok"] = json!(o.is_ok());
                if let Err(e) = o {
                    v["error"] = json!(e.0);
                }
            }
            v
        })
        .collect();
    let mut skipped: Vec<_> = d
        .skipped
        .iter()
        .map(|(s, why)| {
            let mut v = step_json(s);
            v["reason"] = json!(why.text());
            v
        })
        .collect();
    skipped.extend(d.ask.iter().map(|s| {
        let mut v = step_json(s);
        v["reason"] = json!(SkipReason::MachineChanged.text());
        v
    }));
    let mut errors: Vec<_> = Vec::new();
    for p in plans {
        match &p.result {
            Err(e) => {
                errors.push(json!({"plugin": p.id(), "error": e.describe(&p.manifest_path())}))
            }
            Ok(plan) => errors.extend(plan.problems.iter().map(|pr| {
                json!({"plugin": p.id(), "id": pr.id, "error": pr.message,
                       "severity": pr.severity.name()})
            })),
        }
    }
    json!({
        "steps": steps,
        "skipped": skipped,
        "errors": errors,
        "applied": outcomes.is_some(),
    })
}
