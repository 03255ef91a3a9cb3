//! The GNOME extensions subsystem: which extensions are installed and enabled.
//!
//! Live state without a running Shell: the `org.gnome.shell` keys from one `gsettings
//! list-recursively`, the extension folders (read-only preopens), and the installed Shell's
//! version from rpm. Enabling and disabling write each key once with the whole new list: one
//! `gsettings set` per key, shared by every change (the host runs an identical effect once).

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;

use bkt_sdk::{
    Agreed, Capabilities, Change, Context, EditResult, Effect, Entry, Error, Fetch, Guest, Phase,
    Plan, PluginInfo, Problem, Scope, Section, Verbs, agreed, change, edited, host, query_each,
    run, run_shape, shape, strings, usage, warning,
};
use live::{Keys, Metadata};
use manifest::{Extension, Manifest};
use std::collections::BTreeMap;

pub const MANIFEST: &str = "gnome-extensions.json";
const SCHEMA: &str = "org.gnome.shell";

struct Extensions;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Extensions);

struct Live {
    keys: Keys,
    installed: BTreeMap<String, Metadata>,
    /// The installed GNOME Shell's version, when rpm knows it.
    shell: Option<String>,
}

fn read_live(ctx: &Context) -> Result<Live, Error> {
    let mut rpm = strings(&["rpm", "-q", "--qf", "%{VERSION}", "gnome-shell"]);
    if ctx.root != "/" {
        rpm.extend(strings(&["--root", &ctx.root]));
    }
    let list = strings(&["gsettings", "list-recursively", SCHEMA]);
    let [keys, version] = query_each([&list, &rpm])?;
    let keys = keys?;
    if keys.status != 0 {
        return Err(if keys.stderr.contains("No such schema") {
            Error::Unavailable(format!(
                "GNOME Shell's settings ({SCHEMA}) are not installed here"
            ))
        } else {
            Error::Failed(format!("gsettings failed: {}", keys.stderr.trim()))
        });
    }
    let shell = match version {
        Ok(out) if out.status == 0 && !out.stdout.trim().is_empty() => {
            Some(out.stdout.trim().to_string())
        }
        _ => None,
    };
    Ok(Live {
        keys: live::parse_keys(&keys.stdout),
        installed: live::installed(&ctx.home),
        shell,
    })
}

/// The two keys as they should be for the manifest: each extension it names moved to the
/// list its `enabled` says, everything else left as it is. Extras are dropped from the
/// enabled list only with `prune`.
fn desired(m: &Manifest, keys: &Keys, drop: &[String]) -> Vec<Effect> {
    let mut enabled: Vec<String> = keys.enabled.clone();
    let mut disabled: Vec<String> = keys.disabled.clone();
    for x in &m.extensions {
        enabled.retain(|u| *u != x.uuid);
        disabled.retain(|u| *u != x.uuid);
        if x.enabled {
            enabled.push(x.uuid.clone());
        } else {
            disabled.push(x.uuid.clone());
        }
    }
    enabled.retain(|u| !drop.contains(u));
    vec![
        run(
            "gsettings",
            &[
                "set",
                SCHEMA,
                "enabled-extensions",
                &live::strv_text(&enabled),
            ],
            Scope::User,
        ),
        run(
            "gsettings",
            &[
                "set",
                SCHEMA,
                "disabled-extensions",
                &live::strv_text(&disabled),
            ],
            Scope::User,
        ),
    ]
}

fn state(on: bool) -> String {
    if on { "enabled" } else { "disabled" }.to_string()
}

/// Where a source's download is: the zip, or extensions.gnome.org's build for this Shell
/// (`None` when the Shell's version is not known, which picks the build).
fn download(
    x: &Extension,
    source: &manifest::Source,
    shell: Option<&str>,
) -> Option<(String, Option<String>)> {
    match source {
        manifest::Source::Zip(z) => Some((z.zip.clone(), Some(z.sha256.clone()))),
        manifest::Source::Named(_) => {
            let major = shell?.split('.').next()?.to_string();
            Some((
                format!(
                    "https://extensions.gnome.org/download-extension/{}.shell-extension.zip?shell_version={major}",
                    x.uuid
                ),
                None,
            ))
        }
    }
}

