//! The manifest's shims against the user's home. An item is a shim's name; its value is the
//! host program it runs, with a note when the file or its link is not what bkt writes.

use crate::live::{self, Link, Shims};
use crate::manifest::{Manifest, Shim};
use crate::script;
use bkt_sdk::{Agreed, Change, Effect, Problem, Scope, WriteFile, agreed, change, warning};

pub fn shim_path(name: &str) -> String {
    format!("{}/{name}", script::SHIMS_DIR)
}

pub fn link_path(name: &str) -> String {
    format!("{}/{name}", script::BIN_DIR)
}

fn write(path: String, text: String) -> Effect {
    Effect::WriteFile(WriteFile {
        path,
        contents: text.into_bytes(),
        mode: 0o755,
    })
}

/// The machine's value of a shim file: the host program it runs, noted when the file is
/// not the one bkt writes for it.
pub fn live_value(name: &str, text: &str) -> String {
    match script::host_of(name, text) {
        Some(host) if script::text(name, &host) == text => host,
        Some(host) => format!("{host} (edited by hand)"),
        None => "(not a bkt shim)".into(),
    }
}

#[derive(Default)]
pub struct Compared {
    pub changes: Vec<Change>,
    pub agreed: Vec<Agreed>,
    pub problems: Vec<Problem>,
}

/// One shim of the manifest.
fn one(out: &mut Compared, home: &str, shim: &Shim, live: Option<&live::Shim>) {
    let name = &shim.name;
    let host = shim.host_cmd();
    let want = script::text(name, host);
    let link = live.map_or_else(|| live::link_of(home, name), |l| l.link.clone());
    let mut effects = Vec::new();
    let mut notes = Vec::new();
    if live.is_none_or(|l| l.text != want) {
        effects.push(write(shim_path(name), want));
    }
    if !link.is_ours(name) {
        if link == Link::Missing {
            notes.push(format!("no ~/.local/bin/{name}"));
            effects.push(write(link_path(name), script::link_text(name)));
        } else {
            // Someone's own program there: never replaced.
            out.problems.push(warning(
                name.clone(),
                format!("~/.local/bin/{name} is not bkt's link to the shim; it is left alone"),
            ));
        }
    }
    if effects.is_empty() {
        out.agreed.push(agreed(name.clone(), host, Scope::User));
        return;
    }
    let value = live.map(|l| {
        let v = live_value(name, &l.text);
        if notes.is_empty() {
            v
        } else {
            format!("{v} ({})", notes.join(", "))
        }
    });
    let summary = match &live {
        None => format!("{name} is not in {}", script::SHIMS_DIR),
        Some(_) => format!("{name} differs from the shim for {host}"),
    };
    out.changes.push(change(
        name.clone(),
        summary,
        Some(host.to_string()),
        value,
        Scope::User,
        effects,
    ));
}

/// A shim file the manifest does not name: removed with its link, if the link is bkt's.
fn extra(out: &mut Compared, name: &str, live: &live::Shim) {
    let mut effects = vec![Effect::RemoveFile(shim_path(name))];
    if live.link.is_ours(name) {
        effects.push(Effect::RemoveFile(link_path(name)));
    }
    out.changes.push(change(
        name,
        format!("{name} is in {} but not in the manifest", script::SHIMS_DIR),
        None,
        Some(live_value(name, &live.text)),
        Scope::User,
        effects,
    ));
}

pub fn compare(m: &Manifest, home: &str, live: &Shims) -> Compared {
    let mut out = Compared::default();
    for shim in &m.shims {
        one(&mut out, home, shim, live.get(&shim.name));
    }
    for (name, l) in live {
        if m.get(name).is_none() {
            extra(&mut out, name, l);
        }
    }
    out
}
