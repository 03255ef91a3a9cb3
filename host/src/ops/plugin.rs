//! `bkt plugin list|check|trust|untrust`: which plugins there are and what they may do;
//! trying a plugin file before trusting it; approving a third-party plugin (for the user, the
//! machine or the image) and taking that back.

use super::report::{Exit, Report};
use crate::app::App;
use crate::model::{PluginInfo, Scope};
use crate::plugins::trust::Level;
use crate::plugins::{self, Entry, Origin, trust};
use crate::runtime::caps;
use anyhow::{Result, bail};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Every plugin, loaded or not.
pub struct Listed<'a> {
    pub entries: &'a [Entry],
    /// The folders third-party plugins are read from.
    pub folders: Vec<PathBuf>,
}

pub fn list(app: &App) -> Listed<'_> {
    Listed {
        entries: &app.entries,
        folders: plugins::plugin_dirs(),
    }
}

impl Report for Listed<'_> {
    fn json(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .entries
            .iter()
            .map(|e| match &e.plugin {
                Ok(p) => json!({
                    "id": p.info.id, "command": p.info.command, "version": p.info.version,
                    "source": e.origin.to_string(), "sha256": e.sha256, "manifest": p.info.manifest,
                    "sections": p.info.sections, "verbs": p.info.verbs.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "capabilities": declaration_json(&p.info),
                }),
                Err(why) => json!({"name": e.name, "source": e.origin.to_string(), "sha256": e.sha256, "error": why.0}),
            })
            .collect();
        json!({ "plugins": items })
    }
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

fn declaration_json(info: &PluginInfo) -> serde_json::Value {
    let c = &info.capabilities;
    json!({
        "queries": c.queries.iter().map(|q| caps::describe(q)).collect::<Vec<_>>(),
        "runs": c.runs.iter().map(|r| json!({"argv": caps::describe(&r.argv), "as_root": r.scope == Scope::System})).collect::<Vec<_>>(),
        "reads": c.reads,
        "writes": c.writes,
    })
}

/// A plugin file about to be trusted: what it declares, for the person to review.
pub struct Candidate {
    pub path: PathBuf,
    pub sha256: String,
    pub info: PluginInfo,
}

/// Loads the component at `path` (canonical), checks the folders it declares, and that the
/// names it claims are free: the other plugins keep theirs (the builtins always win).
fn load_file(app: &App, path: &Path) -> Result<(plugins::Source, crate::runtime::Loaded)> {
    let source = plugins::read(path)?;
    let loaded = app.rt.load(&source.name, source.code())?;
    app.rt.check_own_folders(&loaded)?;
    let mut claims = plugins::Claims::new();
    for e in &app.entries {
        if let (Ok(p), false) = (&e.plugin, e.origin == Origin::File(path.to_path_buf())) {
            let _ = claims.claim(&p.info);
        }
    }
    if let Err(why) = claims.claim(&loaded.info) {
        bail!("{}: {why}", path.display());
    }
    Ok((source, loaded))
}

/// Loads the file at `path` (in a plugin folder) and checks that the names it claims are
/// free; trusting it is [`trust`], once the person agreed.
pub fn candidate(app: &App, path: &Path) -> Result<Candidate> {
    let path = path
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let dirs = plugins::plugin_dirs();
    if !dirs
        .iter()
        .any(|d| d.canonicalize().is_ok_and(|d| path.starts_with(d)))
    {
        let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        bail!(
            "{} is not in a plugin folder; bkt loads plugins only from {}. Copy it there, then trust that copy",
            path.display(),
            list.join(", ")
        );
    }
    let (source, loaded) = load_file(app, &path)?;
    Ok(Candidate {
        path,
        sha256: source.sha256,
        info: loaded.info,
    })
}

/// Checks that `level` may pin `c`: the image's and the machine's stores are root's and pin
/// only files in the system plugin folders.
pub fn may_pin(c: &Candidate, level: Level) -> Result<()> {
    if level == Level::User {
        return Ok(());
    }
    if crate::os::identity::euid() != 0 {
        bail!(
            "{} trust store is root's: run this as root (at image build: `RUN bkt plugin trust FILE --image --yes`)",
            level.name()
        );
    }
    let folder = match level {
        Level::Image => "/usr/share/bkt/plugins",
        _ => "/etc/bkt/plugins",
    };
    let allowed = [folder, "/usr/share/bkt/plugins"];
    if !allowed.iter().any(|d| c.path.starts_with(d)) {
        bail!(
            "{} is not in {folder}; {} trust store pins only plugins there",
            c.path.display(),
            level.name()
        );
    }
    Ok(())
}

/// What `level`'s store pinned for the candidate's file before, when it did.
pub fn previous_pin(c: &Candidate, level: Level) -> Option<trust::Declaration> {
    let store = trust::Store::at(level).ok()?;
    store
        .trusted
        .iter()
        .find(|t| t.path == c.path)
        .map(|t| t.declared.clone())
}

/// Records the candidate in `level`'s trust store.
pub fn trust(c: Candidate, level: Level) -> Result<PathBuf> {
    trust::Store::at(level)?.trust(c.path.clone(), c.sha256, &c.info)?;
    Ok(c.path)
}

/// Stops loading the plugin at `path`; the path as it was recorded.
pub fn untrust(path: PathBuf, level: Level) -> Result<PathBuf> {
    let path = path.canonicalize().unwrap_or(path);
    if trust::Store::at(level)?.revoke(&path)? {
        Ok(path)
    } else {
        bail!(
            "{} was not trusted in {} trust store",
            path.display(),
            level.name()
        )
    }
}

/// What `bkt plugin check` found: the plugin's declaration, and what it says about the
/// repository (read only; nothing is trusted, installed or run).
pub struct Checked {
    pub candidate: Candidate,
    /// The plan against the repository's manifest, or why it failed.
    pub plan: Result<crate::model::Plan, String>,
    /// The Containerfile sections it renders from the manifest, or why it failed.
    pub sections: Result<Vec<crate::model::Section>, String>,
    pub manifest: Option<String>,
}

/// Loads any component file, checks its declaration and names, and calls `plan` and
/// `render-section` on the repository's manifest.
pub fn check(app: &App, path: &Path) -> Result<Checked> {
    let path = path
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (source, loaded) = load_file(app, &path)?;
    let repo = app.repo()?;
    let manifest = repo.read_manifest(&loaded.info.manifest)?;
    let manifest_path = crate::repo::Repo::manifest_path(&loaded.info.manifest);
    let mut session = app.rt.session(&loaded)?;
    let plan = session
        .plan(manifest.as_deref())
        .map_err(|e| e.describe(&manifest_path))
        .and_then(|p| {
            crate::plan::check(&loaded, p, &app.rt).map_err(|e| e.describe(&manifest_path))
        });
    // Rendered as `containerfile` commands render it: seeing nothing of the machine.
    let sections = app
        .rt
        .render(&loaded, manifest.as_deref())
        .map_err(|e| e.describe(&manifest_path));
    Ok(Checked {
        candidate: Candidate {
            path,
            sha256: source.sha256,
            info: loaded.info.clone(),
        },
        plan,
        sections,
        manifest: manifest.map(|_| manifest_path),
    })
}
