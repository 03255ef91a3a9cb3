//! Subsystem commands (command punning): `bkt gsetting set SCHEMA KEY VALUE`,
//! `bkt dnf install htop`. The plugin edits its manifest; bkt writes it and applies what the
//! edit changed.

use super::apply::{Step, execute};
use crate::app::{App, Format};
use crate::exec::{Executor, euid};
use crate::plan::{self, describe_error};
use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::bindings::{Change, ChangeKind, Plan};
use crate::runtime::{CallError, Loaded};
use crate::sync::{Records, Settled};
use anyhow::{Result, anyhow, bail};
use serde_json::json;

struct Flags {
    dry_run: bool,
    no_apply: bool,
    local: bool,
    help: bool,
    rest: Vec<String>,
}

/// Host flags may appear anywhere before `--`; everything else goes to the plugin.
fn split_flags(words: &[String]) -> Flags {
    let mut f = Flags {
        dry_run: false,
        no_apply: false,
        local: false,
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
            "--local" => f.local = true,
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
        "\nOptions:\n  --dry-run   Show the manifest diff; change nothing\n  --no-apply  Only edit manifests/{}; leave this machine as it is\n  --local     Change this machine only; the repository stays as it is until `bkt local commit`\n  -y, --yes   Accepted and ignored: these commands never ask\n",
        info.manifest
    ));
    text
}