/// Downloads the zip (checked against its sha256) and unpacks it into the user's folder.
fn install(ctx: &Context, x: &Extension, url: String, sha256: Option<String>) -> Vec<Effect> {
    let data = ctx.data_home.trim_end_matches('/');
    let zip_rel = format!("gnome-shell/extensions/.bkt-{}.zip", x.uuid);
    vec![
        Effect::Fetch(Fetch {
            url,
            sha256,
            path: format!("~/.local/share/{zip_rel}"),
        }),
        run(
            "unzip",
            &[
                "-o",
                "-q",
                &format!("{data}/{zip_rel}"),
                "-d",
                &format!("{data}/gnome-shell/extensions/{}", x.uuid),
            ],
            Scope::User,
        ),
    ]
}

/// What comparing finds: the changes, the items that agree, and the problems.
#[derive(Default)]
struct Found {
    changes: Vec<Change>,
    agreed: Vec<Agreed>,
    problems: Vec<Problem>,
}

fn compare(ctx: &Context, m: &Manifest, live: &Live) -> (Vec<Change>, Vec<Agreed>, Vec<Problem>) {
    let mut found = Found::default();
    let extras: Vec<String> = live
        .installed
        .iter()
        .filter(|(uuid, meta)| {
            live::runs(uuid, meta, &live.keys) && !m.extensions.iter().any(|x| x.uuid == **uuid)
        })
        .map(|(uuid, _)| uuid.clone())
        .collect();
    let lists = desired(m, &live.keys, &[]);
    let mentioned = live::mentioned(&live.keys);
    for x in &m.extensions {
        let wanted = state(x.enabled);
        let Some(meta) = live.installed.get(&x.uuid) else {
            not_installed(ctx, x, live, &lists, &mut found);
            continue;
        };
        if x.enabled
            && let Some(shell) = &live.shell
            && !live::supports(meta, shell)
        {
            found.problems.push(warning(
                x.uuid.clone(),
                format!(
                    "{} supports GNOME Shell {} but this system has {shell}: the Shell will not load it",
                    x.uuid,
                    meta.shell_version.join(", ")
                ),
            ));
        }
        let now = state(live::runs(&x.uuid, meta, &live.keys));
        if now == wanted {
            found
                .agreed
                .push(agreed(x.uuid.clone(), wanted, Scope::User));
            continue;
        }
        let mut c = change(
            x.uuid.clone(),
            format!("{} is {now}, wanted {wanted}", x.uuid),
            Some(wanted),
            Some(now),
            Scope::User,
            lists.clone(),
        );
        c.live_is_default = !mentioned.contains(x.uuid.as_str());
        found.changes.push(c);
    }
    let pruned = desired(m, &live.keys, &extras);
    for uuid in &extras {
        found.changes.push(change(
            uuid.clone(),
            format!("{uuid} is enabled but not in the manifest"),
            None,
            Some(state(true)),
            Scope::User,
            pruned.clone(),
        ));
    }
    (found.changes, found.agreed, found.problems)
}

/// An extension of the manifest that is not installed: agreed when it is to be disabled
/// anyway, else missing, with the effects that install it from its source, or with none and
/// a problem saying why it cannot be installed here.
fn not_installed(ctx: &Context, x: &Extension, live: &Live, lists: &[Effect], found: &mut Found) {
    let wanted = state(x.enabled);
    if !x.enabled {
        found
            .agreed
            .push(agreed(x.uuid.clone(), wanted, Scope::User));
        return;
    }
    let (summary, effects) = match installable(x, live) {
        Ok((url, sha256)) => {
            let mut effects = install(ctx, x, url.clone(), sha256);
            effects.extend(lists.iter().cloned());
            (format!("not installed (from {url})"), effects)
        }
        Err(why) => {
            found.problems.push(why);
            (
                "not installed, and cannot be installed here".to_string(),
                vec![],
            )
        }
    };
    found.changes.push(change(
        x.uuid.clone(),
        format!("{} is {summary}", x.uuid),
        Some(wanted),
        None,
        Scope::User,
        effects,
    ));
}

