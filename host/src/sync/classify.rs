//! Which side moved: the manifest (source), the machine (actual), or both, judged against the
//! sync record (the last state both agreed on). The policy lives here once, for every plugin;
//! plugins only say what each side holds.

use super::record::fingerprint;
use crate::model::{Change, ChangeKind};
use std::collections::BTreeMap;

/// How an item drifted since the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// The manifest moved, the machine did not: apply takes it.
    ManifestChanged,
    /// The machine moved, the manifest did not: capture takes it; apply asks first.
    MachineChanged,
    /// Both moved, apart: neither command touches it until the user picks a side.
    Conflict,
    /// Added to the manifest since the last sync: apply takes it.
    NewInManifest,
    /// Appeared on the machine since the last sync: capture takes it; `apply --prune` removes.
    NewOnMachine,
    /// No sync record yet: apply follows the manifest; capture adds untracked items and takes
    /// only values the user set, never a default.
    FirstContact,
    /// Changed with `--local` this boot: known, not drift. Neither command touches it until
    /// `bkt local commit` or `bkt local clear`.
    Local,
}

impl Drift {
    /// The words status prints after the change.
    pub fn label(self) -> &'static str {
        match self {
            Drift::ManifestChanged => "changed in the manifest",
            Drift::MachineChanged => "changed on this machine",
            Drift::Conflict => "changed on both sides",
            Drift::NewInManifest => "new in the manifest",
            Drift::NewOnMachine => "new on this machine",
            Drift::FirstContact => "not synced yet",
            Drift::Local => "local change",
        }
    }

    /// The name `--format json` uses.
    pub fn key(self) -> &'static str {
        match self {
            Drift::ManifestChanged => "manifest",
            Drift::MachineChanged => "machine",
            Drift::Conflict => "both",
            Drift::NewInManifest => "new-in-manifest",
            Drift::NewOnMachine => "new-on-machine",
            Drift::FirstContact => "first-contact",
            Drift::Local => "local",
        }
    }
}

/// `record` is the plugin's entries in the item's scope; `None` when this plugin was never
/// synced there.
pub fn classify(change: &Change, record: Option<&BTreeMap<String, String>>) -> Drift {
    let Some(record) = record else {
        return Drift::FirstContact;
    };
    let wanted = change.wanted.as_deref().map(fingerprint);
    let live = change.live.as_deref().map(fingerprint);
    match record.get(&change.id) {
        None => match (&wanted, &live) {
            (Some(_), None) => Drift::NewInManifest,
            (None, Some(_)) => Drift::NewOnMachine,
            // Added to the manifest over a value nobody set: the manifest's to apply.
            _ if change.live_is_default => Drift::NewInManifest,
            _ => Drift::Conflict,
        },
        Some(synced) => {
            let manifest_moved = wanted.as_ref() != Some(synced);
            let machine_moved = live.as_ref() != Some(synced);
            match (manifest_moved, machine_moved) {
                (false, true) => Drift::MachineChanged,
                (true, true) => Drift::Conflict,
                // Neither moved cannot drift; treat it as the manifest's, which apply takes.
                _ => Drift::ManifestChanged,
            }
        }
    }
}

/// What `apply` does with a drifting item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyDecision {
    Run,
    /// A change made on this machine: reverted only when the user says so.
    Ask,
    /// Left alone; the reason is the drift (a conflict, or an extra without `--prune`).
    Skip,
}

/// `prune`: also remove items only the machine has. `overwrite`: the manifest wins over
/// changes made on this machine and over conflicts.
pub fn apply_decision(
    drift: Drift,
    change: &Change,
    prune: bool,
    overwrite: bool,
) -> ApplyDecision {
    let extra = change.kind == ChangeKind::Extra;
    match drift {
        Drift::ManifestChanged | Drift::NewInManifest => ApplyDecision::Run,
        Drift::FirstContact | Drift::NewOnMachine if extra => {
            if prune {
                ApplyDecision::Run
            } else {
                ApplyDecision::Skip
            }
        }
        Drift::FirstContact => ApplyDecision::Run,
        Drift::NewOnMachine => ApplyDecision::Skip,
        Drift::MachineChanged if overwrite => ApplyDecision::Run,
        Drift::MachineChanged => ApplyDecision::Ask,
        Drift::Conflict if overwrite => ApplyDecision::Run,
        Drift::Conflict | Drift::Local => ApplyDecision::Skip,
    }
}

