//! Every capability check in one place: what a plugin declared (whole argv shapes, read and
//! write folders) against what it asks for. Pure, so it is tested alone; each refusal names
//! exactly what was not granted.

use super::fetches;
use crate::model::{Arg, Capabilities, Effect, RunShape, Scope, SystemRoot};
pub use crate::os::paths::is_clean_absolute;
use std::path::Path;

/// A plugin's declared capabilities, for the system root bkt operates on.
pub struct Grant<'a> {
    pub caps: &'a Capabilities,
    /// `/`, or the folder given with `--root`.
    pub root: &'a SystemRoot,
    /// The running user's home (empty without one): where `~/` paths lead.
    pub home: &'a str,
}

/// Why an effect may not run.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The plugin did not declare it: its whole plan is refused.
    Undeclared(String),
    /// Declared, but it cannot act inside the mounted root: this change is not applied.
    OutsideRoot(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Undeclared(why) | Refusal::OutsideRoot(why) => f.write_str(why),
        }
    }
}

impl Grant<'_> {
    /// `Ok` when `argv` fits one of the declared query shapes exactly.
    pub fn query(&self, argv: &[String]) -> Result<(), Refusal> {
        let Some(shape) = self
            .caps
            .queries
            .iter()
            .find(|shape| fits(shape, argv, self.root.as_text()))
        else {
            return Err(Refusal::Undeclared(format!(
                "`{}` fits none of its declared queries ({})",
                argv.join(" "),
                list(self.caps.queries.iter().map(|q| describe(q)))
            )));
        };
        self.no_links_under_root(shape)
    }

    /// The file a declared program `name` is, `~/` led to the user's home; `None` for a
    /// program the host looks up in the system folders. A `~/` program without a home is
    /// a path nothing can be at.
    pub fn program_path(&self, name: &str) -> Option<std::path::PathBuf> {
        let program = self.caps.program(name)?;
        Some(match program.path.strip_prefix("~/") {
            Some(rest) if !self.home.is_empty() => Path::new(self.home).join(rest),
            Some(_) => std::path::PathBuf::from("/nonexistent/home").join(&program.path[2..]),
            None => std::path::PathBuf::from(&program.path),
        })
    }

    /// With a mounted root, a path under it is read by a program on the host: a symlink on
    /// the way (`ROOT/etc/x -> /etc/passwd`) would lead it to a host file the image chose.
    /// Every `under-root` path must reach its end inside the root without one.
    fn no_links_under_root(&self, shape: &[Arg]) -> Result<(), Refusal> {
        if self.root.is_host() {
            return Ok(());
        }
        for arg in shape {
            if let Arg::UnderRoot(path) = arg
                && let Some(link) = first_link(self.root.path(), path)
            {
                return Err(Refusal::OutsideRoot(format!(
                    "{} in the root {} is a symlink, which could lead outside it; the host does not follow it",
                    link.display(),
                    self.root
                )));
            }
        }
        Ok(())
    }

    /// `Ok` when the plugin declared the effect and it can act on this root.
    pub fn effect(&self, effect: &Effect) -> Result<(), Refusal> {
        match effect {
            Effect::Run(run) => {
                let mut argv = Vec::with_capacity(run.args.len() + 1);
                argv.push(run.program.clone());
                argv.extend(run.args.iter().cloned());
                let Some(shape) =
                    self.caps.runs.iter().find(|s| {
                        s.scope == run.scope && fits(&s.argv, &argv, self.root.as_text())
                    })
                else {
                    return Err(Refusal::Undeclared(format!(
                        "runs `{}` as {}, which fits none of its declared programs ({})",
                        argv.join(" "),
                        scope_name(run.scope),
                        list(self.caps.runs.iter().map(describe_run))
                    )));
                };
                self.acts_in_root(shape, &argv)?;
                self.no_links_under_root(&shape.argv)
            }
            Effect::WriteFile(w) => self.file(&w.path, "writes"),
            Effect::RemoveFile(path) => self.file(path, "removes"),
            Effect::Fetch(f) => {
                self.fetch_source(&f.url)?;
                match &f.sha256 {
                    Some(sha)
                        if sha.len() != 64
                            || !sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) =>
                    {
                        return Err(Refusal::Undeclared(format!(
                            "fetches {} with {sha:?}, which is not a sha256 in lowercase hex",
                            f.url
                        )));
                    }
                    None if !f.url.starts_with("https://") => {
                        return Err(Refusal::Undeclared(format!(
                            "fetches {} without a sha256; only https URLs may go unchecked",
                            f.url
                        )));
                    }
                    _ => {}
                }
                self.file(&f.path, "fetches into")
            }
        }
    }

    /// A file effect's path: `~/...` inside a declared `~/` write folder, else an absolute
    /// path inside a declared one under the root.
    fn file(&self, path: &str, verb: &str) -> Result<(), Refusal> {
        let Some(rest) = path.strip_prefix("~/") else {
            return self.path(path, verb);
        };
        self.home_path(rest)?;
        // Like every user-scope effect: the home is the running user's, not the mounted
        // root's.
        if !self.root.is_host() {
            return Err(Refusal::OutsideRoot(format!(
                "{verb} ~/{rest}, in the running user's home, not the mounted root {}; run it without --root",
                self.root
            )));
        }
        Ok(())
    }

    /// A fetch's URL must come from a declared source, carry no spaces, control characters or
    /// escapes, and a `file://` one no `.` or `..`; a file in the user's home is the running
    /// user's, not the mounted root's.
    fn fetch_source(&self, url: &str) -> Result<(), Refusal> {
        let plain = !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\\' | '#'));
        let clean_file = url
            .strip_prefix("file://")
            .is_none_or(|path| is_clean_absolute(path) && !path.contains('%'));
        if !plain || !clean_file || !(url.starts_with("https://") || url.starts_with("file:///")) {
            return Err(Refusal::Undeclared(format!(
                "fetches {url:?}: only plain https:// and file:/// URLs are fetched"
            )));
        }
        let Some(source) = fetches::source_of(&self.caps.fetches, url, self.home) else {
            return Err(Refusal::Undeclared(format!(
                "fetches {url}, which is from none of its declared sources ({})",
                list(self.caps.fetches.iter().cloned())
            )));
        };
        if source.starts_with("file://~/") && !self.root.is_host() {
            return Err(Refusal::OutsideRoot(format!(
                "fetches {url} from the running user's home, not the mounted root {}; run it without --root",
                self.root
            )));
        }
        Ok(())
    }

    /// The bytes one fetch may bring.
    pub fn fetch_limit(&self) -> u64 {
        fetches::limit(self.caps.fetch_limit)
    }

    /// A `~/` path (given without the `~/`) inside a declared `~/` write folder.
    fn home_path(&self, rest: &str) -> Result<(), Refusal> {
        let clean = is_clean_absolute(&format!("/{rest}"));
        let allowed = clean
            && self.caps.writes.iter().any(|w| {
                w.strip_prefix("~/").is_some_and(|prefix| {
                    is_clean_absolute(&format!("/{prefix}")) && Path::new(rest).starts_with(prefix)
                })
            });
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Undeclared(format!(
                "writes ~/{rest}, outside its declared write paths ({})",
                list(self.caps.writes.iter().cloned())
            )))
        }
    }

    /// With `--root`, a run must point its program at the root (its shape has a `root` arg),
    /// and user settings cannot be changed at all: they live in the running user's session.
    fn acts_in_root(&self, shape: &RunShape, argv: &[String]) -> Result<(), Refusal> {
        if self.root.is_host() {
            return Ok(());
        }
        if shape.scope == Scope::User {
            return Err(Refusal::OutsideRoot(format!(
                "`{}` changes the running user's settings, not the mounted root {}; run it without --root",
                argv.join(" "),
                self.root
            )));
        }
        if !shape
            .argv
            .iter()
            .any(|a| matches!(a, Arg::Root(_) | Arg::UnderRoot(_)))
        {
            return Err(Refusal::OutsideRoot(format!(
                "`{}` acts on the running system, not inside the mounted root {}; run it without --root",
                argv.join(" "),
                self.root
            )));
        }
        Ok(())
    }

    fn path(&self, path: &str, verb: &str) -> Result<(), Refusal> {
        if !is_clean_absolute(path) {
            return Err(Refusal::Undeclared(format!(
                "{verb} {path:?}: paths must be absolute, without `.` or `..`"
            )));
        }
        let allowed = self
            .caps
            .writes
            .iter()
            .any(|prefix| is_clean_absolute(prefix) && Path::new(path).starts_with(prefix));
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Undeclared(format!(
                "{verb} {path}, outside its declared write paths ({})",
                list(self.caps.writes.iter().cloned())
            )))
        }
    }
}

