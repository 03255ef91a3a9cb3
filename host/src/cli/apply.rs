//! `bkt apply`: plan, decide per item from the side that moved, confirm, run in phase order,
//! record what now agrees, summarize.

use super::drift::{self, count};
use crate::app::{App, Format};
use crate::exec::{Executor, ScopeFilter, effect_scope, euid};
use crate::plan::{self, PluginPlan, describe_error, kind_name};
use crate::runtime::CallError;
use crate::runtime::bindings::{Change, Effect, Run};
use crate::sync::{ApplyDecision, Drift, Records, Settled, apply_decision};
use anyhow::{Result, bail};
use serde_json::json;
use std::io::{IsTerminal, Write};

pub struct Args {
    pub dry_run: bool,
    pub yes: bool,
    pub prune: bool,
    pub overwrite: bool,
    pub only: Vec<String>,
    pub scope: ScopeFilter,
}

/// One change to make, with the effects that pass the scope filter.
pub struct Step<'a> {
    pub plugin: &'a str,
    pub change: &'a Change,
    pub effects: Vec<&'a Effect>,
    pub drift: Option<Drift>,
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
    let mut decided = decide(&plans, &records, args);
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
        return Ok(code(errors));
    }
    if !args.yes {
        if !decided.run.is_empty()
            && !confirm(&format!("Apply {}?", count(decided.run.len(), "change")))?
        {
            println!("Nothing was changed.");
            return Ok(1);
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
    if decided.run.is_empty() {
        println!("Nothing was changed.");
        settle(&mut records, &plans, &[], &[]);
        records.save();
        return Ok(code(errors));
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
        }
    }
    Ok(code(errors))
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

fn decide<'a>(plans: &'a [PluginPlan], records: &Records, args: &Args) -> Decided<'a> {
    let mut d = Decided {
        run: vec![],
        ask: vec![],
        skipped: vec![],
    };
    for p in plans {
        for (change, drift) in drift::of(p, records) {
            let effects: Vec<&Effect> = change
                .effects
                .iter()
                .filter(|e| args.scope.allows(effect_scope(e)))
                .collect();
            if effects.is_empty() {
                continue;
            }
            let step = Step {
                plugin: p.id(),
                change,
                effects,
                drift: Some(drift),
            };
            match apply_decision(drift, change, args.prune, args.overwrite) {
                ApplyDecision::Run => d.run.push(step),
                ApplyDecision::Ask => d.ask.push(step),
                ApplyDecision::Skip if drift == Drift::Conflict => {
                    d.skipped.push((step, "changed on both sides"))
                }
                ApplyDecision::Skip => d.skipped.push((step, "only on this machine")),
            }
        }
    }
    d
}

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
    let extras = d
        .skipped
        .iter()
        .filter(|(s, _)| s.drift != Some(Drift::Conflict))
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

/// Runs each step's effects in order; a failed effect ends its step, not the run.
/// Consecutive steps whose single effect is a batchable run with the same command merge into
/// one process (`dnf install -y a b c`); when that process fails, each step is retried alone,
/// so one bad package does not keep the others off the machine.
pub fn execute(app: &App, exec: &Executor, steps: &[Step]) -> Vec<Result<(), String>> {
    let total = steps.len();
    let human = app.format == Format::Human;
    let mut outcomes: Vec<Result<(), String>> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let end = batch_end(steps, i);
        let group = &steps[i..end];
        if end > i + 1 {
            announce(human, &format!("{}-{end}", i + 1), total, group);
            match exec.run(&merge(group)) {
                Ok(()) => {
                    report(app, &Ok(()));
                    outcomes.extend(group.iter().map(|_| Ok(())));
                }
                Err(e) => {
                    if human {
                        println!(
                            "{}",
                            app.style.yellow(&format!("failed ({e:#}); one at a time:"))
                        );
                    }
                    for (k, step) in group.iter().enumerate() {
                        announce(
                            human,
                            &(i + k + 1).to_string(),
                            total,
                            std::slice::from_ref(step),
                        );
                        let outcome = run_step(exec, step);
                        report(app, &outcome);
                        outcomes.push(outcome);
                    }
                }
            }
        } else {
            announce(human, &(i + 1).to_string(), total, group);
            let outcome = run_step(exec, &group[0]);
            report(app, &outcome);
            outcomes.push(outcome);
        }
        i = end;
    }
    outcomes
}

