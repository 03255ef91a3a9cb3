//! Shell completion that knows the plugins. The shell scripts (`bkt completions SHELL`) call
//! back into bkt as the user types (`COMPLETE=SHELL bkt -- WORDS`); bkt then builds its
//! command line with every loaded plugin's command and verbs added, so completion always
//! matches the plugins installed and trusted here, third-party ones included.

use crate::app::{App, Options};
use crate::model::PluginInfo;
use clap::{Arg, ArgAction, CommandFactory};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

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
    with_plugins(cmd, &infos)
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
        let mut v = clap::Command::new(verb.name.clone())
            .about(verb.summary.clone())
            .arg(
                Arg::new("args")
                    .value_name("ARGS")
                    .num_args(0..)
                    .help(verb.usage.clone()),
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
