//! Which file a plugin's program name means, and the environment it runs in. The host
//! resolves the name itself, from system folders, never through a PATH the caller controls:
//! at boot bkt is root, and under `sudo -E` the PATH is a user's.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where programs are looked up, in order; also the PATH programs get.
pub const SYSTEM_FOLDERS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Folders searched instead of the system ones (colon-separated), for test doubles of
/// programs a test machine lacks, or to test without a program. Only folders that root or
/// bkt's user alone can change are used, so the variable cannot hand root a user's program;
/// when none is usable, the system folders are searched.
pub const FOLDERS_VAR: &str = "BKT_PROGRAM_PATH";

const GNOME: &[&str] = &[
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_DIRS",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "GSETTINGS_BACKEND",
    "GSETTINGS_SCHEMA_DIR",
];

/// The variables a tool needs beyond PATH and the locale, by program: where a user's
/// settings, data and session bus are. Every other variable is cleared, so nothing in bkt's
/// environment (LD_PRELOAD, RPM_CONFIGDIR, DNF_* ...) changes what a query does. Programs not
/// listed (rpm, dnf, rpm-ostree, bootc) get nothing extra.
const TOOL_ENV: &[(&str, &[&str])] = &[
    ("gsettings", GNOME),
    ("dconf", GNOME),
    ("gnome-extensions", GNOME),
    ("flatpak", &["HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS"]),
    (
        "notify-send",
        &["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"],
    ),
    (
        "systemctl",
        &["HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"],
    ),
];

/// The variables passed through to `program`.
pub fn passed_through(program: &str) -> &'static [&'static str] {
    TOOL_ENV
        .iter()
        .find(|(name, _)| *name == program)
        .map_or(&[], |(_, vars)| vars)
}

/// The whole environment `program` runs with: PATH (the folders programs are resolved from),
/// LC_ALL (tools translate their messages; plugins parse them) and the variables the tool
/// needs, read through `get`.
pub fn environment(
    program: &str,
    folders: &[PathBuf],
    get: impl Fn(&str) -> Option<OsString>,
) -> Vec<(String, OsString)> {
    let path = std::env::join_paths(folders).unwrap_or_else(|_| SYSTEM_FOLDERS.join(":").into());
    let mut env = vec![
        ("PATH".to_string(), path),
        ("LC_ALL".to_string(), OsString::from("C.UTF-8")),
    ];
    for var in passed_through(program) {
        if let Some(value) = get(var) {
            env.push((var.to_string(), value));
        }
    }
    env
}

/// Why a program name cannot be resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// Not a bare name: a path, empty, `.` or `..`.
    NotBare,
    /// In none of the folders.
    NotFound,
}

/// The executable file `program` names in the first of `folders` that has one.
pub fn resolve_in(program: &str, folders: &[PathBuf]) -> Result<PathBuf, Unresolved> {
    if program.is_empty() || program == "." || program == ".." || program.contains('/') {
        return Err(Unresolved::NotBare);
    }
    folders
        .iter()
        .map(|f| f.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or(Unresolved::NotFound)
}

/// The folders of this run, worked out once: the accepted `BKT_PROGRAM_PATH` folders, or
/// the system ones. A refused folder is reported once, with the reason.
pub fn folders() -> &'static [PathBuf] {
    static FOLDERS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FOLDERS.get_or_init(|| {
        let value = std::env::var_os(FOLDERS_VAR).unwrap_or_default();
        let (accepted, refused) = chosen_folders(&value);
        for (dir, why) in refused {
            tracing::warn!(
                "{FOLDERS_VAR}: not running programs from {}: {why}",
                dir.display()
            );
        }
        if accepted.is_empty() {
            SYSTEM_FOLDERS.iter().map(PathBuf::from).collect()
        } else {
            accepted
        }
    })
}

/// The entries of a `BKT_PROGRAM_PATH` value that may be used (canonical), and the others
/// with the reason. Relative and empty entries are refused: they would depend on the working
/// directory.
fn chosen_folders(value: &std::ffi::OsStr) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for dir in std::env::split_paths(value) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        if !dir.is_absolute() {
            refused.push((dir, "not an absolute path".to_string()));
            continue;
        }
        match super::identity::trusted_folder(&dir) {
            Ok(real) => accepted.push(real),
            Err(why) => refused.push((dir, why.0)),
        }
    }
    (accepted, refused)
}

/// `program` resolved against this run's folders.
pub fn resolve(program: &str) -> Result<PathBuf, Unresolved> {
    resolve_in(program, folders())
}

