//! The trust store: which third-party components the user has approved, pinned to their
//! sha256 and to everything they declared when trusted (id, command, manifest, sections,
//! verbs, capabilities). A changed file, or a plugin that declares more at load time than it
//! showed when trusted, is refused until trusted again.
//!
//! The store (`$XDG_CONFIG_HOME/bkt/trusted-plugins.json`) is written in bkt's own form, so
//! that nothing about how a plugin contract is compiled can change what a record means
//! (docs/trust.md describes it):
//!
//! - `version`: 2;
//! - per plugin `path` (canonical), `sha256`, and `declared`, its declaration as text:
//!   `verbs` as `NAME USAGE edits=true|false`; `queries` as argv shapes, each word `=literal`
//!   or a placeholder `<package>`, `<schema>`, `<word>`, `<value>`, `<root:PREFIX>`,
//!   `<under-root:PATH>`, `<prefixed:PREFIX>`, joined by spaces; `runs` as
//!   `user: SHAPE` or `system: SHAPE`; `reads` and `writes` as the declared paths.
//!
//! A store written before the version field existed spelled the run scope `User:` /
//! `System:`; it is read, and rewritten once in the current form.

use super::not_loaded::NotLoaded;
use super::source::{Origin, Source};
use crate::model::{Arg, PluginInfo};
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The form the store is written in.
const VERSION: u32 = 2;

/// The store's file in bkt's config folder.
const FILE: &str = "trusted-plugins.json";

/// Who decided: the image (for every machine it boots), the machine's administrator, or the
/// user. The first two pin plugins in the system plugin folders for every user and for the
/// boot units; a user's store cannot widen what they decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Image,
    Machine,
    User,
}

impl Level {
    /// The store's file; the user's is in their config folder.
    pub fn path(self) -> Option<PathBuf> {
        match self {
            Level::Image => Some(PathBuf::from("/usr/share/bkt").join(FILE)),
            Level::Machine => Some(PathBuf::from("/etc/bkt").join(FILE)),
            Level::User => crate::os::paths::config_dir().map(|d| d.join(FILE)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Image => "the image's",
            Level::Machine => "this machine's",
            Level::User => "your",
        }
    }
}

/// The plugin folders a system store may pin files in: root's, never a user's.
const SYSTEM_PLUGIN_DIRS: [&str; 2] = ["/etc/bkt/plugins", "/usr/share/bkt/plugins"];

/// Every trust store, the image's and the machine's first: a plugin one of them pins is
/// decided there, whatever a user's store says of it.
pub struct Stores {
    system: Vec<(Level, Store)>,
    pub user: Store,
}

impl Stores {
    pub fn load() -> Result<Stores> {
        let mut system = Vec::new();
        for level in [Level::Image, Level::Machine] {
            let Some(path) = level.path() else { continue };
            if !path.exists() {
                continue;
            }
            // Only root may have written what every user trusts.
            if let Err(why) = crate::os::identity::root_only(&path) {
                tracing::warn!("{} trust store is ignored: {why}", level.name());
                continue;
            }
            match Store::read_only(&path) {
                Ok(store) => system.push((level, store)),
                Err(e) => tracing::warn!("{} trust store is ignored: {e:#}", level.name()),
            }
        }
        Ok(Stores {
            system,
            user: Store::load()?,
        })
    }

    /// The pin for a file with these bytes, or why there is none. A file a system store
    /// names is judged by that store alone, and must itself be changeable by root alone.
    pub fn check(&self, src: &Source) -> Result<Option<&Trusted>, NotLoaded> {
        let Origin::File(path) = &src.origin else {
            return Ok(None);
        };
        for (level, store) in &self.system {
            if !store.trusted.iter().any(|t| t.path == *path) {
                continue;
            }
            if !SYSTEM_PLUGIN_DIRS.iter().any(|d| path.starts_with(d)) {
                return Err(NotLoaded(format!(
                    "{} trust store pins it outside {}; such a pin is not taken",
                    level.name(),
                    SYSTEM_PLUGIN_DIRS.join(" and ")
                )));
            }
            crate::os::identity::root_only(path).map_err(|why| {
                NotLoaded(format!("{} trust store pins it, but {why}", level.name()))
            })?;
            return store.check(src).map_err(|why| {
                NotLoaded(format!(
                    "{why} (pinned by {} trust store, which yours cannot override)",
                    level.name()
                ))
            });
        }
        self.user.check(src)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// Absent (0) in a store written before the form was versioned.
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub trusted: Vec<Trusted>,
    #[serde(skip)]
    path: Option<PathBuf>,
    /// Private to its user; the image's and the machine's are read by every user.
    #[serde(skip)]
    readable_by_all: bool,
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
    /// Absent in pins made before fetches were declared: such a pin allows none.
    #[serde(default)]
    pub fetches: Vec<String>,
    #[serde(default)]
    pub fetch_limit: u64,
    /// `NAME = PATH` of each program outside the system folders; absent in pins made before
    /// they could be declared: such a pin allows none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
}

fn shape_key(shape: &[Arg]) -> String {
    shape.iter().map(Arg::key).collect::<Vec<_>>().join(" ")
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
                .map(|r| format!("{}: {}", r.scope.name(), shape_key(&r.argv)))
                .collect(),
            reads: c.reads.clone(),
            writes: c.writes.clone(),
            fetches: c.fetches.clone(),
            fetch_limit: c.fetch_limit,
            programs: c.programs.iter().map(ToString::to_string).collect(),
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
            ("fetches", &self.fetches, &then.fetches),
            ("programs", &self.programs, &then.programs),
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
        if self.fetch_limit != then.fetch_limit {
            out.push(format!(
                "fetch limit {} is now {}",
                then.fetch_limit, self.fetch_limit
            ));
        }
        out
    }
}

impl Store {
    /// `$XDG_CONFIG_HOME/bkt/trusted-plugins.json`; missing means nothing is trusted.
    pub fn load() -> Result<Store> {
        Store::open(crate::os::paths::config_dir().map(|d| d.join(FILE)))
    }

