//! The shims subsystem: host shims, small scripts that let a toolbox or distrobox container
//! run the host's programs (`docker` running the host's `podman`, `flatpak`, `bootc` ...).
//!
//! Each user's shims live in `~/.local/toolbox/shims/NAME`, linked from `~/.local/bin/NAME`
//! (on the container's PATH, as the home is shared); bkt keeps them with user-scope file
//! effects and reports a shim that is missing, differs or is extra there. The HOST_SHIMS
//! section puts the same files into `/etc/skel` for users the image creates. See `script`
//! for what a shim does.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;
pub mod plan;
pub mod render;
pub mod script;

use bkt_sdk::{
    Capabilities, Change, EditResult, Entry, Error, Guest, Phase, Plan, PluginInfo, Section, Verbs,
    edited, host, strings, usage,
};
use manifest::Manifest;

pub const MANIFEST: &str = "host-shims.json";
const SECTION: &str = "HOST_SHIMS";

struct Shims;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Shims);

fn capabilities() -> Capabilities {
    Capabilities {
        queries: vec![],
        runs: vec![],
        reads: strings(&[script::SHIMS_DIR, script::BIN_DIR]),
        writes: vec![
            format!("{}/", script::SHIMS_DIR),
            format!("{}/", script::BIN_DIR),
        ],
        fetches: vec![],
        fetch_limit: 0,
        programs: vec![],
    }
}

/// The change `name` needs now, if any: what a verb does on the machine.
fn change_for(m: &Manifest, name: &str) -> Vec<Change> {
    let home = host::context().home;
    plan::compare(m, &home, &live::read(&home))
        .changes
        .into_iter()
        .filter(|c| c.id == name)
        .collect()
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "shim",
    manifest::parse,
    &[
        Entry::edits(
            "add",
            "NAME [--host CMD]",
            "Add a shim that runs CMD (default NAME) on the host",
            add,
        ),
        Entry::edits(
            "remove",
            "NAME",
            "Remove a shim from the manifest, the image and the home",
            remove,
        )
        .completing(names),
        Entry::reads(
            "list",
            "",
            "Show the shims and whether the home has them",
            list,
        ),
    ],
);

/// The shims the manifest has, for completing `remove`.
fn names(m: &Manifest, typed: &[String]) -> Vec<String> {
    if !typed.is_empty() {
        return Vec::new();
    }
    m.shims.iter().map(|s| s.name.clone()).collect()
}

/// `add NAME [--host CMD]`.
fn add(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let (name, host) = match args {
        [name] => (name, None),
        [name, flag, host] if flag == "--host" => (name, Some(host.clone())),
        [name, flag] if flag.starts_with("--host=") => {
            (name, flag.strip_prefix("--host=").map(String::from))
        }
        _ => return Err(usage("`shim add` takes NAME [--host CMD]")),
    };
    manifest::check_program(name).map_err(usage)?;
    if let Some(h) = &host {
        manifest::check_program(h).map_err(usage)?;
    }
    m.set(name, host);
    let runs = m
        .get(name)
        .map_or(name.as_str(), |s| s.host_cmd())
        .to_string();
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![format!("{name} runs {runs} on the host")],
        changes: change_for(&m, name),
    })
}

/// `remove NAME`: out of the manifest, and its file (and bkt's link) out of the home.
fn remove(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let [name] = args else {
        return Err(usage("`shim remove` takes NAME"));
    };
    if !m.remove(name) {
        return Err(usage(format!("{name} is not in {MANIFEST}")));
    }
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![format!("{name} removed")],
        changes: change_for(&m, name),
    })
}

fn list(m: Manifest, _: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    if !args.is_empty() {
        return Err(VERBS.misused("list"));
    }
    let home = host::context().home;
    let compared = plan::compare(&m, &home, &live::read(&home));
    let mut out = vec![format!("host shims ({}):", m.shims.len())];
    for shim in &m.shims {
        let note = match compared.changes.iter().find(|c| c.id == shim.name) {
            Some(c) => format!("   ({})", c.summary),
            None => String::new(),
        };
        out.push(format!("  {} -> {}{note}", shim.name, shim.host_cmd()));
    }
    Ok(edited(None, out))
}

impl Guest for Shims {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "shims".into(),
            command: "shim".into(),
            summary: "Host shims: run the host's programs from toolbox and distrobox containers"
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: strings(&[SECTION]),
            phase: Phase::Configuration,
            verbs: VERBS.declared(),
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
        let live = live::read(&host::context().home);
        for name in &take {
            match live.get(name) {
                Some(shim) => m.set(name, script::host_of(name, &shim.text)),
                None => {
                    m.remove(name);
                }
            }
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let home = host::context().home;
        let compared = plan::compare(&m, &home, &live::read(&home));
        Ok(Plan {
            items: m.shims.len() as u32,
            changes: compared.changes,
            agreed: compared.agreed,
            problems: compared.problems,
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
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}
