//! `bkt status`: per subsystem, what the manifest holds and how the machine differs.

use crate::app::{App, Format};
use crate::containerfile::{self, FILE, Rendered};
use crate::plan::{self, PluginPlan, counts, describe_error, kind_name};
use crate::runtime::CallError;
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
    let failed = containerfile.is_err()
        || plans
            .iter()
            .any(|p| matches!(&p.result, Err(e) if !matches!(e, CallError::Unavailable(_))));
    match app.format {
        Format::Json => {
            let report = json!({
                "repo": repo.path,
                "plugins": plans.iter().map(to_json).collect::<Vec<_>>(),
                "containerfile": containerfile_json(&containerfile),
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
            for p in &plans {
                print_human(app, p);
            }
            print_containerfile(app, &containerfile);
            for (path, why) in app.skipped() {
                println!("{} {}: {why}", app.style.yellow("skipped"), path.display());
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// The command that resolves a plugin's drift.
fn next_step(p: &PluginPlan) -> Option<String> {
    let plan = p.result.as_ref().ok()?;
    let c = counts(plan);
    let id = p.id();
    match (c.missing + c.differs > 0, c.extra > 0) {
        (true, true) => Some(format!(
            "bkt apply -s {id} (then bkt capture -s {id} to track the extra ones)"
        )),
        (true, false) => Some(format!(
            "bkt apply -s {id}, or bkt capture -s {id} to keep the machine's values"
        )),
        (false, true) => Some(format!(
            "bkt capture -s {id}, or bkt apply --prune -s {id} to remove them"
        )),
        (false, false) => None,
    }
}

fn print_human(app: &App, p: &PluginPlan) {
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
    let mut parts = vec![format!("{} items", plan.items)];
    for (n, label) in [
        (c.missing, "missing"),
        (c.extra, "extra"),
        (c.differs, "differ"),
    ] {
        if n > 0 {
            parts.push(s.yellow(&format!("{n} {label}")));
        }
    }
    if !plan.problems.is_empty() {
        let n = plan.problems.len();
        let plural = if n == 1 { "" } else { "s" };
        parts.push(s.red(&format!("{n} problem{plural}")));
    }
    if c.missing + c.extra + c.differs + plan.problems.len() == 0 {
        parts.push(s.green("in step"));
    }
    println!("{name} {}", parts.join(" · "));
    for change in &plan.changes {
        println!("    {:<8} {}", kind_name(change.kind), change.summary);
    }
    for problem in &plan.problems {
        println!(
            "    {} {}: {}",
            s.red("problem "),
            problem.id,
            problem.message
        );
    }
    if let Some(next) = next_step(p) {
        println!("    → {next}");
    }
}

fn to_json(p: &PluginPlan) -> serde_json::Value {
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
            let drift = c.missing + c.extra + c.differs + plan.problems.len() > 0;
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
                json!(plan.changes.iter().map(|ch| json!({"id": ch.id, "kind": kind_name(ch.kind), "summary": ch.summary})).collect::<Vec<_>>()),
            );
            obj.insert(
                "problems".into(),
                json!(
                    plan.problems
                        .iter()
                        .map(|pr| json!({"id": pr.id, "message": pr.message}))
                        .collect::<Vec<_>>()
                ),
            );
            obj.insert("next".into(), json!(next_step(p)));
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
