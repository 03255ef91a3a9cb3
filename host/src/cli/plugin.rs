//! `bkt plugin list|trust|untrust`.

use crate::app::{App, Format};
use crate::plugins::{self, Origin, trust};
use crate::runtime::bindings::{PluginInfo, Scope};
use crate::runtime::caps;
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
    ]
}

fn declaration_json(info: &PluginInfo) -> serde_json::Value {
    let c = &info.capabilities;
    json!({
        "queries": c.queries.iter().map(|q| caps::describe(q)).collect::<Vec<_>>(),
        "runs": c.runs.iter().map(|r| json!({"argv": caps::describe(&r.argv), "as_root": r.scope == Scope::System})).collect::<Vec<_>>(),
        "reads": c.reads,
        "writes": c.writes,
    })
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
                    "capabilities": declaration_json(&p.info),
                }),
                Err(why) => json!({"name": e.name, "source": e.origin.to_string(), "sha256": e.sha256, "error": why}),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"format_version": super::FORMAT_VERSION, "plugins": items})
            )?
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
                for line in declaration_lines(i) {
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
    let loaded = app
        .rt
        .load(&source.name, &source.sha256, source.wasm.clone())?;
    let info = &loaded.info;
    // The names it claims must be free: the others keep theirs (the builtins always win).
    let mut claims = plugins::Claims::new();
    for e in &app.entries {
        if let (Ok(p), false) = (&e.plugin, e.origin == Origin::File(path.clone())) {
            let _ = claims.claim(&p.info);
        }
    }
    if let Err(why) = claims.claim(info) {
        bail!("{}: {why}", path.display());
    }
    println!(
        "{} {} — {}",
        app.style.bold(&info.id),
        info.version,
        info.summary
    );
    println!("    sha256:   {}", source.sha256);
    for line in declaration_lines(info) {
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
    trust::Store::load()?.trust(path.clone(), source.sha256, info)?;
    println!("Trusted {}.", path.display());
    Ok(0)
}
