//! The dnf subsystem: system packages and COPR repositories.
//!
//! Live state comes from one `rpm -qa` (what is installed) and, at the same time, either
//! `rpm-ostree status --json` (what is layered on an ostree system) or
//! `dnf repoquery --userinstalled` and `dnf group list` (what a user installed elsewhere, and
//! which groups). In the image, packages and groups are installed by the SYSTEM_PACKAGES
//! section of the Containerfile.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod copr;
pub mod external;
pub mod groups;
pub mod live;
pub mod manifest;
pub mod render;

use bkt_sdk::{
    Agreed, Capabilities, Change, Context, EditResult, Effect, Entry, Error, Guest, Phase, Plan,
    PluginInfo, RunShape, Scope, Section, Verbs, WriteFile, agreed, change, host, query_all,
    run_batched, run_shape, shape, strings, usage,
};
use manifest::{Copr, Manifest};
use std::collections::{BTreeMap, BTreeSet};

pub const MANIFEST: &str = "system-packages.json";

struct Dnf;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Dnf);

fn custom_root(ctx: &Context) -> Option<&str> {
    (ctx.root != "/").then_some(ctx.root.as_str())
}

/// What is installed, what was asked for by hand (layered or user-installed), and the state
/// of each COPR repository with a repo file.
struct Live {
    installed: BTreeSet<String>,
    requested: BTreeSet<String>,
    coprs: BTreeMap<String, &'static str>,
    groups: groups::Installed,
}

impl Live {
    /// COPR repositories enabled here.
    fn enabled_coprs(&self) -> impl Iterator<Item = (&String, &&'static str)> {
        self.coprs.iter().filter(|(_, s)| **s != manifest::DISABLED)
    }
}

/// Where repo files live; read through a preopen of the same folder under the root.
const REPOS_DIR: &str = "/etc/yum.repos.d";

/// The repo files in the root's `/etc/yum.repos.d`: file name → text.
fn repo_files() -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(REPOS_DIR) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), text))
        })
        .collect()
}

/// The COPR repositories with repo files in the root's `/etc/yum.repos.d`, and their state.
fn copr_states() -> BTreeMap<String, &'static str> {
    copr_states_in(&repo_files())
}

fn copr_states_in(files: &BTreeMap<String, String>) -> BTreeMap<String, &'static str> {
    files
        .iter()
        .filter_map(|(name, text)| Some((copr::repo_of(name)?, copr::state(text))))
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

