//! Drift as every command shows it: each change with the side that moved, the next steps
//! that resolve it (and never undo an edit), and counts that read well.

use crate::model::{Change, StateDirs, SystemRoot};
use crate::os::text::{count, takes_effect};
use crate::plan::PluginPlan;
use crate::sync::{self, ApplyDecision, Drift, Records};
use serde_json::json;

/// Each plugin plan's changes with their drift (items changed with `--local` are local; the
/// record of local changes is read once).
pub fn all<'a>(
    plans: &'a [PluginPlan],
    records: &Records,
    root: &SystemRoot,
    dirs: &StateDirs,
) -> Vec<Vec<(&'a Change, Drift)>> {
    let local = crate::local::current_items(root, dirs);
    plans
        .iter()
        .map(|p| sync::drifts(p, records, &local))
        .collect()
}

/// The change as people read it. A plugin says a difference as `… LIVE → WANTED`, what apply
/// would do; when this machine is the side that moved, the arrow is turned to tell what
/// happened here (`WANTED → LIVE`), and when both moved, both sides are named.
pub fn reads(change: &Change, drift: Drift) -> String {
    let (Some(wanted), Some(live)) = (&change.wanted, &change.live) else {
        return change.summary.clone();
    };
    let arrow = format!("{live} → {wanted}");
    let Some(at) = change.summary.rfind(&arrow) else {
        return change.summary.clone();
    };
    let told = match drift {
        Drift::MachineChanged => format!("{wanted} → {live}"),
        Drift::Conflict => format!("the manifest says {wanted}, this machine {live}"),
        _ => return change.summary.clone(),
    };
    format!(
        "{}{told}{}",
        &change.summary[..at],
        &change.summary[at + arrow.len()..]
    )
}

pub fn change_json(change: &Change, drift: Drift) -> serde_json::Value {
    json!({
        "id": change.id,
        "kind": change.kind.name(),
        "side": drift.key(),
        "summary": change.summary,
        "wanted": change.wanted,
        "live": change.live,
        "live_is_default": change.live_is_default,
    })
}

/// The commands that resolve a plugin's drift, each taking only what it should: `apply` the
/// manifest's changes, `capture` the machine's, and for conflicts both, with the side named.
pub fn next_steps(id: &str, drifts: &[(&Change, Drift)]) -> Vec<String> {
    // As root, user settings are not changed (see apply): no command of this run acts on them.
    let as_root = crate::os::identity::euid() == 0;
    let mut users = 0;
    let mut apply = 0;
    let mut capture = 0;
    let mut conflicts = 0;
    let mut prune = 0;
    let mut next_boot = 0;
    // Of those, the ones `apply --now` can also set on this deployment (an ostree system).
    let mut settable_now = 0;
    let mut local = 0;
    // Changes apply would take but has nothing to run for (a plugin's problem says why).
    let mut cannot = 0;
    for (change, drift) in drifts {
        if *drift == Drift::Local {
            local += 1;
            continue;
        }
        if as_root && for_the_user(&change.effects, change.scope) {
            users += 1;
            continue;
        }
        if change.next_boot {
            next_boot += 1;
            settable_now += usize::from(!change.effects.is_empty());
            continue;
        }
        let takes = sync::capture_takes(*drift, change, false);
        match (*drift, sync::apply_decision(*drift, change, false, false)) {
            (Drift::Conflict, _) => conflicts += 1,
            // First contact: a value the user set is offered to capture, not to apply.
            (Drift::FirstContact, ApplyDecision::Run) if takes => capture += 1,
            (_, ApplyDecision::Run) if change.effects.is_empty() => cannot += 1,
            (_, ApplyDecision::Run) => apply += 1,
            _ if takes => capture += 1,
            (_, ApplyDecision::Skip) => prune += 1,
            _ => {}
        }
    }
    let mut steps = Vec::new();
    if capture > 0 {
        steps.push(format!(
            "bkt capture -s {id} keeps {} made on this machine",
            count(capture, "change")
        ));
    }
    if apply > 0 {
        steps.push(format!(
            "bkt apply -s {id} applies {} from the manifest",
            count(apply, "change")
        ));
    }
    if cannot > 0 {
        steps.push(format!(
            "{} bkt cannot make on this machine (the warnings above say why)",
            count(cannot, "change")
        ));
    }
    if conflicts > 0 {
        steps.push(format!(
            "{} changed on both sides: bkt apply --overwrite -s {id} keeps the manifest's, bkt capture --overwrite -s {id} this machine's",
            count(conflicts, "item")
        ));
    }
    if local > 0 {
        let it = crate::os::text::them(local);
        steps.push(format!(
            "{} made with --local: bkt local commit proposes {it}, bkt local clear forgets {it}",
            count(local, "change")
        ));
    }
    if next_boot > 0 {
        // `apply --now` is named only where it would act.
        let now = if settable_now > 0 {
            format!("; bkt apply --now -s {id} also sets them on this deployment")
        } else {
            String::new()
        };
        steps.push(format!(
            "{} {} when the next image boots{now}",
            count(next_boot, "change"),
            takes_effect(next_boot)
        ));
    }
    if prune > 0 {
        steps.push(format!(
            "bkt apply --prune -s {id} removes {} only this machine has",
            count(prune, "item")
        ));
    }
    if users > 0 {
        steps.push(format!(
            "{} left to the user's own session: bkt does not change them as root (run bkt there)",
            count(users, "user setting")
        ));
    }
    steps
}

