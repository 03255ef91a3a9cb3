//! The dnf subsystem: system packages and COPR repositories.
//!
//! Live state comes from one `rpm -qa` (what is installed) and, at the same time, either
//! `rpm-ostree status --json` (what is layered on an ostree system) or
//! `dnf repoquery --userinstalled` (what a user installed elsewhere). In the image, packages
//! are installed by the SYSTEM_PACKAGES section of the Containerfile.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod copr;
pub mod live;
pub mod manifest;
pub mod render;

use bkt_sdk::{
    Agreed, Capabilities, Change, Context, EditResult, Effect, Error, Guest, Phase, Plan,
    PluginInfo, RunShape, Scope, Section, WriteFile, agreed, change, host, query_all, run_batched,
    run_shape, shape, strings, usage, verb,
};
use manifest::Manifest;
use std::collections::BTreeSet;

pub const MANIFEST: &str = "system-packages.json";

struct Dnf;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Dnf);

fn custom_root(ctx: &Context) -> Option<&str> {
    (ctx.root != "/").then_some(ctx.root.as_str())
}

/// What is installed, what was asked for by hand (layered or user-installed), and which COPR
/// repositories are enabled.
struct Live {
    installed: BTreeSet<String>,
    requested: BTreeSet<String>,
    coprs: BTreeSet<String>,
}

/// Where repo files live; read through a preopen of the same folder under the root.
const REPOS_DIR: &str = "/etc/yum.repos.d";

/// The COPR repositories whose repo files are in the root's `/etc/yum.repos.d` and enabled.
fn enabled_coprs() -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(REPOS_DIR) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let repo = copr::repo_of(&e.file_name().to_string_lossy())?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            copr::enabled(&text).then_some(repo)
        })
        .collect()
}

const RPM_QA: &[&str] = &["rpm", "-qa", "--qf", "%{NAME}\\n"];
const REPOQUERY: &[&str] = &[
    "dnf",
    "repoquery",
    "--userinstalled",
    "-q",
    "-C",
    "--disablerepo=*",
    "--qf",
    "%{name}\\n",
];

fn read_live(ctx: &Context) -> Result<Live, Error> {
    let mut rpm = strings(RPM_QA);
    if let Some(root) = custom_root(ctx) {
        rpm.extend(strings(&["--root", root]));
    }
    let requested_argv = if ctx.ostree {
        strings(&["rpm-ostree", "status", "--json"])
    } else {
        let mut argv = strings(REPOQUERY);
        if let Some(root) = custom_root(ctx) {
            argv.push(format!("--installroot={root}"));
        }
        argv
    };
    let mut results = query_all(vec![rpm, requested_argv]).into_iter();
    let (Some(rpm), Some(requested)) = (results.next(), results.next()) else {
        return Err(Error::Failed("the host returned too few results".into()));
    };
    let rpm = rpm?;
    // No database at all (a machine that is not rpm-based, or a fresh one): nothing here is
    // managed by rpm, which is not an error of the manifest or the machine.
    if rpm.status != 0 && rpm.stderr.contains("cannot open Packages") {
        return Err(Error::Unavailable(format!(
            "this machine has no rpm database ({})",
            rpm.stderr.trim().trim_start_matches("error: ")
        )));
    }
    if rpm.status != 0 {
        return Err(Error::Failed(format!(
            "rpm -qa failed: {}",
            rpm.stderr.trim()
        )));
    }
    let requested = match requested {
        Ok(out) if out.status == 0 && ctx.ostree => {
            live::layered(&out.stdout).map_err(Error::Failed)?
        }
        Ok(out) if out.status == 0 => live::names(&out.stdout),
        Ok(out) => {
            let tool = if ctx.ostree {
                "rpm-ostree status"
            } else {
                "dnf repoquery --userinstalled"
            };
            return Err(Error::Failed(format!(
                "{tool} failed: {}",
                out.stderr.trim()
            )));
        }
        // Without dnf (or rpm-ostree) the installed set is still known; extras are not.
        Err(Error::Unavailable(msg)) => {
            host::log(
                bkt_sdk::Level::Warn,
                &format!("{msg}; packages installed by hand are not detected"),
            );
            BTreeSet::new()
        }
        Err(e) => return Err(e),
    };
    Ok(Live {
        installed: live::names(&rpm.stdout),
        requested,
        coprs: enabled_coprs(),
    })
}

/// Package changes need root, and batch into one dnf / rpm-ostree call.
fn run(argv: Vec<String>) -> Effect {
    run_batched(&argv, Scope::System)
}

