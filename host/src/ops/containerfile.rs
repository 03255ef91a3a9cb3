//! `bkt containerfile sync|check`: the managed sections re-rendered from the manifests, and
//! written (sync) or compared (check).

use super::report::{Exit, Report};
use super::ui::{Tone, Ui};
use crate::app::App;
use crate::containerfile::{self, FILE, sections};
use anyhow::{Result, bail};
use serde_json::json;

pub struct Checked {
    changed_sections: Vec<String>,
    /// Sections a plugin renders that the file has no markers for: (plugin, section).
    missing: Vec<(String, String)>,
    diff: String,
    drift: bool,
    written: bool,
    sync: bool,
}

impl Report for Checked {
    fn json(&self) -> serde_json::Value {
        json!({
            "file": FILE,
            "in_step": !self.drift && self.missing.is_empty(),
            "changed_sections": self.changed_sections,
            "missing_sections": self.missing.iter().map(|(p, s)| json!({"plugin": p, "section": s,
                "markers": [sections::begin_marker(s), sections::end_marker(s)]})).collect::<Vec<_>>(),
            "diff": self.diff,
            "written": self.written,
        })
    }

    /// check: 1 on drift or missing sections; sync: 1 when sections are missing.
    fn exit(&self) -> Exit {
        Exit::failed_if(!self.missing.is_empty() || (!self.sync && self.drift))
    }
}

/// Re-renders every section; with `sync`, writes the file. `want_diff`: the diff is needed
/// (a diff of a large rewrite is costly, and sync shows only section names to people).
pub fn run(app: &App, ui: &dyn Ui, sync: bool, want_diff: bool) -> Result<Checked> {
    let repo = if sync {
        app.repo_to_edit()?
    } else {
        app.repo()?
    };
    if sync {
        repo.lock()?;
    }
    let Some(r) = containerfile::rerender(
        &app.rt,
        &repo,
        &app.loaded(),
        &containerfile::Pending::new(),
    )?
    else {
        bail!("{} has no {FILE}", repo.path.display());
    };
    let drift = r.old != r.new;
    // Files in step have no diff, and working one out for a large file is not free.
    let diff = if drift && (want_diff || !sync) {
        crate::os::diff::unified(FILE, &r.old, &r.new)
    } else {
        String::new()
    };
    for advice in r.missing_advice() {
        ui.warn(&advice);
    }
    let in_step = format!("{FILE} is in step with the manifests.");
    if !sync {
        if drift {
            ui.show(&diff);
        } else if r.missing.is_empty() {
            ui.say(Tone::Plain, &in_step);
        }
    } else {
        if let Some(change) = r.file_change() {
            repo.commit(&[change])?;
        }
        if !r.changed.is_empty() {
            ui.say(
                Tone::Plain,
                &format!("Updated {FILE}: {}", r.changed.join(", ")),
            );
        } else if r.missing.is_empty() {
            ui.say(Tone::Plain, &in_step);
        } else {
            ui.say(
                Tone::Plain,
                &format!("{FILE} was not changed: it lacks the sections named above."),
            );
        }
    }
    Ok(Checked {
        changed_sections: r.changed.clone(),
        missing: r.missing.clone(),
        diff,
        drift,
        written: sync && drift,
        sync,
    })
}
