//! `bkt plugin list|trust|untrust` for people: the list, and the trust screen.

use super::printer::{Printer, confirm};
use crate::app::App;
use crate::model::PluginInfo;
use crate::ops::plugin::{
    Candidate, Listed, candidate, check, list, may_pin, previous_pin, trust, untrust,
};
use crate::ops::{Exit, Report};
use crate::plugins::trust::{Declaration, Level};
use crate::runtime::caps;
use anyhow::Result;
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Every plugin: id, version, where it comes from, what it may do
    List,
    /// Review a third-party plugin's capabilities and allow it to load
    #[command(
        long_about = "Shows everything the component declares (its id, command and verbs, \
        manifest, Containerfile sections, the exact commands it may query and run and as whom, \
        the folders it may read and write) and records its sha256 with that declaration in \
        ~/.config/bkt/trusted-plugins.json. A changed file, or one that declares anything else \
        when it loads, is refused until it is trusted again."
    )]
    Trust {
        /// The .wasm file (in one of the plugin folders)
        path: PathBuf,
        /// Do not ask
        #[arg(short, long)]
        yes: bool,
        /// Pin it for every user and the boot units, in the image's store
        /// (/usr/share/bkt/trusted-plugins.json; run as root when the image is built)
        #[arg(long, conflicts_with = "machine")]
        image: bool,
        /// Pin it for every user and the boot units of this machine
        /// (/etc/bkt/trusted-plugins.json; as root)
        #[arg(long)]
        machine: bool,
    },
    /// Stop loading a third-party plugin
    Untrust {
        path: PathBuf,
        /// From the image's store
        #[arg(long, conflicts_with = "machine")]
        image: bool,
        /// From this machine's store
        #[arg(long)]
        machine: bool,
    },
    /// Try a plugin file from anywhere: its declaration, and its plan and Containerfile
    /// sections for this repository; nothing is trusted, installed or run
    #[command(
        long_about = "Loads the component at FILE (any path), checks what it declares and the \
        names it claims, shows the trust screen, and calls its plan and render-section on this \
        repository's manifest, read only. Nothing is trusted or installed, and none of its \
        effects run: the loop for writing a plugin. Exit status 0 when everything answered, 1 \
        when plan or render-section failed, 2 when the file cannot be loaded."
    )]
    Check { path: PathBuf },
}

fn level(image: bool, machine: bool) -> Level {
    match (image, machine) {
        (true, _) => Level::Image,
        (_, true) => Level::Machine,
        _ => Level::User,
    }
}

pub fn run(app: &App, out: &Printer, cmd: PluginCommand) -> Result<Exit> {
    match cmd {
        PluginCommand::List => {
            let listed = list(app);
            if out.human() {
                render_list(out, &listed);
            }
            out.emit(&listed);
            Ok(listed.exit())
        }
        PluginCommand::Trust {
            path,
            yes,
            image,
            machine,
        } => trust_one(app, out, &path, yes, level(image, machine)),
        PluginCommand::Untrust {
            path,
            image,
            machine,
        } => {
            let level = level(image, machine);
            let path = untrust(path, level)?;
            println!(
                "{} is no longer pinned in {} trust store.",
                path.display(),
                level.name()
            );
            Ok(Exit::Ok)
        }
        PluginCommand::Check { path } => check_one(app, out, &path),
    }
}

/// Everything a plugin declares, as the trust screen and `plugin list` show it.
fn declaration_lines(info: &PluginInfo) -> Vec<String> {
    let c = &info.capabilities;
    let join = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join("\n              ")
        }
    };
    vec![
        format!(
            "command:  bkt {} {}",
            info.command,
            info.verbs
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join("|")
        ),
        format!("manifest: manifests/{}", info.manifest),
        format!("sections: {}", join(info.sections.clone())),
        format!(
            "queries:  {}",
            join(c.queries.iter().map(|q| caps::describe(q)).collect())
        ),
        format!(
            "runs:     {}",
            join(c.runs.iter().map(caps::describe_run).collect())
        ),
        format!("reads:    {}", join(c.reads.clone())),
        format!(
            "writes:   {}",
            if c.writes.is_empty() {
                "none".to_string()
            } else {
                format!(
                    "{} (files it writes, and where its downloads land)",
                    join(c.writes.clone())
                )
            }
        ),
        format!("fetches:  {}", fetch_line(c)),
        format!(
            "programs: {}",
            if c.programs.is_empty() {
                "none outside the system folders".to_string()
            } else {
                format!(
                    "{} (run only while they and their folders belong to root or to whoever \
                     runs them)",
                    join(c.programs.iter().map(ToString::to_string).collect())
                )
            }
        ),
    ]
}

