//! The external repositories subsystem: third-party RPM repositories (the original bkt's
//! `external-repos.json`: VS Code, Edge, 1Password, ...) and the packages taken from them.
//!
//! Each repository is a `/etc/yum.repos.d/NAME.repo` file, written by the EXTERNAL_REPOS
//! section of the Containerfile (with its signing key imported) and by `apply` on the
//! machine; drift is a file that is missing or differs. Its packages are installed after it,
//! in the image and on the machine. The repo file's first line names those packages, which
//! is how the dnf plugin knows they are not installed by hand.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod manifest;
pub mod render;
pub mod repo_file;

use bkt_sdk::{
    Agreed, Capabilities, Change, Context, EditResult, Effect, Entry, Error, Guest, Phase, Plan,
    PluginInfo, RunShape, Scope, Section, Verbs, WriteFile, agreed, change, edited, host, query,
    run_batched, run_shape, shape, strings,
};
use manifest::{Manifest, Repo};
use std::collections::{BTreeMap, BTreeSet};

pub const MANIFEST: &str = "external-repos.json";

struct Repos;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Repos);

const RPM_QA: &[&str] = &["rpm", "-qa", "--qf", "%{NAME}\\n"];

fn custom_root(ctx: &Context) -> Option<&str> {
    (ctx.root != "/").then_some(ctx.root.as_str())
}

/// The repo files in the root's `/etc/yum.repos.d` (name → text), and what is installed.
struct Live {
    files: BTreeMap<String, String>,
    installed: BTreeSet<String>,
}

fn repo_files() -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(repo_file::DIR) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .strip_suffix(".repo")?
                .to_string();
            Some((name, std::fs::read_to_string(e.path()).ok()?))
        })
        .collect()
}

