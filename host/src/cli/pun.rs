//! Subsystem commands (command punning): `bkt gsetting set SCHEMA KEY VALUE`,
//! `bkt dnf install htop`. The plugin edits its manifest; bkt writes it and applies what the
//! edit changed.

use super::apply::{Step, execute};
use crate::app::{App, Format};
use crate::exec::Executor;
use crate::plan::{self, describe_error};
use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::bindings::bkt::subsystem::types::Problem;
use crate::runtime::bindings::{Change, ChangeKind, Plan};
use crate::runtime::{CallError, Loaded};
use anyhow::{Result, anyhow, bail};
use serde_json::json;

struct Flags {
    dry_run: bool,
    no_apply: bool,
    help: bool,
    rest: Vec<String>,
}

/// Host flags may appear anywhere before `--`; everything else goes to the plugin.
fn split_flags(words: &[String]) -> Flags {
    let mut f = Flags {
        dry_run: false,
        no_apply: false,
        help: false,
        rest: Vec::new(),
    };
    let mut literal = false;
    for w in words {
        match w.as_str() {
            _ if literal => f.rest.push(w.clone()),
            "--" => literal = true,
            "--dry-run" => f.dry_run = true,
            "--no-apply" => f.no_apply = true,
            "-h" | "--help" => f.help = true,
            // Habit from dnf and friends; subsystem commands never ask.
            "-y" | "--yes" => {}
            _ => f.rest.push(w.clone()),
        }
    }
    f
}

fn help(plugin: &Loaded) -> String {
    let info = &plugin.info;
    let mut text = format!(
        "{}\n\nUsage: bkt {} <VERB> [ARGS]... [--dry-run] [--no-apply]\n\nVerbs:\n",
        info.summary, info.command
    );
    let usages: Vec<String> = info
        .verbs
        .iter()
        .map(|v| format!("{} {}", v.name, v.usage).trim().to_string())
        .collect();
    let width = usages.iter().map(|u| u.chars().count()).max().unwrap_or(0);
    for (usage, v) in usages.iter().zip(&info.verbs) {
        text.push_str(&format!("  {usage:<width$}  {}\n", v.summary));
    }
    text.push_str(&format!(
        "\nOptions:\n  --dry-run   Show the manifest diff; change nothing\n  --no-apply  Only edit manifests/{}; leave this machine as it is\n  -y, --yes   Accepted and ignored: these commands never ask\n",
        info.manifest
    ));
    text
}

pub fn run(app: &App, words: &[String]) -> Result<i32> {
    let Some((word, rest)) = words.split_first() else {
        bail!("no command given")
    };
    let Some(plugin) = app.by_command(word) else {
        let mut known =
            super::globals::builtin_commands(&<super::Cli as clap::CommandFactory>::command());
        known.extend(app.loaded().iter().map(|p| p.info.command.clone()));
        bail!("unknown command {word:?}; commands: {}", known.join(", "));
    };
    let flags = split_flags(rest);
    let Some((verb_name, args)) = flags.rest.split_first().filter(|_| !flags.help) else {
        print!("{}", help(plugin));
        return Ok(if flags.help { 0 } else { 2 });
    };
    let Some(verb) = plugin.info.verbs.iter().find(|v| v.name == *verb_name) else {
        bail!("bkt {word} has no verb {verb_name:?}\n\n{}", help(plugin));
    };
    let repo = app.repo()?;
    if verb.edits && !flags.dry_run {
        repo.lock()?;
    }
    let manifest_path = Repo::manifest_path(&plugin.info.manifest);
    let old = repo.read_manifest(&plugin.info.manifest)?;
    let mut session = app.rt.session(plugin)?;
    let apply = verb.edits && !flags.no_apply && !flags.dry_run;
    let result = session
        .edit(old.as_deref(), verb_name, args)
        .map_err(|e| anyhow!("{}", describe_error(&manifest_path, &e)))?;
    let mut report = Report {
        output: result.output,
        ..Report::default()
    };
    if app.format == Format::Human {
        for line in &report.output {
            println!("{line}");
        }
    }
    let verb_changes = Plan {
        items: 0,
        changes: result.changes,
        problems: vec![],
    };
    let extra = plan::check(plugin, verb_changes)
        .map_err(|e| anyhow!("{e}"))?
        .changes;
    let Some(new) = result
        .manifest
        .filter(|new| old.as_deref() != Some(new.as_str()))
    else {
        return run_changes(app, plugin, &extra, &[], &flags, report);
    };
    let old_text = old.clone();
    let mut changes = vec![FileChange {
        name: manifest_path.clone(),
        old: old.map(String::into_bytes),
        new: new.clone().into_bytes(),
    }];
    let pending = [(plugin.info.id.clone(), new.clone())]
        .into_iter()
        .collect();
    super::capture::with_containerfile(app, &repo, &[plugin], &pending, &mut changes)?;
    report.files = super::capture::write_files(app, &repo, &changes, flags.dry_run)?;
    // A verb that names its changes gets those applied; otherwise what the manifest edit
    // introduced is applied: the plan after it, less the plan before it.
    if !apply || !extra.is_empty() {
        return run_changes(app, plugin, &extra, &[], &flags, report);
    }
    let before = session.plan(old_text.as_deref()).ok();
    let after = match session.plan(Some(&new)) {
        Ok(plan) => plan::check(plugin, plan),
        Err(e) => Err(e),
    };
    match after {
        Ok(after) => {
            let changes: Vec<Change> = introduced(before.as_ref(), &after)
                .into_iter()
                .cloned()
                .collect();
            run_changes(app, plugin, &changes, &after.problems, &flags, report)
        }
        Err(CallError::Unavailable(m)) => {
            let note = format!(
                "Not applied here: {m}. The manifest is updated; `bkt apply` applies it later."
            );
            if app.format == Format::Human {
                println!("{note}");
            }
            report.note = Some(note);
            report.print(app, 0)
        }
        Err(e) => bail!(
            "the manifest is updated, but planning its changes failed: {}",
            describe_error(&manifest_path, &e)
        ),
    }
}

