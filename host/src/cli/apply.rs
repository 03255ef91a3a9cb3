//! `bkt apply` for people: the problems, the plan, the questions, progress and a summary.

use super::printer::Printer;
use crate::app::App;
use crate::exec::Executor;
use crate::model::{CallError, Severity};
use crate::ops::apply::{Applied, Args, Decided, Observer, SkipReason};
use crate::ops::steps::Step;
use crate::ops::{Exit, Report};
use crate::os::text::{count, takes_effect};
use crate::plan::PluginPlan;
use crate::sync::Drift;
use anyhow::Result;

pub fn run(app: &App, out: &Printer, args: &Args) -> Result<Exit> {
    let Some(applied) = crate::ops::apply::run(app, args, out)? else {
        return Ok(Exit::Failed);
    };
    finish(out, &applied);
    Ok(applied.exit())
}

/// The summary for people, the document for scripts.
pub fn finish(out: &Printer, applied: &Applied) {
    if !out.human() {
        out.emit(applied);
        return;
    }
    if !applied.ran {
        return;
    }
    let summary = format!(
        "Applied {} of {}",
        applied.applied(),
        count(applied.total, "change")
    );
    if applied.failed > 0 {
        println!(
            "{}; {}",
            summary,
            out.style.red(&format!("{} failed", applied.failed))
        );
        print_failures(out, applied);
    } else {
        println!("{}", out.style.green(&summary));
    }
    if applied.kept > 0 {
        println!(
            "Left {} made on this machine as they are: `bkt capture` keeps them, `bkt apply --overwrite` reverts them.",
            count(applied.kept, "change")
        );
    }
    if applied.reboot > 0 {
        println!(
            "{} set on this deployment take effect after a reboot.",
            count(applied.reboot, "change")
        );
    }
}

/// Several failures, each distinct one once with how many changes it stopped: a systemic
/// failure (no elevator, no repository) reads as one line, not one per change.
fn print_failures(out: &Printer, applied: &Applied) {
    if applied.failures.len() < 2 {
        return;
    }
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for f in &applied.failures {
        match seen.iter_mut().find(|(e, _)| *e == f.error) {
            Some((_, n)) => *n += 1,
            None => seen.push((&f.error, 1)),
        }
    }
    for (error, n) in seen {
        println!("  {} {}", out.style.red(&format!("{n} ×")), error);
    }
}

impl Observer for Printer {
    /// Plugin errors and per-entry problems; warnings (a tool or schema not here) are shown
    /// but do not fail the run.
    fn problems(&self, plans: &[PluginPlan]) {
        for p in plans {
            match &p.result {
                Err(CallError::Unavailable(m)) => {
                    if self.human() {
                        eprintln!("{}: skipped, {m}", p.id());
                    }
                }
                Err(e) => eprintln!(
                    "{} {}: {}",
                    self.style.red("error"),
                    p.id(),
                    e.describe(&p.manifest_path())
                ),
                Ok(plan) => {
                    for problem in &plan.problems {
                        let label = if problem.severity == Severity::Error {
                            self.style.red("error")
                        } else {
                            self.style.yellow("warning")
                        };
                        eprintln!("{label} {}: {}: {}", p.id(), problem.id, problem.message);
                    }
                }
            }
        }
    }

    fn plan(&self, decided: &Decided, stopped: usize) {
        if self.human() {
            print_plan(self, decided, stopped);
        }
    }

    fn held_back(&self, step: &Step) {
        if self.human() {
            println!(
                "{}",
                self.style.yellow(&format!(
                    "  {} {}: not applied, it shares a write with a change left alone (apply them together, e.g. with --overwrite)",
                    step.plugin, step.change.id
                ))
            );
        }
    }
}

fn print_plan(out: &Printer, d: &Decided, stopped: usize) {
    if d.run.is_empty() && d.ask.is_empty() && d.skipped.is_empty() {
        // Only what was read can be said to match.
        if stopped > 0 {
            println!(
                "Nothing to apply from the subsystems that could be read; {} could not be (above).",
                count(stopped, "subsystem")
            );
        } else {
            println!("Nothing to apply: the machine matches the manifests.");
        }
        return;
    }
    print_runs(out, d);
    if !d.ask.is_empty() {
        println!(
            "{}",
            out.style.yellow(&format!(
                "Changed on this machine since the last sync ({}); apply reverts them only if you agree, or with --overwrite:",
                count(d.ask.len(), "item")
            ))
        );
        d.ask.iter().for_each(|step| print_step(out, step));
    }
    print_conflicts(out, d);
    print_left(out, d);
}

