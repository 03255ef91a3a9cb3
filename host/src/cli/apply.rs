//! `bkt apply`: plan, confirm, run in phase order, summarize.

use crate::app::{App, Format};
use crate::exec::{Executor, ScopeFilter, effect_scope};
use crate::plan::{self, PluginPlan, describe_error, kind_name};
use crate::runtime::CallError;
use crate::runtime::bindings::{Change, ChangeKind, Effect, Run};
use anyhow::{Result, bail};
use serde_json::json;
use std::io::{IsTerminal, Write};

pub struct Args {
    pub dry_run: bool,
    pub yes: bool,
    pub prune: bool,
    pub only: Vec<String>,
    pub scope: ScopeFilter,
}

/// One change to make, with the effects that pass the scope filter.
pub struct Step<'a> {
    pub plugin: &'a str,
    pub change: &'a Change,
    pub effects: Vec<&'a Effect>,
}

pub fn run(app: &App, args: &Args) -> Result<i32> {
    let repo = app.repo()?;
    let plugins = app.select(&args.only)?;
    let plans = plan::collect(&app.rt, &repo, &plugins);
    let mut errors = report_errors(app, &plans);
    let steps = steps(&plans, args.prune, args.scope);
    if app.format == Format::Human {
        print_plan(app, &steps);
    }
    if steps.is_empty() || args.dry_run {
        if app.format == Format::Json {
            print_json(&plans, &steps, None);
        }
        return Ok(if errors > 0 { 1 } else { 0 });
    }
    if !args.yes && !confirm(steps.len())? {
        println!("Nothing was changed.");
        return Ok(1);
    }
    let exec = Executor::new(app.elevator, &app.root);
    let outcomes = execute(app, &exec, &steps);
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    errors += failed;
    match app.format {
        Format::Json => print_json(&plans, &steps, Some(&outcomes)),
        Format::Human => {
            let done = steps.len() - failed;
            let summary = format!("Applied {done} of {} changes", steps.len());
            if failed > 0 {
                println!(
                    "{}; {}",
                    summary,
                    app.style.red(&format!("{failed} failed"))
                );
            } else {
                println!("{}", app.style.green(&summary));
            }
        }
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

/// Plugin errors and per-entry problems; unavailable tools are only noted.
fn report_errors(app: &App, plans: &[PluginPlan]) -> usize {
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
                    errors += 1;
                    eprintln!(
                        "{} {}: {}: {}",
                        app.style.red("error"),
                        p.id(),
                        problem.id,
                        problem.message
                    );
                }
            }
        }
    }
    errors
}

pub fn steps<'a>(plans: &'a [PluginPlan], prune: bool, scope: ScopeFilter) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    for p in plans {
        let Ok(plan) = &p.result else { continue };
        for change in &plan.changes {
            if change.kind == ChangeKind::Extra && !prune {
                continue;
            }
            let effects: Vec<&Effect> = change
                .effects
                .iter()
                .filter(|e| scope.allows(effect_scope(e)))
                .collect();
            if effects.is_empty() {
                continue;
            }
            steps.push(Step {
                plugin: p.id(),
                change,
                effects,
            });
        }
    }
    steps
}

fn print_plan(app: &App, steps: &[Step]) {
    if steps.is_empty() {
        println!("Nothing to apply: the machine matches the manifests.");
        return;
    }
    println!(
        "{}",
        app.style.bold(&format!("Plan: {} changes", steps.len()))
    );
    for step in steps {
        println!(
            "  {:<11} {:<8} {}",
            step.plugin,
            kind_name(step.change.kind),
            step.change.summary
        );
        for effect in &step.effects {
            println!(
                "  {:<20} {}",
                "",
                app.style.dim(&Executor::describe(effect))
            );
        }
    }
}

fn confirm(count: usize) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("not asking on a non-terminal: pass --yes to apply, or --dry-run to only look");
    }
    print!("Apply {count} changes? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Runs each step's effects in order; a failed effect ends its step, not the run.
/// Consecutive steps whose single effect is a batchable run with the same command merge into
/// one process (`dnf install -y a b c`), and share its outcome.
pub fn execute(app: &App, exec: &Executor, steps: &[Step]) -> Vec<Result<(), String>> {
    let total = steps.len();
    let mut outcomes: Vec<Result<(), String>> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let end = batch_end(steps, i);
        let group = &steps[i..end];
        if app.format == Format::Human {
            // Say what is running before it runs: an install can take a while.
            let place = if end > i + 1 {
                format!("{}-{end}", i + 1)
            } else {
                (i + 1).to_string()
            };
            let ids: Vec<&str> = group.iter().map(|s| s.change.id.as_str()).collect();
            print!(
                "[{place}/{total}] {} {} … ",
                group[0].plugin,
                ids.join(", ")
            );
            let _ = std::io::stdout().flush();
        }
        let outcome = if end > i + 1 {
            exec.run(&merge(group)).map_err(|e| format!("{e:#}"))
        } else {
            group[0]
                .effects
                .iter()
                .try_for_each(|effect| exec.run(effect))
                .map_err(|e| format!("{e:#}"))
        };
        if app.format == Format::Human {
            match &outcome {
                Ok(()) => println!("{}", app.style.green("ok")),
                Err(e) => println!("{}", app.style.red(&format!("failed: {e}"))),
            }
        }
        outcomes.extend(group.iter().map(|_| outcome.clone()));
        i = end;
    }
    outcomes
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

fn print_json(plans: &[PluginPlan], steps: &[Step], outcomes: Option<&[Result<(), String>]>) {
    let steps_json: Vec<_> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({
                "plugin": s.plugin,
                "id": s.change.id,
                "kind": kind_name(s.change.kind),
                "summary": s.change.summary,
                "effects": s.effects.iter().map(|e| Executor::describe(e)).collect::<Vec<_>>(),
            });
            if let Some(o) = outcomes.and_then(|o| o.get(i)) {
                v["ok"] = json!(o.is_ok());
                if let Err(e) = o {
                    v["error"] = json!(e);
                }
            }
            v
        })
        .collect();
    let errors: Vec<_> = plans
        .iter()
        .filter_map(|p| {
            p.result
                .as_ref()
                .err()
                .map(|e| json!({"plugin": p.id(), "error": describe_error(&p.manifest_path(), e)}))
        })
        .collect();
    let report = json!({ "steps": steps_json, "errors": errors, "applied": outcomes.is_some() });
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
            kind: ChangeKind::Missing,
            summary: id.into(),
            effects: vec![Effect::Run(Run {
                program: argv[0].into(),
                args: argv[1..].iter().map(|s| s.to_string()).collect(),
                scope: Scope::System,
                batch,
            })],
        }
    }

    fn steps<'a>(changes: &'a [Change], plugin: &'a str) -> Vec<Step<'a>> {
        changes
            .iter()
            .map(|c| Step {
                plugin,
                change: c,
                effects: c.effects.iter().collect(),
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
