//! `bkt systemd enable|disable|mask|unmask|remove|list UNIT... [--user]`.
//!
//! Each verb edits the manifest (the host writes it and the SYSTEMD_UNITS section as one
//! transaction) and says what it changes on the machine now: the units it names whose live
//! state differs from the one they now have in the manifest.

use crate::live;
use crate::manifest::{Manifest, State, Units, check_unit};
use crate::plan;
use bkt_sdk::{Context, EditResult, Entry, Error, Verbs, host, usage};

pub const MANIFEST: &str = "systemd-services.json";

/// The units a verb names and whether they are user units.
struct Named {
    units: Vec<String>,
    user: bool,
}

fn named(verb: &str, args: &[String], at_least_one: bool) -> Result<Named, Error> {
    let mut out = Named {
        units: Vec::new(),
        user: false,
    };
    for arg in args {
        match arg.as_str() {
            "--user" => out.user = true,
            "--system" => out.user = false,
            a if a.starts_with('-') => {
                return Err(usage(format!("`systemd {verb}` has no option {a:?}")));
            }
            unit => {
                check_unit(unit).map_err(usage)?;
                if !out.units.iter().any(|u| u == unit) {
                    out.units.push(unit.to_string());
                }
            }
        }
    }
    if at_least_one && out.units.is_empty() {
        return Err(usage(format!(
            "`systemd {verb}` takes one or more units: NAME.service, .socket, .timer, .path, .mount or .target"
        )));
    }
    Ok(out)
}

/// The machine's units of one scope; an error when they cannot be read.
fn live_units(ctx: &Context, user: bool) -> Result<live::Units, Error> {
    let (system, users) = live::read_both(ctx);
    if user { users } else { system }
}

/// The changes that bring the named units to the states `wanted` gives them now, and what
/// stops some of them (a unit not installed here).
fn changes_for(ctx: &Context, n: &Named, wanted: &Units) -> Result<plan::Compared, Error> {
    let live = live_units(ctx, n.user)?;
    let only = Units(
        wanted
            .0
            .iter()
            .filter(|(u, _)| n.units.contains(u))
            .cloned()
            .collect(),
    );
    let ids: Vec<String> = n.units.iter().map(|u| plan::id(n.user, u)).collect();
    let mut compared = plan::compare(ctx, n.user, &only, &live);
    compared.changes.retain(|c| ids.contains(&c.id));
    Ok(compared)
}

fn set(
    m: &mut Manifest,
    old: Option<&str>,
    verb: &str,
    args: &[String],
    state: State,
) -> Result<EditResult, Error> {
    let n = named(verb, args, true)?;
    for unit in &n.units {
        m.units_mut(n.user).set(unit, state);
    }
    let compared = changes_for(&host::context(), &n, m.units(n.user))?;
    let scope = if n.user { "user units" } else { "system units" };
    let mut output = vec![format!("{} {}: {}", state.word(), scope, n.units.join(" "))];
    output.extend(compared.problems.iter().map(|p| p.message.clone()));
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output,
        changes: compared.changes,
    })
}

/// Unmasking gives a unit back to its vendor preset: the manifest stops naming it, and the
/// machine's mask goes.
fn unmask(m: &mut Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let n = named("unmask", args, true)?;
    let ctx = host::context();
    let live = live_units(&ctx, n.user)?;
    let mut changes = Vec::new();
    for unit in &n.units {
        if m.units(n.user).get(unit) == Some(State::Masked) {
            m.units_mut(n.user).remove(unit);
        }
        if let Some(u) = live.get(unit).filter(|u| u.state == "masked") {
            changes.push(bkt_sdk::change(
                plan::id(n.user, unit),
                format!("unmask {unit}"),
                None,
                Some(u.state.clone()),
                plan::scope(&ctx, n.user),
                vec![plan::run(&ctx, n.user, "unmask", unit)],
            ));
        }
    }
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![format!("unmasked: {}", n.units.join(" "))],
        changes,
    })
}

fn remove(m: &mut Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let n = named("remove", args, true)?;
    for unit in &n.units {
        if !m.units_mut(n.user).remove(unit) {
            let field = if n.user { "user_services" } else { "services" };
            return Err(usage(format!("{unit} is not in {MANIFEST} ({field})")));
        }
    }
    Ok(bkt_sdk::edited(
        Some(m.render(old)),
        vec![format!(
            "{} no longer in the manifest; the machine keeps its state",
            n.units.join(" ")
        )],
    ))
}

fn list(m: &Manifest, args: &[String]) -> Result<EditResult, Error> {
    let n = named("list", args, false)?;
    let live = live_units(&host::context(), n.user).ok();
    let units = m.units(n.user);
    let scope = if n.user { "user units" } else { "system units" };
    let mut out = vec![format!("{scope} ({}):", units.0.len())];
    for (unit, want) in &units.0 {
        let here = match live.as_ref().map(|l| l.get(unit)) {
            Some(Some(u)) if u.state == want.word() => String::new(),
            Some(Some(u)) => format!("   (here: {})", u.state),
            Some(None) => "   (not installed here)".into(),
            None => "   (the machine's state could not be read)".into(),
        };
        out.push(format!("  {unit} {}{here}", want.word()));
    }
    Ok(bkt_sdk::edited(None, out))
}

/// The verbs, each with its handler; `remove` offers the manifest's units.
pub const VERBS: Verbs<Manifest> = Verbs::new(
    "systemd",
    crate::manifest::parse,
    &[
        Entry::edits(
            "enable",
            "UNIT... [--user]",
            "Enable units in the image and here",
            |mut m, old, args| set(&mut m, old, "enable", args, State::Enabled),
        ),
        Entry::edits(
            "disable",
            "UNIT... [--user]",
            "Disable units in the image and here",
            |mut m, old, args| set(&mut m, old, "disable", args, State::Disabled),
        ),
        Entry::edits(
            "mask",
            "UNIT... [--user]",
            "Mask units in the image and here",
            |mut m, old, args| set(&mut m, old, "mask", args, State::Masked),
        ),
        Entry::edits(
            "unmask",
            "UNIT... [--user]",
            "Unmask units here and leave them to their vendor preset in the image",
            |mut m, old, args| unmask(&mut m, old, args),
        )
        .completing(masked),
        Entry::edits(
            "remove",
            "UNIT... [--user]",
            "Take units out of the manifest (the machine keeps their state)",
            |mut m, old, args| remove(&mut m, old, args),
        )
        .completing(tracked),
        Entry::reads(
            "list",
            "[--user]",
            "Show the manifest's units and their state here",
            |m, _, args| list(&m, args),
        ),
    ],
);

/// The manifest's units of the scope typed so far (`--user` anywhere: the user's), less
/// those already named.
fn tracked(m: &Manifest, typed: &[String]) -> Vec<String> {
    let user = typed.iter().any(|a| a == "--user");
    m.units(user)
        .0
        .iter()
        .map(|(unit, _)| unit.clone())
        .filter(|unit| !typed.contains(unit))
        .collect()
}

/// The manifest's masked units, for `unmask`.
fn masked(m: &Manifest, typed: &[String]) -> Vec<String> {
    let user = typed.iter().any(|a| a == "--user");
    m.units(user)
        .0
        .iter()
        .filter(|(unit, state)| *state == State::Masked && !typed.contains(unit))
        .map(|(unit, _)| unit.clone())
        .collect()
}