/// Where a missing extension comes from, or the problem that says why it cannot come.
fn installable(x: &Extension, live: &Live) -> Result<(String, Option<String>), Problem> {
    let Some(source) = &x.source else {
        return Err(bkt_sdk::problem(
            x.uuid.clone(),
            format!(
                "not installed (looked in {} and {}), and the manifest names no source to install it from: `bkt extension add {} --from {}` or a zip",
                live::USER_DIR,
                live::SYSTEM_DIR,
                x.uuid,
                manifest::EGO
            ),
        ));
    };
    download(x, source, live.shell.as_deref()).ok_or_else(|| {
        // No GNOME Shell here: not wrong, and nothing to install for.
        warning(
            x.uuid.clone(),
            format!(
                "cannot be installed here: {} picks the build for the installed GNOME Shell, and no GNOME Shell is installed",
                manifest::EGO
            ),
        )
    })
}

/// The source `add` names: none, `--from extensions.gnome.org`, or `--zip URL --sha256 HEX`
/// (checked like a manifest's).
fn source_of(args: &[String]) -> Result<Option<manifest::Source>, Error> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let source = match words.as_slice() {
        [] => return Ok(None),
        ["--from", from] if *from == manifest::EGO => manifest::Source::Named(from.to_string()),
        ["--zip", zip, "--sha256", sha] | ["--sha256", sha, "--zip", zip] => {
            manifest::Source::Zip(manifest::Zip {
                zip: zip.to_string(),
                sha256: sha.to_string(),
            })
        }
        _ => {
            return Err(usage(format!(
                "add takes UUID, then optionally where it comes from: --from {} or --zip URL --sha256 HEX",
                manifest::EGO
            )));
        }
    };
    manifest::check_source(&source).map_err(usage)?;
    Ok(Some(source))
}

