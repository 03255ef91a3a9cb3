//! An example third-party bkt plugin: the Homebrew formulae and taps a user wants, kept in
//! `manifests/homebrew.json` (the original bkt's format) and compared with what brew says is
//! installed. It is built on its own against the SDK and trusted like any plugin a user drops
//! into their plugin folder; docs/plugins.md walks through it.
//!
//! Homebrew lives outside the system folders (`/home/linuxbrew/.linuxbrew/bin/brew`, owned by
//! the user who installed it), so the plugin declares where `brew` is. The host runs it only
//! while it and every folder above it belong to root or to the user it runs as: never as
//! root, since brew refuses root and root does not run a user's files.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;

use bkt_sdk::{
    Agreed, Capabilities, Change, EditResult, Entry, Error, Guest, Phase, Plan, PluginInfo,
    Program, Scope, Section, Verbs, agreed, change, edited, run, run_batched, run_shape, shape,
    strings, usage,
};
use live::Live;
use manifest::Manifest;

pub const MANIFEST: &str = "homebrew.json";
/// Where Homebrew on Linux installs itself, and Universal Blue images put it.
pub const BREW: &str = "/home/linuxbrew/.linuxbrew/bin/brew";

struct Homebrew;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Homebrew);

/// The item id of a tap; a formula's is its full name.
fn tap_id(tap: &str) -> String {
    format!("tap:{tap}")
}

fn install(full_name: &str) -> bkt_sdk::Effect {
    run_batched(&strings(&["brew", "install", full_name]), Scope::User)
}

fn uninstall(full_name: &str) -> bkt_sdk::Effect {
    run("brew", &["uninstall", full_name], Scope::User)
}

/// Both directions: formulae and taps the manifest wants and brew lacks, and those someone
/// installed here by hand (formulae asked for, not pulled in as dependencies).
fn compare(m: &Manifest, live: &Live) -> (Vec<Change>, Vec<Agreed>) {
    let mut changes = Vec::new();
    let mut agreed_items = Vec::new();
    let wanted_taps = m.wanted_taps();
    for tap in &wanted_taps {
        if live.taps.contains(tap) {
            agreed_items.push(agreed(tap_id(tap), "tapped", Scope::User));
        } else {
            changes.push(change(
                tap_id(tap),
                format!("tap {tap}"),
                Some("tapped".into()),
                None,
                Scope::User,
                vec![run("brew", &["tap", tap], Scope::User)],
            ));
        }
    }
    for tap in live.taps.iter().filter(|t| !wanted_taps.contains(t)) {
        changes.push(change(
            tap_id(tap),
            format!("tap {tap}"),
            None,
            Some("tapped".into()),
            Scope::User,
            vec![run("brew", &["untap", tap], Scope::User)],
        ));
    }
    for f in &m.formulae {
        let name = f.full_name();
        if live.installed(&name) {
            agreed_items.push(agreed(&name, "installed", Scope::User));
        } else {
            changes.push(change(
                &name,
                name.clone(),
                Some("installed".into()),
                None,
                Scope::User,
                vec![install(&name)],
            ));
        }
    }
    for (name, _) in live
        .formulae
        .iter()
        .filter(|(n, asked)| **asked && !m.has(n))
    {
        changes.push(change(
            name,
            name.clone(),
            None,
            Some("installed".into()),
            Scope::User,
            vec![uninstall(name)],
        ));
    }
    (changes, agreed_items)
}

fn capabilities() -> Capabilities {
    Capabilities {
        queries: vec![shape(live::INFO), shape(live::TAPS)],
        runs: vec![
            run_shape(&["brew", "install", "{word}"], Scope::User),
            run_shape(&["brew", "uninstall", "{word}"], Scope::User),
            run_shape(&["brew", "tap", "{word}"], Scope::User),
            run_shape(&["brew", "untap", "{word}"], Scope::User),
        ],
        reads: vec![],
        writes: vec![],
        fetches: vec![],
        fetch_limit: 0,
        programs: vec![Program {
            name: "brew".into(),
            path: BREW.into(),
        }],
    }
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "brew",
    manifest::parse,
    &[
        Entry::edits(
            "add",
            "FORMULA...",
            "Track formulae and install them now (--no-apply: later)",
            add,
        ),
        Entry::edits(
            "remove",
            "FORMULA...",
            "Stop tracking formulae and uninstall them here",
            remove,
        )
        .completing(|m, typed| {
            m.formulae
                .iter()
                .map(|f| f.full_name())
                .filter(|n| !typed.contains(n))
                .collect()
        }),
        Entry::reads(
            "list",
            "",
            "Show the tracked formulae and taps, and which are missing here",
            |m, _, args| match args {
                [] => Ok(list(&m)),
                _ => Err(VERBS.misused("list")),
            },
        ),
    ],
);

