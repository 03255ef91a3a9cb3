//! Subsystem commands for people: `bkt gsetting set SCHEMA KEY VALUE`, `bkt dnf install
//! htop`. The words are sorted into bkt's flags and the verb's own, the plugin and its verb
//! are found (or their help shown), and `ops::verb` does the rest.

use super::printer::Printer;
use crate::app::App;
use crate::ops::verb::Args;
use crate::ops::{Exit, Report};
use crate::runtime::Loaded;
use anyhow::{Result, bail};

struct Flags {
    dry_run: bool,
    no_apply: bool,
    local: bool,
    help: bool,
    rest: Vec<String>,
}

/// Host flags may appear anywhere before `--`; everything else goes to the plugin.
fn split_flags(words: &[String]) -> Flags {
    let mut f = Flags {
        dry_run: false,
        no_apply: false,
        local: false,
        help: false,
        rest: Vec::new(),
    };
    let mut literal = false;
    for w in words {
        match w.as_str() {
            _ if literal => f.rest.push(w.clone()),
            "--" => literal = true,
            "--dry-run" => f.dry_run = true,
            "--no-apply" => f.no_apply = true,
            "--local" => f.local = true,
            "-h" | "--help" => f.help = true,
            // Habit from dnf and friends; subsystem commands never ask.
            "-y" | "--yes" => {}
            _ => f.rest.push(w.clone()),
        }
    }
    f
}

fn help(plugin: &Loaded) -> String {
    let info = &plugin.info;
    let mut text = format!(
        "{}\n\nUsage: bkt {} <VERB> [ARGS]... [--dry-run] [--no-apply]\n\nVerbs:\n",
        info.summary, info.command
    );
    let usages: Vec<String> = info
        .verbs
        .iter()
        .map(|v| format!("{} {}", v.name, v.usage).trim().to_string())
        .collect();
    let width = usages.iter().map(|u| u.chars().count()).max().unwrap_or(0);
    for (usage, v) in usages.iter().zip(&info.verbs) {
        text.push_str(&format!("  {usage:<width$}  {}\n", v.summary));
    }
    text.push_str(&format!(
        "\nOptions:\n  --dry-run   Show the manifest diff; change nothing\n  --no-apply  Only edit manifests/{}; leave this machine as it is\n  --local     Change this machine only; the repository stays as it is until `bkt local commit`\n  -y, --yes   Accepted and ignored: these commands never ask\n",
        info.manifest
    ));
    text
}

pub fn run(app: &App, out: &Printer, words: &[String]) -> Result<Exit> {
    // `bkt admin kargs …`, as the earlier bkt spelled some commands, is `bkt kargs …`.
    let words = match words.split_first() {
        Some((admin, rest)) if admin == "admin" && !rest.is_empty() => rest,
        _ => words,
    };
    let Some((word, rest)) = words.split_first() else {
        bail!("no command given")
    };
    let Some(plugin) = app.by_command(word) else {
        let mut known =
            super::globals::builtin_commands(&<super::Cli as clap::CommandFactory>::command());
        known.extend(app.loaded().iter().map(|p| p.info.command.clone()));
        bail!("unknown command {word:?}; commands: {}", known.join(", "));
    };
    let flags = split_flags(rest);
    let Some((verb_name, args)) = flags.rest.split_first().filter(|_| !flags.help) else {
        print!("{}", help(plugin));
        return Ok(if flags.help { Exit::Ok } else { Exit::BadInput });
    };
    let Some(verb) = plugin.info.verbs.iter().find(|v| v.name == *verb_name) else {
        bail!("bkt {word} has no verb {verb_name:?}\n\n{}", help(plugin));
    };
    let done = crate::ops::verb::run(
        app,
        out,
        &Args {
            plugin,
            verb,
            args,
            dry_run: flags.dry_run,
            no_apply: flags.no_apply,
            local: flags.local,
        },
    )?;
    out.emit(&done);
    Ok(done.exit())
}
