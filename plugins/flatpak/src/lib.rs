//! The flatpak subsystem: remotes, apps and their overrides, in the user and the system
//! installation.
//!
//! Live state comes from one `flatpak list` and one `flatpak remotes` (every installation at
//! once, through `query-all`) and the override files, read through preopened folders: two
//! processes, whatever the number of apps. It renders no Containerfile section.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;
pub mod overrides;
pub mod plan;
mod remote_verb;

use bkt_sdk::{
    Capabilities, Change, EditResult, Entry, Error, Guest, Phase, Plan, PluginInfo, RunShape,
    Section, Verbs, change, edited, host, query_each, run_shape, shape, strings, usage,
};
use live::Live;
use manifest::{App, Installation, Manifest};

pub const MANIFEST: &str = "flatpak-apps.json";

struct Flatpak;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Flatpak);

fn read_live() -> Result<Live, Error> {
    let [list, remotes] = query_each([live::LIST, live::REMOTES])?;
    let mut outputs = [list?, remotes?];
    for (out, argv) in outputs.iter_mut().zip([live::LIST, live::REMOTES]) {
        // In a home where flatpak never ran, two flatpak processes both create the user
        // installation and one can lose the race; alone, it succeeds.
        if out.status != 0 {
            *out = bkt_sdk::query(argv)?;
        }
        if out.status != 0 {
            return Err(Error::Failed(format!(
                "{} failed: {}",
                argv[..2].join(" "),
                out.stderr.trim()
            )));
        }
    }
    let [list, remotes] = outputs;
    Ok(Live {
        apps: live::parse_list(&list.stdout),
        remotes: live::parse_remotes(&remotes.stdout),
        unverified: live::parse_unverified(&remotes.stdout),
        overrides: live::read_overrides(&host::context().home),
    })
}

/// Every command this plugin runs, for both installations: user ones as the user, system
/// ones as root.
fn run_shapes() -> Vec<RunShape> {
    let mut shapes = Vec::new();
    for inst in [Installation::User, Installation::System] {
        let (flag, scope) = (inst.flag(), inst.scope());
        for words in [
            &[
                "flatpak",
                "remote-add",
                "--if-not-exists",
                flag,
                "{word}",
                "{word}",
            ][..],
            &[
                "flatpak",
                "remote-add",
                "--if-not-exists",
                flag,
                "--no-gpg-verify",
                "{word}",
                "{word}",
            ],
            &[
                "flatpak",
                "remote-modify",
                flag,
                "--url",
                "{word}",
                "{word}",
            ],
            &["flatpak", "remote-delete", flag, "{word}"],
            &[
                "flatpak",
                "install",
                "--noninteractive",
                "-y",
                flag,
                "{word}",
                "{word}",
            ],
            &[
                "flatpak",
                "install",
                "--reinstall",
                "--noninteractive",
                "-y",
                flag,
                "{word}",
                "{word}",
            ],
            &[
                "flatpak",
                "uninstall",
                "--noninteractive",
                "-y",
                flag,
                "{word}",
            ],
            &["flatpak", "override", flag, "--reset", "{word}"],
            &[
                "flatpak",
                "update",
                "--noninteractive",
                "-y",
                flag,
                "--commit={word}",
                "{word}",
            ],
        ] {
            shapes.push(run_shape(words, scope));
        }
        // One shape per override option, its value joined to it (`--env=A=b c`): a value
        // never stands where flatpak would read it as an option of its own.
        for name in overrides::flag_names() {
            let option = format!("{name}={{word}}");
            shapes.push(run_shape(
                &["flatpak", "override", flag, &option, "{word}"],
                scope,
            ));
        }
    }
    shapes
}

