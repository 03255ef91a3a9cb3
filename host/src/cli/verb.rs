//! Subsystem commands for people: `bkt gsetting set SCHEMA KEY VALUE`, `bkt dnf install
//! htop`. The words are sorted into bkt's flags and the verb's own, the plugin and its verb
//! are found (or their help shown), and `ops::verb` does the rest.

use super::printer::Printer;
use crate::app::App;
use crate::ops::verb::Args;
use crate::ops::write::Written;
use crate::ops::{Exit, Report, Tone, Ui};
use crate::runtime::Loaded;
use anyhow::{Result, bail};

struct Flags {
    dry_run: bool,
    no_apply: bool,
    local: bool,
    pr: bool,
    help: bool,
    rest: Vec<String>,
}

/// Host flags may appear anywhere before `--`; everything else goes to the plugin.
fn split_flags(words: &[String]) -> Flags {
    let mut f = Flags {
        dry_run: false,
        no_apply: false,
        local: false,
        pr: false,
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
            "--pr" => f.pr = true,
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
        "\nOptions:\n  --dry-run   Show the manifest diff; change nothing\n  --no-apply  Only edit manifests/{}; leave this machine as it is\n  --local     Change this machine only; the repository stays as it is until `bkt local commit`\n  --pr        Then propose the files written as a pull request (a branch, one commit, push)\n  -y, --yes   Accepted and ignored: these commands never ask\n",
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
        let hint = match crate::os::text::did_you_mean(word, known.iter().map(String::as_str)) {
            Some(k) => format!("did you mean `bkt {k}`? (commands: {})", known.join(", ")),
            None => format!("see `bkt --help` (commands: {})", known.join(", ")),
        };
        bail!("unknown command {word:?}; {hint}");
    };
    let flags = split_flags(rest);
    let Some((verb_name, args)) = flags.rest.split_first().filter(|_| !flags.help) else {
        print!("{}", help(plugin));
        return Ok(if flags.help { Exit::Ok } else { Exit::BadInput });
    };
    let Some(verb) = plugin.info.verbs.iter().find(|v| v.name == *verb_name) else {
        let verbs = plugin.info.verbs.iter().map(|v| v.name.as_str());
        let hint = match crate::os::text::did_you_mean(verb_name, verbs) {
            Some(v) => format!("did you mean `bkt {word} {v}`?"),
            None => format!("see `bkt {word} --help` for its verbs"),
        };
        bail!("bkt {word} has no verb {verb_name:?}; {hint}");
    };
    if flags.pr && flags.local {
        bail!(
            "--pr proposes the repository's change and --local keeps the repository as it is: use one (`bkt local commit` proposes local changes)"
        );
    }
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
    if !flags.pr || done.exit() != Exit::Ok {
        return Ok(done.exit());
    }
    if flags.dry_run {
        out.say(Tone::Plain, "--pr: nothing is proposed in a dry run.");
        return Ok(Exit::Ok);
    }
    let command_line = format!("bkt {}", words.join(" "));
    propose_written(
        app,
        out,
        &done.files,
        command_line.clone(),
        vec![format!("- {command_line}")],
        &format!("bkt/{}-{}", plugin.info.command, verb.name),
    )
}

/// `--pr` after a command: the files it wrote, proposed (nothing when it wrote none).
pub fn propose_written(
    app: &App,
    out: &Printer,
    written: &Written,
    subject: String,
    what: Vec<String>,
    branch_stem: &str,
) -> Result<Exit> {
    if !written.written || written.files.is_empty() {
        out.say(
            Tone::Plain,
            "--pr: no file was written, so there is nothing to propose.",
        );
        return Ok(Exit::Ok);
    }
    let names: Vec<String> = written.files.iter().map(|(name, _)| name.clone()).collect();
    crate::ops::pr::after_command(app, out, &names, subject, what, branch_stem)
}