pub fn run(app: &App, words: &[String]) -> Result<i32> {
    // `bkt admin kargs …`, as the earlier bkt spelled some commands, is `bkt kargs …`.
    let words = match words.split_first() {
        Some((admin, rest)) if admin == "admin" && !rest.is_empty() => rest,
        _ => words,
    };
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
    let mut old = repo.read_manifest(&plugin.info.manifest)?;
    let mut session = app.rt.session(plugin)?;
    if flags.local {
        // A local command builds on this boot's earlier ones: `install` then `remove` of the
        // same package is possible, and cancels out.
        old = folded_local(app, plugin, &mut session, old)?;
    }
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
    let root = app.rt.context.root.clone();
    let named = plan::check(
        plugin,
        Plan {
            items: 0,
            changes: result.changes,
            agreed: vec![],
            problems: vec![],
        },
        &root,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let new = result
        .manifest
        .filter(|new| old.as_deref() != Some(new.as_str()));
    if new.is_none() && named.changes.is_empty() && named.problems.is_empty() {
        if verb.edits {
            report.note(
                app,
                format!(
                    "Nothing to change: {manifest_path} already says so and this machine has it."
                ),
            );
        }
        return report.print(app, 0);
    }
    let mut files = Vec::new();
    if let Some(new) = &new {
        files.push(FileChange {
            name: manifest_path.clone(),
            old: old.clone().map(String::into_bytes),
            new: new.clone().into_bytes(),
        });
        let pending = [(plugin.info.id.clone(), new.clone())]
            .into_iter()
            .collect();
        super::capture::with_containerfile(app, &repo, &[plugin], &pending, &mut files)?;
    }
    if flags.local && !flags.dry_run {
        if !verb.edits || flags.no_apply {
            bail!("--local is for commands that change something here, and not with --no-apply");
        }
        return run_local(
            app,
            plugin,
            &mut session,
            Local {
                old: old.as_deref(),
                new: new.as_deref(),
                named,
                words: &flags.rest,
            },
            report,
        );
    }
    if flags.dry_run {
        report.files = super::capture::write_files(app, &repo, &files, true)?;
        show_effects(app, &named.changes);
        report.note(app, "Dry run: nothing was written or applied.".into());
        return report.print(app, 0);
    }
    // What agreed before the edit, for the sync record; planned before anything changes.
    let before = if old.is_some() {
        session.plan(old.as_deref()).ok()
    } else {
        None
    };
    report.files = super::capture::write_files(app, &repo, &files, false)?;
    let mut records = Records::load(&repo.path, &app.root, euid());
    if flags.no_apply || !verb.edits && named.changes.is_empty() && named.problems.is_empty() {
        if verb.edits {
            report.note(
                app,
                "Nothing was applied to this machine (--no-apply); `bkt apply` applies it.".into(),
            );
        }
        settle(&mut records, plugin, before.as_ref(), &[], &[]);
        records.save();
        return report.print(app, 0);
    }
    // A verb that names its changes gets those applied; otherwise what the manifest edit
    // introduced: the plan after it, less the plan before it.
    let changes = if !named.changes.is_empty() || !named.problems.is_empty() || new.is_none() {
        named
    } else {
        match session.plan(new.as_deref()) {
            Ok(after) => {
                let after = plan::check(plugin, after, &root).map_err(|e| anyhow!("{e}"))?;
                introduced_plan(before.as_ref(), after)
            }
            Err(CallError::Unavailable(m)) => {
                report.note(
                    app,
                    format!("Not applied here: {m}. The manifest is updated; `bkt apply` applies it later."),
                );
                return report.print(app, 0);
            }
            Err(e) => {
                restore(&repo, &files)?;
                bail!(
                    "planning the change failed, so {} restored: {}",
                    restored_names(&files),
                    describe_error(&manifest_path, &e)
                );
            }
        }
    };
    let outcomes = run_changes(app, plugin, &changes, &mut report);
    let failed = outcomes.iter().filter(|o| o.is_err()).count() + plan::errors(&changes).count();
    if failed > 0 {
        if !files.is_empty() {
            restore(&repo, &files)?;
            report.note(
                app,
                format!(
                    "Applying failed, so {} restored to what they were; nothing of this command is kept in the repository.",
                    restored_names(&files)
                ),
            );
        }
        return report.print(app, 1);
    }
    settle(
        &mut records,
        plugin,
        before.as_ref(),
        &changes.changes,
        &outcomes,
    );
    records.save();
    report.print(app, 0)
}

/// The manifest with this boot's `--local` commands of `plugin` replayed on it.
fn folded_local(
    app: &App,
    plugin: &Loaded,
    session: &mut crate::runtime::Session,
    text: Option<String>,
) -> Result<Option<String>> {
    let Some(record) = crate::local::Store::open(&app.root)?.load()? else {
        return Ok(text);
    };
    // A command that no longer fits is left out here; `bkt local commit` names it.
    let mine = record
        .commands
        .iter()
        .filter(|c| c.plugin == plugin.info.id);
    crate::local::replay(session, text, mine, |_, _| Ok(()))
}

/// What a `--local` command works from.
struct Local<'a> {
    old: Option<&'a str>,
    new: Option<&'a str>,
    named: Plan,
    words: &'a [String],
}

