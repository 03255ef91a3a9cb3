//! The trust store: which third-party components the user has approved, pinned to their
//! sha256 and to everything they declared when trusted (id, command, manifest, sections,
//! verbs, capabilities). A changed file, or a plugin that declares more at load time than it
//! showed when trusted, is refused until trusted again.

use super::{Origin, Source};
use crate::runtime::bindings::{Arg, PluginInfo};
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    #[serde(default)]
    pub trusted: Vec<Trusted>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trusted {
    pub path: PathBuf,
    pub sha256: String,
    pub declared: Declaration,
}

/// What a plugin declared, in a form that compares exactly: a literal arg is `=word`, a
/// placeholder `<kind>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub id: String,
    pub command: String,
    pub manifest: String,
    pub sections: Vec<String>,
    pub verbs: Vec<String>,
    pub queries: Vec<String>,
    pub runs: Vec<String>,
    pub reads: Vec<String>,
    pub writes: Vec<String>,
}

fn arg_key(a: &Arg) -> String {
    match a {
        Arg::Literal(l) => format!("={l}"),
        Arg::PackageName => "<package>".into(),
        Arg::Schema => "<schema>".into(),
        Arg::Word => "<word>".into(),
        Arg::Value => "<value>".into(),
        Arg::Root(prefix) => format!("<root:{prefix}>"),
        Arg::UnderRoot(path) => format!("<under-root:{path}>"),
        Arg::Prefixed(prefix) => format!("<prefixed:{prefix}>"),
    }
}

fn shape_key(shape: &[Arg]) -> String {
    shape.iter().map(arg_key).collect::<Vec<_>>().join(" ")
}

impl Declaration {
    pub fn of(info: &PluginInfo) -> Declaration {
        let c = &info.capabilities;
        Declaration {
            id: info.id.clone(),
            command: info.command.clone(),
            manifest: info.manifest.clone(),
            sections: info.sections.clone(),
            verbs: info
                .verbs
                .iter()
                .map(|v| format!("{} {} edits={}", v.name, v.usage, v.edits))
                .collect(),
            queries: c.queries.iter().map(|q| shape_key(q)).collect(),
            runs: c
                .runs
                .iter()
                .map(|r| format!("{:?}: {}", r.scope, shape_key(&r.argv)))
                .collect(),
            reads: c.reads.clone(),
            writes: c.writes.clone(),
        }
    }

    /// What differs from `then` (the trusted declaration), one phrase per field.
    pub fn changes_since(&self, then: &Declaration) -> Vec<String> {
        let mut out = Vec::new();
        for (name, now, before) in [
            ("id", &self.id, &then.id),
            ("command", &self.command, &then.command),
            ("manifest", &self.manifest, &then.manifest),
        ] {
            if now != before {
                out.push(format!("{name} {before:?} is now {now:?}"));
            }
        }
        for (name, now, before) in [
            ("sections", &self.sections, &then.sections),
            ("verbs", &self.verbs, &then.verbs),
            ("queries", &self.queries, &then.queries),
            ("runs", &self.runs, &then.runs),
            ("reads", &self.reads, &then.reads),
            ("writes", &self.writes, &then.writes),
        ] {
            let now: BTreeSet<&String> = now.iter().collect();
            let before: BTreeSet<&String> = before.iter().collect();
            let added: Vec<&str> = now.difference(&before).map(|s| s.as_str()).collect();
            let gone: Vec<&str> = before.difference(&now).map(|s| s.as_str()).collect();
            if !added.is_empty() {
                out.push(format!("{name} gained `{}`", added.join("`, `")));
            }
            if !gone.is_empty() {
                out.push(format!("{name} lost `{}`", gone.join("`, `")));
            }
        }
        out
    }
}

impl Store {
    /// `$XDG_CONFIG_HOME/bkt/trusted-plugins.json`; missing means nothing is trusted.
    pub fn load() -> Result<Store> {
        let (path, mut store): (_, Store) = crate::app::read_config_json("trusted-plugins.json")?;
        store.path = path;
        Ok(store)
    }

    /// The trusted entry for a file with these bytes, or why there is none.
    pub fn check(&self, src: &Source) -> Result<Option<&Trusted>, String> {
        let Origin::File(path) = &src.origin else {
            return Ok(None);
        };
        let trust_again = format!("check it, then run `bkt plugin trust {}`", path.display());
        match self.trusted.iter().find(|t| t.path == *path) {
            Some(t) if t.sha256 == src.sha256 => Ok(Some(t)),
            Some(_) => Err(format!(
                "{} changed since it was trusted; {trust_again}",
                path.display()
            )),
            None => Err(format!(
                "not trusted yet; review it with `bkt plugin trust {}`",
                path.display()
            )),
        }
    }

    /// Refuses a loaded plugin that declares anything other than what was trusted.
    pub fn check_declared(trusted: &Trusted, info: &PluginInfo) -> Result<(), String> {
        let now = Declaration::of(info);
        let changes = now.changes_since(&trusted.declared);
        if changes.is_empty() {
            return Ok(());
        }
        Err(format!(
            "declares other things than when it was trusted ({}); check it, then run `bkt plugin trust {}`",
            changes.join("; "),
            trusted.path.display()
        ))
    }

    pub fn trust(&mut self, path: PathBuf, sha256: String, info: &PluginInfo) -> Result<()> {
        self.trusted.retain(|t| t.path != path);
        self.trusted.push(Trusted {
            path,
            sha256,
            declared: Declaration::of(info),
        });
        self.save()
    }

    pub fn revoke(&mut self, path: &std::path::Path) -> Result<bool> {
        let before = self.trusted.len();
        self.trusted.retain(|t| t.path != path);
        let changed = before != self.trusted.len();
        if changed {
            self.save()?;
        }
        Ok(changed)
    }

    fn save(&self) -> Result<()> {
        let path = self
            .path
            .clone()
            .context("no config folder to keep the trust store in")?;
        let text = serde_json::to_string_pretty(self)? + "\n";
        crate::repo::atomic::write(
            &path,
            text.as_bytes(),
            crate::repo::atomic::Mode::Exactly(0o600),
        )
    }
}