impl Guest for Extensions {
    fn info() -> PluginInfo {
        let set = |key: &str| run_shape(&["gsettings", "set", SCHEMA, key, "{value}"], Scope::User);
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "extensions".into(),
            command: "extension".into(),
            summary: "GNOME Shell extensions: installed and enabled".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Configuration,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![
                    shape(&["gsettings", "list-recursively", SCHEMA]),
                    shape(&["rpm", "-q", "--qf", "%{VERSION}", "gnome-shell"]),
                    shape(&[
                        "rpm",
                        "-q",
                        "--qf",
                        "%{VERSION}",
                        "gnome-shell",
                        "--root",
                        "{root}",
                    ]),
                ],
                runs: vec![
                    set("enabled-extensions"),
                    set("disabled-extensions"),
                    run_shape(
                        &["unzip", "-o", "-q", "{word}", "-d", "{word}"],
                        Scope::User,
                    ),
                ],
                reads: strings(&[live::USER_DIR, live::SYSTEM_DIR]),
                writes: strings(&["~/.local/share/gnome-shell/extensions/"]),
                // extensions.gnome.org's builds, and the zips a manifest names.
                fetches: manifest::ZIP_HOSTS
                    .iter()
                    .map(|h| h.to_string())
                    .chain(["file://~/".to_string()])
                    .collect(),
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = read_live(&host::context())?;
        for uuid in &take {
            let Some(meta) = live.installed.get(uuid) else {
                m.extensions.retain(|x| x.uuid != *uuid);
                continue;
            };
            let on = live::runs(uuid, meta, &live.keys);
            match m.get_mut(uuid) {
                Some(x) => x.enabled = on,
                None => m.add(uuid, on, meta.url.clone().filter(|u| u.starts_with("http"))),
            }
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx)?;
        let (changes, agreed, problems) = compare(&ctx, &m, &live);
        Ok(Plan {
            items: m.extensions.len() as u32,
            changes,
            agreed,
            problems,
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

const VERBS: Verbs<Manifest> = Verbs::new(
    "extension",
    manifest::parse,
    &[
        Entry::edits(
            "add",
            "UUID [--from extensions.gnome.org | --zip URL --sha256 HEX]",
            "Track an extension as enabled and enable it now",
            |m, old, args| switch(m, old, "add", args),
        ),
        Entry::edits(
            "remove",
            "UUID",
            "Stop tracking an extension (it stays as it is)",
            remove,
        )
        .completing(|m, typed| tracked(m, typed, |_| true)),
        Entry::edits(
            "enable",
            "UUID",
            "Enable a tracked extension",
            |m, old, args| switch(m, old, "enable", args),
        )
        .completing(|m, typed| tracked(m, typed, |x| !x.enabled)),
        Entry::edits(
            "disable",
            "UUID",
            "Disable a tracked extension",
            |m, old, args| switch(m, old, "disable", args),
        )
        .completing(|m, typed| tracked(m, typed, |x| x.enabled)),
        Entry::reads(
            "list",
            "",
            "Show tracked extensions, their state here and the Shell versions they support",
            |m, _, args| match args {
                [] => Ok(list(&m)),
                _ => Err(VERBS.misused("list")),
            },
        ),
    ],
);

/// The manifest's extensions that `keep` admits, for the one UUID a verb takes.
fn tracked(m: &Manifest, typed: &[String], keep: fn(&Extension) -> bool) -> Vec<String> {
    if !typed.is_empty() {
        return Vec::new();
    }
    m.extensions
        .iter()
        .filter(|x| keep(x))
        .map(|x| x.uuid.clone())
        .collect()
}

/// `add`, `enable` and `disable`: the extension tracked in that state, and what applying
/// that means for it here.
fn switch(
    mut m: Manifest,
    old: Option<&str>,
    verb: &str,
    args: &[String],
) -> Result<EditResult, Error> {
    let [uuid, rest @ ..] = args else {
        return Err(VERBS.misused(verb));
    };
    manifest::check_uuid(uuid).map_err(usage)?;
    let source = match verb {
        "add" => source_of(rest)?,
        _ if rest.is_empty() => None,
        _ => return Err(usage(format!("{verb} takes one UUID"))),
    };
    let on = verb != "disable";
    match m.get_mut(uuid) {
        Some(x) => x.enabled = on,
        None if verb == "add" => m.add(uuid, true, None),
        None => {
            return Err(usage(format!(
                "{uuid} is not in {MANIFEST}; `bkt extension add {uuid}` tracks it"
            )));
        }
    }
    if let (Some(source), Some(x)) = (source, m.get_mut(uuid)) {
        x.source = Some(source);
    }
    // What applying this manifest means for this one extension.
    let ctx = host::context();
    let live = read_live(&ctx)?;
    let (changes, _, problems) = compare(&ctx, &m, &live);
    let changes = changes.into_iter().filter(|c| c.id == *uuid).collect();
    let output = problems
        .into_iter()
        .filter(|p| p.id == *uuid)
        .map(|p| p.message)
        .collect();
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output,
        changes,
    })
}

/// `remove UUID`: no longer tracked; the extension stays as it is.
fn remove(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let [uuid] = args else {
        return Err(VERBS.misused("remove"));
    };
    if !m.extensions.iter().any(|x| x.uuid == *uuid) {
        return Err(usage(format!("{uuid} is not in {MANIFEST}")));
    }
    m.extensions.retain(|x| x.uuid != *uuid);
    Ok(edited(Some(m.render(old)), vec![]))
}

/// `list`: each tracked extension, its state here and the Shell versions it supports.
fn list(m: &Manifest) -> EditResult {
    let live = read_live(&host::context()).ok();
    let mut out = vec![format!("extensions ({}):", m.extensions.len())];
    for x in &m.extensions {
        let here = match &live {
            None => String::new(),
            Some(l) => match l.installed.get(&x.uuid) {
                None => "   (not installed here)".into(),
                Some(meta) => format!(
                    "   ({} here; shell {})",
                    state(live::runs(&x.uuid, meta, &l.keys)),
                    meta.shell_version.join(", ")
                ),
            },
        };
        out.push(format!("  {} {}{here}", x.uuid, state(x.enabled)));
    }
    edited(None, out)
}