/// Whether a change acts on a user's settings: any of `effects` runs as the user (or, with
/// none, the item is the user's). The one rule apply skips as root and status names.
pub fn for_the_user<'a>(
    effects: impl IntoIterator<Item = &'a crate::model::Effect>,
    item: crate::model::Scope,
) -> bool {
    use crate::model::Scope;
    let mut effects = effects.into_iter().peekable();
    match effects.peek() {
        None => item == Scope::User,
        Some(_) => effects.any(|e| e.scope() == Scope::User),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Effect, Scope};

    fn karg(effects: Vec<Effect>) -> Change {
        Change {
            id: "quiet".into(),
            kind: ChangeKind::Missing,
            summary: String::new(),
            effects,
            wanted: Some("present".into()),
            live: None,
            live_is_default: false,
            scope: Scope::System,
            next_boot: true,
        }
    }

    /// `apply --now` is offered only for changes it can set on this deployment.
    #[test]
    fn apply_now_is_named_only_where_it_acts() {
        let unsettable = karg(vec![]);
        let steps = next_steps("kargs", &[(&unsettable, Drift::ManifestChanged)]);
        assert_eq!(steps, ["1 change takes effect when the next image boots"]);
        let settable = karg(vec![Effect::RemoveFile("/x".into())]);
        let steps = next_steps("kargs", &[(&settable, Drift::ManifestChanged)]);
        assert!(steps[0].contains("bkt apply --now -s kargs"), "{steps:?}");
    }

    /// The arrow tells what happened on the side that moved.
    #[test]
    fn a_difference_reads_in_the_direction_it_happened() {
        let change = Change {
            id: "k".into(),
            kind: ChangeKind::Differs,
            summary: "s k: '24h' → '12h'".into(),
            effects: vec![],
            wanted: Some("'12h'".into()),
            live: Some("'24h'".into()),
            live_is_default: false,
            scope: Scope::User,
            next_boot: false,
        };
        assert_eq!(reads(&change, Drift::ManifestChanged), "s k: '24h' → '12h'");
        assert_eq!(reads(&change, Drift::MachineChanged), "s k: '12h' → '24h'");
        assert_eq!(
            reads(&change, Drift::Conflict),
            "s k: the manifest says '12h', this machine '24h'"
        );
    }

    /// A change with nothing to run is not offered to `bkt apply`.
    #[test]
    fn apply_is_offered_only_for_changes_it_can_make() {
        let mut change = karg(vec![]);
        change.next_boot = false;
        let steps = next_steps("x", &[(&change, Drift::ManifestChanged)]);
        assert_eq!(
            steps,
            ["1 change bkt cannot make on this machine (the warnings above say why)"]
        );
        change.effects = vec![Effect::RemoveFile("/x".into())];
        let steps = next_steps("x", &[(&change, Drift::ManifestChanged)]);
        assert_eq!(steps, ["bkt apply -s x applies 1 change from the manifest"]);
    }
}