/// `dnf VERB -y [--installroot=ROOT] PKG`.
fn dnf(ctx: &Context, verb: &str, pkg: &str) -> Effect {
    let mut argv = strings(&["dnf", verb, "-y"]);
    if let Some(root) = custom_root(ctx) {
        argv.push(format!("--installroot={root}"));
    }
    argv.push(pkg.into());
    run(argv)
}

/// Installs one package: live on an ostree system (unless `staged`), with dnf elsewhere.
fn install(ctx: &Context, pkg: &str, staged: bool) -> Effect {
    if !ctx.ostree {
        return dnf(ctx, "install", pkg);
    }
    let mut argv = strings(&["rpm-ostree", "install", "--idempotent"]);
    if !staged {
        argv.push("--apply-live".into());
    }
    argv.push(pkg.into());
    run(argv)
}

fn remove(ctx: &Context, pkg: &str) -> Effect {
    if ctx.ostree {
        run(strings(&["rpm-ostree", "uninstall", "--idempotent", pkg]))
    } else {
        dnf(ctx, "remove", pkg)
    }
}

/// The COPR repository change ids: `copr:OWNER/PROJECT`.
fn copr_id(repo: &str) -> String {
    format!("copr:{repo}")
}

/// Enables a COPR repository: `dnf copr enable` where dnf manages the running system, else
/// the repo file it would write (an ostree system, or a mounted root).
fn enable_copr(ctx: &Context, repo: &str) -> Effect {
    if ctx.ostree || custom_root(ctx).is_some() {
        Effect::WriteFile(WriteFile {
            path: format!("{REPOS_DIR}/{}", copr::file_name(repo)),
            contents: copr::repo_file(repo).into_bytes(),
            mode: 0o644,
        })
    } else {
        bkt_sdk::run("dnf", &["copr", "enable", "-y", repo], Scope::System)
    }
}

fn disable_copr(repo: &str) -> Effect {
    Effect::RemoveFile(format!("{REPOS_DIR}/{}", copr::file_name(repo)))
}

fn missing_changes(ctx: &Context, m: &Manifest, live: &Live, staged: bool) -> Vec<Change> {
    let installed = Some("installed".to_string());
    m.packages
        .iter()
        .filter(|p| !live.installed.contains(*p))
        .map(|p| {
            change(
                p.clone(),
                format!("{p} is not installed"),
                installed.clone(),
                None,
                Scope::System,
                vec![install(ctx, p, staged)],
            )
        })
        .collect()
}

/// Repositories first: apply enables them before it installs what they provide.
fn copr_changes(m: &Manifest, live: &Live, ctx: &Context) -> Vec<Change> {
    let enabled = Some("enabled".to_string());
    let mut changes: Vec<Change> = m
        .copr_repos
        .iter()
        .filter(|r| !live.coprs.contains(*r))
        .map(|r| {
            change(
                copr_id(r),
                format!("COPR {r} is not enabled"),
                enabled.clone(),
                None,
                Scope::System,
                vec![enable_copr(ctx, r)],
            )
        })
        .collect();
    let wanted: BTreeSet<&String> = m.copr_repos.iter().collect();
    changes.extend(live.coprs.iter().filter(|r| !wanted.contains(r)).map(|r| {
        change(
            copr_id(r),
            format!("COPR {r} is enabled but not in the manifest"),
            None,
            enabled.clone(),
            Scope::System,
            vec![disable_copr(r)],
        )
    }));
    changes
}

fn agreed_items(m: &Manifest, live: &Live) -> Vec<Agreed> {
    let coprs = m
        .copr_repos
        .iter()
        .filter(|r| live.coprs.contains(*r))
        .map(|r| agreed(copr_id(r), "enabled", Scope::System));
    let packages = m
        .packages
        .iter()
        .filter(|p| live.installed.contains(*p))
        .map(|p| agreed(p.clone(), "installed", Scope::System));
    coprs.chain(packages).collect()
}

