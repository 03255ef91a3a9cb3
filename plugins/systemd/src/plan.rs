//! The manifest's units against the machine's, one scope at a time.
//!
//! A unit the manifest names is in step when its state is the one wanted. A unit it does not
//! name is reported only when somebody chose its state: enabled against a vendor preset of
//! disabled, or masked. What the preset gives is nobody's choice, so it is never an extra and
//! never captured over the manifest.

use crate::live::{self, Unit};
use crate::manifest::{State, Units};
use bkt_sdk::{
    Agreed, Change, Context, Effect, Problem, Scope, agreed, change, run_batched, warning,
};

/// The item id of a unit: its name for a system unit, `user:NAME` for a user unit.
pub fn id(user: bool, unit: &str) -> String {
    if user {
        format!("user:{unit}")
    } else {
        unit.to_string()
    }
}

/// The scope and the unit an item id names.
pub fn parse_id(id: &str) -> (bool, &str) {
    match id.strip_prefix("user:") {
        Some(unit) => (true, unit),
        None => (false, id),
    }
}

/// Where the item is recorded and who runs its effects: a user unit on the running machine
/// is the user's; inside a root every unit is set in the image's files, as root.
pub fn scope(ctx: &Context, user: bool) -> Scope {
    if user && ctx.root == "/" {
        Scope::User
    } else {
        Scope::System
    }
}

/// `systemctl [--root=ROOT] [--user|--global] VERB UNIT`.
pub fn run(ctx: &Context, user: bool, verb: &str, unit: &str) -> Effect {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(live::scope_args(ctx, user));
    argv.push(verb.to_string());
    argv.push(unit.to_string());
    run_batched(&argv, scope(ctx, user))
}

/// What sets `unit` to `want` from `live`: a masked unit is unmasked first (enable and
/// disable leave a mask in place).
pub fn fix(ctx: &Context, user: bool, unit: &str, want: State, live: Option<&Unit>) -> Vec<Effect> {
    let masked = live.is_some_and(|u| u.state == "masked");
    let mut effects = Vec::new();
    if masked && want != State::Masked {
        effects.push(run(ctx, user, "unmask", unit));
    }
    effects.push(run(ctx, user, want.verb(), unit));
    effects
}

/// What puts a unit the manifest does not name back to its vendor preset.
fn undo(ctx: &Context, user: bool, unit: &str, live: &Unit) -> Vec<Effect> {
    if live.state == "masked" {
        vec![run(ctx, user, "unmask", unit)]
    } else {
        vec![run(ctx, user, "disable", unit)]
    }
}

/// Whether somebody chose the state of a unit the manifest does not name.
pub fn chosen(live: &Unit) -> bool {
    matches!(live.state.as_str(), "masked" | "enabled") && !live.is_default()
}

pub struct Compared {
    pub changes: Vec<Change>,
    pub agreed: Vec<Agreed>,
    /// Units the manifest wants enabled that this machine does not have: nothing here can
    /// enable them, so they are said, not planned.
    pub problems: Vec<Problem>,
}

/// Why a unit the manifest wants enabled is not planned: systemd has no unit file of that
/// name here (its package is not installed), and `systemctl enable` would only fail.
fn not_installed(user: bool, unit: &str) -> Problem {
    let scope = if user { "user units" } else { "units" };
    warning(
        id(user, unit),
        format!(
            "{unit} is not installed here (systemd's {scope} have no such file), so it cannot be enabled on this machine; the image enables it where it is installed"
        ),
    )
}

