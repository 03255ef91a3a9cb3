//! Subsystem commands (command punning): `bkt gsetting set SCHEMA KEY VALUE`,
//! `bkt dnf install htop`. The plugin edits its manifest; bkt writes it, together with the
//! Containerfile, and applies what the edit changed. A transaction: if applying fails, both
//! files are put back byte for byte.

use super::report::{Exit, Report};
use super::settle::{Side, settle};
use super::steps::{Step, execute};
use super::ui::Outcome;
use super::ui::{Tone, Ui};
use super::verify::verify;
use super::write::{Written, with_containerfile, write_files};
use crate::app::App;
use crate::exec::Executor;
use crate::model::{CallError, Change, ChangeKind, Plan, Verb};
use crate::os::atomic::FileChange;
use crate::plan;
use crate::repo::Repo;
use crate::runtime::{Loaded, Session};
use crate::sync::Records;
use anyhow::{Result, anyhow, bail};
use serde_json::json;

/// A subsystem command, as the command line resolved it.
pub struct Args<'a> {
    pub plugin: &'a Loaded,
    pub verb: &'a Verb,
    /// The verb's arguments.
    pub args: &'a [String],
    pub dry_run: bool,
    pub no_apply: bool,
    pub local: bool,
}

/// What a subsystem command did.
#[derive(Default)]
pub struct Done {
    /// What the plugin printed.
    pub output: Vec<String>,
    pub files: Written,
    /// Each change applied, with its effects and outcome.
    pub applied: Vec<serde_json::Value>,
    /// The closing sentence, also said to people as it happens.
    pub note: Option<String>,
    pub exit: Option<Exit>,
}

impl Report for Done {
    fn json(&self) -> serde_json::Value {
        json!({
            "output": self.output,
            "files": self.files.json()["files"],
            "written": self.files.written,
            "applied": self.applied,
            "note": self.note,
        })
    }
    fn exit(&self) -> Exit {
        self.exit.unwrap_or(Exit::Ok)
    }
}

impl Done {
    fn note(&mut self, ui: &dyn Ui, text: String) {
        ui.say(Tone::Plain, &text);
        self.note = Some(text);
    }

    fn ends(mut self, exit: Exit) -> Result<Done> {
        self.exit = Some(exit);
        Ok(self)
    }
}

/// The manifest before and after the edit, and what the verb named.
struct Edited {
    manifest_path: String,
    old: Option<String>,
    /// The new manifest, when the edit changed it.
    new: Option<String>,
    named: Plan,
    files: Vec<FileChange>,
}

pub fn run(app: &App, ui: &dyn Ui, a: &Args) -> Result<Done> {
    let repo = if a.verb.edits && !a.dry_run && !a.local {
        app.repo_to_edit()?
    } else {
        app.repo()?
    };
    if a.verb.edits && !a.dry_run {
        repo.lock()?;
    }
    let mut session = app.rt.session(a.plugin)?;
    let mut done = Done::default();
    let edited = edit(app, ui, &repo, &mut session, a, &mut done)?;
    if edited.new.is_none() && edited.named.changes.is_empty() && edited.named.problems.is_empty() {
        if a.verb.edits {
            done.note(
                ui,
                format!(
                    "Nothing to change: {} already says so and this machine has it.",
                    edited.manifest_path
                ),
            );
        }
        return done.ends(Exit::Ok);
    }
    if a.local && !a.dry_run {
        if !a.verb.edits || a.no_apply {
            bail!("--local is for commands that change something here, and not with --no-apply");
        }
        return run_local(app, ui, &mut session, a, edited, done);
    }
    if a.dry_run {
        done.files = write_files(ui, &repo, &edited.files, true)?;
        for change in &edited.named.changes {
            for effect in &change.effects {
                ui.say(Tone::Dim, &Executor::describe(effect));
            }
        }
        done.note(ui, "Dry run: nothing was written or applied.".into());
        return done.ends(Exit::Ok);
    }
    write_and_apply(app, ui, &repo, &mut session, a, edited, done)
}