/// Applies what the verb changes to this machine only, and records it: the repository is not
/// touched, and until committed or cleared the items are local, not drift.
fn run_local(
    app: &App,
    plugin: &Loaded,
    session: &mut crate::runtime::Session,
    l: Local,
    mut report: Report,
) -> Result<i32> {
    let root = app.rt.context.root.clone();
    let changes = if !l.named.changes.is_empty() || !l.named.problems.is_empty() || l.new.is_none()
    {
        l.named
    } else {
        let before = session.plan(l.old).ok();
        let after = session
            .plan(l.new)
            .map_err(|e| anyhow!("planning the change failed: {e}"))?;
        let after = plan::check(plugin, after, &root).map_err(|e| anyhow!("{e}"))?;
        introduced_plan(before.as_ref(), after)
    };
    let outcomes = run_changes(app, plugin, &changes, &mut report);
    if outcomes.iter().any(|o| o.is_err()) || plan::errors(&changes).next().is_some() {
        report.note(
            app,
            "Applying failed; nothing was recorded as a local change.".into(),
        );
        return report.print(app, 1);
    }
    let store = crate::local::Store::open(&app.root)?;
    let (verb, args) = l
        .words
        .split_first()
        .map_or(("", &[][..]), |(v, a)| (v.as_str(), a));
    let command_line = std::iter::once("bkt".to_string())
        .chain(std::iter::once(plugin.info.command.clone()))
        .chain(l.words.iter().cloned())
        .chain(std::iter::once("--local".to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    store.add(crate::local::Command {
        at: crate::boot::now(),
        command_line,
        plugin: plugin.info.id.clone(),
        verb: verb.to_string(),
        args: args.to_vec(),
        items: changes.changes.iter().map(|c| c.id.clone()).collect(),
    })?;
    report.note(
        app,
        "Changed this machine only; the repository is untouched. `bkt local list` shows local changes, `bkt local commit` proposes them.".into(),
    );
    report.print(app, 0)
}

/// Puts the files of a failed transaction back, byte for byte.
fn restore(repo: &Repo, files: &[FileChange]) -> Result<()> {
    repo.restore(files)
        .map_err(|e| e.context("restoring the files after a failed apply"))
}

fn restored_names(files: &[FileChange]) -> String {
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    format!(
        "{} {}",
        names.join(" and "),
        if names.len() == 1 { "was" } else { "were" }
    )
}

/// After a verb: what agreed before it, and the changes it applied, agree now.
fn settle(
    records: &mut Records,
    plugin: &Loaded,
    before: Option<&Plan>,
    applied: &[Change],
    outcomes: &[Result<(), String>],
) {
    let Some(before) = before else { return };
    let mut settled = Settled {
        agreed: &before.agreed,
        changed: vec![],
        unsettled: before
            .changes
            .iter()
            .map(|c| (c.scope, c.id.as_str()))
            .collect(),
    };
    for (c, o) in applied.iter().zip(outcomes) {
        if o.is_ok() {
            settled.unsettled.retain(|(_, id)| *id != c.id);
            settled.changed.push((c.scope, &c.id, c.wanted.as_deref()));
        }
    }
    records.settle(&plugin.info.id, &settled);
}

fn show_effects(app: &App, changes: &[Change]) {
    if app.format != Format::Human {
        return;
    }
    for change in changes {
        for effect in &change.effects {
            println!("{}", app.style.dim(&Executor::describe(effect)));
        }
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
    /// A sentence for people (printed now) and for scripts (in the JSON report).
    fn note(&mut self, app: &App, text: String) {
        if app.format == Format::Human {
            println!("{text}");
        }
        self.note = Some(text);
    }

    fn print(self, app: &App, code: i32) -> Result<i32> {
        if app.format == Format::Json {
            let files = if self.files.is_null() {
                json!({"files": [], "written": false})
            } else {
                self.files
            };
            let doc = json!({
                "format_version": super::FORMAT_VERSION,
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
        // Changes that wait for the next image are for `apply --now`, not for a verb.
        .filter(|c| c.kind != ChangeKind::Extra && !c.next_boot && !existed(c))
        .collect()
}

/// What an edit brought about, as a plan to run: the changes new in `after`, and its
/// problems.
fn introduced_plan(before: Option<&Plan>, after: Plan) -> Plan {
    Plan {
        items: after.items,
        changes: introduced(before, &after).into_iter().cloned().collect(),
        agreed: vec![],
        problems: after.problems,
    }
}

/// Runs the changes a verb brought about; returns each change's outcome.
fn run_changes(
    app: &App,
    plugin: &Loaded,
    changes: &Plan,
    report: &mut Report,
) -> Vec<Result<(), String>> {
    for problem in &changes.problems {
        eprintln!(
            "{} {}: {}",
            app.style.red("problem"),
            problem.id,
            problem.message
        );
    }
    let steps: Vec<Step> = changes
        .changes
        .iter()
        .map(|change| Step {
            plugin: &plugin.info.id,
            change,
            effects: change.effects.iter().collect(),
            drift: None,
        })
        .collect();
    if steps.is_empty() {
        return vec![];
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
    outcomes
}
