//! After a command: what the manifest and the machine agree on now, for the sync record.

use crate::model::{Agreed, Change};
use crate::sync::{Records, Settled};

/// Which side's value a settled change now agrees at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The change was applied: the machine took the manifest's value.
    Manifest,
    /// The change was captured: the manifest took the machine's value.
    Machine,
}

/// Records one plugin's state after a command: its `agreed` items agree; each of `changes`
/// that `taken` names agrees at that side's value; every other change keeps its old entry.
pub fn settle<'a>(
    records: &mut Records,
    plugin: &str,
    agreed: &'a [Agreed],
    changes: impl IntoIterator<Item = &'a Change>,
    taken: impl Fn(&Change) -> Option<Side>,
) {
    let mut settled = Settled {
        agreed,
        changed: vec![],
        unsettled: vec![],
    };
    for c in changes {
        match taken(c) {
            Some(Side::Manifest) => settled.changed.push((c.scope, &c.id, c.wanted.as_deref())),
            Some(Side::Machine) => settled.changed.push((c.scope, &c.id, c.live.as_deref())),
            None => settled.unsettled.push((c.scope, &c.id)),
        }
    }
    records.settle(plugin, &settled);
}
