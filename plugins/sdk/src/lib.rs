//! What every bkt plugin shares: the generated contract bindings, typed access to the host's
//! imports, and manifest parsing that reports the offending field, line and column.
//!
//! A plugin implements [`Guest`] and registers it with `bkt_sdk::export!(MyPlugin);`.

pub mod edit;
pub mod manifest;
#[cfg(not(target_arch = "wasm32"))]
pub mod schema_file;
pub mod verbs;

wit_bindgen::generate!({
    world: "plugin",
    path: "wit/v1.0.0",
    pub_export_macro: true,
    default_bindings_module: "bkt_sdk",
});

pub use bkt::subsystem::host::{self, Level};
pub use bkt::subsystem::types::{
    About, Agreed, Arg, Capabilities, Change, ChangeKind, EditResult, Effect, Error, Fetch,
    HostContext as Context, InvalidManifest, Output, Phase, PlanResult as Plan, PluginInfo,
    Problem, Program, QueryError, Run, RunShape, Scope, Section, Severity, Verb, WriteFile,
};
pub use verbs::{Entry, Verbs};

/// The plugin's [`About`] from its Cargo.toml: `authors`, `homepage` (else `repository`) and
/// `license`. A macro, so that it reads the plugin's package, not the SDK's.
#[macro_export]
macro_rules! about {
    () => {
        $crate::About {
            authors: env!("CARGO_PKG_AUTHORS")
                .split(':')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
            homepage: match env!("CARGO_PKG_HOMEPAGE") {
                "" => env!("CARGO_PKG_REPOSITORY"),
                page => page,
            }
            .to_string(),
            license: env!("CARGO_PKG_LICENSE").to_string(),
        }
    };
}
pub use exports::bkt::subsystem::subsystem::Guest;

/// The result every plugin entry point returns.
pub type Result<T> = std::result::Result<T, Error>;

/// Runs a declared query. A missing program becomes [`Error::Unavailable`] so that `bkt status`
/// can say "not installed here" and go on; a non-zero exit is returned as output, not an error,
/// because many tools use it to say "nothing found".
pub fn query(argv: &[&str]) -> Result<Output> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    host::query(&argv).map_err(query_error)
}

/// Runs several declared queries at once; the host overlaps them.
pub fn query_all(argvs: Vec<Vec<String>>) -> Vec<Result<Output>> {
    host::query_all(&argvs)
        .into_iter()
        .map(|r| r.map_err(query_error))
        .collect()
}

/// A fixed number of queries at once, each result in its argv's place:
/// `let [list, remotes] = query_each([LIST, REMOTES])?;`. Fails only if the host answered
/// with another number of results; each query's own outcome is its element.
pub fn query_each<const N: usize, W: AsRef<str>>(argvs: [&[W]; N]) -> Result<[Result<Output>; N]> {
    let results = query_all(
        argvs
            .iter()
            .map(|argv| argv.iter().map(|w| w.as_ref().to_string()).collect())
            .collect(),
    );
    <[Result<Output>; N]>::try_from(results)
        .map_err(|_| Error::Failed("the host returned another number of results".into()))
}

/// A refused or failed query as the plugin error it becomes.
pub fn query_error(e: QueryError) -> Error {
    match e {
        QueryError::NotFound(msg) => Error::Unavailable(msg),
        QueryError::Refused(msg) => Error::Failed(format!("refused by the host: {msg}")),
        QueryError::Failed(msg) => Error::Failed(msg),
    }
}

/// Logs through the host (shown with `bkt -v`).
pub fn debug(message: &str) {
    host::log(Level::Debug, message);
}

/// An error naming a field of the manifest.
pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidManifest(InvalidManifest {
        field: field.into(),
        message: message.into(),
        line: 0,
        column: 0,
    })
}

/// A verb called with the wrong arguments.
pub fn usage(message: impl Into<String>) -> Error {
    Error::Failed(message.into())
}

/// A drifting item: what the manifest wants and what the machine has, as canonical text
/// (`None`: that side does not have it). The kind follows from which sides have it.
pub fn change(
    id: impl Into<String>,
    summary: impl Into<String>,
    wanted: Option<String>,
    live: Option<String>,
    scope: Scope,
    effects: Vec<Effect>,
) -> Change {
    let kind = match (&wanted, &live) {
        (Some(_), None) => ChangeKind::Missing,
        (None, Some(_)) => ChangeKind::Extra,
        _ => ChangeKind::Differs,
    };
    Change {
        id: id.into(),
        kind,
        summary: summary.into(),
        effects,
        wanted,
        live,
        live_is_default: false,
        scope,
        next_boot: false,
    }
}

/// An item on which the manifest and the machine agree.
pub fn agreed(id: impl Into<String>, value: impl Into<String>, scope: Scope) -> Agreed {
    Agreed {
        id: id.into(),
        value: value.into(),
        scope,
    }
}

/// An entry that is wrong, or whose tool failed.
pub fn problem(id: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        id: id.into(),
        message: message.into(),
        severity: Severity::Error,
    }
}

/// An entry that cannot be used here but is not wrong (its program is not installed).
pub fn warning(id: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        id: id.into(),
        message: message.into(),
        severity: Severity::Warning,
    }
}

/// An argv shape written as words: `{package}`, `{schema}`, `{word}` and `{value}` are
/// placeholders, a word ending in `{root}` is the system root after that prefix
/// (`--installroot={root}`), a word starting with `{root}/` a path under the root
/// (`{root}/proc/cmdline`), a word ending in `{word}` after a prefix a prefixed value
/// (`--append-if-missing={word}`), anything else is literal.
pub fn shape(words: &[&str]) -> Vec<Arg> {
    words
        .iter()
        .map(|w| match *w {
            "{package}" => Arg::PackageName,
            "{schema}" => Arg::Schema,
            "{word}" => Arg::Word,
            "{value}" => Arg::Value,
            w => {
                if let Some(prefix) = w.strip_suffix("{root}") {
                    Arg::Root(prefix.to_string())
                } else if let Some(path) = w.strip_prefix("{root}").filter(|p| p.starts_with('/')) {
                    Arg::UnderRoot(path.to_string())
                } else if let Some(prefix) = w.strip_suffix("{word}") {
                    Arg::Prefixed(prefix.to_string())
                } else {
                    Arg::Literal(w.to_string())
                }
            }
        })
        .collect()
}

/// A [`RunShape`] from words, as [`shape`] reads them.
pub fn run_shape(words: &[&str], scope: Scope) -> RunShape {
    RunShape {
        argv: shape(words),
        scope,
    }
}

/// Owned strings from string literals, for argv lists and capabilities.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A `run` effect.
pub fn run(program: &str, args: &[&str], scope: Scope) -> Effect {
    Effect::Run(Run {
        program: program.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        scope,
        batch: false,
    })
}

/// A `run` effect given as one argv, which the host may merge with the runs of neighbouring
/// changes that differ only in their last argument (`dnf install -y a b`).
pub fn run_batched(argv: &[String], scope: Scope) -> Effect {
    let (program, args) = argv
        .split_first()
        .map(|(p, a)| (p.clone(), a.to_vec()))
        .unwrap_or_default();
    Effect::Run(Run {
        program,
        args,
        scope,
        batch: true,
    })
}

/// The result of a verb that only edits the manifest.
pub fn edited(manifest: Option<String>, output: Vec<String>) -> EditResult {
    EditResult {
        manifest,
        output,
        changes: vec![],
    }
}