/// Who made the plugin and what it needs, as far as it says.
fn about_lines(info: &PluginInfo) -> Vec<String> {
    let a = &info.about;
    let said = |s: &str| {
        if s.is_empty() {
            "not said".to_string()
        } else {
            s.to_string()
        }
    };
    vec![
        format!("authors:  {}", said(&a.authors.join(", "))),
        format!("homepage: {}", said(&a.homepage)),
        format!("license:  {}", said(&a.license)),
        format!(
            "needs:    {}",
            if info.requires_bkt.is_empty() {
                "any bkt".to_string()
            } else {
                format!("bkt {} or newer", info.requires_bkt)
            }
        ),
    ]
}

/// The declared fetch sources and their limit, or `none`.
fn fetch_line(c: &crate::model::Capabilities) -> String {
    if c.fetches.is_empty() {
        return "none".into();
    }
    format!(
        "{} (at most {} MiB each)",
        c.fetches.join(", "),
        crate::runtime::fetch_limit(c.fetch_limit).div_ceil(1 << 20)
    )
}

fn render_list(out: &Printer, listed: &Listed) {
    for e in listed.entries {
        match &e.plugin {
            Ok(p) => {
                let i = &p.info;
                println!(
                    "{} {} ({}) — {}",
                    out.style.bold(&i.id),
                    i.version,
                    e.origin,
                    i.summary
                );
                for line in declaration_lines(i) {
                    println!("    {line}");
                }
            }
            Err(why) => println!("{} ({}) — {}", out.style.yellow(&e.name), e.origin, why),
        }
    }
    println!(
        "{}",
        out.style.dim(&format!(
            "Third-party plugins are read from: {}",
            listed
                .folders
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    );
}

/// The trust screen: everything the file declares, and what changed since the store last
/// pinned it.
fn show_candidate(out: &Printer, c: &Candidate, before: Option<&Declaration>) {
    let info = &c.info;
    println!(
        "{} {} — {}",
        out.style.bold(&info.id),
        info.version,
        info.summary
    );
    println!("    sha256:   {}", c.sha256);
    for line in about_lines(info).into_iter().chain(declaration_lines(info)) {
        println!("    {line}");
    }
    let shapes = info
        .capabilities
        .queries
        .iter()
        .map(Vec::as_slice)
        .chain(info.capabilities.runs.iter().map(|r| r.argv.as_slice()));
    for line in caps::legend(shapes) {
        println!("    {}", out.style.dim(line));
    }
    if let Some(before) = before {
        let changes = Declaration::of(info).changes_since(before);
        if changes.is_empty() {
            println!("    Declares what it declared when last trusted; only the file changed.");
        } else {
            println!("    Since it was last trusted:");
            for change in changes {
                println!("      {change}");
            }
        }
    }
}

fn trust_one(app: &App, out: &Printer, path: &Path, yes: bool, level: Level) -> Result<Exit> {
    let c = candidate(app, path)?;
    may_pin(&c, level)?;
    show_candidate(out, &c, previous_pin(&c, level).as_ref());
    if !yes && !confirm("Trust this plugin?", "pass --yes to trust it")? {
        println!("Not trusted.");
        return Ok(Exit::Failed);
    }
    let path = trust(c, level)?;
    println!(
        "Trusted {} in {} trust store.",
        path.display(),
        level.name()
    );
    Ok(Exit::Ok)
}

fn check_one(app: &App, out: &Printer, path: &Path) -> Result<Exit> {
    let checked = check(app, path)?;
    show_candidate(out, &checked.candidate, None);
    let manifest = checked
        .manifest
        .clone()
        .unwrap_or_else(|| format!("manifests/{} (absent)", checked.candidate.info.manifest));
    let mut exit = Exit::Ok;
    match &checked.plan {
        Ok(plan) => println!(
            "plan of {manifest}: {} items, {} changes, {} problems",
            plan.items,
            plan.changes.len(),
            plan.problems.len()
        ),
        Err(e) => {
            println!("plan of {manifest} failed: {e}");
            exit = Exit::Failed;
        }
    }
    for change in checked.plan.iter().flat_map(|p| &p.changes) {
        println!("    {:<8} {}", change.kind.name(), change.summary);
    }
    match &checked.sections {
        Ok(sections) => {
            for s in sections {
                println!("section {}: {} lines", s.name, s.lines.len());
            }
        }
        Err(e) => {
            println!("render-section of {manifest} failed: {e}");
            exit = Exit::Failed;
        }
    }
    println!("Nothing was trusted, installed or run.");
    Ok(exit)
}