/// What a run effect of this plugin may look like: dnf where dnf manages the system (also
/// inside a mounted root), rpm-ostree on the running ostree system.
fn run_shapes() -> Vec<RunShape> {
    let sys = Scope::System;
    let mut shapes = Vec::new();
    for verb in ["install", "remove"] {
        shapes.push(run_shape(&["dnf", verb, "-y", "{package}"], sys));
        shapes.push(run_shape(
            &["dnf", verb, "-y", "--installroot={root}", "{package}"],
            sys,
        ));
    }
    shapes.push(run_shape(&["dnf", "copr", "enable", "-y", "{word}"], sys));
    shapes.push(run_shape(
        &["rpm-ostree", "install", "--idempotent", "{package}"],
        sys,
    ));
    shapes.push(run_shape(
        &[
            "rpm-ostree",
            "install",
            "--idempotent",
            "--apply-live",
            "{package}",
        ],
        sys,
    ));
    shapes.push(run_shape(
        &["rpm-ostree", "uninstall", "--idempotent", "{package}"],
        sys,
    ));
    shapes
}

impl Guest for Dnf {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "dnf".into(),
            command: "dnf".into(),
            summary: "System packages and COPR repositories (dnf, rpm-ostree)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: strings(&["COPR_REPOS", "SYSTEM_PACKAGES"]),
            phase: Phase::Packages,
            verbs: vec![
                verb(
                    "install",
                    "PKG...",
                    "Add packages to the manifest and the image, and install them now (--no-apply: later)",
                    true,
                ),
                verb(
                    "remove",
                    "PKG...",
                    "Take packages out of the manifest and the image, and remove them here (--no-apply: later)",
                    true,
                ),
                verb(
                    "copr",
                    "enable|disable OWNER/PROJECT",
                    "Add or drop a COPR repository in the image, and enable or disable it here",
                    true,
                ),
                verb(
                    "list",
                    "",
                    "Show the manifest's packages and COPR repositories, and which are missing here",
                    false,
                ),
                verb(
                    "sync",
                    "[--now]",
                    "Install the manifest's missing packages (on ostree staged for the next boot; --now also live)",
                    false,
                ),
            ],
            capabilities: Capabilities {
                queries: vec![
                    shape(RPM_QA),
                    shape(&[RPM_QA, &["--root", "{root}"]].concat()),
                    shape(&["rpm-ostree", "status", "--json"]),
                    shape(REPOQUERY),
                    shape(&[REPOQUERY, &["--installroot={root}"]].concat()),
                ],
                runs: run_shapes(),
                reads: strings(&[REPOS_DIR]),
                writes: strings(&["/etc/yum.repos.d/"]),
                fetches: vec![],
                fetch_limit: 0,
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        let live = read_live(&host::context())?;
        for id in &take {
            if let Some(repo) = id.strip_prefix("copr:") {
                m.copr_repos.retain(|r| r != repo);
                if live.coprs.contains(repo) {
                    m.copr_repos.push(repo.to_string());
                }
            } else {
                m.packages.retain(|p| p != id);
                if live.installed.contains(id) {
                    m.packages.push(id.clone());
                }
            }
        }
        Ok(m.render())
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx)?;
        let mut changes = copr_changes(&m, &live, &ctx);
        changes.extend(missing_changes(&ctx, &m, &live, false));
        let wanted: BTreeSet<&String> = m.packages.iter().collect();
        for p in live.requested.iter().filter(|p| !wanted.contains(p)) {
            let how = if ctx.ostree {
                "layered"
            } else {
                "installed by hand"
            };
            changes.push(change(
                p.clone(),
                format!("{p} is {how} but not in the manifest"),
                None,
                Some("installed".into()),
                Scope::System,
                vec![remove(&ctx, p)],
            ));
        }
        Ok(Plan {
            items: (m.packages.len() + m.copr_repos.len()) as u32,
            changes,
            agreed: agreed_items(&m, &live),
            problems: vec![],
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        let m = manifest::parse(text.as_deref())?;
        Ok(vec![
            Section {
                name: "COPR_REPOS".into(),
                lines: render::copr_repos(&m),
            },
            Section {
                name: "SYSTEM_PACKAGES".into(),
                lines: render::system_packages(&m),
            },
        ])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        let m = manifest::parse(text.as_deref())?;
        match (verb.as_str(), args.as_slice()) {
            ("install", pkgs) if !pkgs.is_empty() => install_verb(m, pkgs),
            ("remove", pkgs) if !pkgs.is_empty() => remove_verb(m, pkgs),
            ("copr", [action, repo]) if action == "enable" || action == "disable" => {
                copr_verb(m, action == "enable", repo)
            }
            ("list", []) => Ok(list_verb(&m)),
            ("sync", rest) if rest.is_empty() || rest == ["--now"] => {
                sync_verb(&m, rest.is_empty())
            }
            (verb, _) => Err(usage(format!(
                "`dnf {verb}` takes other arguments; see `bkt dnf --help`"
            ))),
        }
    }
}

/// `bkt dnf install PKG...`: into the manifest, and installed here.
fn install_verb(mut m: Manifest, pkgs: &[String]) -> Result<EditResult, Error> {
    for p in pkgs {
        manifest::check_package(p).map_err(usage)?;
    }
    m.packages.extend(pkgs.iter().cloned());
    // Install what was named, even if the manifest had it already: both dnf and
    // `rpm-ostree install --idempotent` do nothing for an installed package.
    let ctx = host::context();
    let changes = pkgs
        .iter()
        .map(|p| {
            change(
                p.clone(),
                format!("install {p}"),
                Some("installed".into()),
                None,
                Scope::System,
                vec![install(&ctx, p, false)],
            )
        })
        .collect();
    Ok(EditResult {
        manifest: Some(m.render()),
        output: vec![],
        changes,
    })
}

/// `bkt dnf remove PKG...`: out of the manifest, and removed here where installed.
fn remove_verb(mut m: Manifest, pkgs: &[String]) -> Result<EditResult, Error> {
    for p in pkgs {
        manifest::check_package(p).map_err(usage)?;
        if !m.packages.contains(p) {
            return Err(usage(format!("{p} is not in {MANIFEST}")));
        }
    }
    m.packages.retain(|p| !pkgs.contains(p));
    // Remove what is installed here too; a package the image brings stays until
    // the next image leaves it out.
    let ctx = host::context();
    let installed = read_live(&ctx).map(|l| l.installed).unwrap_or_default();
    let changes = pkgs
        .iter()
        .filter(|p| installed.contains(*p))
        .map(|p| {
            change(
                p.clone(),
                format!("remove {p}"),
                None,
                Some("installed".into()),
                Scope::System,
                vec![remove(&ctx, p)],
            )
        })
        .collect();
    Ok(EditResult {
        manifest: Some(m.render()),
        output: vec![],
        changes,
    })
}

/// `bkt dnf copr enable|disable OWNER/PROJECT`.
fn copr_verb(mut m: Manifest, enable: bool, repo: &str) -> Result<EditResult, Error> {
    manifest::check_copr(repo).map_err(usage)?;
    let ctx = host::context();
    let enabled = enabled_coprs().contains(repo);
    if enable {
        m.copr_repos.push(repo.to_string());
    } else if !m.copr_repos.iter().any(|r| r == repo) {
        return Err(usage(format!("{repo} is not in {MANIFEST}")));
    } else {
        m.copr_repos.retain(|r| r != repo);
    }
    let state = Some("enabled".to_string());
    let changes = match (enable, enabled) {
        (true, false) => vec![change(
            copr_id(repo),
            format!("enable COPR {repo}"),
            state,
            None,
            Scope::System,
            vec![enable_copr(&ctx, repo)],
        )],
        (false, true) => vec![change(
            copr_id(repo),
            format!("disable COPR {repo}"),
            None,
            state,
            Scope::System,
            vec![disable_copr(repo)],
        )],
        _ => vec![],
    };
    Ok(EditResult {
        manifest: Some(m.render()),
        output: vec![],
        changes,
    })
}

/// `bkt dnf list`: the manifest, with what is not installed here.
fn list_verb(m: &Manifest) -> EditResult {
    let live = read_live(&host::context()).ok();
    let mut output = vec![format!("packages ({}):", m.packages.len())];
    let mut packages = m.packages.clone();
    packages.sort();
    for p in &packages {
        let note = match &live {
            Some(l) if !l.installed.contains(p) => "   (not installed here)",
            _ => "",
        };
        output.push(format!("  {p}{note}"));
    }
    output.push(format!("copr repositories ({}):", m.copr_repos.len()));
    output.extend(m.copr_repos.iter().map(|r| format!("  {r}")));
    EditResult {
        manifest: None,
        output,
        changes: vec![],
    }
}

/// `bkt dnf sync [--now]`: install what the manifest lists and this machine lacks.
fn sync_verb(m: &Manifest, staged: bool) -> Result<EditResult, Error> {
    let ctx = host::context();
    let live = read_live(&ctx)?;
    let changes = missing_changes(&ctx, m, &live, staged);
    let output = if changes.is_empty() {
        vec!["Every package in the manifest is installed.".into()]
    } else if ctx.ostree && staged {
        vec!["Staging for the next boot (add --now to apply live as well):".into()]
    } else {
        vec![]
    };
    Ok(EditResult {
        manifest: None,
        output,
        changes,
    })
}