/// `add FORMULA...`: tracked, and installed now (brew does nothing for one it has).
fn add(mut m: Manifest, old: Option<&str>, names: &[String]) -> Result<EditResult, Error> {
    if names.is_empty() {
        return Err(VERBS.misused("add"));
    }
    for name in names {
        manifest::check_formula(name).map_err(usage)?;
    }
    let live = live::read()?;
    let mut changes = Vec::new();
    for name in names {
        m.add(name);
        if !live.installed(name) {
            changes.push(change(
                name,
                name.clone(),
                Some("installed".into()),
                None,
                Scope::User,
                vec![install(name)],
            ));
        }
    }
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

/// `remove FORMULA...`: no longer tracked, and uninstalled here.
fn remove(mut m: Manifest, old: Option<&str>, names: &[String]) -> Result<EditResult, Error> {
    if names.is_empty() {
        return Err(VERBS.misused("remove"));
    }
    for name in names {
        if !m.remove(name) {
            return Err(usage(format!("{name} is not in {MANIFEST}")));
        }
    }
    let live = live::read()?;
    let changes = names
        .iter()
        .filter(|n| live.installed(n))
        .map(|n| {
            change(
                n.as_str(),
                n.clone(),
                None,
                Some("installed".into()),
                Scope::User,
                vec![uninstall(n)],
            )
        })
        .collect();
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

fn list(m: &Manifest) -> EditResult {
    let live = live::read().ok();
    let note = |here: bool| match (&live, here) {
        (Some(_), false) => "   (not here)",
        _ => "",
    };
    let mut out = vec![format!("formulae ({}):", m.formulae.len())];
    for f in &m.formulae {
        let name = f.full_name();
        let here = live.as_ref().is_some_and(|l| l.installed(&name));
        out.push(format!("  {name}{}", note(here)));
    }
    let taps = m.wanted_taps();
    if !taps.is_empty() {
        out.push(format!("taps ({}):", taps.len()));
        for tap in taps {
            let here = live.as_ref().is_some_and(|l| l.taps.contains(&tap));
            out.push(format!("  {tap}{}", note(here)));
        }
    }
    edited(None, out)
}

impl Guest for Homebrew {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "homebrew".into(),
            command: "brew".into(),
            summary: "Homebrew formulae and taps (an example third-party plugin)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Packages,
            verbs: VERBS.declared(),
            capabilities: capabilities(),
            about: bkt_sdk::about!(),
            requires_bkt: "0.1.0".into(),
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = live::read()?;
        for id in &take {
            match id.strip_prefix("tap:") {
                Some(tap) if live.taps.contains(tap) => {
                    if !m.taps.iter().any(|t| t == tap) {
                        m.taps.push(tap.to_string());
                    }
                }
                Some(tap) => m.taps.retain(|t| t != tap),
                None if live.installed(id) => m.add(id),
                None => {
                    m.remove(id);
                }
            }
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let (changes, agreed) = compare(&m, &live::read()?);
        Ok(Plan {
            items: (m.formulae.len() + m.wanted_taps().len()) as u32,
            changes,
            agreed,
            problems: vec![],
        })
    }

    fn render_section(_text: Option<String>) -> Result<Vec<Section>, Error> {
        // Formulae are the user's, installed in their home: nothing goes into the image.
        Ok(vec![])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_in_both_directions() {
        let m = manifest::parse(Some(
            r#"{"formulae": ["wget", "jq", "o/r/tool"], "taps": ["x/y"]}"#,
        ))
        .unwrap();
        let live = Live {
            formulae: [
                ("wget".to_string(), true),
                ("openssl@3".to_string(), false),
                ("bat".to_string(), true),
            ]
            .into(),
            taps: ["x/y".to_string(), "old/tap".to_string()].into(),
        };
        let (changes, agreed) = compare(&m, &live);
        let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["tap:o/r", "tap:old/tap", "jq", "o/r/tool", "bat"]);
        let agreed: Vec<&str> = agreed.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(agreed, ["tap:x/y", "wget"]);
    }
}