fn read_live(ctx: &Context) -> Result<Live, Error> {
    let mut argv: Vec<&str> = RPM_QA.to_vec();
    if let Some(root) = custom_root(ctx) {
        argv.extend(["--root", root]);
    }
    let out = query(&argv)?;
    // Without an rpm database nothing here is managed by rpm: say so, as the dnf plugin does.
    if out.status != 0 {
        return Err(Error::Unavailable(format!(
            "rpm -qa failed here ({})",
            out.stderr.trim().trim_start_matches("error: ")
        )));
    }
    Ok(Live {
        files: repo_files(),
        installed: out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// The change ids of repositories: `repo:NAME` (packages are their own names).
fn repo_id(name: &str) -> String {
    format!("repo:{name}")
}

fn write_repo(r: &Repo) -> Effect {
    Effect::WriteFile(WriteFile {
        path: repo_file::path(&r.name),
        contents: repo_file::text(r).into_bytes(),
        mode: 0o644,
    })
}

/// Installs a package: live on an ostree system, with dnf elsewhere (inside the root).
fn install(ctx: &Context, pkg: &str) -> Effect {
    let mut argv = if ctx.ostree {
        strings(&["rpm-ostree", "install", "--idempotent", "--apply-live"])
    } else {
        strings(&["dnf", "install", "-y"])
    };
    if let Some(root) = custom_root(ctx).filter(|_| !ctx.ostree) {
        argv.push(format!("--installroot={root}"));
    }
    argv.push(pkg.into());
    run_batched(&argv, Scope::System)
}

/// Repositories first (their files), then their packages: apply writes a file before it
/// installs from it.
fn compare(ctx: &Context, m: &Manifest, live: &Live) -> (Vec<Change>, Vec<Agreed>) {
    let (mut changes, mut agreed_items) = (Vec::new(), Vec::new());
    for r in &m.repos {
        let wanted = repo_file::text(r);
        match live.files.get(&r.name) {
            Some(text) if *text == wanted => {
                agreed_items.push(agreed(repo_id(&r.name), wanted, Scope::System))
            }
            now => changes.push(change(
                repo_id(&r.name),
                match now {
                    None => format!("{} has no repo file here", r.name),
                    Some(_) => format!("{} differs from the manifest", repo_file::path(&r.name)),
                },
                Some(wanted),
                now.cloned(),
                Scope::System,
                vec![write_repo(r)],
            )),
        }
    }
    let named: BTreeSet<&str> = m.repos.iter().map(|r| r.name.as_str()).collect();
    for (name, text) in &live.files {
        if repo_file::read(text).is_some() && !named.contains(name.as_str()) {
            changes.push(change(
                repo_id(name),
                format!(
                    "{} was written by bkt but is not in the manifest",
                    repo_file::path(name)
                ),
                None,
                Some(text.clone()),
                Scope::System,
                vec![Effect::RemoveFile(repo_file::path(name))],
            ));
        }
    }
    for p in m.repos.iter().flat_map(|r| &r.packages) {
        if live.installed.contains(p) {
            agreed_items.push(agreed(p.clone(), "installed", Scope::System));
        } else {
            changes.push(change(
                p.clone(),
                format!("{p} is not installed"),
                Some("installed".into()),
                None,
                Scope::System,
                vec![install(ctx, p)],
            ));
        }
    }
    (changes, agreed_items)
}

/// Takes what the machine has for the items named: a repository from its file (bkt's), or
/// dropped when the file is gone; a package that is not installed is dropped.
fn take(m: &mut Manifest, live: &Live, ids: &[String]) {
    for id in ids {
        if let Some(name) = id.strip_prefix("repo:") {
            let from_file = live.files.get(name).and_then(|t| repo_file::read(t));
            match (m.repos.iter_mut().find(|r| r.name == name), from_file) {
                (Some(r), Some(f)) => {
                    r.display_name = f.display_name;
                    r.baseurl = f.baseurl;
                    r.gpg_key = f.gpg_key;
                }
                (None, Some(f)) => {
                    bkt_sdk::manifest::insert_sorted(&mut m.repos, f, |r| r.name.clone())
                }
                (_, None) => m.repos.retain(|r| r.name != name),
            }
        } else if !live.installed.contains(id) {
            for r in &mut m.repos {
                r.packages.retain(|p| p != id);
            }
        }
    }
}

fn run_shapes() -> Vec<RunShape> {
    let sys = Scope::System;
    vec![
        run_shape(&["dnf", "install", "-y", "{package}"], sys),
        run_shape(
            &["dnf", "install", "-y", "--installroot={root}", "{package}"],
            sys,
        ),
        run_shape(
            &[
                "rpm-ostree",
                "install",
                "--idempotent",
                "--apply-live",
                "{package}",
            ],
            sys,
        ),
    ]
}

impl Guest for Repos {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "repos".into(),
            command: "repo".into(),
            summary: "Third-party RPM repositories and the packages taken from them".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: strings(&["EXTERNAL_REPOS"]),
            phase: Phase::Repositories,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![
                    shape(RPM_QA),
                    shape(&[RPM_QA, &["--root", "{root}"]].concat()),
                ],
                runs: run_shapes(),
                reads: strings(&[repo_file::DIR]),
                writes: strings(&["/etc/yum.repos.d/"]),
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take_ids: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take_ids.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = read_live(&host::context())?;
        take(&mut m, &live, &take_ids);
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx)?;
        let (changes, agreed) = compare(&ctx, &m, &live);
        Ok(Plan {
            items: m.repos.iter().map(|r| 1 + r.packages.len()).sum::<usize>() as u32,
            changes,
            agreed,
            problems: vec![],
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        let m = manifest::parse(text.as_deref())?;
        Ok(vec![Section {
            name: "EXTERNAL_REPOS".into(),
            lines: render::external_repos(&m),
        }])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

fn list(m: &Manifest) -> Vec<String> {
    let live = read_live(&host::context()).ok();
    let mut out = vec![format!("external repositories ({}):", m.repos.len())];
    for r in &m.repos {
        let here = match &live {
            Some(l) if l.files.get(&r.name) != Some(&repo_file::text(r)) => {
                "   (repo file missing or different here)"
            }
            _ => "",
        };
        out.push(format!(
            "  {} — {} ({}){here}",
            r.name, r.display_name, r.baseurl
        ));
        for p in &r.packages {
            let note = match &live {
                Some(l) if !l.installed.contains(p) => "   (not installed here)",
                _ => "",
            };
            out.push(format!("    {p}{note}"));
        }
    }
    out
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "repo",
    manifest::parse,
    &[Entry::reads(
        "list",
        "",
        "Show the repositories, their packages, and what is missing here",
        |m, _, args| match args {
            [] => Ok(edited(None, list(&m))),
            _ => Err(VERBS.misused("list")),
        },
    )],
);
