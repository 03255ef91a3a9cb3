//! `bkt apply --boot`: once per deployment. The same deployment as last time ends at once,
//! before any plugin loads; a new one is applied without asking (changes made by hand are
//! reported, not reverted), and the marker moves only when every change succeeded.

use super::apply::{self, Applied, Observer};
use super::report::Exit;
use super::ui::Tone;
use crate::app::{App, Options};
use crate::boot::{Half, LastRun, deployment};
use crate::model::{ScopeFilter, StateDirs, SystemRoot};
use crate::os::identity::euid;
use crate::os::process;
use crate::os::text::count;
use crate::os::time::now;
use anyhow::Result;
use std::process::Stdio;

/// Runs the boot-time apply of one half. The report is `None` when the deployment was
/// already applied (nothing loaded, nothing ran).
pub fn run(
    opts: Options,
    only: Vec<String>,
    scope: ScopeFilter,
    ui: &dyn Observer,
) -> Result<Option<Applied>> {
    // The system unit runs as root, the user unit as the user: the half follows.
    let scope = match scope {
        ScopeFilter::All if euid() == 0 => ScopeFilter::System,
        ScopeFilter::All => ScopeFilter::User,
        s => s,
    };
    let root = SystemRoot::from_flag(opts.root.as_deref())?;
    let half = Half::new(scope, &StateDirs::new(&root, euid()))?;
    let booted = deployment::booted()?;
    if half.marker().as_deref() == Some(booted.id().as_str()) {
        ui.say(
            Tone::Plain,
            &format!(
                "The {} half was already applied for deployment {}; nothing to do.",
                half.name(),
                booted.short()
            ),
        );
        return Ok(None);
    }
    ui.say(
        Tone::Plain,
        &format!(
            "Applying the {} half for deployment {} (new since the last boot-time apply).",
            half.name(),
            booted.short()
        ),
    );
    let app = App::new(opts)?;
    let args = apply::Args {
        dry_run: false,
        yes: true,
        prune: false,
        overwrite: false,
        now: false,
        only,
        scope,
    };
    // Never asked (`yes`), so there is always a report.
    let Some(outcome) = apply::run(&app, &args, ui)? else {
        anyhow::bail!("the boot-time apply was declined");
    };
    let ok = outcome.failures.is_empty() && outcome.exit == Exit::Ok;
    record(ui, &half, &booted, ok, &outcome)?;
    if scope == ScopeFilter::User {
        notify(ok, outcome.applied(), &outcome.failures);
    }
    Ok(Some(outcome))
}

/// Says what failed, records the run for `bkt status`, and marks the deployment only when
/// everything succeeded, so that a failure is retried at the next boot.
fn record(
    ui: &dyn Observer,
    half: &Half,
    booted: &deployment::Deployment,
    ok: bool,
    outcome: &Applied,
) -> Result<()> {
    for f in &outcome.failures {
        let what = [f.item.as_str(), f.effect.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(": ");
        ui.warn(&format!(
            "warning: boot-time apply failed: {} {what}: {}",
            f.plugin, f.error
        ));
    }
    half.record(&LastRun {
        at: now(),
        deployment: booted.id(),
        short: booted.short(),
        ok,
        applied: outcome.applied(),
        failures: outcome.failures.clone(),
    })?;
    if ok {
        half.mark(booted)?;
    } else {
        ui.warn(&format!(
            "warning: the {} half stays unmarked for deployment {}, so the next boot tries again",
            half.name(),
            booted.short()
        ));
    }
    Ok(())
}

/// Tells the user at login what the boot-time apply did, when there is something to say and
/// `notify-send` exists. Best effort: a missing notifier or session bus changes nothing.
fn notify(ok: bool, applied: usize, failures: &[crate::boot::Failure]) {
    let body = match (ok, failures.first()) {
        (true, _) if applied == 0 => return,
        (true, _) => format!("Applied {} for the new image.", count(applied, "change")),
        (false, Some(f)) => format!(
            "{} failed after the update (first: {} {}: {}). `bkt status` shows them; the next login tries again.",
            count(failures.len(), "change"),
            f.plugin,
            f.item,
            f.error
        ),
        (false, None) => "Applying the manifests failed; `bkt status` says why.".into(),
    };
    let Ok(path) = process::resolve("notify-send") else {
        return;
    };
    let _ = process::cleared("notify-send", &path)
        .args(["--app-name=bkt", "bkt", &body])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