/// Whether `capture` takes the machine's side of a drifting item. `overwrite`: the machine
/// wins over manifest edits and conflicts.
pub fn capture_takes(drift: Drift, change: &Change, overwrite: bool) -> bool {
    match drift {
        Drift::MachineChanged | Drift::NewOnMachine => true,
        // First contact: what the user set is theirs to keep; a default never replaces a
        // manifest value, and an item only the manifest has is not dropped.
        Drift::FirstContact => change.kind != ChangeKind::Missing && !change.live_is_default,
        Drift::Conflict | Drift::ManifestChanged => overwrite,
        Drift::NewInManifest | Drift::Local => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;

    fn change(wanted: Option<&str>, live: Option<&str>, default: bool) -> Change {
        let kind = match (wanted, live) {
            (Some(_), None) => ChangeKind::Missing,
            (None, Some(_)) => ChangeKind::Extra,
            _ => ChangeKind::Differs,
        };
        Change {
            id: "item".into(),
            kind,
            summary: String::new(),
            effects: vec![],
            wanted: wanted.map(String::from),
            live: live.map(String::from),
            live_is_default: default,
            scope: Scope::User,
            next_boot: false,
        }
    }

    fn record(value: &str) -> BTreeMap<String, String> {
        [("item".to_string(), fingerprint(value))]
            .into_iter()
            .collect()
    }

    #[test]
    fn the_side_that_moved_is_the_one_that_differs_from_the_record() {
        let r = record("a");
        let c = |w, l| classify(&change(w, l, false), Some(&r));
        assert_eq!(c(Some("b"), Some("a")), Drift::ManifestChanged);
        assert_eq!(c(Some("a"), Some("b")), Drift::MachineChanged);
        assert_eq!(c(Some("b"), Some("c")), Drift::Conflict);
        // Removed from the manifest, still on the machine: the manifest moved.
        assert_eq!(c(None, Some("a")), Drift::ManifestChanged);
        // Uninstalled by hand, still in the manifest: the machine moved.
        assert_eq!(c(Some("a"), None), Drift::MachineChanged);
        assert_eq!(c(None, Some("b")), Drift::Conflict);
    }

    #[test]
    fn items_the_record_does_not_know_are_new_on_one_side() {
        let r = BTreeMap::new();
        assert_eq!(
            classify(&change(Some("a"), None, false), Some(&r)),
            Drift::NewInManifest
        );
        assert_eq!(
            classify(&change(None, Some("a"), false), Some(&r)),
            Drift::NewOnMachine
        );
        assert_eq!(
            classify(&change(Some("a"), Some("b"), true), Some(&r)),
            Drift::NewInManifest
        );
        assert_eq!(
            classify(&change(Some("a"), Some("b"), false), Some(&r)),
            Drift::Conflict
        );
        assert_eq!(
            classify(&change(Some("a"), Some("b"), false), None),
            Drift::FirstContact
        );
    }

    #[test]
    fn apply_and_capture_never_undo_each_other() {
        let differs = change(Some("a"), Some("b"), false);
        let default = change(Some("a"), Some("b"), true);
        let extra = change(None, Some("b"), false);
        let missing = change(Some("a"), None, false);
        use ApplyDecision::*;
        assert_eq!(
            apply_decision(Drift::MachineChanged, &differs, false, false),
            Ask
        );
        assert_eq!(
            apply_decision(Drift::MachineChanged, &differs, false, true),
            Run
        );
        assert_eq!(apply_decision(Drift::Conflict, &differs, true, false), Skip);
        assert_eq!(
            apply_decision(Drift::FirstContact, &extra, false, false),
            Skip
        );
        assert_eq!(
            apply_decision(Drift::FirstContact, &extra, true, false),
            Run
        );
        assert_eq!(
            apply_decision(Drift::ManifestChanged, &extra, false, false),
            Run
        );
        assert!(capture_takes(Drift::FirstContact, &differs, false));
        assert!(!capture_takes(Drift::FirstContact, &default, false));
        assert!(!capture_takes(Drift::FirstContact, &missing, false));
        assert!(capture_takes(Drift::FirstContact, &extra, false));
        assert!(!capture_takes(Drift::ManifestChanged, &differs, false));
        assert!(!capture_takes(Drift::Conflict, &differs, false));
        assert!(capture_takes(Drift::Conflict, &differs, true));
        for drift in [Drift::ManifestChanged, Drift::NewInManifest] {
            assert!(!capture_takes(drift, &differs, false), "{drift:?}");
        }
        for drift in [Drift::MachineChanged, Drift::NewOnMachine] {
            assert_ne!(
                apply_decision(drift, &differs, false, false),
                Run,
                "{drift:?}"
            );
        }
    }
}
