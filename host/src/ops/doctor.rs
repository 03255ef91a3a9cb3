//! `bkt doctor`: what bkt needs on this machine, each thing checked, with what to do about
//! what is missing. Only what the repository's tracked subsystems need is required (all
//! subsystems when no repository is found); the rest is shown, not counted.

use super::report::{Exit, Report};
use crate::app::App;
use crate::model::{Arg, Elevator, PluginInfo};
use crate::os::{identity, paths, process};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// One thing bkt needs, and whether this machine has it.
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found (or not).
    pub detail: String,
    /// What to do when it is missing.
    pub fix: Option<String>,
    /// Whether a tracked subsystem needs it: a missing thing nobody needs is not a failure.
    pub needed: bool,
}

pub struct Doctor {
    pub checks: Vec<Check>,
}

/// Programs only an ostree system has; needed there only.
const OSTREE_PROGRAMS: &[&str] = &["bootc", "rpm-ostree"];

pub fn run(app: &App) -> Doctor {
    let tracked = tracked_plugins(app);
    let needs = |id: &str| tracked.iter().any(|p| p.id == id);
    let mut checks = programs(&tracked, app.root.is_ostree());
    checks.push(session_bus(needs("gsettings") || needs("extensions")));
    if identity::euid() != 0 {
        checks.push(elevator(app.elevator));
    }
    checks.push(rpm_database(app, needs("dnf") || needs("repos")));
    if app.root.is_ostree() {
        checks.push(ostree_tools());
    }
    checks.push(folder("cache folder", paths::cache_dir().as_deref()));
    checks.push(folder("trust folder", paths::config_dir().as_deref()));
    Doctor { checks }
}

/// The plugins whose manifest the repository has; every plugin without a repository.
fn tracked_plugins(app: &App) -> Vec<&PluginInfo> {
    let all = app.loaded().into_iter().map(|p| &p.info);
    match app.repo() {
        Ok(repo) => all
            .filter(|info| matches!(repo.read_manifest(&info.manifest), Ok(Some(_))))
            .collect(),
        Err(_) => all.collect(),
    }
}

/// The program of each declared query and run shape: its first, literal word.
fn programs_of(info: &PluginInfo) -> Vec<String> {
    let c = &info.capabilities;
    c.queries
        .iter()
        .chain(c.runs.iter().map(|r| &r.argv))
        .filter_map(|argv| match argv.first() {
            Some(Arg::Literal(word)) => Some(word.clone()),
            _ => None,
        })
        .collect()
}

fn programs(tracked: &[&PluginInfo], ostree: bool) -> Vec<Check> {
    let mut users: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for info in tracked {
        for program in programs_of(info) {
            if ostree || !OSTREE_PROGRAMS.contains(&program.as_str()) {
                let ids = users.entry(program).or_default();
                if !ids.contains(&info.id.as_str()) {
                    ids.push(&info.id);
                }
            }
        }
    }
    users
        .into_iter()
        .map(|(program, ids)| {
            let found = process::resolve(&program);
            Check {
                name: format!("program {program}"),
                ok: found.is_ok(),
                detail: match &found {
                    Ok(path) => format!("{} (used by {})", path.display(), ids.join(", ")),
                    Err(_) => format!(
                        "not found in {} (used by {})",
                        process::searched(),
                        ids.join(", ")
                    ),
                },
                fix: found.is_err().then(|| {
                    format!(
                        "install {program}, or leave {} untracked",
                        ids.join(" and ")
                    )
                }),
                needed: true,
            }
        })
        .collect()
}

/// User settings are written over the session bus; without one, gsettings stores nothing.
fn session_bus(needed: bool) -> Check {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    let socket = std::env::var_os("XDG_RUNTIME_DIR").map(|d| Path::new(&d).join("bus"));
    let found = !address.is_empty() || socket.as_ref().is_some_and(|s| s.exists());
    Check {
        name: "session bus".into(),
        ok: found,
        detail: if found {
            "reachable (user settings can be written)".into()
        } else {
            "none: DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist".into()
        },
        fix: (!found).then(|| {
            "run bkt inside your graphical session (or `dbus-run-session -- bkt ...`)".into()
        }),
        needed,
    }
}

fn elevator(elevator: Elevator) -> Check {
    let program = elevator.prefix()[0];
    let found = process::resolve(program);
    Check {
        name: format!("elevator {program}"),
        ok: found.is_ok(),
        detail: match &found {
            Ok(path) => format!("{} runs system changes as root", path.display()),
            Err(_) => format!("{program} is not installed"),
        },
        fix: found.is_err().then(|| {
            format!("install {program}, or pick another with `elevator` in ~/.config/bkt/config.json (sudo, pkexec, run0)")
        }),
        needed: true,
    }
}

fn rpm_database(app: &App, needed: bool) -> Check {
    let places = ["usr/lib/sysimage/rpm", "var/lib/rpm"];
    let found = places.iter().map(|p| app.root.join(p)).find(|p| p.is_dir());
    Check {
        name: "rpm database".into(),
        ok: found.is_some(),
        detail: match &found {
            Some(path) => path.display().to_string(),
            None => format!("none under {} ({})", app.root.as_text(), places.join(", ")),
        },
        fix: found
            .is_none()
            .then(|| "packages are managed on an rpm-based system (Fedora, a bootc image)".into()),
        needed,
    }
}

/// An ostree system is read through bootc or, failing that, rpm-ostree.
fn ostree_tools() -> Check {
    let found = OSTREE_PROGRAMS
        .iter()
        .find_map(|p| process::resolve(p).ok());
    Check {
        name: "bootc or rpm-ostree".into(),
        ok: found.is_some(),
        detail: match &found {
            Some(path) => path.display().to_string(),
            None => "neither is installed on this ostree system".into(),
        },
        fix: found.is_none().then(|| "install bootc".into()),
        needed: true,
    }
}

/// A folder bkt writes to: there and writable, or creatable in a writable parent.
fn folder(name: &str, path: Option<&Path>) -> Check {
    let Some(path) = path else {
        return Check {
            name: name.into(),
            ok: false,
            detail: "no home folder to put it in".into(),
            fix: Some("set HOME".into()),
            needed: true,
        };
    };
    let existing = path.ancestors().find(|p| p.exists()).unwrap_or(path);
    let writable = identity::writable(existing);
    Check {
        name: name.into(),
        ok: existing.is_dir() && writable,
        detail: if existing == path {
            path.display().to_string()
        } else {
            format!("{} (created on first use)", path.display())
        },
        fix: (!(existing.is_dir() && writable))
            .then(|| format!("make {} a folder you can write", existing.display())),
        needed: true,
    }
}

impl Doctor {
    /// The checks that fail something bkt needs here.
    pub fn missing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.needed && !c.ok)
    }
}

impl Report for Doctor {
    fn json(&self) -> serde_json::Value {
        let checks: Vec<_> = self
            .checks
            .iter()
            .map(|c| json!({"name": c.name, "ok": c.ok, "needed": c.needed, "detail": c.detail, "fix": c.fix}))
            .collect();
        json!({ "checks": checks, "missing": self.missing().count() })
    }

    fn exit(&self) -> Exit {
        Exit::failed_if(self.missing().next().is_some())
    }
}
