//! `bkt apply`: plan, decide per item from the side that moved, confirm, run in phase order,
//! record what now agrees, summarize.

use super::drift::{self, count};
pub use super::steps::{Step, execute};
use crate::app::{App, Format};
use crate::boot::Failure;
use crate::exec::{Executor, ScopeFilter, effect_scope, euid};
use crate::plan::{self, PluginPlan, describe_error, kind_name};
use crate::runtime::CallError;
use crate::runtime::bindings::{Change, Effect};
use crate::sync::{ApplyDecision, Drift, Records, Settled, apply_decision};
use anyhow::{Result, bail};
use serde_json::json;
use std::io::{IsTerminal, Write};

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

/// What apply will do with every drifting item.
struct Decided<'a> {
    run: Vec<Step<'a>>,
    /// Changes made on this machine: reverted only when the user agrees.
    ask: Vec<Step<'a>>,
    /// Left alone, with the reason.
    skipped: Vec<(Step<'a>, &'static str)>,
}

pub fn run(app: &App, args: &Args) -> Result<i32> {
    run_collect(app, args).map(|o| o.code)
}

/// What a run did, for the boot-time apply's record.
pub struct Outcome {
    pub code: i32,
    pub applied: usize,
    pub failures: Vec<Failure>,
}

/// Every plugin error and failed change of a run, with the plugin, item and effect.
fn failures_of(
    plans: &[PluginPlan],
    ran: &[Step],
    outcomes: &[Result<(), String>],
) -> Vec<Failure> {
    let mut out: Vec<Failure> = plans
        .iter()
        .filter_map(|p| match &p.result {
            Err(CallError::Unavailable(_)) | Ok(_) => None,
            Err(e) => Some(Failure {
                plugin: p.id().to_string(),
                item: String::new(),
                effect: String::new(),
                error: describe_error(&p.manifest_path(), e),
            }),
        })
        .collect();
    for p in plans {
        if let Ok(plan) = &p.result {
            out.extend(plan::errors(plan).map(|pr| Failure {
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
                error: e.clone(),
            });
        }
    }
    out
}

pub fn run_collect(app: &App, args: &Args) -> Result<Outcome> {
    let repo = app.repo()?;
    if !args.dry_run {
        repo.lock()?;
    }
    let plugins = app.select(&args.only)?;
    let plans = plan::collect(&app.rt, &repo, &plugins);
    let mut records = Records::load(&repo.path, &app.root, euid());
    let mut errors = report_problems(app, &plans);
    // A manifest that cannot be used is bad input (2), whatever else happened.
    let bad_input = plans
        .iter()
        .any(|p| matches!(p.result, Err(CallError::Invalid(_))));
    let code = |errors: usize| {
        if bad_input { 2 } else { i32::from(errors > 0) }
    };
    let mut decided = decide(&plans, &records, args, &app.root);
    if app.format == Format::Human {
        print_plan(app, &decided);
    }
    if (decided.run.is_empty() && decided.ask.is_empty()) || args.dry_run {
        if !args.dry_run {
            // Nothing to run, but what agrees is worth remembering.
            settle(&mut records, &plans, &[], &[]);
            records.save();
        }
        if app.format == Format::Json {
            print_json(&plans, &decided, None);
        }
        return Ok(Outcome {
            code: code(errors),
            applied: 0,
            failures: failures_of(&plans, &[], &[]),
        });
    }
    if !args.yes {
        if !decided.run.is_empty()
            && !confirm(&format!("Apply {}?", count(decided.run.len(), "change")))?
        {
            println!("Nothing was changed.");
            return Ok(Outcome {
                code: 1,
                applied: 0,
                failures: vec![],
            });
        }
        if !decided.ask.is_empty()
            && confirm(&format!(
                "Also revert {} made on this machine?",
                count(decided.ask.len(), "change")
            ))?
        {
            decided.run.append(&mut decided.ask);
        }
    }
    for step in decided.ask.drain(..) {
        decided.skipped.push((step, "changed on this machine"));
    }
    hold_back_shared(app, &mut decided);
    if decided.run.is_empty() {
        println!("Nothing was changed.");
        settle(&mut records, &plans, &[], &[]);
        records.save();
        return Ok(Outcome {
            code: code(errors),
            applied: 0,
            failures: failures_of(&plans, &[], &[]),
        });
    }
    let exec = Executor::new(app.elevator, &app.root);
    let outcomes = execute(app, &exec, &decided.run);
    settle(&mut records, &plans, &decided.run, &outcomes);
    records.save();
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    errors += failed;
    match app.format {
        Format::Json => print_json(&plans, &decided, Some(&outcomes)),
        Format::Human => {
            let done = decided.run.len() - failed;
            let summary = format!("Applied {done} of {}", count(decided.run.len(), "change"));
            if failed > 0 {
                println!(
                    "{}; {}",
                    summary,
                    app.style.red(&format!("{failed} failed"))
                );
            } else {
                println!("{}", app.style.green(&summary));
            }
            let kept = decided
                .skipped
                .iter()
                .filter(|(s, _)| s.drift == Some(Drift::MachineChanged))
                .count();
            if kept > 0 {
                println!(
                    "Left {} made on this machine as they are: `bkt capture` keeps them, `bkt apply --overwrite` reverts them.",
                    count(kept, "change")
                );
            }
            let reboot = decided
                .run
                .iter()
                .zip(&outcomes)
                .filter(|(s, o)| s.change.next_boot && o.is_ok())
                .count();
            if reboot > 0 {
                println!(
                    "{} set on this deployment take effect after a reboot.",
                    count(reboot, "change")
                );
            }
        }
    }
    Ok(Outcome {
        code: code(errors),
        applied: outcomes.iter().filter(|o| o.is_ok()).count(),
        failures: failures_of(&plans, &decided.run, &outcomes),
    })
}

/// Records, per plugin, what agrees after the run: the items that already did, and the
/// changes that ran successfully (at the manifest's value). The rest keep their old entry.
pub fn settle(
    records: &mut Records,
    plans: &[PluginPlan],
    ran: &[Step],
    outcomes: &[Result<(), String>],
) {
    for p in plans {
        let Ok(plan) = &p.result else { continue };
        if p.manifest.is_none() {
            continue;
        }
        let done = |c: &Change| {
            ran.iter()
                .zip(outcomes)
                .any(|(s, o)| o.is_ok() && s.plugin == p.id() && std::ptr::eq(s.change, c))
        };
        let mut settled = Settled {
            agreed: &plan.agreed,
            changed: vec![],
            unsettled: vec![],
        };
        for c in &plan.changes {
            if done(c) {
                settled.changed.push((c.scope, &c.id, c.wanted.as_deref()));
            } else {
                settled.unsettled.push((c.scope, &c.id));
            }
        }
        records.settle(p.id(), &settled);
    }
}

/// Plugin errors and per-entry problems; warnings (a tool or schema not here) are shown but
/// do not fail the run. Returns the number of errors.
fn report_problems(app: &App, plans: &[PluginPlan]) -> usize {
    let mut errors = 0;
    for p in plans {
        match &p.result {
            Err(CallError::Unavailable(m)) => {
                if app.format == Format::Human {
                    eprintln!("{}: skipped, {m}", p.id());
                }
            }
            Err(e) => {
                errors += 1;
                eprintln!(
                    "{} {}: {}",
                    app.style.red("error"),
                    p.id(),
                    describe_error(&p.manifest_path(), e)
                );
            }
            Ok(plan) => {
                for problem in &plan.problems {
                    let is_error = problem.severity == crate::runtime::bindings::Severity::Error;
                    errors += usize::from(is_error);
                    let label = if is_error {
                        app.style.red("error")
                    } else {
                        app.style.yellow("warning")
                    };
                    eprintln!("{label} {}: {}: {}", p.id(), problem.id, problem.message);
                }
            }
        }
    }
    errors
}

/// Why a change is left: it was made with `--local` and waits for `bkt local commit|clear`.
const LOCAL: &str = "a local change";

/// Why a change waits: it is part of the next image.
const NEXT_BOOT: &str = "takes effect when the next image boots";

fn decide<'a>(
    plans: &'a [PluginPlan],
    records: &Records,
    args: &Args,
    root: &std::path::Path,
) -> Decided<'a> {
    let mut d = Decided {
        run: vec![],
        ask: vec![],
        skipped: vec![],
    };
    for (p, drifts) in plans.iter().zip(drift::all(plans, records, root)) {
        for (change, drift) in drifts {
            let effects: Vec<&Effect> = change
                .effects
                .iter()
                .filter(|e| args.scope.allows(effect_scope(e)))
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
                    d.skipped.push((step, NEXT_BOOT));
                }
                continue;
            }
            if step.effects.is_empty() {
                continue;
            }
            match apply_decision(drift, change, args.prune, args.overwrite) {
                ApplyDecision::Run => d.run.push(step),
                ApplyDecision::Ask => d.ask.push(step),
                ApplyDecision::Skip if drift == Drift::Conflict => {
                    d.skipped.push((step, "changed on both sides"))
                }
                ApplyDecision::Skip if drift == Drift::Local => d.skipped.push((step, LOCAL)),
                ApplyDecision::Skip => d.skipped.push((step, "only on this machine")),
            }
        }
    }
    d
}