fn run_step(exec: &Executor, step: &Step) -> Result<(), String> {
    step.effects
        .iter()
        .try_for_each(|effect| exec.run(effect))
        .map_err(|e| format!("{e:#}"))
}

/// Says what is running before it runs: an install can take a while.
fn announce(human: bool, place: &str, total: usize, group: &[Step]) {
    if !human {
        return;
    }
    let ids: Vec<&str> = group.iter().map(|s| s.change.id.as_str()).collect();
    print!(
        "[{place}/{total}] {} {} … ",
        group[0].plugin,
        ids.join(", ")
    );
    let _ = std::io::stdout().flush();
}

fn report(app: &App, outcome: &Result<(), String>) {
    if app.format != Format::Human {
        return;
    }
    match outcome {
        Ok(()) => println!("{}", app.style.green("ok")),
        Err(e) => println!("{}", app.style.red(&format!("failed: {e}"))),
    }
}

/// What makes two steps mergeable: same plugin, same program, scope and leading arguments.
fn batch_key<'a>(step: &'a Step) -> Option<(&'a str, &'a Run)> {
    match step.effects.as_slice() {
        [Effect::Run(run)] if run.batch && !run.args.is_empty() => Some((step.plugin, run)),
        _ => None,
    }
}

fn batch_end(steps: &[Step], start: usize) -> usize {
    let Some((plugin, first)) = batch_key(&steps[start]) else {
        return start + 1;
    };
    let prefix = &first.args[..first.args.len() - 1];
    let mut end = start + 1;
    while let Some((p, run)) = steps.get(end).and_then(batch_key) {
        if p != plugin
            || run.program != first.program
            || run.scope != first.scope
            || run.args[..run.args.len() - 1] != *prefix
        {
            break;
        }
        end += 1;
    }
    end
}

fn merge(steps: &[Step]) -> Effect {
    let runs: Vec<&Run> = steps
        .iter()
        .filter_map(|s| batch_key(s).map(|(_, r)| r))
        .collect();
    let first = runs[0];
    let mut args = first.args[..first.args.len() - 1].to_vec();
    args.extend(runs.iter().filter_map(|r| r.args.last().cloned()));
    Effect::Run(Run {
        program: first.program.clone(),
        args,
        scope: first.scope,
        batch: true,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::Scope;

    fn change(id: &str, argv: &[&str], batch: bool) -> Change {
        Change {
            id: id.into(),
            kind: crate::runtime::bindings::ChangeKind::Missing,
            summary: id.into(),
            effects: vec![Effect::Run(Run {
                program: argv[0].into(),
                args: argv[1..].iter().map(|s| s.to_string()).collect(),
                scope: Scope::System,
                batch,
            })],
            wanted: Some("installed".into()),
            live: None,
            live_is_default: false,
            scope: Scope::System,
        }
    }

    fn steps<'a>(changes: &'a [Change], plugin: &'a str) -> Vec<Step<'a>> {
        changes
            .iter()
            .map(|c| Step {
                plugin,
                change: c,
                effects: c.effects.iter().collect(),
                drift: None,
            })
            .collect()
    }

    #[test]
    fn batches_only_runs_that_differ_in_their_last_argument() {
        let changes = [
            change("a", &["dnf", "install", "-y", "a"], true),
            change("b", &["dnf", "install", "-y", "b"], true),
            change("c", &["dnf", "remove", "-y", "c"], true),
            change("d", &["gsettings", "set", "s", "k", "1"], false),
            change("e", &["gsettings", "set", "s", "k", "2"], false),
        ];
        let steps = steps(&changes, "dnf");
        assert_eq!(batch_end(&steps, 0), 2);
        assert_eq!(batch_end(&steps, 2), 3);
        assert_eq!(batch_end(&steps, 3), 4, "unbatchable runs stay alone");
        match merge(&steps[0..2]) {
            Effect::Run(r) => assert_eq!(r.args, ["install", "-y", "a", "b"]),
            other => panic!("{other:?}"),
        }
    }
}
