//! The third state. Besides the manifests (what the repository wants) and the machine (what
//! it has), bkt remembers what both last agreed on, so that it can tell which side moved:
//! `capture` never overwrites an edit with a default, and `apply` never silently reverts a
//! change made by hand.

pub mod classify;
pub mod record;

pub use classify::{ApplyDecision, Drift, apply_decision, capture_takes, classify};
pub use record::{Records, Settled};

use crate::model::Change;
use crate::plan::PluginPlan;

/// A plugin plan's changes, each with how it drifted; items changed with `--local` this
/// boot are local.
pub fn drifts<'a>(
    plan: &'a PluginPlan,
    records: &Records,
    local: &crate::local::Items,
) -> Vec<(&'a Change, Drift)> {
    let Ok(result) = &plan.result else {
        return vec![];
    };
    let mine = local.get(plan.id());
    result
        .changes
        .iter()
        .map(|c| {
            if mine.is_some_and(|items| items.contains(&c.id)) {
                return (c, Drift::Local);
            }
            (c, classify(c, records.entries(c.scope, plan.id())))
        })
        .collect()
}