/// What this machine has. dnf is asked about groups only when `groups` (the manifest's) names
/// some: a manifest without groups costs no `dnf group list`.
fn read_live(ctx: &Context, groups: &[String]) -> Result<Live, Error> {
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
    let mut argvs = vec![rpm, requested_argv];
    let ask_groups = !ctx.ostree && !groups.is_empty();
    if ask_groups {
        argvs.push(groups::list_argv(custom_root(ctx)));
    }
    let mut results = query_all(argvs).into_iter();
    let (Some(rpm), Some(requested)) = (results.next(), results.next()) else {
        return Err(Error::Failed("the host returned too few results".into()));
    };
    let groups = match results.next() {
        // Nothing to ask about: no group of the manifest is judged.
        None if !ctx.ostree => groups::Installed::Known(BTreeSet::new()),
        None => groups::Installed::ImageOnly,
        Some(Ok(out)) if out.status == 0 => {
            groups::Installed::Known(groups::parse_ids(&out.stdout))
        }
        Some(Ok(out)) => groups::Installed::Unknown(format!(
            "`dnf group list` failed: {}",
            out.stderr.lines().next().unwrap_or("").trim()
        )),
        Some(Err(e)) => groups::Installed::Unknown(e.to_string()),
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
    let files = repo_files();
    // Packages from external repositories are the repos plugin's, not installed by hand.
    let external = external::packages(files.values().map(String::as_str));
    let requested = requested
        .into_iter()
        .filter(|p| !external.contains(p))
        .collect();
    Ok(Live {
        installed: live::names(&rpm.stdout),
        requested,
        coprs: copr_states_in(&files),
        groups,
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
/// the repo file it would write (an ostree system, or a mounted root, or a repository whose
/// signatures are not to be checked).
fn enable_copr(ctx: &Context, c: &Copr) -> Effect {
    let repo = c.name();
    if ctx.ostree || custom_root(ctx).is_some() || !c.gpg_check() {
        Effect::WriteFile(WriteFile {
            path: format!("{REPOS_DIR}/{}", copr::file_name(repo)),
            contents: copr::repo_file(repo, c.gpg_check()).into_bytes(),
            mode: 0o644,
        })
    } else {
        bkt_sdk::run("dnf", &["copr", "enable", "-y", repo], Scope::System)
    }
}

/// What brings a COPR repository to the state its manifest entry asks for.
fn copr_effect(ctx: &Context, c: &Copr) -> Effect {
    if c.enabled() {
        enable_copr(ctx, c)
    } else {
        disable_copr(c.name())
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

/// Repositories first: apply enables them before it installs what they provide. A repository
/// the manifest lists as disabled agrees with a machine that has no repo file for it.
fn copr_changes(m: &Manifest, live: &Live, ctx: &Context) -> Vec<Change> {
    let mut changes: Vec<Change> = m
        .copr_repos
        .iter()
        .filter(|c| live_copr_state(live, c.name()) != c.state())
        .map(|c| {
            let r = c.name();
            change(
                copr_id(r),
                format!("COPR {r} should be {}", c.state()),
                Some(c.state().to_string()),
                live.coprs.get(r).map(|s| s.to_string()),
                Scope::System,
                vec![copr_effect(ctx, c)],
            )
        })
        .collect();
    changes.extend(
        live.enabled_coprs()
            .filter(|(r, _)| m.copr(r).is_none())
            .map(|(r, state)| {
                change(
                    copr_id(r),
                    format!("COPR {r} is enabled but not in the manifest"),
                    None,
                    Some(state.to_string()),
                    Scope::System,
                    vec![disable_copr(r)],
                )
            }),
    );
    changes
}

/// A COPR repository's state here; one without a repo file is disabled.
fn live_copr_state(live: &Live, repo: &str) -> &'static str {
    live.coprs.get(repo).copied().unwrap_or(manifest::DISABLED)
}

/// The change id of a package the manifest keeps out.
fn excluded_id(pkg: &str) -> String {
    format!("excluded:{pkg}")
}

/// Packages the manifest keeps out that are installed here: removed (on ostree, a layered
/// one is uninstalled and one from the image overridden).
fn excluded_changes(ctx: &Context, m: &Manifest, live: &Live) -> Vec<Change> {
    m.excluded
        .iter()
        .filter(|p| live.installed.contains(*p))
        .map(|p| {
            let effect = if ctx.ostree && !live.requested.contains(p) {
                run(strings(&["rpm-ostree", "override", "remove", p]))
            } else {
                remove(ctx, p)
            };
            change(
                excluded_id(p),
                format!("{p} is installed but excluded in the manifest"),
                Some(EXCLUDED.into()),
                Some(INSTALLED.into()),
                Scope::System,
                vec![effect],
            )
        })
        .collect()
}

const INSTALLED: &str = "installed";
const EXCLUDED: &str = "excluded";

fn agreed_items(m: &Manifest, live: &Live) -> Vec<Agreed> {
    let coprs = m
        .copr_repos
        .iter()
        .filter(|c| live_copr_state(live, c.name()) == c.state())
        .map(|c| agreed(copr_id(c.name()), c.state(), Scope::System));
    let packages = m
        .packages
        .iter()
        .filter(|p| live.installed.contains(*p))
        .map(|p| agreed(p.clone(), INSTALLED, Scope::System));
    let excluded = m
        .excluded
        .iter()
        .filter(|p| !live.installed.contains(*p))
        .map(|p| agreed(excluded_id(p), EXCLUDED, Scope::System));
    coprs
        .chain(packages)
        .chain(excluded)
        .chain(groups::agreed_items(m, &live.groups))
        .collect()
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
    shapes.push(run_shape(
        &["dnf", "group", "install", "-y", "{package}"],
        sys,
    ));
    shapes.push(run_shape(
        &[
            "dnf",
            "group",
            "install",
            "-y",
            "--installroot={root}",
            "{package}",
        ],
        sys,
    ));
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
    shapes.push(run_shape(
        &["rpm-ostree", "override", "remove", "{package}"],
        sys,
    ));
    shapes
}

impl Guest for Dnf {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "dnf".into(),
            command: "dnf".into(),
            summary: "System packages and COPR repositories (dnf, rpm-ostree)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: strings(&["COPR_REPOS", "SYSTEM_PACKAGES"]),
            phase: Phase::Packages,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![
                    shape(RPM_QA),
                    shape(&[RPM_QA, &["--root", "{root}"]].concat()),
                    shape(&["rpm-ostree", "status", "--json"]),
                    shape(REPOQUERY),
                    shape(&[REPOQUERY, &["--installroot={root}"]].concat()),
                    shape(groups::LIST),
                    shape(&[groups::LIST, &["--installroot={root}"]].concat()),
                ],
                runs: run_shapes(),
                reads: strings(&[REPOS_DIR]),
                writes: strings(&["/etc/yum.repos.d/"]),
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = read_live(&host::context(), &m.groups)?;
        for id in &take {
            if let Some(repo) = id.strip_prefix("copr:") {
                take_copr(&mut m, &live, repo);
            } else if let Some(pkg) = id.strip_prefix("excluded:") {
                if live.installed.contains(pkg) {
                    m.excluded.retain(|p| p != pkg);
                }
            } else if live.installed.contains(id) {
                m.add_package(id);
            } else {
                m.packages.retain(|p| p != id);
            }
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx, &m.groups)?;
        let mut changes = copr_changes(&m, &live, &ctx);
        changes.extend(missing_changes(&ctx, &m, &live, false));
        changes.extend(groups::missing(&ctx, &m, &live.groups));
        changes.extend(excluded_changes(&ctx, &m, &live));
        // An excluded package installed by hand is already a change of its own.
        let listed: BTreeSet<&String> = m.packages.iter().chain(&m.excluded).collect();
        for p in live.requested.iter().filter(|p| !listed.contains(p)) {
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
            items: (m.packages.len() + m.copr_repos.len() + m.excluded.len() + m.groups.len())
                as u32,
            changes,
            agreed: agreed_items(&m, &live),
            problems: groups::notes(&m, &live.groups),
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
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "dnf",
    manifest::parse,
    &[
        Entry::edits(
            "install",
            "PKG...",
            "Add packages to the manifest and the image, and install them now (--no-apply: later)",
            |m, old, pkgs| match pkgs {
                [] => Err(VERBS.misused("install")),
                pkgs => install_verb(m, old, pkgs),
            },
        ),
        Entry::edits(
            "remove",
            "PKG...",
            "Take packages out of the manifest and the image, and remove them here (--no-apply: later)",
            |m, old, pkgs| match pkgs {
                [] => Err(VERBS.misused("remove")),
                pkgs => remove_verb(m, old, pkgs),
            },
        )
        .completing(|m, typed| {
            m.packages
                .iter()
                .filter(|p| !typed.contains(p))
                .cloned()
                .collect()
        }),
        Entry::edits(
            "copr",
            "enable|disable OWNER/PROJECT",
            "Add or drop a COPR repository in the image, and enable or disable it here",
            |m, old, args| match args {
                [action, repo] if action == "enable" || action == "disable" => {
                    copr_verb(m, old, action == "enable", repo)
                }
                _ => Err(VERBS.misused("copr")),
            },
        )
        .completing(|m, typed| match typed {
            [] => strings(&["enable", "disable"]),
            [action] if action == "disable" => {
                m.copr_repos.iter().map(|c| c.name().to_string()).collect()
            }
            _ => Vec::new(),
        }),
        Entry::reads(
            "list",
            "",
            "Show the manifest's packages and COPR repositories, and which are missing here",
            |m, _, args| match args {
                [] => Ok(list_verb(&m)),
                _ => Err(VERBS.misused("list")),
            },
        ),
        Entry::reads(
            "sync",
            "[--now]",
            "Install the manifest's missing packages (on ostree staged for the next boot; --now also live)",
            |m, _, args| match args {
                [] => sync_verb(&m, true),
                [now] if now == "--now" => sync_verb(&m, false),
                _ => Err(VERBS.misused("sync")),
            },
        ),
    ],
);

/// `bkt dnf install PKG...`: into the manifest, and installed here.
fn install_verb(mut m: Manifest, old: Option<&str>, pkgs: &[String]) -> Result<EditResult, Error> {
    for p in pkgs {
        manifest::check_package(p).map_err(usage)?;
        if m.excluded.contains(p) {
            return Err(usage(format!(
                "{p} is excluded in {MANIFEST}; take it out of `excluded` first"
            )));
        }
    }
    for p in pkgs {
        m.add_package(p);
    }
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
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

/// `bkt dnf remove PKG...`: out of the manifest, and removed here where installed.
fn remove_verb(mut m: Manifest, old: Option<&str>, pkgs: &[String]) -> Result<EditResult, Error> {
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
    let installed = read_live(&ctx, &[])
        .map(|l| l.installed)
        .unwrap_or_default();
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
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

/// `bkt dnf copr enable|disable OWNER/PROJECT`. Enabling keeps an entry's other settings
/// (its `gpg_check`); disabling takes the entry out.
fn copr_verb(
    mut m: Manifest,
    old: Option<&str>,
    enable: bool,
    repo: &str,
) -> Result<EditResult, Error> {
    manifest::check_copr(repo).map_err(usage)?;
    let ctx = host::context();
    let live_state = copr_states().get(repo).copied();
    let entry = if enable {
        let entry = match m.copr(repo) {
            Some(Copr::Entry(e)) => Copr::Entry(manifest::CoprEntry {
                enabled: e.enabled.map(|_| true),
                ..e.clone()
            }),
            _ => Copr::new(repo),
        };
        m.add_copr(entry.clone());
        Some(entry)
    } else if m.copr(repo).is_none() {
        return Err(usage(format!("{repo} is not in {MANIFEST}")));
    } else {
        m.copr_repos.retain(|c| c.name() != repo);
        None
    };
    let changes = match (&entry, live_state) {
        (Some(c), now) if now != Some(c.state()) => vec![change(
            copr_id(repo),
            format!("enable COPR {repo}"),
            Some(c.state().to_string()),
            now.map(str::to_string),
            Scope::System,
            vec![enable_copr(&ctx, c)],
        )],
        (None, Some(now)) if now != manifest::DISABLED => vec![change(
            copr_id(repo),
            format!("disable COPR {repo}"),
            None,
            Some(now.to_string()),
            Scope::System,
            vec![disable_copr(repo)],
        )],
        _ => vec![],
    };
    Ok(EditResult {
        manifest: Some(m.render(old)),
        output: vec![],
        changes,
    })
}

/// Takes a COPR repository's state on this machine into the manifest, keeping the entry's
/// form (a string stays a string while it can say what the machine has).
fn take_copr(m: &mut Manifest, live: &Live, repo: &str) {
    let Some(state) = live.coprs.get(repo).copied() else {
        m.copr_repos.retain(|c| c.name() != repo);
        return;
    };
    let (enabled, gpg_check) = (
        state != manifest::DISABLED,
        state != manifest::ENABLED_UNSIGNED,
    );
    let entry = match m.copr(repo) {
        None if !enabled => return,
        Some(Copr::Name(_)) | None if gpg_check && enabled => Copr::new(repo),
        Some(Copr::Entry(e)) => Copr::Entry(manifest::CoprEntry {
            name: repo.to_string(),
            enabled: (e.enabled.is_some() || !enabled).then_some(enabled),
            gpg_check: (e.gpg_check.is_some() || !gpg_check).then_some(gpg_check),
        }),
        _ => Copr::Entry(manifest::CoprEntry {
            name: repo.to_string(),
            enabled: Some(enabled),
            gpg_check: Some(gpg_check),
        }),
    };
    match m.copr_repos.iter_mut().find(|c| c.name() == repo) {
        Some(slot) => *slot = entry,
        None => m.add_copr(entry),
    }
}

/// `bkt dnf list`: the manifest, with what is not installed here.
fn list_verb(m: &Manifest) -> EditResult {
    let live = read_live(&host::context(), &m.groups).ok();
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
    if !m.groups.is_empty() {
        output.push(format!("groups ({}):", m.groups.len()));
        output.extend(m.groups.iter().map(|g| format!("  {g}")));
    }
    if !m.excluded.is_empty() {
        output.push(format!("excluded ({}):", m.excluded.len()));
        output.extend(m.excluded.iter().map(|p| format!("  {p}")));
    }
    output.push(format!("copr repositories ({}):", m.copr_repos.len()));
    output.extend(m.copr_repos.iter().map(|c| match c.state() {
        manifest::ENABLED => format!("  {}", c.name()),
        state => format!("  {}   ({state})", c.name()),
    }));
    EditResult {
        manifest: None,
        output,
        changes: vec![],
    }
}

/// `bkt dnf sync [--now]`: install what the manifest lists and this machine lacks.
fn sync_verb(m: &Manifest, staged: bool) -> Result<EditResult, Error> {
    let ctx = host::context();
    let live = read_live(&ctx, &[])?;
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