/// Whether `argv` is exactly `shape`: the same number of words, each fitting its arg.
fn fits(shape: &[Arg], argv: &[String], root: &str) -> bool {
    shape.len() == argv.len() && shape.iter().zip(argv).all(|(a, w)| fits_arg(a, w, root))
}

fn fits_arg(arg: &Arg, word: &str, root: &str) -> bool {
    let plain = |w: &str| !w.is_empty() && !w.starts_with('-') && !w.chars().any(char::is_control);
    match arg {
        Arg::Literal(l) => word == l,
        Arg::PackageName => {
            plain(word)
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        }
        Arg::Schema => plain(word) && is_schema(word),
        Arg::Word => plain(word),
        Arg::Value => !word.chars().any(char::is_control),
        Arg::Root(prefix) => word.strip_prefix(prefix.as_str()) == Some(root),
        Arg::UnderRoot(path) => is_clean_absolute(path) && word == under_root(root, path),
        Arg::Prefixed(prefix) => word
            .strip_prefix(prefix.as_str())
            .is_some_and(|v| !v.is_empty() && !v.chars().any(char::is_control)),
    }
}

/// The first symlink on the way from `root` to `path` (absolute) beneath it, if any. A
/// missing part ends the walk: the program finds nothing there either.
fn first_link(root: &Path, path: &str) -> Option<std::path::PathBuf> {
    let mut at = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(at),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// `path` (absolute) under `root`: itself when the root is `/`.
fn under_root(root: &str, path: &str) -> String {
    if root == "/" {
        path.to_string()
    } else {
        format!("{}{path}", root.trim_end_matches('/'))
    }
}

/// `org.gnome.desktop.interface`, or a relocatable one with its path: `org.x.y:/org/x/y/`.
fn is_schema(word: &str) -> bool {
    let (id, path) = match word.split_once(':') {
        Some((id, path)) => (id, Some(path)),
        None => (word, None),
    };
    let id_ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
    let path_ok = path.is_none_or(|p| {
        p.starts_with('/')
            && p.ends_with('/')
            && !p.contains("//")
            && !p.contains("/./")
            && !p.contains("/../")
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/.-_".contains(c))
    });
    id_ok && path_ok
}

crate::os::reason!(
    /// Why a declaration cannot be used, whatever the plugin would do with it.
    Unusable
);

/// Sanity of a declaration, checked when the plugin loads: every shape names its program as
/// a plain literal word (the host resolves it), and placeholders are not the program.
pub fn check_declared(caps: &Capabilities) -> Result<(), Unusable> {
    let shapes = caps
        .queries
        .iter()
        .map(|q| q.as_slice())
        .chain(caps.runs.iter().map(|r| r.argv.as_slice()));
    for program in &caps.programs {
        check_program(program)?;
        if caps
            .programs
            .iter()
            .filter(|p| p.name == program.name)
            .count()
            > 1
        {
            return Err(Unusable(format!(
                "the program {:?} is declared twice",
                program.name
            )));
        }
    }
    for shape in shapes {
        match shape.first() {
            Some(Arg::Literal(p)) if is_bare(p) => {}
            _ => {
                return Err(Unusable(format!(
                    "the shape `{}` must start with a program name (a plain word, no `/`)",
                    describe(shape)
                )));
            }
        }
    }
    for shape in caps
        .queries
        .iter()
        .map(|q| q.as_slice())
        .chain(caps.runs.iter().map(|r| r.argv.as_slice()))
    {
        check_values(shape)?;
    }
    for source in &caps.fetches {
        fetches::check_source(source).map_err(Unusable)?;
    }
    if caps.fetch_limit > fetches::MAX_LIMIT {
        return Err(Unusable(format!(
            "fetch limit {} bytes is more than the {} MiB bkt allows",
            caps.fetch_limit,
            fetches::MAX_LIMIT >> 20
        )));
    }
    for path in caps.writes.iter() {
        if let Some(rest) = path.strip_prefix("~/") {
            if rest.is_empty() || !is_clean_absolute(&format!("/{rest}")) {
                return Err(Unusable(format!(
                    "write path {path:?} must name a folder below ~/, without `.` or `..`"
                )));
            }
            continue;
        }
        if !is_clean_absolute(path) || path == "/" {
            return Err(Unusable(format!(
                "write path {path:?} must be an absolute folder below /, without `.` or `..`"
            )));
        }
    }
    Ok(())
}

/// A word that can only be a program's name: no path, no option, nothing hidden.
fn is_bare(word: &str) -> bool {
    !word.is_empty()
        && word != "."
        && word != ".."
        && !word.contains('/')
        && !word.starts_with('-')
        && !word.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A program declared outside the system folders: a bare name that is not one of the tools
/// the host gives settings to, at a clean absolute or `~/` path.
fn check_program(program: &crate::model::Program) -> Result<(), Unusable> {
    let name = &program.name;
    if !is_bare(name) {
        return Err(Unusable(format!(
            "the program name {name:?} must be a plain word (no `/`, no leading `-`)"
        )));
    }
    if !crate::os::process::passed_through(name).is_empty() || ELEVATORS.contains(&name.as_str()) {
        return Err(Unusable(format!(
            "the program name {name:?} is one bkt finds in the system folders itself; declare \
             another name"
        )));
    }
    let path = &program.path;
    let clean = match path.strip_prefix("~/") {
        Some(rest) => !rest.is_empty() && is_clean_absolute(&format!("/{rest}")),
        None => is_clean_absolute(path) && path != "/",
    };
    if !clean || path.ends_with('/') {
        return Err(Unusable(format!(
            "the program {name} is at {path:?}: it must be an absolute path or one below ~/, \
             to a file, without `.` or `..`"
        )));
    }
    Ok(())
}

/// Programs that run other programs as root: never a plugin's to redefine.
const ELEVATORS: &[&str] = &["sudo", "pkexec", "run0", "doas", "su"];

/// `value` (any word, options included) only where the program cannot read it as an option:
/// after a literal `--`, or where the host knows the program reads operands. Anywhere else it
/// would let a plugin pass `-o/some/file` to a program that takes it.
fn check_values(shape: &[Arg]) -> Result<(), Unusable> {
    let program = match shape.first() {
        Some(Arg::Literal(p)) => p.as_str(),
        _ => "",
    };
    for (i, arg) in shape.iter().enumerate() {
        if *arg != Arg::Value {
            continue;
        }
        let after_dashes = shape[..i].iter().any(|a| *a == Arg::Literal("--".into()));
        if !after_dashes && !is_operand(program, i) {
            return Err(Unusable(format!(
                "the shape `{}` admits any word (VALUE) where {program} may read it as an option; \
                 put a literal `--` before it, or use a prefixed or plain word",
                describe(shape)
            )));
        }
    }
    Ok(())
}

/// Positions the host knows a program reads as operands, never options: gsettings reads its
/// one option (`--schemadir`) only before the command, and every word after it positionally.
fn is_operand(program: &str, position: usize) -> bool {
    program == "gsettings" && position >= 2
}

/// bkt's own folders are its own: a declared read or write folder may neither contain nor lie
/// inside any of `protected` (bkt's state, cache, config and plugin folders, the repository).
/// Otherwise a plugin's planned write could replace bkt's compiled code or records, and a
/// read could take another plugin's secrets. Compared as the folders are on this machine:
/// `~/` paths under the user's home (and XDG folders), absolute ones under the root, both
/// also with symlinks resolved where they exist.
pub fn check_folders(
    caps: &Capabilities,
    root: &SystemRoot,
    home: &str,
    protected: &[(std::path::PathBuf, std::path::PathBuf)],
) -> Result<(), Unusable> {
    let fetched: Vec<String> = caps
        .fetches
        .iter()
        .filter_map(|s| fetches::source_folder(s))
        .collect();
    let declared = caps
        .reads
        .iter()
        .map(|p| ("read", p))
        .chain(caps.writes.iter().map(|p| ("write", p)))
        .chain(fetched.iter().map(|p| ("fetch", p)));
    for (kind, path) in declared {
        let Some(host) = host_path(root, home, path) else {
            continue;
        };
        let real = real_path(&host);
        for (own, own_real) in protected {
            if overlaps(&host, own) || overlaps(&real, own_real) {
                return Err(Unusable(format!(
                    "its {kind} folder {path} ({}) would reach bkt's own {}: a plugin may not \
                     touch bkt's state, cache, config, plugin folders or the repository",
                    host.display(),
                    own.display()
                )));
            }
        }
    }
    Ok(())
}

/// Where a declared folder lies on this machine; `None` for a `~/` path without a home.
fn host_path(root: &SystemRoot, home: &str, path: &str) -> Option<std::path::PathBuf> {
    match path.strip_prefix("~/") {
        Some(_) if !home.starts_with('/') => None,
        Some(rest) => {
            let (base, rest) = crate::os::paths::xdg_base(home, rest);
            Some(base.join(rest))
        }
        None => Some(root.join(path)),
    }
}

/// `path` with symlinks resolved where it exists, else as written.
pub fn real_path(path: &Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Whether one folder holds the other.
fn overlaps(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// A shape as the trust screen and `plugin list` show it: `dnf install -y PACKAGE`.
pub fn describe(shape: &[Arg]) -> String {
    shape
        .iter()
        .map(|a| match a {
            Arg::Literal(l) => crate::os::text::quote(l),
            Arg::PackageName => "PACKAGE".into(),
            Arg::Schema => "SCHEMA".into(),
            Arg::Word => "WORD".into(),
            Arg::Value => "VALUE".into(),
            Arg::Root(prefix) => format!("{}ROOT", quote_prefix(prefix)),
            Arg::UnderRoot(path) => format!("ROOT{}", quote_prefix(path)),
            Arg::Prefixed(prefix) => format!("{}TEXT", quote_prefix(prefix)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fixed part beside a placeholder, quoted only when it holds something to quote: an
/// empty prefix (`--root ROOT`) shows nothing, not `''`.
fn quote_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        crate::os::text::quote(prefix)
    }
}

/// What each placeholder in `shapes` admits, one line each, for the trust screen: a shape is
/// only as narrow as its placeholders.
pub fn legend<'a>(shapes: impl Iterator<Item = &'a [Arg]>) -> Vec<&'static str> {
    let mut seen = [false; 6];
    for arg in shapes.flatten() {
        let slot = match arg {
            Arg::PackageName => 0,
            Arg::Schema => 1,
            Arg::Word => 2,
            Arg::Value => 3,
            Arg::Prefixed(_) => 4,
            Arg::Root(_) | Arg::UnderRoot(_) => 5,
            Arg::Literal(_) => continue,
        };
        seen[slot] = true;
    }
    const LINES: [&str; 6] = [
        "PACKAGE  a package name: letters, digits and ._+-, never an option",
        "SCHEMA   a gsettings schema id",
        "WORD     one word that does not start with - (never an option)",
        "VALUE    any one word, options included: only after -- or where the program reads operands",
        "…TEXT    any text joined to the option before it, as one word (its value)",
        "ROOT     the folder given with --root (/ without it); paths under it are not followed through symlinks",
    ];
    LINES
        .iter()
        .zip(seen)
        .filter(|(_, s)| *s)
        .map(|(line, _)| *line)
        .collect()
}

/// A run shape with the user it runs as.
pub fn describe_run(shape: &RunShape) -> String {
    format!("{} (as {})", describe(&shape.argv), scope_name(shape.scope))
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::User => "the user",
        Scope::System => "root",
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Run;

    fn lit(w: &str) -> Arg {
        Arg::Literal(w.into())
    }

    fn caps() -> Capabilities {
        Capabilities {
            queries: vec![
                vec![lit("rpm"), lit("-qa")],
                vec![
                    lit("rpm"),
                    lit("-qa"),
                    lit("--root"),
                    Arg::Root(String::new()),
                ],
                vec![lit("gsettings"), lit("list-recursively"), Arg::Schema],
            ],
            runs: vec![
                RunShape {
                    argv: vec![lit("dnf"), lit("install"), lit("-y"), Arg::PackageName],
                    scope: Scope::System,
                },
                RunShape {
                    argv: vec![
                        lit("dnf"),
                        lit("install"),
                        lit("-y"),
                        Arg::Root("--installroot=".into()),
                        Arg::PackageName,
                    ],
                    scope: Scope::System,
                },
                RunShape {
                    argv: vec![
                        lit("gsettings"),
                        lit("set"),
                        Arg::Schema,
                        Arg::Word,
                        Arg::Value,
                    ],
                    scope: Scope::User,
                },
            ],
            reads: vec![],
            writes: vec!["/etc/bkt/".into()],
            ..Capabilities::default()
        }
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    fn grant<'a>(caps: &'a Capabilities, root: &str) -> Grant<'a> {
        // Each test's root lives as long as the test: leaked, not worth the lifetimes.
        let root = Box::leak(Box::new(SystemRoot::at(root.into())));
        Grant {
            caps,
            root,
            home: "/home/u",
        }
    }

    fn run(s: &str, scope: Scope) -> Effect {
        let words = argv(s);
        Effect::Run(Run {
            program: words[0].clone(),
            args: words[1..].to_vec(),
            scope,
            batch: false,
            declared_path: None,
        })
    }

    #[test]
    fn queries_must_fit_a_whole_shape() {
        let c = caps();
        let g = grant(&c, "/");
        assert!(g.query(&argv("rpm -qa")).is_ok());
        for hostile in [
            "rpm -qa --pipe sh",
            "rpm -qa --eval %(id)",
            "rpm",
            "gsettings list-recursively --help",
            "gsettings list-recursively org.x:/../etc/",
            "flatpak list",
        ] {
            let refusal = g.query(&argv(hostile)).expect_err(hostile);
            assert!(refusal.to_string().contains(hostile), "{refusal}");
        }
        assert!(g.query(&[]).is_err());
        assert!(
            g.query(&argv(
                "gsettings list-recursively org.gnome.x:/org/gnome/x/"
            ))
            .is_ok()
        );
        let mounted = grant(&c, "/mnt/img");
        assert!(mounted.query(&argv("rpm -qa --root /mnt/img")).is_ok());
        assert!(mounted.query(&argv("rpm -qa --root /")).is_err());
    }

    #[test]
    fn paths_under_the_root_and_prefixed_values() {
        let mut c = caps();
        c.queries
            .push(vec![lit("cat"), Arg::UnderRoot("/proc/cmdline".into())]);
        c.queries
            .push(vec![lit("k"), Arg::Prefixed("--append-if-missing=".into())]);
        let g = grant(&c, "/");
        assert!(g.query(&argv("cat /proc/cmdline")).is_ok());
        assert!(g.query(&argv("cat /etc/shadow")).is_err());
        assert!(g.query(&argv("k --append-if-missing=quiet")).is_ok());
        assert!(g.query(&argv("k --append-if-missing=")).is_err());
        assert!(g.query(&argv("k --delete-if-present=quiet")).is_err());
        let mounted = grant(&c, "/mnt/img/");
        assert!(mounted.query(&argv("cat /mnt/img/proc/cmdline")).is_ok());
        assert!(mounted.query(&argv("cat /proc/cmdline")).is_err());
    }

    #[test]
    fn paths_under_a_mounted_root_do_not_follow_its_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("etc/hostile")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("etc/hostile/abs-link")).unwrap();
        std::fs::write(root.join("etc/hostile/plain"), "x").unwrap();
        let mut c = caps();
        for path in ["/etc/hostile/abs-link", "/etc/hostile/plain"] {
            c.queries
                .push(vec![lit("cat"), Arg::UnderRoot(path.into())]);
        }
        let g = grant(&c, root.to_str().unwrap());
        let r = root.display();
        assert!(
            g.query(&argv(&format!("cat {r}/etc/hostile/plain")))
                .is_ok()
        );
        assert!(matches!(
            g.query(&argv(&format!("cat {r}/etc/hostile/abs-link"))),
            Err(Refusal::OutsideRoot(_))
        ));
    }

    #[test]
    fn effects_need_a_declared_shape_scope_and_path() {
        let c = caps();
        let g = grant(&c, "/");
        assert!(g.effect(&run("dnf install -y htop", Scope::System)).is_ok());
        let undeclared = |e: &Effect| matches!(g.effect(e), Err(Refusal::Undeclared(_)));
        assert!(undeclared(&run("dnf install -y htop", Scope::User)));
        assert!(undeclared(&run(
            "dnf install -y -c/tmp/x htop",
            Scope::System
        )));
        assert!(undeclared(&run(
            "dnf install -y --nogpgcheck",
            Scope::System
        )));
        assert!(undeclared(&run("rm -rf /", Scope::System)));
        assert!(
            g.effect(&run("gsettings set org.a k -5", Scope::User))
                .is_ok(),
            "a value may start with -"
        );
        assert!(g.effect(&Effect::RemoveFile("/etc/bkt/x".into())).is_ok());
        for bad in ["/etc/bktx", "/etc/bkt/../passwd", "etc/bkt/x"] {
            assert!(undeclared(&Effect::RemoveFile(bad.into())), "{bad}");
        }
    }

    #[test]
    fn with_a_root_only_effects_that_act_inside_it_run() {
        let c = caps();
        let g = grant(&c, "/mnt/img");
        let outside = |e: &Effect| matches!(g.effect(e), Err(Refusal::OutsideRoot(_)));
        assert!(outside(&run("dnf install -y htop", Scope::System)));
        assert!(outside(&run("gsettings set org.a k 1", Scope::User)));
        assert!(
            g.effect(&run(
                "dnf install -y --installroot=/mnt/img htop",
                Scope::System
            ))
            .is_ok()
        );
        assert!(matches!(
            g.effect(&run("dnf install -y --installroot=/ htop", Scope::System)),
            Err(Refusal::Undeclared(_))
        ));
        // A fetch into the running user's home is a user-scope effect: not with a root.
        let mut c = caps();
        c.writes.push("~/.local/share/x/".into());
        c.fetches.push("https://example.org/".into());
        let fetch = |url: &str| {
            Effect::Fetch(crate::model::Fetch {
                url: url.into(),
                sha256: Some("0".repeat(64)),
                path: "~/.local/share/x/x.zip".into(),
                max_bytes: 0,
            })
        };
        // So are writes and removals there: inside a declared `~/` folder, never with a root.
        let write = |path: &str| {
            Effect::WriteFile(crate::model::WriteFile {
                path: path.into(),
                contents: vec![],
                mode: 0o755,
            })
        };
        let home_file = write("~/.local/share/x/shim");
        assert_eq!(home_file.scope(), Scope::User);
        assert!(grant(&c, "/").effect(&home_file).is_ok());
        assert!(
            grant(&c, "/")
                .effect(&Effect::RemoveFile("~/.local/share/x/shim".into()))
                .is_ok()
        );
        assert!(matches!(
            grant(&c, "/mnt/img").effect(&home_file),
            Err(Refusal::OutsideRoot(_))
        ));
        for bad in [
            "~/.bashrc",
            "~/.local/share/x/../../.bashrc",
            "~/.local/share/y/shim",
        ] {
            assert!(
                matches!(
                    grant(&c, "/").effect(&write(bad)),
                    Err(Refusal::Undeclared(_))
                ),
                "{bad}"
            );
        }
        let from_example = fetch("https://example.org/x.zip");
        assert!(matches!(
            grant(&c, "/mnt/img").effect(&from_example),
            Err(Refusal::OutsideRoot(_))
        ));
        assert!(grant(&c, "/").effect(&from_example).is_ok());
        // Only from a declared source, and a file only from a declared folder.
        for url in [
            "https://example.net/x.zip",
            "https://example.org.evil.net/x.zip",
            "file:///etc/shadow",
            "file:///home/u/x.zip",
        ] {
            assert!(
                matches!(
                    grant(&c, "/").effect(&fetch(url)),
                    Err(Refusal::Undeclared(_))
                ),
                "{url}"
            );
        }
        c.fetches.push("file://~/zips/".into());
        assert!(
            grant(&c, "/")
                .effect(&fetch("file:///home/u/zips/x.zip"))
                .is_ok()
        );
        for url in [
            "file:///home/u/zips/../.ssh/id_rsa",
            "file:///home/u/zips/%2e%2e/x",
        ] {
            assert!(grant(&c, "/").effect(&fetch(url)).is_err(), "{url}");
        }
    }

    #[test]
    fn a_value_is_admitted_only_where_no_option_is_read() {
        let with = |shape: Vec<Arg>| {
            let mut c = caps();
            c.runs.push(RunShape {
                argv: shape,
                scope: Scope::User,
            });
            check_declared(&c)
        };
        assert!(with(vec![lit("sort"), Arg::Value]).is_err());
        assert!(with(vec![lit("sort"), lit("--"), Arg::Value]).is_ok());
        assert!(
            with(vec![
                lit("gsettings"),
                lit("set"),
                Arg::Schema,
                Arg::Word,
                Arg::Value
            ])
            .is_ok()
        );
        assert!(with(vec![lit("gsettings"), Arg::Value]).is_err());
        // A prefixed value is one word: spaces are part of the option's value.
        let mut c = caps();
        c.runs.push(RunShape {
            argv: vec![lit("flatpak"), Arg::Prefixed("--env=".into())],
            scope: Scope::User,
        });
        let g = grant(&c, "/");
        assert!(
            g.effect(&Effect::Run(crate::model::Run {
                program: "flatpak".into(),
                args: vec!["--env=A=b c".into()],
                scope: Scope::User,
                batch: false,
                declared_path: None,
            }))
            .is_ok()
        );
    }

    #[test]
    fn declarations_name_their_program() {
        let mut c = caps();
        assert!(check_declared(&c).is_ok());
        c.queries.push(vec![Arg::Word]);
        assert!(check_declared(&c).is_err());
        let mut c = caps();
        c.runs[0].argv[0] = lit("/tmp/evil");
        assert!(check_declared(&c).is_err());
        let mut c = caps();
        c.writes.push("/".into());
        assert!(check_declared(&c).is_err());
    }

    #[test]
    fn programs_outside_the_system_folders_are_named_and_placed_cleanly() {
        let program = |name: &str, path: &str| crate::model::Program {
            name: name.into(),
            path: path.into(),
        };
        let with = |p: crate::model::Program| {
            let mut c = caps();
            c.programs.push(p);
            check_declared(&c)
        };
        assert!(with(program("brew", "/home/linuxbrew/.linuxbrew/bin/brew")).is_ok());
        assert!(with(program("mise", "~/.local/bin/mise")).is_ok());
        for (name, path) in [
            ("bin/brew", "/opt/brew"),
            ("-brew", "/opt/brew"),
            ("sudo", "/opt/sudo"),
            ("gsettings", "/opt/gsettings"),
            ("brew", "brew"),
            ("brew", "/opt/../bin/sh"),
            ("brew", "~/"),
            ("brew", "/opt/bin/"),
        ] {
            assert!(with(program(name, path)).is_err(), "{name} {path}");
        }
        let mut c = caps();
        c.programs.push(program("brew", "/a/brew"));
        c.programs.push(program("brew", "/b/brew"));
        assert!(check_declared(&c).is_err());
        // Its path, with `~/` led to the user's home.
        c.programs.pop();
        c.programs.push(program("tool", "~/bin/tool"));
        let g = grant(&c, "/");
        assert_eq!(g.program_path("brew").unwrap(), Path::new("/a/brew"));
        assert_eq!(
            g.program_path("tool").unwrap(),
            Path::new("/home/u/bin/tool")
        );
        assert_eq!(g.program_path("rpm"), None);
    }
}
