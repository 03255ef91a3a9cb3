//! Shell completion that knows the plugins. The shell scripts (`bkt completions SHELL`) call
//! back into bkt as the user types (`COMPLETE=SHELL bkt -- WORDS`); bkt then builds its
//! command line with every loaded plugin's command and verbs added, so completion always
//! matches the plugins installed and trusted here, third-party ones included.

use crate::app::{App, Options};
use crate::model::PluginInfo;
use clap::{Arg, ArgAction, CommandFactory};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};
use std::ffi::OsStr;

/// The environment variable the scripts set when they ask.
const VAR: &str = "COMPLETE";

/// Answers a completion request and exits when the shell asked for one; otherwise returns.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(command)
        .var(VAR)
        .complete();
}

/// Writes the script that registers completion for `shell`, calling back into `bkt`.
pub fn write_script(shell: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let shells = clap_complete::env::Shells::builtins();
    let Some(completer) = shells.completer(shell) else {
        return Err(std::io::Error::other(format!(
            "no completion for the shell {shell}"
        )));
    };
    completer.write_registration(VAR, "bkt", "bkt", "bkt", out)
}

/// bkt's command line with each loaded plugin's command and verbs; the built-in commands
/// only when the plugins cannot be loaded.
pub fn command() -> clap::Command {
    let cmd = super::Cli::command();
    let Ok(app) = App::new(Options::default()) else {
        return cmd;
    };
    let infos: Vec<PluginInfo> = app.loaded().iter().map(|p| p.info.clone()).collect();
    // Kept for the verbs' value completers, which run later on this thread.
    APP.with(|cell| {
        let _ = cell.set(app);
    });
    with_plugins(cmd, &infos)
}

thread_local! {
    /// The plugins loaded to build the command line, asked again for a verb's values.
    static APP: std::cell::OnceCell<App> = const { std::cell::OnceCell::new() };
}

/// The words of the command line being completed (after `--`, the program first) and the
/// position of the one being typed: bash and zsh say it, the others type at the end.
fn typed_line() -> (Vec<String>, usize) {
    let words: Vec<String> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let index = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse().ok())
        .unwrap_or(words.len().saturating_sub(1));
    (words, index)
}

/// The words a plugin offers after `bkt COMMAND VERB` and what is typed already.
fn verb_values(command: &str, verb: &str, current: &OsStr) -> Vec<CompletionCandidate> {
    let (words, index) = typed_line();
    let before = &words[..index.min(words.len())];
    let Some(at) = before.iter().position(|w| w == command) else {
        return Vec::new();
    };
    let typed: Vec<String> = before[at + 1..]
        .iter()
        .skip_while(|w| *w != verb)
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .cloned()
        .collect();
    let prefix = current.to_string_lossy();
    APP.with(|cell| {
        cell.get().map_or_else(Vec::new, |app| {
            crate::ops::complete::next_words(app, command, verb, &typed, &prefix)
                .into_iter()
                .map(CompletionCandidate::new)
                .collect()
        })
    })
}

/// `cmd` with a subcommand per plugin (its verbs below it) and the subsystem ids offered
/// wherever `-s` takes one.
pub fn with_plugins(mut cmd: clap::Command, infos: &[PluginInfo]) -> clap::Command {
    let ids: Vec<(String, String)> = infos
        .iter()
        .map(|i| (i.id.clone(), i.summary.clone()))
        .collect();
    for name in ["status", "apply", "capture"] {
        let ids = ids.clone();
        cmd = cmd.mut_subcommand(name, |sub| {
            sub.mut_arg("only", |arg| {
                arg.add(ArgValueCandidates::new(move || {
                    ids.iter()
                        .map(|(id, about)| CompletionCandidate::new(id).help(Some(about.into())))
                        .collect::<Vec<_>>()
                }))
            })
        });
    }
    for info in infos {
        cmd = cmd.subcommand(plugin_command(info));
    }
    cmd
}

fn plugin_command(info: &PluginInfo) -> clap::Command {
    let mut sub = clap::Command::new(info.command.clone())
        .about(info.summary.clone())
        .disable_help_subcommand(true);
    for verb in &info.verbs {
        let (command, name) = (info.command.clone(), verb.name.clone());
        let mut v = clap::Command::new(verb.name.clone())
            .about(verb.summary.clone())
            .arg(
                Arg::new("args")
                    .value_name("ARGS")
                    .num_args(0..)
                    .help(verb.usage.clone())
                    .add(ArgValueCompleter::new(move |current: &OsStr| {
                        verb_values(&command, &name, current)
                    })),
            );
        if verb.edits {
            for (flag, help) in [
                ("dry-run", "Show the manifest diff; change nothing"),
                (
                    "no-apply",
                    "Only edit the manifest; leave this machine as it is",
                ),
                (
                    "local",
                    "Change this machine only, until `bkt local commit`",
                ),
                ("pr", "Then propose the files written as a pull request"),
            ] {
                v = v.arg(
                    Arg::new(flag)
                        .long(flag)
                        .action(ArgAction::SetTrue)
                        .help(help),
                );
            }
        }
        sub = sub.subcommand(v);
    }
    sub
}
