//! `bkt local list|commit|clear`: the changes made with `--local` this boot, folded into the
//! manifests through each plugin's own `edit`, committed on a branch and proposed as a pull
//! request.

use super::propose::{self, Proposal};
use super::report::{Exit, Report};
use super::ui::{Tone, Ui};
use super::write::with_containerfile;
use crate::app::App;
use crate::local::{Record, Store};
use crate::os::atomic::FileChange;
use crate::os::text::count;
use crate::repo::Repo;
use anyhow::{Result, anyhow};
use serde_json::json;
use std::collections::BTreeMap;

/// One plugin's manifest before and after its local commands.
struct Folded {
    id: String,
    old: Option<String>,
    new: String,
}

/// Each plugin's manifest with its commands replayed, in the order they were made.
fn fold(app: &App, repo: &Repo, record: &Record) -> Result<Vec<Folded>> {
    let mut by_plugin: BTreeMap<&str, Vec<&crate::local::Command>> = BTreeMap::new();
    for c in &record.commands {
        by_plugin.entry(c.plugin.as_str()).or_default().push(c);
    }
    let mut out = Vec::new();
    for (id, commands) in by_plugin {
        let plugin = app
            .by_command(id)
            .ok_or_else(|| anyhow!("the plugin {id} that made local changes is not loaded"))?;
        let path = Repo::manifest_path(&plugin.info.manifest);
        let old = repo.read_manifest(&plugin.info.manifest)?;
        let mut session = app.rt.session(plugin)?;
        let text = crate::local::replay(&mut session, old.clone(), commands, |c, e| {
            Err(anyhow!(
                "`{}` no longer fits {path}: {}; nothing was changed (bkt local clear forgets it)",
                c.command_line,
                e.describe(&path)
            ))
        })?;
        out.push(Folded {
            id: plugin.info.id.clone(),
            old,
            new: text.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// This boot's local changes, per plugin: the commands and the manifest diff they add up to.
pub struct Listed {
    pub record: Option<Record>,
    /// Per plugin: its id, the command lines, and the diff.
    pub plugins: Vec<(String, Vec<String>, String)>,
}

impl Report for Listed {
    fn json(&self) -> serde_json::Value {
        let Some(record) = &self.record else {
            return json!({ "plugins": [] });
        };
        let plugins: Vec<_> = self
            .plugins
            .iter()
            .map(|(id, commands, diff)| json!({"plugin": id, "commands": commands, "diff": diff}))
            .collect();
        json!({"boot_id": record.boot_id, "created": record.created, "plugins": plugins})
    }
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

pub fn list(app: &App) -> Result<Listed> {
    let record = Store::open(&app.root, &app.dirs)?.load()?;
    let Some(record) = record else {
        return Ok(Listed {
            record: None,
            plugins: vec![],
        });
    };
    let repo = app.repo()?;
    let mut plugins = Vec::new();
    for f in fold(app, &repo, &record)? {
        let commands: Vec<String> = record
            .commands
            .iter()
            .filter(|c| c.plugin == f.id)
            .map(|c| c.command_line.clone())
            .collect();
        let file = app
            .by_command(&f.id)
            .map_or(String::new(), |p| Repo::manifest_path(&p.info.manifest));
        let diff = crate::os::diff::unified(&file, f.old.as_deref().unwrap_or(""), &f.new);
        plugins.push((f.id, commands, diff));
    }
    Ok(Listed {
        record: Some(record),
        plugins,
    })
}

pub fn clear(app: &App, ui: &dyn Ui) -> Result<Exit> {
    let store = Store::open(&app.root, &app.dirs)?;
    match store.load()? {
        None => ui.say(Tone::Plain, "No local changes this boot."),
        Some(r) => {
            let aside = store.set_aside("cleared")?;
            ui.say(
                Tone::Plain,
                &format!(
                    "Forgot {} made with --local (kept in {}); this machine keeps what {} changed, and `bkt status` shows it as drift again.",
                    count(r.commands.len(), "command"),
                    aside.display(),
                    if r.commands.len() == 1 { "it" } else { "they" }
                ),
            );
        }
    }
    Ok(Exit::Ok)
}

/// What `bkt local commit` was asked to do.
pub struct CommitArgs {
    pub message: Option<String>,
    pub branch: Option<String>,
    pub no_push: bool,
}

pub fn commit(app: &App, ui: &dyn Ui, args: CommitArgs) -> Result<Exit> {
    let store = Store::open(&app.root, &app.dirs)?;
    let Some(record) = store.load()? else {
        ui.say(
            Tone::Plain,
            "No local changes this boot: nothing to commit.",
        );
        return Ok(Exit::Ok);
    };
    let repo = app.repo_to_edit()?;
    repo.lock()?;
    propose::check_checkout(&repo.path)?;
    let files = folded_files(app, ui, &repo, &record)?;
    if files.is_empty() {
        let aside = store.set_aside("committed")?;
        ui.say(
            Tone::Plain,
            &format!(
                "The local changes cancel out: nothing to commit (the record is kept in {}).",
                aside.display()
            ),
        );
        return Ok(Exit::Ok);
    }
    let proposal = Proposal {
        files: files.into_iter().map(|f| (f.name, f.new)).collect(),
        subject: args.message.unwrap_or_else(|| {
            format!("Local changes: {}", count(record.commands.len(), "command"))
        }),
        body: record
            .commands
            .iter()
            .map(|c| format!("- {}", c.command_line))
            .collect(),
        branch: args
            .branch
            .unwrap_or_else(|| propose::free_branch(&repo.path, "bkt/local")),
        push: !args.no_push,
    };
    let outcome = propose::propose(ui, &repo.path, &proposal)?;
    if outcome == propose::Outcome::Refused {
        return Ok(outcome.exit());
    }
    // The commit exists: only now is the record let go.
    let aside = store.set_aside("committed")?;
    ui.say(
        Tone::Dim,
        &format!(
            "The record of the local changes is kept in {}.",
            aside.display()
        ),
    );
    Ok(outcome.exit())
}

/// The manifests the local commands change, and the Containerfile with them.
fn folded_files(app: &App, ui: &dyn Ui, repo: &Repo, record: &Record) -> Result<Vec<FileChange>> {
    let mut files = Vec::new();
    let mut pending = BTreeMap::new();
    for f in fold(app, repo, record)? {
        if f.old.as_deref() == Some(f.new.as_str()) {
            continue;
        }
        let plugin = app
            .by_command(&f.id)
            .ok_or_else(|| anyhow!("the plugin {} is not loaded", f.id))?;
        files.push(FileChange {
            name: Repo::manifest_path(&plugin.info.manifest),
            old: f.old.map(String::into_bytes),
            new: f.new.clone().into_bytes(),
        });
        pending.insert(f.id, f.new);
    }
    if files.is_empty() {
        return Ok(files);
    }
    let changed: Vec<&crate::runtime::Loaded> = app
        .loaded()
        .into_iter()
        .filter(|p| pending.contains_key(&p.info.id))
        .collect();
    with_containerfile(app, ui, repo, &changed, &pending, &mut files)?;
    Ok(files)
}
