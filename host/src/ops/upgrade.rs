//! `bkt upgrade`: ask bootc (or rpm-ostree) for the next image, and show what its manifests
//! change against the booted image's, and so what `apply --boot` will do after the reboot.
//!
//! The booted image's repository copy is `/usr/share/bkt`; the staged deployment's is the same
//! folder in its tree (`/ostree/deploy/STATEROOT/deploy/COMMIT.SERIAL`). Each manifest that
//! differs is planned against this machine and sorted the way the boot-time apply sorts it,
//! with the sync record it will use (the one of `/usr/share/bkt`).

use super::report::{Exit, Report};
use super::ui::{Tone, Ui};
use crate::app::App;
use crate::boot::deployment;
use crate::boot::pending::{self, Pending};
use crate::exec::Executor;
use crate::model::{Effect, Run, Scope};
use crate::plan::{self, PluginPlan};
use crate::repo::{IMAGE_COPY, Repo};
use crate::sync::{self, ApplyDecision, Records, apply_decision};
use anyhow::{Result, bail};
use serde_json::json;
use std::path::Path;

/// What `bkt upgrade` was asked to do.
pub struct Args {
    /// Only ask whether a newer image exists (and preview one already staged).
    pub check: bool,
    /// Reboot into the staged deployment once it is staged.
    pub reboot: bool,
}

/// The tool that manages deployments here.
#[derive(Clone, Copy)]
enum Tool {
    Bootc,
    RpmOstree,
}

impl Tool {
    fn here() -> Result<Tool> {
        use crate::os::process::resolve;
        if resolve("bootc").is_ok() {
            Ok(Tool::Bootc)
        } else if resolve("rpm-ostree").is_ok() {
            Ok(Tool::RpmOstree)
        } else {
            bail!(
                "neither bootc nor rpm-ostree is installed here: `bkt upgrade` is for image-based \
                 (bootc) systems; update this machine with its own package manager"
            )
        }
    }

    fn program(self) -> &'static str {
        match self {
            Tool::Bootc => "bootc",
            Tool::RpmOstree => "rpm-ostree",
        }
    }

    fn pending(self) -> Result<Pending> {
        let args: &[&str] = match self {
            Tool::Bootc => &["status", "--format=json"],
            Tool::RpmOstree => &["status", "--json"],
        };
        let Some(json) = deployment::status_of(self.program(), args)? else {
            bail!("{} is no longer installed here", self.program());
        };
        match self {
            Tool::Bootc => pending::from_bootc(&json),
            Tool::RpmOstree => pending::from_rpm_ostree(&json),
        }
    }
}

/// One subsystem whose manifest the next image changes.
pub struct Preview {
    pub id: String,
    pub manifest: String,
    /// The manifest's diff, booted image to staged image.
    pub diff: String,
    /// What the new image itself brings (system items of a plugin that renders Containerfile
    /// sections): in place after the reboot, nothing to apply.
    pub with_image: Vec<String>,
    /// What the boot-time apply will change here.
    pub will_apply: Vec<String>,
    /// Changes made on this machine it will report and leave alone.
    pub left_alone: Vec<String>,
    /// Why this subsystem could not be planned.
    pub error: Option<String>,
}

/// What `bkt upgrade` found and did.
pub struct Upgrade {
    pub tool: &'static str,
    pub checked_only: bool,
    pub pending: Pending,
    /// Whether the staged image carries a repository copy to compare with.
    pub staged_copy: bool,
    pub previews: Vec<Preview>,
    pub exit: Exit,
}

impl Report for Upgrade {
    fn json(&self) -> serde_json::Value {
        let pending = match &self.pending {
            Pending::Staged(s) => json!({"state": "staged", "version": s.version,
                "digest": s.digest, "checksum": s.checksum, "serial": s.serial}),
            Pending::Available { version, digest } => {
                json!({"state": "available", "version": version, "digest": digest})
            }
            Pending::Nothing => json!({"state": "up_to_date"}),
        };
        let previews: Vec<_> = self
            .previews
            .iter()
            .map(|p| {
                json!({"id": p.id, "manifest": p.manifest, "diff": p.diff,
                    "with_image": p.with_image, "will_apply": p.will_apply, "left_alone": p.left_alone, "error": p.error})
            })
            .collect();
        json!({"tool": self.tool, "checked_only": self.checked_only, "next": pending,
            "staged_copy": self.staged_copy, "subsystems": previews})
    }
    fn exit(&self) -> Exit {
        self.exit
    }
}

