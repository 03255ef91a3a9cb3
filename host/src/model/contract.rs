//! The host's own model of what plugins declare and return. Every layer above works with
//! these; only `since_v1_0_0` knows the generated bindings. A new contract version adds a
//! conversion file next to it, and nothing else changes.

use serde::{Deserialize, Serialize};

/// Where a plugin's imports and effects point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostContext {
    pub root: String,
    pub home: String,
    pub data_home: String,
    pub arch: String,
    pub ostree: bool,
}

/// When a plugin's effects run, relative to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    Repositories,
    Packages,
    Configuration,
}

/// Who an effect runs as: the invoking user, or root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    User,
    System,
}

impl Scope {
    /// `user` or `system`, as records and messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::System => "system",
        }
    }
}

/// One word of an argv shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    Literal(String),
    PackageName,
    Schema,
    Word,
    Value,
    Root(String),
    UnderRoot(String),
    Prefixed(String),
}

impl Arg {
    /// The stable text form a trust record keeps: a literal is `=word`, a placeholder
    /// `<kind>` (documented in docs/trust.md).
    pub fn key(&self) -> String {
        match self {
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
}

/// A whole argv a plugin may have run, and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunShape {
    pub argv: Vec<Arg>,
    pub scope: Scope,
}

/// Everything a plugin may do beyond computing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub queries: Vec<Vec<Arg>>,
    pub runs: Vec<RunShape>,
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    /// URL prefixes fetches may come from (absent in a trust pin made before fetches were
    /// declared: such a pin allows none).
    #[serde(default)]
    pub fetches: Vec<String>,
    /// Bytes one fetch may bring; 0 is the host's default.
    #[serde(default)]
    pub fetch_limit: u64,
    /// Programs outside the system folders, by the name shapes use (absent in a pin made
    /// before they could be declared: such a pin allows none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<Program>,
}

impl Capabilities {
    /// The declared program `name` stands for, if it is one.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }
}

/// A program outside the system folders: shapes name it `name`, the host runs `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub name: String,
    /// Absolute, or `~/...` under the user's home.
    pub path: String,
}

impl std::fmt::Display for Program {
    /// `NAME = PATH`, as the trust screen shows it and a trust pin keeps it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}", self.name, self.path)
    }
}

/// Who made a plugin and on what terms; empty when not said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub homepage: String,
    #[serde(default)]
    pub license: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verb {
    pub name: String,
    pub usage: String,
    pub summary: String,
    pub edits: bool,
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub id: String,
    pub command: String,
    pub summary: String,
    pub version: String,
    pub manifest: String,
    pub sections: Vec<String>,
    pub phase: Phase,
    pub verbs: Vec<Verb>,
    pub capabilities: Capabilities,
    #[serde(default)]
    pub about: About,
    /// The oldest bkt that runs it; empty for any.
    #[serde(default)]
    pub requires_bkt: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub program: String,
    pub args: Vec<String>,
    pub scope: Scope,
    pub batch: bool,
    /// The file `program` is when the plugin declared it outside the system folders (`~/`
    /// led home): set by the host when it checks the plan (`None` until then, and for
    /// programs it looks up itself).
    pub declared_path: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFile {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub url: String,
    pub sha256: Option<String>,
    pub path: String,
    /// The most it may bring: the plugin's declared limit, set by the host when it checks
    /// the plan (0 until then).
    pub max_bytes: u64,
}

/// One thing the host does to the machine for a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Run(Run),
    WriteFile(WriteFile),
    RemoveFile(String),
    Fetch(Fetch),
}

impl Effect {
    /// Who it runs as: a file effect under `~/` is the user's, one under the root the
    /// system's.
    pub fn scope(&self) -> Scope {
        let path = match self {
            Effect::Run(r) => return r.scope,
            Effect::WriteFile(w) => &w.path,
            Effect::RemoveFile(path) => path,
            Effect::Fetch(f) => &f.path,
        };
        if path.starts_with("~/") {
            Scope::User
        } else {
            Scope::System
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Missing,
    Extra,
    Differs,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Missing => "missing",
            ChangeKind::Extra => "extra",
            ChangeKind::Differs => "differs",
        }
    }
}

/// One item that differs, both of its sides, and the effects that would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub kind: ChangeKind,
    pub summary: String,
    pub effects: Vec<Effect>,
    pub wanted: Option<String>,
    pub live: Option<String>,
    pub live_is_default: bool,
    pub scope: Scope,
    pub next_boot: bool,
}

/// An item both sides hold at the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed {
    pub id: String,
    pub value: String,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub id: String,
    pub message: String,
    pub severity: Severity,
}

/// What a plugin found: how many items the manifest holds, what differs, what agrees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub items: u32,
    pub changes: Vec<Change>,
    pub agreed: Vec<Agreed>,
    pub problems: Vec<Problem>,
}

impl Plan {
    /// Problems that make a command fail; warnings (a tool not installed here) do not.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

/// A Containerfile section's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    pub lines: Vec<String>,
}

/// What a verb did to the manifest, what it printed, and the changes it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditResult {
    pub manifest: Option<String>,
    pub output: Vec<String>,
    pub changes: Vec<Change>,
}

/// Where a manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidManifest {
    pub field: String,
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// A query's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Why a query did not run to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    Refused(String),
    NotFound(String),
    Failed(String),
}

/// A plugin log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}
