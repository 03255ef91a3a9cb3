//! `bkt status`: per subsystem, what the manifest holds, how the machine differs, which side
//! moved since the last sync, and the commands that resolve it. Read-only.

use super::drift::{self, count};
use crate::app::{App, Format};
use crate::boot::{self, Half, LastRun};
use crate::containerfile::{self, FILE, Rendered};
use crate::exec::{ScopeFilter, euid};
use crate::plan::{self, PluginPlan, counts, describe_error, kind_name};
use crate::runtime::CallError;
use crate::runtime::bindings::{Change, Severity};
use crate::sync::{Drift, Records};
use anyhow::Result;
use serde_json::json;

pub fn run(app: &App, only: &[String]) -> Result<i32> {
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
    let records = Records::load(&repo.path, &app.root, euid());
    let drifts = drift::all(&plans, &records, &app.root);
    let code = exit_code(&plans, &drifts, &containerfile);
    match app.format {
        Format::Json => {
            let report = json!({
                "format_version": super::FORMAT_VERSION,
                "repo": repo.path,
                "plugins": plans.iter().zip(&drifts).map(|(p, d)| to_json(p, d)).collect::<Vec<_>>(),
                "containerfile": containerfile_json(&containerfile),
                "skipped_plugins": app.skipped().iter().map(|(path, why)| json!({"file": path, "reason": why})).collect::<Vec<_>>(),
                "boot_apply": boot_json(app),
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Human => {
            println!(
                "{}",
                app.style.dim(&format!(
                    "repository {} (from {})",
                    repo.path.display(),
                    repo.found_by
                ))
            );
            for (p, d) in plans.iter().zip(&drifts) {
                print_human(app, p, d);
            }
            print_containerfile(app, &containerfile);
            print_boot(app);
            for (path, why) in app.skipped() {
                println!("{} {}: {why}", app.style.yellow("skipped"), path.display());
            }
        }
    }
    Ok(code)
}

/// 0 in step, 1 drift or a failure, 2 a manifest or Containerfile that cannot be used.
fn exit_code(
    plans: &[PluginPlan],
    drifts: &[Vec<(&Change, Drift)>],
    containerfile: &Result<Option<Rendered>>,
) -> i32 {
    let invalid = plans
        .iter()
        .any(|p| matches!(p.result, Err(CallError::Invalid(_))))
        || containerfile.is_err();
    if invalid {
        return 2;
    }
    // Local changes are known, not drift.
    let drift = plans.iter().zip(drifts).any(|(p, d)| match &p.result {
        Err(CallError::Unavailable(_)) => false,
        Err(_) => true,
        Ok(plan) => {
            d.iter().any(|(_, drift)| *drift != Drift::Local) || plan::errors(plan).next().is_some()
        }
    }) || matches!(containerfile, Ok(Some(r)) if !r.changed.is_empty() || !r.missing.is_empty());
    i32::from(drift)
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn print_human(app: &App, p: &PluginPlan, drifts: &[(&Change, Drift)]) {
    let s = app.style;
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
                describe_error(&p.manifest_path(), e)
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
    let errors = plan::errors(plan).count();
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
            kind_name(change.kind),
            change.summary,
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

fn to_json(p: &PluginPlan, drifts: &[(&Change, Drift)]) -> serde_json::Value {
    let base = json!({ "id": p.id(), "manifest": p.manifest_path(), "manifest_exists": p.manifest.is_some() });
    let mut obj = base.as_object().cloned().unwrap_or_default();
    match &p.result {
        Err(CallError::Unavailable(m)) => {
            obj.insert("state".into(), json!("unavailable"));
            obj.insert("error".into(), json!(m));
        }
        Err(e) => {
            obj.insert("state".into(), json!("error"));
            obj.insert("error".into(), json!(describe_error(&p.manifest_path(), e)));
        }
        Ok(plan) => {
            let c = counts(plan);
            let drift = !plan.changes.is_empty() || plan::errors(plan).next().is_some();
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
                        .map(|pr| json!({"id": pr.id, "message": pr.message, "severity": severity_name(pr.severity)}))
                        .collect::<Vec<_>>()
                ),
            );
            obj.insert("next".into(), json!(drift::next_steps(p.id(), drifts)));
        }
    }
    serde_json::Value::Object(obj)
}

fn print_containerfile(app: &App, result: &Result<Option<Rendered>>) {
    let s = app.style;
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

/// The boot-time apply's last runs, system half then user half.
fn boot_runs(app: &App) -> Vec<(&'static str, LastRun)> {
    [ScopeFilter::System, ScopeFilter::User]
        .into_iter()
        .filter_map(|scope| {
            let half = Half::new(scope, &app.root).ok()?;
            Some((half.name(), half.last_run()?))
        })
        .collect()
}

fn print_boot(app: &App) {
    let s = app.style;
    for (half, run) in boot_runs(app) {
        let name = s.bold(&format!("{:<12}", format!("boot ({half})")));
        let when = format!("{} for deployment {}", boot::utc(run.at), run.short);
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

fn boot_json(app: &App) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    for (half, run) in boot_runs(app) {
        obj.insert(
            half.into(),
            json!({"at": run.at, "at_utc": boot::utc(run.at), "deployment": run.deployment,
                   "short": run.short, "ok": run.ok, "applied": run.applied, "failures": run.failures}),
        );
    }
    serde_json::Value::Object(obj)
}
