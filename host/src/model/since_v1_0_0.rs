//! Contract `bkt:subsystem@1.0.0`: its generated bindings, and the conversions between them
//! and the host's own types. Text a person may see is made printable here, field by field
//! (see [`crate::os::text::printable`]), so no layer above ever holds a plugin's raw control
//! characters. Effects are left alone: they are data that runs, and the host quotes them for
//! display itself. So are manifests and Containerfile lines: they go to files, and are
//! checked there. Item ids and values are escaped in every result alike, so the sync record
//! compares like with like.

use super::call_error::CallError;
use super::contract as own;
use crate::os::text::printable;

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit/v1.0.0",
});

pub use bkt::subsystem::host;
pub use bkt::subsystem::types as wit;

/// The contract version, as errors name it.
pub const VERSION: &str = "bkt:subsystem@1.0.0";

fn text(s: String) -> String {
    match printable(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

/// The most of a plugin's error message bkt shows: an error is a sentence, not a dump, and
/// its text must not flood a terminal or a journal.
const MESSAGE_CHARS: usize = 4096;

/// An error message: printable, and cut to [`MESSAGE_CHARS`] (marked when cut).
fn message(s: String) -> String {
    let s = text(s);
    if s.chars().count() <= MESSAGE_CHARS {
        return s;
    }
    s.chars().take(MESSAGE_CHARS).collect::<String>() + " …"
}

fn texts(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(text).collect()
}

impl From<wit::Scope> for own::Scope {
    fn from(s: wit::Scope) -> Self {
        match s {
            wit::Scope::User => own::Scope::User,
            wit::Scope::System => own::Scope::System,
        }
    }
}

impl From<wit::Phase> for own::Phase {
    fn from(p: wit::Phase) -> Self {
        match p {
            wit::Phase::Repositories => own::Phase::Repositories,
            wit::Phase::Packages => own::Phase::Packages,
            wit::Phase::Configuration => own::Phase::Configuration,
        }
    }
}

impl From<wit::Arg> for own::Arg {
    fn from(a: wit::Arg) -> Self {
        match a {
            wit::Arg::Literal(s) => own::Arg::Literal(text(s)),
            wit::Arg::PackageName => own::Arg::PackageName,
            wit::Arg::Schema => own::Arg::Schema,
            wit::Arg::Word => own::Arg::Word,
            wit::Arg::Value => own::Arg::Value,
            wit::Arg::Root(s) => own::Arg::Root(text(s)),
            wit::Arg::UnderRoot(s) => own::Arg::UnderRoot(s),
            wit::Arg::Prefixed(s) => own::Arg::Prefixed(s),
        }
    }
}

fn shape(argv: Vec<wit::Arg>) -> Vec<own::Arg> {
    argv.into_iter().map(Into::into).collect()
}

impl From<wit::Capabilities> for own::Capabilities {
    fn from(c: wit::Capabilities) -> Self {
        own::Capabilities {
            queries: c.queries.into_iter().map(shape).collect(),
            runs: c
                .runs
                .into_iter()
                .map(|r| own::RunShape {
                    argv: shape(r.argv),
                    scope: r.scope.into(),
                })
                .collect(),
            reads: texts(c.reads),
            writes: texts(c.writes),
            fetches: texts(c.fetches),
            fetch_limit: c.fetch_limit,
            programs: c
                .programs
                .into_iter()
                .map(|p| own::Program {
                    name: text(p.name),
                    path: text(p.path),
                })
                .collect(),
        }
    }
}

impl From<wit::PluginInfo> for own::PluginInfo {
    fn from(i: wit::PluginInfo) -> Self {
        own::PluginInfo {
            id: text(i.id),
            command: text(i.command),
            summary: text(i.summary),
            version: text(i.version),
            manifest: text(i.manifest),
            sections: texts(i.sections),
            phase: i.phase.into(),
            verbs: i
                .verbs
                .into_iter()
                .map(|v| own::Verb {
                    name: text(v.name),
                    usage: text(v.usage),
                    summary: text(v.summary),
                    edits: v.edits,
                })
                .collect(),
            capabilities: i.capabilities.into(),
            about: own::About {
                authors: texts(i.about.authors),
                homepage: text(i.about.homepage),
                license: text(i.about.license),
            },
            requires_bkt: text(i.requires_bkt),
        }
    }
}

impl From<wit::Effect> for own::Effect {
    fn from(e: wit::Effect) -> Self {
        match e {
            wit::Effect::Run(r) => own::Effect::Run(own::Run {
                program: r.program,
                args: r.args,
                scope: r.scope.into(),
                batch: r.batch,
                declared_path: None,
            }),
            wit::Effect::WriteFile(w) => own::Effect::WriteFile(own::WriteFile {
                path: w.path,
                contents: w.contents,
                mode: w.mode,
            }),
            wit::Effect::RemoveFile(p) => own::Effect::RemoveFile(p),
            wit::Effect::Fetch(f) => own::Effect::Fetch(own::Fetch {
                url: f.url,
                sha256: f.sha256,
                path: f.path,
                max_bytes: 0,
            }),
        }
    }
}

impl From<wit::Change> for own::Change {
    fn from(c: wit::Change) -> Self {
        own::Change {
            id: text(c.id),
            kind: match c.kind {
                wit::ChangeKind::Missing => own::ChangeKind::Missing,
                wit::ChangeKind::Extra => own::ChangeKind::Extra,
                wit::ChangeKind::Differs => own::ChangeKind::Differs,
            },
            summary: text(c.summary),
            effects: c.effects.into_iter().map(Into::into).collect(),
            wanted: c.wanted.map(text),
            live: c.live.map(text),
            live_is_default: c.live_is_default,
            scope: c.scope.into(),
            next_boot: c.next_boot,
        }
    }
}

impl From<wit::PlanResult> for own::Plan {
    fn from(p: wit::PlanResult) -> Self {
        own::Plan {
            items: p.items,
            changes: p.changes.into_iter().map(Into::into).collect(),
            agreed: p
                .agreed
                .into_iter()
                .map(|a| own::Agreed {
                    id: text(a.id),
                    value: text(a.value),
                    scope: a.scope.into(),
                })
                .collect(),
            problems: p
                .problems
                .into_iter()
                .map(|pr| own::Problem {
                    id: text(pr.id),
                    message: text(pr.message),
                    severity: match pr.severity {
                        wit::Severity::Warning => own::Severity::Warning,
                        wit::Severity::Error => own::Severity::Error,
                    },
                })
                .collect(),
        }
    }
}

impl From<wit::Section> for own::Section {
    fn from(s: wit::Section) -> Self {
        own::Section {
            // The name is shown (and must match a declared, escaped one); the lines go to
            // the Containerfile and are checked there.
            name: text(s.name),
            lines: s.lines,
        }
    }
}

impl From<wit::EditResult> for own::EditResult {
    fn from(e: wit::EditResult) -> Self {
        own::EditResult {
            manifest: e.manifest,
            output: texts(e.output),
            changes: e.changes.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<wit::Error> for CallError {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::InvalidManifest(i) => CallError::Invalid(own::InvalidManifest {
                field: text(i.field),
                message: message(i.message),
                line: i.line,
                column: i.column,
            }),
            wit::Error::Unavailable(m) => CallError::Unavailable(message(m)),
            wit::Error::Failed(m) => CallError::Failed(message(m)),
        }
    }
}

impl From<own::HostContext> for wit::HostContext {
    fn from(c: own::HostContext) -> Self {
        wit::HostContext {
            root: c.root,
            home: c.home,
            data_home: c.data_home,
            arch: c.arch,
            ostree: c.ostree,
        }
    }
}

impl From<own::Output> for wit::Output {
    fn from(o: own::Output) -> Self {
        wit::Output {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }
}

impl From<own::QueryError> for wit::QueryError {
    fn from(e: own::QueryError) -> Self {
        match e {
            own::QueryError::Refused(m) => wit::QueryError::Refused(m),
            own::QueryError::NotFound(m) => wit::QueryError::NotFound(m),
            own::QueryError::Failed(m) => wit::QueryError::Failed(m),
        }
    }
}

impl From<host::Level> for own::Level {
    fn from(l: host::Level) -> Self {
        match l {
            host::Level::Error => own::Level::Error,
            host::Level::Warn => own::Level::Warn,
            host::Level::Info => own::Level::Info,
            host::Level::Debug => own::Level::Debug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_messages_are_escaped_but_effects_are_not() {
        let plan_in = wit::PlanResult {
            items: 1,
            changes: vec![wit::Change {
                id: "k".into(),
                kind: wit::ChangeKind::Missing,
                summary: "ok\x1b[2K\rApplied".into(),
                effects: vec![wit::Effect::RemoveFile("/etc/x\ny".into())],
                wanted: Some("w\x1b".into()),
                live: None,
                live_is_default: false,
                scope: wit::Scope::System,
                next_boot: false,
            }],
            agreed: vec![],
            problems: vec![wit::Problem {
                id: "p\x07".into(),
                message: "m\r".into(),
                severity: wit::Severity::Error,
            }],
        };
        let out = own::Plan::from(plan_in);
        assert_eq!(out.changes[0].summary, "ok\\e[2K\\rApplied");
        assert_eq!(out.changes[0].wanted.as_deref(), Some("w\\e"));
        assert!(
            matches!(&out.changes[0].effects[0], own::Effect::RemoveFile(p) if p == "/etc/x\ny")
        );
        assert_eq!(out.problems[0].id, "p\\x07");
        assert_eq!(out.problems[0].message, "m\\r");
        let e = CallError::from(wit::Error::Failed("bad\x1b[1A".into()));
        assert_eq!(e.to_string(), "bad\\e[1A");
        let long = CallError::from(wit::Error::Failed("x".repeat(1 << 20)));
        assert!(long.to_string().len() < MESSAGE_CHARS + 8);
    }

    /// Text meant to take over a terminal or forge a line of bkt's output.
    const HOSTILE: &str = "a\x1b]0;x\x07\r\n# === END SYSTEM_PACKAGES ===\u{9b}2J\x1b[1A";

    /// Whether the Debug form of a value holds a control character (Debug writes one as
    /// `\u{..}`, `\r`, `\n`, `\t` or `\0`; a backslash of the text itself as `\\`).
    fn holds_control(debug: &str) -> bool {
        let mut chars = debug.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('u' | 'r' | 'n' | 't' | '0') => return true,
                    _ => continue,
                }
            }
        }
        false
    }

    /// Every text of every result a plugin returns, through the one conversion: each field
    /// but effects, manifests and Containerfile lines (data, quoted or checked where used)
    /// comes out printable. A new result type or error variant joins this sweep.
    #[test]
    fn every_text_a_plugin_returns_is_made_printable() {
        let h = || HOSTILE.to_string();
        let change = || wit::Change {
            id: h(),
            kind: wit::ChangeKind::Differs,
            summary: h(),
            effects: vec![],
            wanted: Some(h()),
            live: Some(h()),
            live_is_default: false,
            scope: wit::Scope::User,
            next_boot: false,
        };
        let plan = own::Plan::from(wit::PlanResult {
            items: 1,
            changes: vec![change()],
            agreed: vec![wit::Agreed {
                id: h(),
                value: h(),
                scope: wit::Scope::User,
            }],
            problems: vec![wit::Problem {
                id: h(),
                message: h(),
                severity: wit::Severity::Warning,
            }],
        });
        let info = own::PluginInfo::from(wit::PluginInfo {
            id: h(),
            command: h(),
            summary: h(),
            version: h(),
            manifest: h(),
            sections: vec![h()],
            phase: wit::Phase::Packages,
            verbs: vec![wit::Verb {
                name: h(),
                usage: h(),
                summary: h(),
                edits: true,
            }],
            capabilities: wit::Capabilities {
                queries: vec![],
                runs: vec![],
                reads: vec![h()],
                writes: vec![h()],
                fetches: vec![h()],
                fetch_limit: 0,
                programs: vec![wit::Program {
                    name: h(),
                    path: h(),
                }],
            },
            about: wit::About {
                authors: vec![h()],
                homepage: h(),
                license: h(),
            },
            requires_bkt: h(),
        });
        let section = own::Section::from(wit::Section {
            name: h(),
            lines: vec![],
        });
        let edit = own::EditResult::from(wit::EditResult {
            manifest: None,
            output: vec![h()],
            changes: vec![change()],
        });
        let errors: Vec<CallError> = [
            wit::Error::InvalidManifest(wit::InvalidManifest {
                field: h(),
                message: h(),
                line: 1,
                column: 1,
            }),
            wit::Error::Unavailable(h()),
            wit::Error::Failed(h()),
        ]
        .into_iter()
        .inspect(|e| match e {
            // Exhaustive: a new error variant must be added to the list above.
            wit::Error::InvalidManifest(_) | wit::Error::Unavailable(_) | wit::Error::Failed(_) => {
            }
        })
        .map(CallError::from)
        .collect();
        for shown in [
            format!("{plan:?}"),
            format!("{info:?}"),
            format!("{section:?}"),
            format!("{edit:?}"),
            format!("{errors:?}"),
        ] {
            assert!(!holds_control(&shown), "{shown}");
        }
        for e in &errors {
            let text = format!("{e} {}", e.describe("manifests/x.json"));
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        assert!(holds_control(&format!("{:?}", HOSTILE)));
    }
}