/// The folders programs are resolved from, PATH-style (for messages).
pub fn searched() -> String {
    folders()
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// A command for `path` (what `name` resolved to) the way bkt runs every program: argv[0]
/// is the bare name, the environment is cleared down to what the tool needs
/// ([`environment`]), and stdin is empty.
pub fn cleared(name: &str, path: &Path) -> Command {
    let mut cmd = Command::new(path);
    cmd.arg0(name);
    clear_for(&mut cmd, name);
    cmd
}

/// The file a plugin's declared program is (`path` as declared, `~/` already expanded),
/// when it may run as `runs_as`; else why not, and what would let it run.
pub fn declared(path: &Path, runs_as: u32) -> Result<PathBuf, String> {
    super::identity::trusted_program(path, runs_as).map_err(|why| {
        let owners = if runs_as == 0 {
            "root".to_string()
        } else {
            format!("root or user {runs_as}")
        };
        format!(
            "{}; bkt runs a program outside the system folders only while it and every folder \
             above it belong to {owners} and nobody else may write to them",
            why.0
        )
    })
}

/// A command for a program a plugin declared outside the system folders: cleared like
/// every program's, plus `HOME`, where such tools (Homebrew, ...) keep their settings.
pub fn cleared_declared(name: &str, path: &Path) -> Command {
    let mut cmd = cleared(name, path);
    if let Some(home) = std::env::var_os("HOME") {
        cmd.env("HOME", home);
    }
    cmd
}

/// Clears `cmd`'s environment down to what `program` needs, and empties its stdin: for a
/// command that runs `program` through another one (an elevator).
pub fn clear_for<'a>(cmd: &'a mut Command, program: &str) -> &'a mut Command {
    cmd.env_clear()
        .envs(environment(program, folders(), |v| std::env::var_os(v)))
        .stdin(Stdio::null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn each_tool_gets_only_its_variables() {
        let get = |var: &str| Some(OsString::from(format!("<{var}>")));
        let folders = vec![PathBuf::from("/usr/bin"), PathBuf::from("/bin")];
        let names = |program| {
            environment(program, &folders, get)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("rpm"), ["PATH", "LC_ALL"]);
        assert_eq!(names("dnf"), ["PATH", "LC_ALL"]);
        assert!(names("gsettings").contains(&"GSETTINGS_SCHEMA_DIR".to_string()));
        assert!(names("dconf").contains(&"DBUS_SESSION_BUS_ADDRESS".to_string()));
        assert_eq!(
            names("flatpak"),
            ["PATH", "LC_ALL", "HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS"]
        );
        let env = environment("rpm", &folders, get);
        assert_eq!(env[0].1, "/usr/bin:/bin");
        assert_eq!(env[1].1, "C.UTF-8");
        // A variable that is not set is left out, not set empty.
        let env = environment("flatpak", &folders, |v: &str| {
            (v == "HOME").then(|| OsString::from("/home/u"))
        });
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn names_resolve_only_as_bare_words_in_the_given_folders() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let tool = |dir: &Path, name: &str, mode: u32| {
            let p = dir.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        tool(&a, "plain", 0o644);
        tool(&b, "plain", 0o755);
        tool(&a, "both", 0o755);
        tool(&b, "both", 0o755);
        let folders = vec![a.clone(), b.clone()];
        assert_eq!(resolve_in("plain", &folders), Ok(b.join("plain")));
        assert_eq!(resolve_in("both", &folders), Ok(a.join("both")));
        assert_eq!(resolve_in("absent", &folders), Err(Unresolved::NotFound));
        for bad in ["", ".", "..", "/bin/sh", "a/plain", "../b/plain"] {
            assert_eq!(resolve_in(bad, &folders), Err(Unresolved::NotBare), "{bad}");
        }
        // A folder is not a program.
        std::fs::create_dir_all(a.join("dir")).unwrap();
        assert_eq!(resolve_in("dir", &folders), Err(Unresolved::NotFound));
    }

    #[test]
    fn chosen_folders_must_be_absolute_and_unwritable_by_others() {
        let t = tempfile::tempdir().unwrap();
        let good = t.path().join("good");
        let open = t.path().join("open");
        std::fs::create_dir_all(&good).unwrap();
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let value = std::env::join_paths([
            good.as_path(),
            Path::new("relative/bin"),
            open.as_path(),
            t.path().join("missing").as_path(),
        ])
        .unwrap();
        let (accepted, refused) = chosen_folders(&value);
        assert_eq!(accepted, [good.canonicalize().unwrap()]);
        let refused: Vec<&Path> = refused.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            refused,
            [
                Path::new("relative/bin"),
                open.as_path(),
                t.path().join("missing").as_path()
            ]
        );
    }
}
