//! `bkt plugin list|trust|untrust`: which plugins there are and what they may do; approving
//! a third-party plugin and taking that back.

use super::report::{Exit, Report};
use crate::app::App;
use crate::model::{PluginInfo, Scope};
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
    let source = plugins::read(&path)?;
    let loaded = app.rt.load(&source.name, source.code())?;
    app.rt.check_own_folders(&loaded)?;
    // The names it claims must be free: the others keep theirs (the builtins always win).
    let mut claims = plugins::Claims::new();
    for e in &app.entries {
        if let (Ok(p), false) = (&e.plugin, e.origin == Origin::File(path.clone())) {
            let _ = claims.claim(&p.info);
        }
    }
    if let Err(why) = claims.claim(&loaded.info) {
        bail!("{}: {why}", path.display());
    }
    Ok(Candidate {
        path,
        sha256: source.sha256,
        info: loaded.info,
    })
}

/// Records the candidate in the trust store.
pub fn trust(c: Candidate) -> Result<PathBuf> {
    trust::Store::load()?.trust(c.path.clone(), c.sha256, &c.info)?;
    Ok(c.path)
}

/// Stops loading the plugin at `path`; the path as it was recorded.
pub fn untrust(path: PathBuf) -> Result<PathBuf> {
    let path = path.canonicalize().unwrap_or(path);
    if trust::Store::load()?.revoke(&path)? {
        Ok(path)
    } else {
        bail!("{} was not trusted", path.display())
    }
}
