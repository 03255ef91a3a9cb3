//! The systemd subsystem: which units the image enables, disables or masks, for the system
//! and for every user, and the unit files the repository ships.
//!
//! Status reads every unit's state and vendor preset with one `systemctl list-unit-files`
//! per scope (`--root=ROOT` inside a root; see `live`). Apply sets states with `systemctl
//! enable|disable|mask|unmask`: system units as root, user units in the user's own scope
//! (`--user`), or, inside a root, for every user (`--global`). The SYSTEMD_UNITS section sets
//! the same states in the image at build time.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;
pub mod plan;
pub mod render;
pub mod verbs;

use bkt_sdk::{
    Capabilities, EditResult, Error, Guest, Phase, Plan, PluginInfo, Scope, Section, host,
    run_shape, shape, strings, warning,
};
use manifest::State;

const SECTION: &str = "SYSTEMD_UNITS";

struct Systemd;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Systemd);

/// The options before a verb, one entry per scope and place: the system here, the user here,
/// the system inside a root, every user inside a root.
const SCOPES: [(&[&str], Scope); 4] = [
    (&[], Scope::System),
    (&["--user"], Scope::User),
    (&["--root={root}"], Scope::System),
    (&["--root={root}", "--global"], Scope::System),
];

fn capabilities() -> Capabilities {
    let mut queries = Vec::new();
    let mut runs = Vec::new();
    for (opts, scope) in SCOPES {
        let list = [
            &["systemctl"],
            opts,
            &["list-unit-files", "--no-legend", "--no-pager"],
        ];
        queries.push(shape(&list.concat()));
        for verb in ["enable", "disable", "mask", "unmask"] {
            runs.push(run_shape(
                &[&["systemctl"], opts, &[verb, "{word}"]].concat(),
                scope,
            ));
        }
    }
    Capabilities {
        queries,
        runs,
        // Only to tell a mask somebody made from one the distribution ships (see live.rs).
        reads: live::SYSTEM_MASKS
            .iter()
            .chain(live::USER_MASKS)
            .map(|f| f.to_string())
            .collect(),
        writes: vec![],
        fetches: vec![],
        fetch_limit: 0,
        programs: vec![],
    }
}

/// The live state of each id `take` names, merged into the manifest.
fn capture_into(m: &mut manifest::Manifest, take: &[String]) -> Result<(), Error> {
    let ctx = host::context();
    let (system, user) = live::read_both(&ctx);
    for id in take {
        let (is_user, unit) = plan::parse_id(id);
        let units = if is_user { &user } else { &system };
        let units = units.as_ref().map_err(Clone::clone)?;
        match units.get(unit) {
            Some(u) => {
                if let Some(state) = State::from_word(&u.state) {
                    m.units_mut(is_user).set(unit, state);
                }
            }
            None => {
                m.units_mut(is_user).remove(unit);
            }
        }
    }
    Ok(())
}

impl Guest for Systemd {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "systemd".into(),
            command: "systemd".into(),
            summary: "systemd units the image enables, disables or masks".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: verbs::MANIFEST.into(),
            sections: strings(&[SECTION]),
            phase: Phase::Configuration,
            verbs: verbs::VERBS.declared(),
            capabilities: capabilities(),
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        capture_into(&mut m, &take)?;
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let (system, user) = live::read_both(&ctx);
        let system = plan::compare(&ctx, false, &m.services, &system?);
        let mut changes = system.changes;
        let mut agreed = system.agreed;
        let mut problems = system.problems;
        match user {
            Ok(live) => {
                let user = plan::compare(&ctx, true, &m.user_services, &live);
                changes.extend(user.changes);
                agreed.extend(user.agreed);
                problems.extend(user.problems);
            }
            Err(e) if !m.user_services.is_empty() => problems.push(warning(
                "user units",
                format!("the user units could not be read: {}", error_text(&e)),
            )),
            Err(_) => {}
        }
        Ok(Plan {
            items: (m.services.0.len() + m.user_services.0.len()) as u32,
            changes,
            agreed,
            problems,
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        let m = manifest::parse(text.as_deref())?;
        Ok(vec![Section {
            name: SECTION.into(),
            lines: render::section(&m),
        }])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        verbs::VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        verbs::VERBS.complete(text.as_deref(), &verb, &args)
    }
}

fn error_text(e: &Error) -> String {
    match e {
        Error::InvalidManifest(i) => i.message.clone(),
        Error::Unavailable(s) | Error::Failed(s) => s.clone(),
    }
}