/// Several changes may share one effect (a key written once with the whole new list). When
/// one of them is left alone, running the shared effect would change it anyway: the others
/// wait with it, and the user is told why.
fn hold_back_shared(app: &App, d: &mut Decided) {
    let left: Vec<String> = d
        .skipped
        .iter()
        .flat_map(|(s, _)| s.effects.iter().map(|e| super::steps::effect_key(e)))
        .collect();
    if left.is_empty() {
        return;
    }
    let (held, run): (Vec<Step>, Vec<Step>) = d.run.drain(..).partition(|s| {
        s.effects
            .iter()
            .any(|e| left.contains(&super::steps::effect_key(e)))
    });
    d.run = run;
    for step in held {
        if app.format == Format::Human {
            println!(
                "{}",
                app.style.yellow(&format!(
                    "  {} {}: not applied, it shares a write with a change left alone (apply them together, e.g. with --overwrite)",
                    step.plugin, step.change.id
                ))
            );
        }
        d.skipped.push((step, SHARED));
    }
}

/// Why a change waits: it shares an effect with a change left alone.
const SHARED: &str = "shares a write with a change left alone";

fn print_plan(app: &App, d: &Decided) {
    if d.run.is_empty() && d.ask.is_empty() && d.skipped.is_empty() {
        println!("Nothing to apply: the machine matches the manifests.");
        return;
    }
    let line = |step: &Step| {
        let side = step
            .drift
            .map(|d| format!(" ({})", d.label()))
            .unwrap_or_default();
        println!(
            "  {:<11} {:<8} {}{}",
            step.plugin,
            kind_name(step.change.kind),
            step.change.summary,
            app.style.dim(&side)
        );
    };
    if !d.run.is_empty() {
        println!(
            "{}",
            app.style
                .bold(&format!("Plan: {}", count(d.run.len(), "change")))
        );
        for step in &d.run {
            line(step);
            for effect in &step.effects {
                println!(
                    "  {:<20} {}",
                    "",
                    app.style.dim(&Executor::describe(effect))
                );
            }
        }
    }
    if !d.ask.is_empty() {
        println!(
            "{}",
            app.style.yellow(&format!(
                "Changed on this machine since the last sync ({}); apply reverts them only if you agree, or with --overwrite:",
                count(d.ask.len(), "item")
            ))
        );
        d.ask.iter().for_each(line);
    }
    let conflicts: Vec<&Step> = d
        .skipped
        .iter()
        .filter(|(s, _)| s.drift == Some(Drift::Conflict))
        .map(|(s, _)| s)
        .collect();
    if !conflicts.is_empty() {
        println!(
            "{}",
            app.style.red(&format!(
                "Changed on both sides ({}); left alone until you pick a side (bkt apply --overwrite: the manifest's, bkt capture --overwrite: this machine's):",
                count(conflicts.len(), "item")
            ))
        );
        for step in conflicts {
            line(step);
            println!(
                "  {:<20} {}",
                "",
                app.style.dim(&format!(
                    "manifest: {}  machine: {}",
                    step.change.wanted.as_deref().unwrap_or("(none)"),
                    step.change.live.as_deref().unwrap_or("(none)")
                ))
            );
        }
    }
    let waiting = d
        .skipped
        .iter()
        .filter(|(_, why)| *why == NEXT_BOOT)
        .count();
    if waiting > 0 {
        println!(
            "{}",
            app.style.dim(&format!(
                "{} {} when the next image boots (`bkt apply --now` also sets them on this deployment; they still need a reboot)",
                count(waiting, "change"),
                drift::takes_effect(waiting)
            ))
        );
    }
    let local = d.skipped.iter().filter(|(_, why)| *why == LOCAL).count();
    if local > 0 {
        println!(
            "{}",
            app.style.dim(&format!(
                "{} made with --local left as they are (`bkt local commit` proposes them, `bkt local clear` forgets them)",
                count(local, "change")
            ))
        );
    }
    let extras = d
        .skipped
        .iter()
        .filter(|(s, why)| {
            s.drift != Some(Drift::Conflict) && ![NEXT_BOOT, LOCAL, SHARED].contains(why)
        })
        .count();
    if extras > 0 {
        println!(
            "{}",
            app.style.dim(&format!(
                "{} only on this machine left alone (`bkt capture` tracks them, --prune removes them)",
                count(extras, "item")
            ))
        );
    }
}

fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("not asking on a non-terminal: pass --yes to apply, or --dry-run to only look");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_json(plans: &[PluginPlan], d: &Decided, outcomes: Option<&[Result<(), String>]>) {
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
                    v["error"] = json!(e);
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
            v["reason"] = json!(why);
            v
        })
        .collect();
    skipped.extend(d.ask.iter().map(|s| {
        let mut v = step_json(s);
        v["reason"] = json!("changed on this machine");
        v
    }));
    let mut errors: Vec<_> = Vec::new();
    for p in plans {
        match &p.result {
            Err(e) => errors
                .push(json!({"plugin": p.id(), "error": describe_error(&p.manifest_path(), e)})),
            Ok(plan) => errors.extend(plan.problems.iter().map(|pr| {
                json!({"plugin": p.id(), "id": pr.id, "error": pr.message,
                       "severity": super::status::severity_name(pr.severity)})
            })),
        }
    }
    let report = json!({
        "format_version": super::FORMAT_VERSION,
        "steps": steps,
        "skipped": skipped,
        "errors": errors,
        "applied": outcomes.is_some(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}