pub fn run(app: &App, ui: &dyn Ui, args: &Args) -> Result<Upgrade> {
    if app.root.path() != Path::new("/") {
        bail!(
            "bkt upgrade acts on the running system; --root is for status, apply and capture on \
             a mounted tree"
        );
    }
    let tool = Tool::here()?;
    let mut upgrade = Upgrade {
        tool: tool.program(),
        checked_only: args.check,
        pending: Pending::Nothing,
        staged_copy: false,
        previews: Vec::new(),
        exit: Exit::Ok,
    };
    let verb: &[&str] = if args.check {
        &["upgrade", "--check"]
    } else {
        &["upgrade"]
    };
    if let Err(e) = system_run(app, ui, tool.program(), verb) {
        ui.warn(&format!(
            "error: {e:#}\nhint: nothing was staged; {} says why (its words above), and `bkt upgrade --check` asks again",
            tool.program()
        ));
        upgrade.exit = Exit::Failed;
        return Ok(upgrade);
    }
    upgrade.pending = tool.pending()?;
    if let Pending::Staged(staged) = &upgrade.pending {
        let copy = staged
            .tree(app.root.path())
            .join(IMAGE_COPY.trim_start_matches('/'));
        upgrade.staged_copy = copy.join("manifests").is_dir();
        if upgrade.staged_copy {
            upgrade.previews = previews(app, &copy)?;
        }
    }
    if args.reboot {
        reboot(app, ui, &upgrade.pending, &mut upgrade.exit);
    }
    Ok(upgrade)
}

/// Runs `program args` as the system (through the elevator when bkt is not root), its
/// output shown as it comes.
fn system_run(app: &App, ui: &dyn Ui, program: &str, args: &[&str]) -> Result<()> {
    let effect = Effect::Run(Run {
        program: program.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        scope: Scope::System,
        batch: false,
        declared_path: None,
    });
    ui.say(Tone::Dim, &Executor::describe(&effect));
    Executor::new(app.elevator, &app.root)
        .run(&effect, &|line| ui.say(Tone::Dim, &format!("  │ {line}")))
        .map(|_| ())
}

fn reboot(app: &App, ui: &dyn Ui, pending: &Pending, exit: &mut Exit) {
    if !matches!(pending, Pending::Staged(_)) {
        ui.say(
            Tone::Plain,
            "Nothing is staged, so there is nothing to reboot into.",
        );
        return;
    }
    if *exit != Exit::Ok {
        return;
    }
    if let Err(e) = system_run(app, ui, "systemctl", &["reboot"]) {
        ui.warn(&format!("error: rebooting failed: {e:#}"));
        *exit = Exit::Failed;
    }
}

/// Each subsystem whose manifest differs between the booted copy and `staged_copy`, planned
/// against this machine.
fn previews(app: &App, staged_copy: &Path) -> Result<Vec<Preview>> {
    let staged = Repo::read_only_at(staged_copy, "the staged deployment")?;
    let booted_copy = app.root.path().join(IMAGE_COPY.trim_start_matches('/'));
    let records = Records::load(Path::new(IMAGE_COPY), &app.root, &app.dirs);
    let local = crate::local::current_items(&app.root, &app.dirs);
    let mut out = Vec::new();
    for plugin in app.loaded() {
        let manifest = Repo::manifest_path(&plugin.info.manifest);
        let old = std::fs::read_to_string(booted_copy.join(&manifest)).ok();
        let new = staged.read_manifest(&plugin.info.manifest)?;
        if old == new {
            continue;
        }
        let diff = crate::os::diff::unified(
            &manifest,
            old.as_deref().unwrap_or(""),
            new.as_deref().unwrap_or(""),
        );
        let plans: Vec<PluginPlan> = plan::collect(&app.rt, &staged, &[plugin]);
        let mut p = Preview {
            id: plugin.info.id.clone(),
            manifest,
            diff,
            with_image: Vec::new(),
            will_apply: Vec::new(),
            left_alone: Vec::new(),
            error: None,
        };
        // What the image's own sections install is there after the reboot; what lies above
        // the image (and every user's part) the boot units apply.
        let baked = !plugin.info.sections.is_empty();
        if let Some(Err(e)) = plans.first().map(|p| &p.result) {
            p.error = Some(e.describe(&p.manifest));
        }
        for plan in &plans {
            for (change, drift) in sync::drifts(plan, &records, &local) {
                match apply_decision(drift, change, false, false) {
                    ApplyDecision::Run if baked && change.scope == Scope::System => {
                        p.with_image.push(change.summary.clone())
                    }
                    ApplyDecision::Run => p.will_apply.push(change.summary.clone()),
                    ApplyDecision::Ask => {
                        p.left_alone
                            .push(format!("{} ({})", change.summary, drift.label()))
                    }
                    ApplyDecision::Skip => {}
                }
            }
        }
        out.push(p);
    }
    Ok(out)
}