/// One change of the plan: plugin, kind, summary, and which side moved.
fn print_step(out: &Printer, step: &Step) {
    let side = step
        .drift
        .map(|d| format!(" ({})", d.label()))
        .unwrap_or_default();
    println!(
        "  {:<11} {:<8} {}{}",
        step.plugin,
        step.change.kind.name(),
        match step.drift {
            Some(d) => crate::ops::drift::reads(step.change, d),
            None => step.change.summary.clone(),
        },
        out.style.dim(&side)
    );
}

/// What runs, with every command.
fn print_runs(out: &Printer, d: &Decided) {
    if d.run.is_empty() {
        return;
    }
    println!(
        "{}",
        out.style
            .bold(&format!("Plan: {}", count(d.run.len(), "change")))
    );
    for step in &d.run {
        print_step(out, step);
        for effect in &step.effects {
            println!(
                "  {:<20} {}",
                "",
                out.style.dim(&Executor::describe(effect))
            );
        }
    }
}

/// Items changed on both sides, with both values.
fn print_conflicts(out: &Printer, d: &Decided) {
    let conflicts: Vec<&Step> = d
        .skipped
        .iter()
        .filter(|(s, _)| s.drift == Some(Drift::Conflict))
        .map(|(s, _)| s)
        .collect();
    if conflicts.is_empty() {
        return;
    }
    println!(
        "{}",
        out.style.red(&format!(
            "Changed on both sides ({}); left alone until you pick a side (bkt apply --overwrite: the manifest's, bkt capture --overwrite: this machine's):",
            count(conflicts.len(), "item")
        ))
    );
    for step in conflicts {
        print_step(out, step);
        println!(
            "  {:<20} {}",
            "",
            out.style.dim(&format!(
                "manifest: {}  machine: {}",
                step.change.wanted.as_deref().unwrap_or("(none)"),
                step.change.live.as_deref().unwrap_or("(none)")
            ))
        );
    }
}

/// What is left for later, counted by why: the next image, `--local`, only on this machine.
fn print_left(out: &Printer, d: &Decided) {
    let left = |why: SkipReason| d.skipped.iter().filter(|(_, w)| *w == why).count();
    let waiting = left(SkipReason::NextBoot);
    if waiting > 0 {
        // `apply --now` is named only where it would act (an ostree system can set them).
        let settable = d
            .skipped
            .iter()
            .any(|(s, w)| *w == SkipReason::NextBoot && !s.effects.is_empty());
        let now = if settable {
            " (`bkt apply --now` also sets them on this deployment; they still need a reboot)"
        } else {
            ""
        };
        println!(
            "{}",
            out.style.dim(&format!(
                "{} {} when the next image boots{now}",
                count(waiting, "change"),
                takes_effect(waiting)
            ))
        );
    }
    let local = left(SkipReason::Local);
    if local > 0 {
        println!(
            "{}",
            out.style.dim(&format!(
                "{} made with --local left as {} (`bkt local commit` proposes {it}, `bkt local clear` forgets {it})",
                count(local, "change"),
                if local == 1 { "it is" } else { "they are" },
                it = crate::os::text::them(local),
            ))
        );
    }
    let users = left(SkipReason::UserAsRoot);
    if users > 0 {
        let who = match crate::os::identity::invoking_user() {
            Some(user) => format!("run `bkt apply --scope user` as {user}"),
            None => "run `bkt apply --scope user` in the user's own session".into(),
        };
        println!(
            "{}",
            out.style.dim(&format!(
                "{} left to the user's own session: bkt does not change them as root ({who})",
                count(users, "user setting"),
            ))
        );
    }
    let extras = d
        .skipped
        .iter()
        .filter(|(s, why)| {
            s.drift != Some(Drift::Conflict)
                && ![
                    SkipReason::NextBoot,
                    SkipReason::Local,
                    SkipReason::Shared,
                    SkipReason::UserAsRoot,
                ]
                .contains(why)
        })
        .count();
    if extras > 0 {
        println!(
            "{}",
            out.style.dim(&format!(
                "{} only on this machine left alone (`bkt capture` tracks them, --prune removes them)",
                count(extras, "item")
            ))
        );
    }
}