/// Runs the verb's edit on the manifest (with this boot's `--local` commands replayed first
/// when `--local`), and gathers the files to write.
fn edit(
    app: &App,
    ui: &dyn Ui,
    repo: &Repo,
    session: &mut Session,
    a: &Args,
    done: &mut Done,
) -> Result<Edited> {
    let info = &a.plugin.info;
    let manifest_path = Repo::manifest_path(&info.manifest);
    let mut old = repo.read_manifest(&info.manifest)?;
    if a.local {
        // A local command builds on this boot's earlier ones: `install` then `remove` of the
        // same package is possible, and cancels out.
        old = folded_local(app, a.plugin, session, old)?;
    }
    let result = session
        .edit(old.as_deref(), &a.verb.name, a.args)
        .map_err(|e| anyhow!("{}", e.describe(&manifest_path)))?;
    for line in &result.output {
        ui.say(Tone::Plain, line);
    }
    done.output = result.output;
    let named = plan::check(
        a.plugin,
        Plan {
            changes: result.changes,
            ..Plan::default()
        },
        &app.rt,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let new = result
        .manifest
        .filter(|new| old.as_deref() != Some(new.as_str()));
    let mut files = Vec::new();
    if let Some(new) = &new {
        files.push(FileChange {
            name: manifest_path.clone(),
            old: old.clone().map(String::into_bytes),
            new: new.clone().into_bytes(),
        });
        let pending = [(info.id.clone(), new.clone())].into_iter().collect();
        with_containerfile(app, ui, repo, &[a.plugin], &pending, &mut files)?;
    }
    Ok(Edited {
        manifest_path,
        old,
        new,
        named,
        files,
    })
}

/// Writes the files, applies what the edit brought about, and puts the files back if that
/// fails.
fn write_and_apply(
    app: &App,
    ui: &dyn Ui,
    repo: &Repo,
    session: &mut Session,
    a: &Args,
    e: Edited,
    mut done: Done,
) -> Result<Done> {
    // What agreed before the edit, for the sync record; planned before anything changes.
    let before = if e.old.is_some() {
        session.plan(e.old.as_deref()).ok()
    } else {
        None
    };
    done.files = write_files(ui, repo, &e.files, false)?;
    let mut records = Records::load(&repo.path, &app.root, &app.dirs);
    let named_nothing = e.named.changes.is_empty() && e.named.problems.is_empty();
    if a.no_apply || !a.verb.edits && named_nothing {
        if a.verb.edits {
            done.note(
                ui,
                "Nothing was applied to this machine (--no-apply); `bkt apply` applies it.".into(),
            );
        }
        settle_verb(&mut records, a.plugin, before.as_ref(), &[], &[]);
        records.save();
        return done.ends(Exit::Ok);
    }
    // A verb that names its changes gets those applied; otherwise what the manifest edit
    // introduced.
    let changes = if !named_nothing || e.new.is_none() {
        e.named
    } else {
        match introduced_by(app, repo, session, a, &e, before.as_ref())? {
            Introduced::Changes(changes) => changes,
            Introduced::Unavailable(why) => {
                done.note(
                    ui,
                    format!("Not applied here: {why}. The manifest is updated; `bkt apply` applies it later."),
                );
                return done.ends(Exit::Ok);
            }
        }
    };
    let manifest = e.new.as_deref().or(e.old.as_deref());
    let outcomes = run_changes(app, ui, (a.plugin, manifest), &changes, &mut done);
    let failed = outcomes.iter().filter(|o| o.is_err()).count() + changes.errors().count();
    if failed > 0 {
        if !e.files.is_empty() {
            restore(repo, &e.files)?;
            // What the report says is what is true now: nothing of it stayed written.
            done.files.written = false;
            done.note(
                ui,
                format!(
                    "Applying failed, so {}; nothing of this command is kept in the repository.",
                    restored_names(&e.files)
                ),
            );
        }
        return done.ends(Exit::Failed);
    }
    settle_verb(
        &mut records,
        a.plugin,
        before.as_ref(),
        &changes.changes,
        &outcomes,
    );
    records.save();
    done.ends(Exit::Ok)
}

/// What a manifest edit brought about on this machine.
enum Introduced {
    Changes(Plan),
    /// The tool is not here: nothing can be applied now.
    Unavailable(String),
}

/// What the manifest edit introduced: the plan after it, less the plan before it. On a
/// failure other than a missing tool the files are put back.
fn introduced_by(
    app: &App,
    repo: &Repo,
    session: &mut Session,
    a: &Args,
    e: &Edited,
    before: Option<&Plan>,
) -> Result<Introduced> {
    match session.plan(e.new.as_deref()) {
        Ok(after) => {
            let after = plan::check(a.plugin, after, &app.rt).map_err(|e| anyhow!("{e}"))?;
            Ok(Introduced::Changes(introduced_plan(before, after)))
        }
        Err(CallError::Unavailable(m)) => Ok(Introduced::Unavailable(m)),
        Err(err) => {
            restore(repo, &e.files)?;
            bail!(
                "planning the change failed, so {}: {}",
                restored_names(&e.files),
                err.describe(&e.manifest_path)
            );
        }
    }
}

/// The manifest with this boot's `--local` commands of `plugin` replayed on it.
fn folded_local(
    app: &App,
    plugin: &Loaded,
    session: &mut Session,
    text: Option<String>,
) -> Result<Option<String>> {
    let Some(record) = crate::local::Store::open(&app.root, &app.dirs)?.load()? else {
        return Ok(text);
    };
    // A command that no longer fits is left out here; `bkt local commit` names it.
    let mine = record
        .commands
        .iter()
        .filter(|c| c.plugin == plugin.info.id);
    crate::local::replay(session, text, mine, |_, _| Ok(()))
}

/// Applies what the verb changes to this machine only, and records it: the repository is not
/// touched, and until committed or cleared the items are local, not drift.
fn run_local(
    app: &App,
    ui: &dyn Ui,
    session: &mut Session,
    a: &Args,
    e: Edited,
    mut done: Done,
) -> Result<Done> {
    let changes = if !e.named.changes.is_empty() || !e.named.problems.is_empty() || e.new.is_none()
    {
        e.named
    } else {
        let before = session.plan(e.old.as_deref()).ok();
        let after = session
            .plan(e.new.as_deref())
            .map_err(|e| anyhow!("planning the change failed: {e}"))?;
        let after = plan::check(a.plugin, after, &app.rt).map_err(|e| anyhow!("{e}"))?;
        introduced_plan(before.as_ref(), after)
    };
    let manifest = e.new.as_deref().or(e.old.as_deref());
    let outcomes = run_changes(app, ui, (a.plugin, manifest), &changes, &mut done);
    if outcomes.iter().any(|o| o.is_err()) || changes.errors().next().is_some() {
        done.note(
            ui,
            "Applying failed; nothing was recorded as a local change.".into(),
        );
        return done.ends(Exit::Failed);
    }
    let store = crate::local::Store::open(&app.root, &app.dirs)?;
    let command_line = std::iter::once("bkt")
        .chain(std::iter::once(a.plugin.info.command.as_str()))
        .chain(std::iter::once(a.verb.name.as_str()))
        .chain(a.args.iter().map(String::as_str))
        .chain(std::iter::once("--local"))
        .collect::<Vec<_>>()
        .join(" ");
    store.add(crate::local::Command {
        at: crate::os::time::now(),
        command_line,
        plugin: a.plugin.info.id.clone(),
        verb: a.verb.name.clone(),
        args: a.args.to_vec(),
        items: changes.changes.iter().map(|c| c.id.clone()).collect(),
    })?;
    done.note(
        ui,
        "Changed this machine only; the repository is untouched. `bkt local list` shows local changes, `bkt local commit` proposes them.".into(),
    );
    done.ends(Exit::Ok)
}

/// Puts the files of a failed transaction back, byte for byte.
fn restore(repo: &Repo, files: &[FileChange]) -> Result<()> {
    repo.restore(files)
        .map_err(|e| e.context("restoring the files after a failed apply"))
}

/// `a was put back as it was` / `a and b were put back as they were`.
fn restored_names(files: &[FileChange]) -> String {
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let (verb, pronoun) = if names.len() == 1 {
        ("was", "it")
    } else {
        ("were", "they")
    };
    format!(
        "{} {verb} put back as {pronoun} {verb}",
        names.join(" and ")
    )
}

/// After a verb: what agreed before it, and the changes it applied, agree now.
fn settle_verb(
    records: &mut Records,
    plugin: &Loaded,
    before: Option<&Plan>,
    applied: &[Change],
    outcomes: &[Outcome],
) {
    let Some(before) = before else { return };
    let done: Vec<&Change> = applied
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.is_ok())
        .map(|(c, _)| c)
        .collect();
    let left = before
        .changes
        .iter()
        .filter(|c| !done.iter().any(|d| d.id == c.id));
    settle(
        records,
        &plugin.info.id,
        &before.agreed,
        left.chain(done.iter().copied()),
        |c| {
            done.iter()
                .any(|d| std::ptr::eq(*d, c))
                .then_some(Side::Manifest)
        },
    );
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

/// Runs the changes a verb brought about, and checks that they took (against `manifest`,
/// the text the machine should now match); returns each change's outcome.
fn run_changes(
    app: &App,
    ui: &dyn Ui,
    (plugin, manifest): (&Loaded, Option<&str>),
    changes: &Plan,
    done: &mut Done,
) -> Vec<Outcome> {
    for problem in &changes.problems {
        ui.error("problem", &problem.id, &problem.message);
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
    let mut outcomes = execute(ui, &exec, &steps);
    verify(app, ui, &steps, &mut outcomes, &|_| {
        manifest.map(str::to_string)
    });
    for (step, outcome) in steps.iter().zip(&outcomes) {
        done.applied.push(json!({
            "id": step.change.id,
            "effects": step.effects.iter().map(|e| Executor::describe(e)).collect::<Vec<_>>(),
            "ok": outcome.is_ok(),
            "error": outcome.as_ref().err().map(|e| &e.0),
        }));
    }
    outcomes
}
