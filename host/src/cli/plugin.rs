//! `bkt plugin list|trust|untrust`.

use crate::app::{App, Format};
use crate::plugins::{self, Origin, trust};
use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Every plugin: id, version, where it comes from, what it may do
    List,
    /// Review a third-party plugin's capabilities and allow it to load
    #[command(
        long_about = "Shows what the component declares (queries, programs, paths) and \
        records its sha256 in ~/.config/bkt/trusted-plugins.json. A changed file is refused \
        until it is trusted again."
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

pub fn run(app: &App, cmd: PluginCommand) -> Result<i32> {
    match cmd {
        PluginCommand::List => list(app),
        PluginCommand::Trust { path, yes } => trust_one(app, &path, yes),
        PluginCommand::Untrust { path } => {
            let path = path.canonicalize().unwrap_or(path);
            if trust::Store::load()?.revoke(&path)? {
                println!("{} will no longer load.", path.display());
                Ok(0)
            } else {
                bail!("{} was not trusted", path.display())
            }
        }
    }
}

fn caps_lines(c: &crate::runtime::bindings::Capabilities) -> Vec<String> {
    let join = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    vec![
        format!(
            "queries:  {}",
            join(&c.queries.iter().map(|q| q.join(" ")).collect::<Vec<_>>())
        ),
        format!("programs: {}", join(&c.programs)),
        format!("reads:    {}", join(&c.reads)),
        format!("writes:   {}", join(&c.writes)),
    ]
}

fn list(app: &App) -> Result<i32> {
    if app.format == Format::Json {
        let items: Vec<_> = app
            .entries
            .iter()
            .map(|e| match &e.plugin {
                Ok(p) => json!({
                    "id": p.info.id, "command": p.info.command, "version": p.info.version,
                    "source": e.origin.to_string(), "sha256": e.sha256, "manifest": p.info.manifest,
                    "sections": p.info.sections, "verbs": p.info.verbs.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "capabilities": {
                        "queries": p.info.capabilities.queries, "programs": p.info.capabilities.programs,
                        "reads": p.info.capabilities.reads, "writes": p.info.capabilities.writes,
                    },
                }),
                Err(why) => json!({"name": e.name, "source": e.origin.to_string(), "sha256": e.sha256, "error": why}),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"plugins": items}))?
        );
        return Ok(0);
    }
    for e in &app.entries {
        match &e.plugin {
            Ok(p) => {
                let i = &p.info;
                println!(
                    "{} {} ({}) — {}",
                    app.style.bold(&i.id),
                    i.version,
                    e.origin,
                    i.summary
                );
                println!(
                    "    command:  bkt {} {}",
                    i.command,
                    i.verbs
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                );
                println!("    manifest: manifests/{}", i.manifest);
                for line in caps_lines(&i.capabilities) {
                    println!("    {line}");
                }
            }
            Err(why) => println!("{} ({}) — {}", app.style.yellow(&e.name), e.origin, why),
        }
    }
    println!(
        "{}",
        app.style.dim(&format!(
            "Third-party plugins are read from: {}",
            plugins::plugin_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    );
    Ok(0)
}

fn trust_one(app: &App, path: &std::path::Path, yes: bool) -> Result<i32> {
    let path = path
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let dirs = plugins::plugin_dirs();
    if !dirs
        .iter()
        .any(|d| d.canonicalize().is_ok_and(|d| path.starts_with(d)))
    {
        let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        bail!(
            "{} is not in a plugin folder; bkt loads plugins only from {}. Copy it there, then trust that copy",
            path.display(),
            list.join(", ")
        );
    }
    let source = plugins::read(&path)?;
    let loaded = app.rt.load(&source.name, &source.sha256, &source.wasm)?;
    let info = &loaded.info;
    let builtin_has_id = app.entries.iter().any(|e| {
        e.origin == Origin::Builtin && e.plugin.as_ref().is_ok_and(|p| p.info.id == info.id)
    });
    if builtin_has_id {
        bail!(
            "{} declares the id {:?}, which a builtin plugin already has",
            path.display(),
            info.id
        );
    }
    println!(
        "{} {} — {}",
        app.style.bold(&info.id),
        info.version,
        info.summary
    );
    println!("    sha256:   {}", source.sha256);
    println!("    manifest: manifests/{}", info.manifest);
    for line in caps_lines(&info.capabilities) {
        println!("    {line}");
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("not asking on a non-terminal: pass --yes to trust it");
        }
        print!("Trust this plugin? [y/N] ");
        std::io::Write::flush(&mut std::io::stdout())?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Not trusted.");
            return Ok(1);
        }
    }
    trust::Store::load()?.trust(path.clone(), source.sha256, info.id.clone())?;
    println!("Trusted {}.", path.display());
    Ok(0)
}
