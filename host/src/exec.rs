//! Running effects: argv without a shell, privilege by scope, files through the root `Dir`.

use crate::repo::atomic;
use crate::runtime::bindings::{Effect, Run, Scope};
use anyhow::{Context as _, Result};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How system-scope effects get root when bkt is not root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Elevator {
    Sudo,
    Pkexec,
    Run0,
}

impl Elevator {
    fn prefix(self) -> &'static [&'static str] {
        match self {
            Elevator::Sudo => &["sudo", "--"],
            Elevator::Pkexec => &["pkexec"],
            Elevator::Run0 => &["run0"],
        }
    }
}

/// Which effects a run does: the boot-time system unit does only system ones, the user unit
/// only user ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScopeFilter {
    #[default]
    All,
    System,
    User,
}

impl ScopeFilter {
    pub fn allows(self, scope: Scope) -> bool {
        matches!(
            (self, scope),
            (ScopeFilter::All, _)
                | (ScopeFilter::System, Scope::System)
                | (ScopeFilter::User, Scope::User)
        )
    }
}

pub fn effect_scope(effect: &Effect) -> Scope {
    match effect {
        Effect::Run(r) => r.scope,
        Effect::WriteFile(_) | Effect::RemoveFile(_) => Scope::System,
    }
}

pub struct Executor {
    pub elevator: Elevator,
    root: PathBuf,
    euid: u32,
    /// Set when bkt runs as root on someone's behalf (sudo, pkexec).
    invoked_by: Option<String>,
}

/// The effective user id, from /proc (std has no getter).
pub fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).and_then(|e| e.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

impl Executor {
    pub fn new(elevator: Elevator, root: &Path) -> Executor {
        let invoked_by = std::env::var("SUDO_USER")
            .ok()
            .or_else(|| std::env::var("PKEXEC_UID").ok())
            .filter(|u| !u.is_empty() && u != "root" && u != "0");
        Executor {
            elevator,
            root: root.to_path_buf(),
            euid: euid(),
            invoked_by,
        }
    }

    /// How an effect reads as a command line.
    pub fn describe(effect: &Effect) -> String {
        match effect {
            Effect::Run(r) => {
                let mut words = vec![quote(&r.program)];
                words.extend(r.args.iter().map(|a| quote(a)));
                let prefix = if r.scope == Scope::System { "# " } else { "$ " };
                format!("{prefix}{}", words.join(" "))
            }
            Effect::WriteFile(w) => format!(
                "write {} ({} bytes, mode {:o})",
                w.path,
                w.contents.len(),
                w.mode
            ),
            Effect::RemoveFile(p) => format!("remove {p}"),
        }
    }

    pub fn run(&self, effect: &Effect) -> Result<()> {
        match effect {
            Effect::Run(r) => self.run_program(r),
            Effect::WriteFile(w) => {
                let (dir, name) = self
                    .parent_dir(&w.path, true)?
                    .context("the folder was just created")?;
                atomic::write_in(&dir, &name, &w.contents, atomic::Mode::Exactly(w.mode))
            }
            Effect::RemoveFile(path) => {
                // No folder, no file: already removed.
                let Some((dir, name)) = self.parent_dir(path, false)? else {
                    return Ok(());
                };
                match dir.remove_file(&name) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(e).with_context(|| format!("removing {path}"))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The folder holding `path` (absolute, under the root) as a capability, and the name;
    /// `None` when the folder does not exist and `create` is false.
    fn parent_dir(&self, path: &str, create: bool) -> Result<Option<(Dir, String)>> {
        let root = Dir::open_ambient_dir(&self.root, ambient_authority())
            .with_context(|| format!("opening the root {}", self.root.display()))?;
        let rel = Path::new(path.trim_start_matches('/'));
        let name = rel
            .file_name()
            .context("a file effect needs a file name")?
            .to_string_lossy()
            .into_owned();
        let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) else {
            return Ok(Some((root, name)));
        };
        if create {
            root.create_dir_all(parent)
                .with_context(|| format!("creating /{}", parent.display()))?;
        }
        match root.open_dir(parent) {
            Ok(dir) => Ok(Some((dir, name))),
            Err(e) if !create && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("opening /{}", parent.display())),
        }
    }

    fn run_program(&self, r: &Run) -> Result<()> {
        let mut argv: Vec<String> = Vec::new();
        match r.scope {
            Scope::System if self.euid != 0 => {
                argv.extend(self.elevator.prefix().iter().map(|s| s.to_string()))
            }
            Scope::User if self.euid == 0 && self.invoked_by.is_some() => {
                anyhow::bail!(
                    "skipped: user settings are not changed as root; run `bkt apply --scope user` as {}",
                    self.invoked_by.as_deref().unwrap_or("yourself")
                );
            }
            _ => {}
        }
        argv.push(r.program.clone());
        argv.extend(r.args.iter().cloned());
        tracing::debug!(target: "bkt::exec", "run: {}", argv.join(" "));
        let out = match Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && argv[0] != r.program => {
                anyhow::bail!(
                    "{} is not installed here, and changing the system needs root: run bkt as root, or choose another way with --elevator (sudo, pkexec, run0)",
                    argv[0]
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                anyhow::bail!("{} is not installed here", argv[0])
            }
            Err(e) => return Err(e).with_context(|| format!("cannot run {}", argv[0])),
        };
        if out.status.success() {
            return Ok(());
        }
        let detail = failure_detail(&out.stderr, &out.stdout);
        match out.status.code() {
            Some(code) => anyhow::bail!(
                "{} exited with {code}{}",
                r.program,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ),
            None => anyhow::bail!("{} was killed by a signal", r.program),
        }
    }
}

/// What a failed program said, in its own words: the lines of stderr (or stdout, when stderr
/// is empty) that carry words, not a caret or a blank pointing at a column, joined on one
/// line and kept short.
pub fn failure_detail(stderr: &[u8], stdout: &[u8]) -> String {
    let pick = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(str::trim)
            .filter(|l| l.chars().any(char::is_alphanumeric))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let mut lines = pick(stderr);
    if lines.is_empty() {
        lines = pick(stdout);
    }
    let mut text = lines.join(" / ");
    if text.chars().count() > 600 {
        text = text.chars().take(600).collect::<String>() + " …";
    }
    text
}

/// Shell-style quoting for display only (nothing here is run through a shell).
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        word.to_string()
    } else if word.contains('\'') && !word.contains(['"', '$', '`', '\\', '!']) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod failure_tests {
    #[test]
    fn the_program_s_words_not_its_caret() {
        let gsettings = b"0-1:unknown keyword:\n\n  5x\n  ^\n";
        assert_eq!(
            super::failure_detail(gsettings, b""),
            "0-1:unknown keyword: / 5x"
        );
        let dnf = b"No match for argument: nosuchpkg\nError: Unable to find a match: nosuchpkg\n";
        assert_eq!(
            super::failure_detail(dnf, b""),
            "No match for argument: nosuchpkg / Error: Unable to find a match: nosuchpkg"
        );
    }
}