/// What a subsystem command did, for `--format json`: one document at the end.
#[derive(Default)]
struct Report {
    output: Vec<String>,
    files: serde_json::Value,
    applied: Vec<serde_json::Value>,
    note: Option<String>,
}

impl Report {
    fn print(self, app: &App, code: i32) -> Result<i32> {
        if app.format == Format::Json {
            let files = if self.files.is_null() {
                json!({"files": [], "written": false})
            } else {
                self.files
            };
            let doc = json!({
                "output": self.output,
                "files": files["files"],
                "written": files["written"],
                "applied": self.applied,
                "note": self.note,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Ok(code)
    }
}

/// The changes in `after` that were not in `before`: what the edit introduced.
fn introduced<'a>(before: Option<&Plan>, after: &'a Plan) -> Vec<&'a Change> {
    let existed = |c: &Change| {
        before.is_some_and(|b| {
            b.changes
                .iter()
                .any(|o| o.id == c.id && o.kind == c.kind && o.summary == c.summary)
        })
    };
    after
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Extra && !existed(c))
        .collect()
}

/// Runs (or with --dry-run / --no-apply, only shows) the changes a verb brought about.
fn run_changes(
    app: &App,
    plugin: &Loaded,
    changes: &[Change],
    problems: &[Problem],
    flags: &Flags,
    mut report: Report,
) -> Result<i32> {
    for problem in problems {
        eprintln!(
            "{} {}: {}",
            app.style.red("problem"),
            problem.id,
            problem.message
        );
    }
    let steps: Vec<Step> = changes
        .iter()
        .map(|change| Step {
            plugin: &plugin.info.id,
            change,
            effects: change.effects.iter().collect(),
        })
        .collect();
    if app.format == Format::Human {
        for step in &steps {
            for effect in &step.effects {
                println!("{}", app.style.dim(&Executor::describe(effect)));
            }
        }
    }
    let problem_code = if problems.is_empty() { 0 } else { 1 };
    if steps.is_empty() || flags.dry_run || flags.no_apply {
        return report.print(app, problem_code);
    }
    let exec = Executor::new(app.elevator, &app.root);
    let outcomes = execute(app, &exec, &steps);
    for (step, outcome) in steps.iter().zip(&outcomes) {
        report.applied.push(json!({
            "id": step.change.id,
            "effects": step.effects.iter().map(|e| Executor::describe(e)).collect::<Vec<_>>(),
            "ok": outcome.is_ok(),
            "error": outcome.as_ref().err(),
        }));
    }
    let failed = outcomes.iter().any(|o| o.is_err());
    report.print(app, if failed { 1 } else { problem_code })
}