    /// The store of `level`, to trust or untrust in.
    pub fn at(level: Level) -> Result<Store> {
        let mut store = Store::open(level.path())?;
        store.readable_by_all = level != Level::User;
        Ok(store)
    }

    /// A store read and never rewritten (the image's, the machine's).
    fn read_only(path: &std::path::Path) -> Result<Store> {
        let mut store: Store = crate::os::config::read_json_file(path)?;
        store.upgrade();
        Ok(store)
    }

    /// The store at `path` (none: nothing is trusted, and nothing can be).
    fn open(path: Option<PathBuf>) -> Result<Store> {
        let mut store: Store = match &path {
            Some(p) => crate::os::config::read_json_file(p)?,
            None => Store::default(),
        };
        store.path = path;
        if store.version < VERSION && !store.trusted.is_empty() {
            store.upgrade();
            if let Err(e) = store.save() {
                tracing::warn!("cannot rewrite the trust store in the current form: {e:#}");
            }
        }
        store.version = VERSION;
        Ok(store)
    }

    /// Reads a store of the first form: its run scopes were spelled `User:` and `System:`.
    fn upgrade(&mut self) {
        for t in &mut self.trusted {
            for run in &mut t.declared.runs {
                for (old, new) in [("User: ", "user: "), ("System: ", "system: ")] {
                    if let Some(shape) = run.strip_prefix(old) {
                        *run = format!("{new}{shape}");
                    }
                }
            }
        }
        self.version = VERSION;
    }

    /// The trusted entry for a file with these bytes, or why there is none.
    pub fn check(&self, src: &Source) -> Result<Option<&Trusted>, NotLoaded> {
        let Origin::File(path) = &src.origin else {
            return Ok(None);
        };
        let trust_again = format!("check it, then run `bkt plugin trust {}`", path.display());
        match self.trusted.iter().find(|t| t.path == *path) {
            Some(t) if t.sha256 == src.sha256 => Ok(Some(t)),
            Some(_) => Err(NotLoaded(format!(
                "{} changed since it was trusted; {trust_again}",
                path.display()
            ))),
            None => Err(NotLoaded(format!(
                "not trusted yet; review it with `bkt plugin trust {}`",
                path.display()
            ))),
        }
    }

    /// Refuses a loaded plugin that declares anything other than what was trusted.
    pub fn check_declared(trusted: &Trusted, info: &PluginInfo) -> Result<(), NotLoaded> {
        let now = Declaration::of(info);
        let changes = now.changes_since(&trusted.declared);
        if changes.is_empty() {
            return Ok(());
        }
        Err(NotLoaded(format!(
            "declares other things than when it was trusted ({}); check it, then run `bkt plugin trust {}`",
            changes.join("; "),
            trusted.path.display()
        )))
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
        let text = serde_json::to_string_pretty(&Store {
            version: VERSION,
            trusted: self.trusted.clone(),
            path: None,
            readable_by_all: false,
        })? + "\n";
        let mode = if self.readable_by_all { 0o644 } else { 0o600 };
        crate::os::atomic::write(
            &path,
            text.as_bytes(),
            crate::os::atomic::Mode::Exactly(mode),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store as bkt wrote it before the form had a version: run scopes spelled as the
    /// generated bindings printed them.
    const FIRST_FORM: &str = r#"{
  "trusted": [
    {
      "path": "/etc/bkt/plugins/probe.wasm",
      "sha256": "abc",
      "declared": {
        "id": "probe", "command": "probe", "manifest": "probe.json", "sections": [],
        "verbs": ["try  edits=true"],
        "queries": ["=rpm =-qa"],
        "runs": ["System: =dnf =install =-y <package>", "User: =gsettings =set <schema> <word> <value>"],
        "reads": [], "writes": []
      }
    }
  ]
}
"#;

    #[test]
    fn a_store_of_the_first_form_is_read_and_rewritten_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, FIRST_FORM).unwrap();
        let store = Store::open(Some(path.clone())).unwrap();
        assert_eq!(
            store.trusted[0].declared.runs,
            [
                "system: =dnf =install =-y <package>",
                "user: =gsettings =set <schema> <word> <value>"
            ]
        );
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains("\"version\": 2"), "{written}");
        assert!(written.contains("system: =dnf"), "{written}");
        // Read again, it is already current: the same declaration, nothing changed.
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        let again = Store::open(Some(path.clone())).unwrap();
        assert_eq!(again.trusted[0].declared, store.trusted[0].declared);
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
    }

    #[test]
    fn the_declared_form_does_not_depend_on_debug_text() {
        let info = PluginInfo {
            id: "p".into(),
            command: "p".into(),
            summary: String::new(),
            version: "1".into(),
            manifest: "p.json".into(),
            sections: vec![],
            phase: crate::model::Phase::Packages,
            verbs: vec![],
            capabilities: crate::model::Capabilities {
                queries: vec![],
                runs: vec![crate::model::RunShape {
                    argv: vec![Arg::Literal("dnf".into()), Arg::PackageName],
                    scope: crate::model::Scope::System,
                }],
                reads: vec![],
                writes: vec![],
                ..Default::default()
            },
            about: Default::default(),
            requires_bkt: String::new(),
        };
        assert_eq!(Declaration::of(&info).runs, ["system: =dnf <package>"]);
    }
}