impl Guest for Flatpak {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "flatpak".into(),
            command: "flatpak".into(),
            summary: "Flatpak remotes, apps and overrides (user and system installations)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Packages,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![shape(live::LIST), shape(live::REMOTES)],
                runs: run_shapes(),
                reads: strings(&[live::USER_OVERRIDES, live::SYSTEM_OVERRIDES]),
                writes: vec![],
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let (m, warnings) = plan::capture(m, &read_live()?, &take);
        for w in warnings {
            host::log(bkt_sdk::Level::Warn, &w);
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let c = plan::compare(&m, &read_live()?);
        Ok(Plan {
            // An app's overrides are an item of their own (they drift apart from the app).
            items: (m.remotes.len()
                + m.apps.len()
                + m.apps.iter().filter(|a| !a.overrides.is_empty()).count())
                as u32,
            changes: c.changes,
            agreed: c.agreed,
            problems: c.problems,
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        manifest::parse(text.as_deref())?;
        Ok(vec![])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

/// A verb's arguments: the app id, the installation flag, named options, and the rest.
struct Args {
    id: String,
    installation: Option<Installation>,
    remote: Option<String>,
    branch: Option<String>,
    rest: Vec<String>,
}

fn parse_args(args: &[String], named: &[&str]) -> Result<Args, Error> {
    let mut out = Args {
        id: String::new(),
        installation: None,
        remote: None,
        branch: None,
        rest: vec![],
    };
    let mut words = args.iter();
    let mut literal = false;
    while let Some(w) = words.next() {
        if literal {
            if out.id.is_empty() {
                out.id = w.clone();
            } else {
                out.rest.push(w.clone());
            }
            continue;
        }
        if w == "--" {
            literal = true;
            continue;
        }
        let (name, inline) = match w.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        match name {
            "--user" | "--system" => {
                let chosen = if name == "--user" {
                    Installation::User
                } else {
                    Installation::System
                };
                if out.installation.is_some_and(|i| i != chosen) {
                    return Err(usage(
                        "--user and --system name two installations; use one of them",
                    ));
                }
                out.installation = Some(chosen);
            }
            "--remote" | "--branch" if named.contains(&name) => {
                let value = inline
                    .or_else(|| words.next().cloned())
                    .ok_or_else(|| usage(format!("{name} needs a value")))?;
                if name == "--remote" {
                    out.remote = Some(value);
                } else {
                    out.branch = Some(value);
                }
            }
            _ if !w.starts_with('-') && out.id.is_empty() => out.id = w.clone(),
            // Not an option of this verb: said by name (`override` takes flatpak's own).
            _ if named.contains(&"--override") || !w.starts_with('-') => out.rest.push(w.clone()),
            _ => return Err(usage(format!("{w:?} is not an option of this command"))),
        }
    }
    if out.id.is_empty() {
        return Err(usage("name the application, e.g. org.gnome.Maps"));
    }
    manifest::check_app_id(&out.id).map_err(usage)?;
    for (what, value) in [("remote name", &out.remote), ("branch", &out.branch)] {
        if let Some(v) = value {
            manifest::check_word(what, v).map_err(usage)?;
        }
    }
    Ok(out)
}

/// The installation an app is in: the one named, else the only one the manifest has it in.
fn which(m: &Manifest, a: &Args) -> Result<Installation, Error> {
    if let Some(i) = a.installation {
        return Ok(i);
    }
    let found: Vec<Installation> = m
        .apps
        .iter()
        .filter(|x| x.id == a.id)
        .map(|x| x.scope)
        .collect();
    match found[..] {
        [one] => Ok(one),
        [] => Err(usage(format!("{} is not in {MANIFEST}", a.id))),
        _ => Err(usage(format!(
            "{} is in both installations; say which with --user or --system",
            a.id
        ))),
    }
}

/// An app comes from a remote of its installation: one the manifest declares (added first if
/// this machine lacks it) or one this machine has. Any other is refused before anything is
/// written, with how to add it.
fn known_remote(m: &Manifest, inst: Installation, remote: &str) -> Result<(), Error> {
    if m.remote(inst, remote).is_some() {
        return Ok(());
    }
    // Unknown when flatpak cannot be asked: then flatpak itself says so when it installs.
    let Ok(live) = read_live() else {
        return Ok(());
    };
    if live.remotes.contains_key(&(inst, remote.to_string())) {
        return Ok(());
    }
    let other = match inst {
        Installation::User => Installation::System,
        Installation::System => Installation::User,
    };
    let elsewhere = if m.remote(other, remote).is_some()
        || live.remotes.contains_key(&(other, remote.to_string()))
    {
        format!(
            " (the {} installation has it: pass {})",
            other.name(),
            other.flag()
        )
    } else {
        String::new()
    };
    Err(usage(format!(
        "{remote} is not a remote of the {} installation, in {MANIFEST} or on this machine{elsewhere}; \
         declare it in the manifest's remotes (or manifests/flatpak-remotes.json), or add it with \
         `flatpak remote-add {} {remote} URL`",
        inst.name(),
        inst.flag()
    )))
}

fn add(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let a = parse_args(args, &["--remote", "--branch"])?;
    if let Some(extra) = a.rest.first() {
        return Err(usage(format!("`flatpak add` does not take {extra:?}")));
    }
    let inst = a.installation.unwrap_or_default();
    let remote = match a.remote {
        Some(r) => r,
        None => {
            let names: Vec<&str> = m
                .remotes
                .iter()
                .filter(|r| r.scope == inst)
                .map(|r| r.name.as_str())
                .collect();
            match names[..] {
                [one] => one.to_string(),
                _ => {
                    return Err(usage(format!(
                        "name the remote with --remote ({} remotes in the manifest: {})",
                        inst.name(),
                        if names.is_empty() {
                            "none".into()
                        } else {
                            names.join(", ")
                        }
                    )));
                }
            }
        }
    };
    known_remote(&m, inst, &remote)?;
    let mut app = App::new(&a.id, &remote, inst);
    app.branch = a.branch;
    let mut changes: Vec<Change> = Vec::new();
    // A remote the manifest declares but this machine lacks is added first.
    if let Some(r) = m.remote(inst, &app.remote) {
        changes.push(change(
            plan::remote_id(inst, &r.name),
            format!("add the remote {}", r.name),
            Some(r.url.clone()),
            None,
            inst.scope(),
            vec![plan::add_remote(r)],
        ));
    }
    changes.push(change(
        plan::app_id(inst, &app.id),
        format!("install {}", app.id),
        Some(match &app.branch {
            Some(b) => format!("{}//{b}", app.remote),
            None => app.remote.clone(),
        }),
        None,
        inst.scope(),
        vec![plan::install(&app, false)],
    ));
    match m.app_mut(inst, &app.id) {
        Some(existing) => {
            existing.remote = app.remote;
            existing.branch = app.branch;
        }
        None => m.add_app(app),
    }
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

fn remove(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let a = parse_args(args, &[])?;
    if let Some(extra) = a.rest.first() {
        return Err(usage(format!("`flatpak remove` does not take {extra:?}")));
    }
    let inst = which(&m, &a)?;
    if m.app(inst, &a.id).is_none() {
        return Err(usage(format!(
            "{} is not in {MANIFEST} for the {} installation",
            a.id,
            inst.name()
        )));
    }
    m.apps.retain(|x| !(x.scope == inst && x.id == a.id));
    let live = read_live().unwrap_or_default();
    let changes = live
        .apps
        .get(&(inst, a.id.clone()))
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    change(
                        plan::app_id(inst, &a.id),
                        format!("uninstall {}//{}", a.id, row.branch),
                        None,
                        Some(format!("{}//{}", row.origin, row.branch)),
                        inst.scope(),
                        vec![plan::uninstall(inst, &a.id, &row.branch)],
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

fn set_override(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let a = parse_args(args, &["--override"])?;
    if a.rest.is_empty() {
        return Err(usage(
            "name what to override with flatpak's options, e.g. --filesystem=home --env=VAR=VALUE",
        ));
    }
    let inst = which(&m, &a)?;
    let Some(app) = m.app_mut(inst, &a.id) else {
        return Err(usage(format!(
            "{} is not in {MANIFEST} for the {} installation; `bkt flatpak add` it first",
            a.id,
            inst.name()
        )));
    };
    overrides::apply_flags(&mut app.overrides, &a.rest).map_err(usage)?;
    let wanted = overrides::to_keyfile(&app.overrides);
    let effects = plan::set_overrides(inst, &a.id, &app.overrides);
    let changes = vec![change(
        plan::override_id(inst, &a.id),
        format!("override {}", a.id),
        Some(wanted),
        None,
        inst.scope(),
        effects,
    )];
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

fn list(m: &Manifest) -> Vec<String> {
    let live = read_live().ok();
    let mut out = vec![format!("remotes ({}):", m.remotes.len())];
    for r in &m.remotes {
        let note = match &live {
            Some(l) if !l.remotes.contains_key(&(r.scope, r.name.clone())) => "   (not added here)",
            _ => "",
        };
        out.push(format!("  {} {} ({}){note}", r.name, r.url, r.scope.name()));
    }
    out.push(format!("apps ({}):", m.apps.len()));
    for a in &m.apps {
        let note = match &live {
            Some(l) if !l.apps.contains_key(&(a.scope, a.id.clone())) => "   (not installed here)",
            _ => "",
        };
        let branch = a
            .branch
            .as_deref()
            .map(|b| format!("//{b}"))
            .unwrap_or_default();
        out.push(format!(
            "  {}{branch} from {} ({}){note}",
            a.id,
            a.remote,
            a.scope.name()
        ));
    }
    out
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "flatpak",
    manifest::parse,
    &[
        Entry::edits(
            "add",
            "ID [--remote R] [--user|--system] [--branch B]",
            "Track an app and install it now (--no-apply: later)",
            add,
        ),
        Entry::edits(
            "remove",
            "ID [--user|--system]",
            "Stop tracking an app and uninstall it here",
            remove,
        )
        .completing(tracked_apps),
        Entry::edits(
            "override",
            "ID [--user|--system] --filesystem=... --env=VAR=VALUE ...",
            "Add overrides to a tracked app (flatpak override's own options) and set them now",
            set_override,
        )
        .completing(tracked_apps),
        Entry::edits(
            "remote",
            "add NAME URL [--no-gpg-verify] | remove NAME [--user|--system]",
            "Track a remote (and add it now), or stop tracking one no app uses",
            remote_verb::run,
        )
        .completing(|m, typed| match typed {
            [] => strings(&["add", "remove"]),
            [action] if action == "remove" => m.remotes.iter().map(|r| r.name.clone()).collect(),
            _ => Vec::new(),
        }),
        Entry::reads(
            "list",
            "",
            "Show tracked remotes and apps, and which are not on this machine",
            |m, _, args| match args {
                [] => Ok(edited(None, list(&m))),
                _ => Err(VERBS.misused("list")),
            },
        ),
    ],
);

/// The manifest's apps, for the first word after `remove` and `override`.
fn tracked_apps(m: &Manifest, typed: &[String]) -> Vec<String> {
    if typed.iter().any(|w| !w.starts_with('-')) {
        return Vec::new();
    }
    m.apps.iter().map(|a| a.id.clone()).collect()
}
