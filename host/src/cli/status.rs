//! `bkt status` for people.

use super::printer::Printer;
use crate::containerfile::Rendered;
use crate::model::{CallError, Change, Severity};
use crate::ops::drift;
use crate::ops::status::Status;
use crate::os::text::count;
use crate::plan::{PluginPlan, counts};
use crate::sync::Drift;
use anyhow::Result;

pub fn render(out: &Printer, status: &Status) {
    println!(
        "{}",
        out.style.dim(&format!(
            "repository {} (from {})",
            status.repo.display(),
            status.found_by
        ))
    );
    for (i, p) in status.plans.iter().enumerate() {
        print_plugin(out, p, &status.drifts(i));
    }
    print_containerfile(out, &status.containerfile);
    print_boot(out, status);
    for (path, why) in &status.skipped {
        println!("{} {}: {why}", out.style.yellow("skipped"), path.display());
    }
}

fn print_plugin(out: &Printer, p: &PluginPlan, drifts: &[(&Change, Drift)]) {
    let s = out.style;
    let name = s.bold(&format!("{:<12}", p.id()));
    let plan = match &p.result {
        Err(CallError::Unavailable(m)) => {
            println!("{name} {}", s.yellow(&format!("unavailable: {m}")));
            return;
        }
        Err(e) => {
            println!(
                "{name} {} {}",
                s.red("error:"),
                e.describe(&p.manifest_path())
            );
            return;
        }
        Ok(plan) => plan,
    };
    if p.manifest.is_none() {
        let id = p.id();
        println!(
            "{name} {}",
            s.dim(&format!(
                "not tracked: no {} (`bkt capture -s {id}` starts it)",
                p.manifest_path()
            ))
        );
        return;
    }
    let c = counts(plan);
    let mut parts = vec![count(plan.items as usize, "item")];
    for (n, label) in [
        (c.missing, "missing"),
        (c.extra, "extra"),
        (c.differs, "differ"),
    ] {
        if n > 0 {
            parts.push(s.yellow(&format!("{n} {label}")));
        }
    }
    let errors = plan.errors().count();
    let warnings = plan.problems.len() - errors;
    if errors > 0 {
        parts.push(s.red(&count(errors, "problem")));
    }
    if warnings > 0 {
        parts.push(s.yellow(&count(warnings, "warning")));
    }
    if c.missing + c.extra + c.differs + errors == 0 {
        parts.push(s.green("in step"));
    }
    println!("{name} {}", parts.join(" · "));
    for (change, drift) in drifts {
        println!(
            "    {:<8} {} {}",
            change.kind.name(),
            crate::ops::drift::reads(change, *drift),
            s.dim(&format!("({})", drift.label()))
        );
    }
    for problem in &plan.problems {
        let label = match problem.severity {
            Severity::Error => s.red("problem "),
            Severity::Warning => s.yellow("warning "),
        };
        println!("    {label} {}: {}", problem.id, problem.message);
    }
    for next in drift::next_steps(p.id(), drifts) {
        println!("    → {next}");
    }
}

fn print_containerfile(out: &Printer, result: &Result<Option<Rendered>>) {
    let s = out.style;
    let name = s.bold(&format!("{:<12}", "containerfile"));
    match result {
        Ok(None) => {}
        Err(e) => println!("{name} {} {e:#}", s.red("error:")),
        Ok(Some(r)) => {
            if r.changed.is_empty() && r.missing.is_empty() {
                println!("{name} {}", s.green("in step"));
                return;
            }
            if !r.changed.is_empty() {
                println!(
                    "{name} {} → bkt containerfile sync",
                    s.yellow(&format!("out of date: {}", r.changed.join(", ")))
                );
            } else {
                println!("{name} {}", s.yellow("sections missing"));
            }
            for advice in r.missing_advice() {
                println!("    {}", advice.replace('\n', "\n    "));
            }
        }
    }
}

fn print_boot(out: &Printer, status: &Status) {
    let s = out.style;
    for (half, run) in &status.boot {
        let name = s.bold(&format!("{:<12}", format!("boot ({half})")));
        let when = format!(
            "{} for deployment {}",
            crate::os::time::utc(run.at),
            run.short
        );
        if run.ok {
            println!(
                "{name} {} · {when}",
                s.green(&format!("applied {}", count(run.applied, "change")))
            );
        } else {
            println!(
                "{name} {} · {when}",
                s.red(&format!("{} failed", count(run.failures.len(), "change")))
            );
            for f in &run.failures {
                println!("    {} {}: {}", f.plugin, f.item, f.error);
            }
            println!("    → the next boot (or login) tries again; `bkt apply` now shows the rest");
        }
    }
}
