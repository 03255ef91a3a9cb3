//! A program exiting 0 is not proof. After the effects of a command ran, each plugin whose
//! changes ran is planned again (once, for all its items), and a change whose item still
//! differs is a failure, said with what its program printed: the sync record then keeps only
//! what the machine shows.

use super::steps::Step;
use super::ui::{Failed, Outcome, Ui};
use crate::app::App;
use crate::model::Change;
use std::collections::BTreeMap;

/// dconf's warning when gsettings has no session bus to reach it: the write is lost.
const NO_SESSION_BUS: &str = "failed to commit changes to dconf";

/// Turns every outcome in `outcomes` (one per step) that succeeded but did not take into a
/// failure, and says so. `manifest_of` gives the manifest text each plugin's changes came from. Changes
/// that wait for the next boot cannot show yet and are left as they are; a plugin that
/// cannot be planned again is left unverified.
pub fn verify(
    app: &App,
    ui: &dyn Ui,
    steps: &[Step],
    outcomes: &mut [Outcome],
    manifest_of: &dyn Fn(&str) -> Option<String>,
) {
    let mut touched: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (step, outcome)) in steps.iter().zip(outcomes.iter()).enumerate() {
        if outcome.is_ok() && !step.change.next_boot {
            touched.entry(step.plugin).or_default().push(i);
        }
    }
    for (id, indexes) in touched {
        let Some(plugin) = app.by_command(id) else {
            continue;
        };
        let plan = app
            .rt
            .session(plugin)
            .map_err(|e| format!("{e:#}"))
            .and_then(|mut s| {
                s.plan(manifest_of(id).as_deref())
                    .map_err(|e| e.to_string())
            });
        let plan = match plan {
            Ok(plan) => plan,
            Err(why) => {
                tracing::warn!("plugin {id}: the changes could not be checked: {why}");
                continue;
            }
        };
        for i in indexes {
            let step = &steps[i];
            let Some(still) = plan.changes.iter().find(|c| c.id == step.change.id) else {
                continue;
            };
            let said = outcomes[i].as_ref().map(String::as_str).unwrap_or_default();
            let why = not_taken(step, still, said);
            // Said once, after the progress line that called it ok.
            ui.error("failed", step.plugin, &why);
            outcomes[i] = Err(Failed(why));
        }
    }
}

/// Why a change whose programs succeeded is still there.
fn not_taken(step: &Step, still: &Change, said: &str) -> String {
    let program = step
        .effects
        .iter()
        .find_map(|e| match e {
            crate::model::Effect::Run(r) => Some(r.program.as_str()),
            _ => None,
        })
        .unwrap_or("the change");
    let now = still.live.as_deref().unwrap_or("absent");
    let wanted = still.wanted.as_deref().unwrap_or("absent");
    let mut text = format!(
        "{program} exited 0 but {} is still {now} (wanted {wanted})",
        step.change.id
    );
    let no_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty());
    if said.contains(NO_SESSION_BUS) || (no_bus && matches!(program, "gsettings" | "dconf")) {
        text.push_str(
            ": there is no session bus, so dconf could not store it; run bkt inside the \
             desktop session, or as `dbus-run-session bkt ...`",
        );
    } else if !said.is_empty() {
        text.push_str(&format!(": {said}"));
    }
    text
}
