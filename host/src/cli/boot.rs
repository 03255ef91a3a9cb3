//! `bkt apply --boot`: once per deployment. The same deployment as last time ends at once,
//! before any plugin loads; a new one is applied without asking (changes made by hand are
//! reported, not reverted), and the marker moves only when every change succeeded.

use super::apply;
use super::drift::count;
use crate::app::{App, Options};
use crate::boot::{Half, LastRun, deployment, now};
use crate::exec::{ScopeFilter, euid};
use crate::runtime::program;
use anyhow::Result;
use std::process::{Command, Stdio};

pub fn run(opts: Options, only: Vec<String>, scope: ScopeFilter) -> Result<i32> {
    // The system unit runs as root, the user unit as the user: the half follows.
    let scope = match scope {
        ScopeFilter::All if euid() == 0 => ScopeFilter::System,
        ScopeFilter::All => ScopeFilter::User,
        s => s,
    };
    let root = crate::app::system_root(opts.root.as_deref())?;
    let half = Half::new(scope, &root)?;
    let booted = deployment::booted()?;
    if half.marker().as_deref() == Some(booted.id().as_str()) {
        println!(
            "The {} half was already applied for deployment {}; nothing to do.",
            half.name(),
            booted.short()
        );
        return Ok(0);
    }
    println!(
        "Applying the {} half for deployment {} (new since the last boot-time apply).",
        half.name(),
        booted.short()
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
    let outcome = apply::run_collect(&app, &args)?;
    for f in &outcome.failures {
        let what = [f.item.as_str(), f.effect.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(": ");
        eprintln!(
            "bkt: boot-time apply failed: {} {what}: {}",
            f.plugin, f.error
        );
    }
    let ok = outcome.failures.is_empty() && outcome.code == 0;
    half.record(&LastRun {
        at: now(),
        deployment: booted.id(),
        short: booted.short(),
        ok,
        applied: outcome.applied,
        failures: outcome.failures.clone(),
    })?;
    if ok {
        half.mark(&booted)?;
    } else {
        eprintln!(
            "bkt: the {} half stays unmarked for deployment {}, so the next boot tries again",
            half.name(),
            booted.short()
        );
    }
    if scope == ScopeFilter::User {
        notify(ok, outcome.applied, &outcome.failures);
    }
    Ok(outcome.code)
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
    let Ok(path) = program::resolve("notify-send") else {
        return;
    };
    let _ = Command::new(path)
        .args(["--app-name=bkt", "bkt", &body])
        .env_clear()
        .envs(program::environment(
            "notify-send",
            program::folders(),
            |v| std::env::var_os(v),
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
