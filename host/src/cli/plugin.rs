//! `bkt plugin list|trust|untrust` for people: the list, and the trust screen.

use super::printer::{Printer, confirm};
use crate::app::App;
use crate::model::PluginInfo;
use crate::ops::plugin::{Listed, candidate, list, trust, untrust};
use crate::ops::{Exit, Report};
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
    },
    /// Stop loading a third-party plugin
    Untrust { path: PathBuf },
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
        PluginCommand::Trust { path, yes } => trust_one(app, out, &path, yes),
        PluginCommand::Untrust { path } => {
            let path = untrust(path)?;
            println!("{} will no longer load.", path.display());
            Ok(Exit::Ok)
        }
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
        format!("writes:   {}", join(c.writes.clone())),
        format!("fetches:  {}", fetch_line(c)),
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

fn trust_one(app: &App, out: &Printer, path: &Path, yes: bool) -> Result<Exit> {
    let c = candidate(app, path)?;
    let info = &c.info;
    println!(
        "{} {} — {}",
        out.style.bold(&info.id),
        info.version,
        info.summary
    );
    println!("    sha256:   {}", c.sha256);
    for line in declaration_lines(info) {
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
    if !yes && !confirm("Trust this plugin?", "pass --yes to trust it")? {
        println!("Not trusted.");
        return Ok(Exit::Failed);
    }
    let path = trust(c)?;
    println!("Trusted {}.", path.display());
    Ok(Exit::Ok)
}