/// One scope: the manifest's `wanted` units against the machine's `live` ones.
pub fn compare(ctx: &Context, user: bool, wanted: &Units, live: &live::Units) -> Compared {
    let mut out = Compared {
        changes: Vec::new(),
        agreed: Vec::new(),
        problems: Vec::new(),
    };
    let sc = scope(ctx, user);
    for (unit, want) in &wanted.0 {
        let item = id(user, unit);
        let found = live.get(unit);
        match found {
            Some(u) if u.state == want.word() => out.agreed.push(agreed(item, want.word(), sc)),
            // A unit that is not there is not enabled: "disabled" holds.
            None if *want == State::Disabled => out.agreed.push(agreed(item, "disabled", sc)),
            None if *want == State::Enabled => out.problems.push(not_installed(user, unit)),
            _ => {
                let mut c = change(
                    item,
                    match found {
                        Some(u) => format!(
                            "{unit} is {}, the manifest wants it {}",
                            u.state,
                            want.word()
                        ),
                        None => format!("{unit} is not masked"),
                    },
                    Some(want.word().into()),
                    found.map(|u| u.state.clone()),
                    sc,
                    fix(ctx, user, unit, *want, found),
                );
                c.live_is_default = found.is_some_and(Unit::is_default);
                out.changes.push(c);
            }
        }
    }
    for (unit, u) in live {
        if wanted.get(unit).is_some() || !chosen(u) {
            continue;
        }
        out.changes.push(change(
            id(user, unit),
            format!(
                "{unit} is {} here, and the manifest does not name it",
                u.state
            ),
            None,
            Some(u.state.clone()),
            sc,
            undo(ctx, user, unit, u),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bkt_sdk::{ChangeKind, Run};

    fn ctx(root: &str) -> Context {
        Context {
            root: root.into(),
            home: "/home/u".into(),
            data_home: String::new(),
            arch: "x86_64".into(),
            ostree: false,
        }
    }

    fn argvs(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .map(|e| match e {
                Effect::Run(Run { program, args, .. }) => format!("{program} {}", args.join(" ")),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_unit_shows_both_states_and_the_commands_that_fix_it() {
        let wanted = Units(vec![
            ("a.service".into(), State::Enabled),
            ("b.service".into(), State::Masked),
            ("c.service".into(), State::Enabled),
            ("d.service".into(), State::Disabled),
            ("gone.service".into(), State::Disabled),
        ]);
        let live = live::parse(
            "a.service enabled disabled\nb.service disabled disabled\nc.service masked enabled\nd.service enabled enabled\nx.service enabled disabled\ny.service masked enabled\nz.service enabled enabled\n",
        );
        let out = compare(&ctx("/mnt"), false, &wanted, &live);
        let agreed: Vec<&str> = out.agreed.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(agreed, ["a.service", "gone.service"]);
        let ids: Vec<&str> = out.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "b.service",
                "c.service",
                "d.service",
                "x.service",
                "y.service"
            ]
        );
        let b = &out.changes[0];
        assert_eq!(
            (b.wanted.as_deref(), b.live.as_deref()),
            (Some("masked"), Some("disabled"))
        );
        assert!(b.live_is_default, "disabled is b's preset");
        assert_eq!(argvs(&b.effects), ["systemctl --root=/mnt mask b.service"]);
        assert_eq!(
            argvs(&out.changes[1].effects),
            [
                "systemctl --root=/mnt unmask c.service",
                "systemctl --root=/mnt enable c.service"
            ]
        );
        assert!(out.changes[2].live_is_default);
        assert_eq!(out.changes[3].kind, ChangeKind::Extra);
        assert_eq!(
            argvs(&out.changes[4].effects),
            ["systemctl --root=/mnt unmask y.service"]
        );
        // z is enabled by its preset: nobody's choice.
    }

    #[test]
    fn user_units_run_in_the_user_s_scope_here_and_globally_in_a_root() {
        let wanted = Units(vec![("u.service".into(), State::Enabled)]);
        let out = compare(&ctx("/"), true, &wanted, &live::Units::new());
        assert!(out.changes.is_empty(), "not installed: nothing to run");
        assert_eq!(out.problems[0].id, "user:u.service");
        assert_eq!(out.problems[0].severity, bkt_sdk::Severity::Warning);
        let live = live::parse("u.service disabled enabled\n");
        let here = compare(&ctx("/"), true, &wanted, &live);
        assert_eq!(here.changes[0].scope, Scope::User);
        assert_eq!(
            argvs(&here.changes[0].effects),
            ["systemctl --user enable u.service"]
        );
        let root = compare(&ctx("/mnt"), true, &wanted, &live);
        assert_eq!(root.changes[0].scope, Scope::System);
        assert_eq!(
            argvs(&root.changes[0].effects),
            ["systemctl --root=/mnt --global enable u.service"]
        );
        assert_eq!(parse_id("user:u.service"), (true, "u.service"));
    }
}
