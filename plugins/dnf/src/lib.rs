//! The dnf subsystem: system packages and COPR repositories.
//!
//! Live state comes from one `rpm -qa` (what is installed) and, at the same time, either
//! `rpm-ostree status --json` (what is layered on an ostree system) or
//! `dnf repoquery --userinstalled` (what a user installed elsewhere). In the image, packages
//! are installed by the SYSTEM_PACKAGES section of the Containerfile.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;
pub mod render;

use bkt_sdk::{
    Capabilities, Change, ChangeKind, Context, EditResult, Effect, Error, Guest, Phase, Plan,
    PluginInfo, Scope, Section, change, edited, host, query_all, run_batched, strings, usage, verb,
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

/// What is installed, and what was asked for by hand (layered or user-installed).
struct Live {
    installed: BTreeSet<String>,
    requested: BTreeSet<String>,
}

fn read_live(ctx: &Context) -> Result<Live, Error> {
    let mut rpm = strings(&["rpm", "-qa", "--qf", "%{NAME}\\n"]);
    if let Some(root) = custom_root(ctx) {
        rpm.extend(strings(&["--root", root]));
    }
    let requested_argv = if ctx.ostree {
        strings(&["rpm-ostree", "status", "--json"])
    } else {
        let mut argv = strings(&[
            "dnf",
            "repoquery",
            "--userinstalled",
            "-q",
            "-C",
            "--disablerepo=*",
            "--qf",
            "%{name}\\n",
        ]);
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

fn missing_changes(ctx: &Context, m: &Manifest, live: &Live, staged: bool) -> Vec<Change> {
    m.packages
        .iter()
        .filter(|p| !live.installed.contains(*p))
        .map(|p| {
            change(
                p.clone(),
                ChangeKind::Missing,
                format!("{p} is not installed"),
                vec![install(ctx, p, staged)],
            )
        })
        .collect()
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
                    "Take packages out of the manifest and the image (this machine keeps them until the next image)",
                    true,
                ),
                verb(
                    "copr",
                    "enable|disable OWNER/PROJECT",
                    "Add or drop a COPR repository in the image",
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
                    strings(&["rpm", "-qa"]),
                    strings(&["rpm-ostree", "status", "--json"]),
                    strings(&["dnf", "repoquery", "--userinstalled"]),
                ],
                programs: strings(&["dnf", "rpm-ostree"]),
                reads: vec![],
                writes: vec![],
            },
        }
    }

    fn capture(text: Option<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        let live = read_live(&host::context())?;
        m.packages.extend(live.requested);
        Ok(m.render())
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx)?;
        let mut changes = missing_changes(&ctx, &m, &live, false);
        let wanted: BTreeSet<&String> = m.packages.iter().collect();
        for p in live.requested.iter().filter(|p| !wanted.contains(p)) {
            let how = if ctx.ostree {
                "layered"
            } else {
                "installed by hand"
            };
            changes.push(change(
                p.clone(),
                ChangeKind::Extra,
                format!("{p} is {how} but not in the manifest"),
                vec![remove(&ctx, p)],
            ));
        }
        Ok(Plan {
            items: (m.packages.len() + m.copr_repos.len()) as u32,
            changes,
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
        let mut m = manifest::parse(text.as_deref())?;
        match (verb.as_str(), args.as_slice()) {
            ("install", pkgs) if !pkgs.is_empty() => {
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
                            ChangeKind::Missing,
                            format!("install {p}"),
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
            ("remove", pkgs) if !pkgs.is_empty() => {
                for p in pkgs {
                    manifest::check_package(p).map_err(usage)?;
                    if !m.packages.contains(p) {
                        return Err(usage(format!("{p} is not in {MANIFEST}")));
                    }
                }
                m.packages.retain(|p| !pkgs.contains(p));
                Ok(edited(Some(m.render()), vec![]))
            }
            ("copr", [action, repo]) if action == "enable" || action == "disable" => {
                manifest::check_copr(repo).map_err(usage)?;
                if action == "enable" {
                    m.copr_repos.push(repo.clone());
                } else if !m.copr_repos.contains(repo) {
                    return Err(usage(format!("{repo} is not in {MANIFEST}")));
                } else {
                    m.copr_repos.retain(|r| r != repo);
                }
                Ok(edited(Some(m.render()), vec![]))
            }
            ("list", []) => {
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
                Ok(EditResult {
                    manifest: None,
                    output,
                    changes: vec![],
                })
            }
            ("sync", rest) if rest.is_empty() || rest == ["--now"] => {
                let ctx = host::context();
                let live = read_live(&ctx)?;
                let staged = rest.is_empty();
                let changes = missing_changes(&ctx, &m, &live, staged);
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
            (verb, _) => Err(usage(format!(
                "`dnf {verb}` takes other arguments; see `bkt dnf --help`"
            ))),
        }
    }
}
