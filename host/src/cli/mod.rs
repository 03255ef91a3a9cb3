//! The command line: arguments, help text, and one module per command.

mod apply;
mod choices;
mod complete;
mod containerfile;
mod doctor;
mod globals;
mod init;
mod local;
mod logging;
mod manpages;
mod message;
mod plugin;
mod printer;
mod status;
mod style;
mod upgrade;
mod verb;

use crate::app::{App, Options};
use crate::model::{Elevator, ScopeFilter};
use crate::ops::{self, Exit, Report};
use clap::{CommandFactory, Parser, Subcommand};
use printer::{Format, Printer};
use std::path::PathBuf;

const ABOUT: &str = "Keep your bootc distribution's manifests and this machine in step";

const LONG_ABOUT: &str = "\
bkt keeps a personal Linux distribution honest. The distribution is a git repository: a
Containerfile that builds a bootc image, and JSON manifests under manifests/ for what belongs
on the machine above the image (packages, flatpaks, GNOME settings, ...).

Install things however you like; bkt shows how the machine differs from the manifests
(status), makes the machine match them (apply), and writes what you changed by hand back
into them (capture). Each subsystem is a sandboxed WebAssembly plugin.";

const AFTER_HELP: &str = "\
Subsystem commands:
  Every plugin adds a command of its own, e.g.
    bkt gsetting set org.gnome.desktop.interface clock-format \"'24h'\"
  These change the manifest and apply the change to this machine at once (--no-apply to
  only edit the manifest, --dry-run to show the diff, --local to change this machine only
  until `bkt local commit` proposes it). `bkt plugin list` shows them all;
  `bkt <command> --help` shows a command's verbs.

The repository is found from --repo, then BKT_REPO, then the folders above the working
directory (the first with a manifests/ folder), then `repo` in ~/.config/bkt/config.json,
then the read-only copy in /usr/share/bkt.

Commands that write a manifest re-render the Containerfile's managed sections in the same
step; either both files change or neither does.

bkt remembers, per repository, plugin and item, the value the manifest and the machine last
agreed on (after apply and capture). So it knows which side moved: apply takes changes made
in the manifest, capture takes changes made on this machine, and an item changed on both
sides is left alone until you pick a side with --overwrite.

Exit status (every command):
  0  in step, or done
  1  drift (status, containerfile check), or a change that failed
  2  bad input: a manifest, argument or Containerfile that cannot be used";

#[derive(Parser)]
#[command(name = "bkt", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// The distribution repository (a folder with manifests/)
    #[arg(long, global = true, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// Operate on the system mounted at DIR instead of / (an image or a test tree)
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Output for people or for scripts
    #[arg(long, global = true, value_enum, default_value = "human")]
    format: Format,
    /// More detail: -v shows each query and command bkt runs, -vv also timings and plugin
    /// debug logs, -vvv everything (RUST_LOG also works)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Colour: auto (on a terminal, unless NO_COLOR or TERM=dumb; CLICOLOR_FORCE forces it),
    /// always or never
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: style::ColorChoice,
    /// Say less: no progress, diffs or notes; errors and each command's result still
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Stop a plugin call after this many seconds [default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    plugin_timeout: Option<f64>,
    /// Memory cap for each plugin, in MiB [default: 512]
    #[arg(long, global = true, value_name = "MIB")]
    plugin_memory: Option<usize>,
    /// How system changes get root when bkt is not root [default: sudo]
    #[arg(long, global = true, value_enum)]
    elevator: Option<Elevator>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show how this machine differs from the manifests
    #[command(
        long_about = "Show, per subsystem, how many items the manifest holds and how many are \
        missing (in the manifest, not on the machine), extra (on the machine, not in the manifest) \
        or differ; for each, which side moved since the last sync (the manifest, this machine, \
        both, or not synced yet), and the commands that resolve it. A subsystem whose tool is not \
        installed is shown as unavailable; the others still run. Changes nothing. Exit status 0 \
        when everything is in step, 1 on drift or a failure, 2 when a manifest cannot be used."
    )]
    Status {
        /// Only these subsystems (repeatable)
        #[arg(short = 's', long = "subsystem", value_name = "ID")]
        only: Vec<String>,
    },
    /// Make this machine match the manifests
    #[command(
        long_about = "Show the plan, ask, then run it in phase order (repositories, packages, \
        configuration) with progress and a summary. Takes what changed in the manifests; an item \
        changed on this machine since the last sync is named and reverted only if you agree (with \
        --yes, only with --overwrite); an item changed on both sides is left alone unless \
        --overwrite. A failed change does not stop the others (a failed batch is retried one item \
        at a time); the exit status is 1 if any failed. Items only on the machine (extra) are left \
        alone unless --prune. Records what agrees afterwards."
    )]
    Apply {
        /// Show the plan and stop
        #[arg(long)]
        dry_run: bool,
        /// Do not ask
        #[arg(short, long)]
        yes: bool,
        /// Also remove what is on the machine but not in the manifests
        #[arg(long)]
        prune: bool,
        /// The manifest wins: also revert changes made on this machine and settle conflicts
        #[arg(long)]
        overwrite: bool,
        /// Also set what otherwise waits for the next image (kernel arguments) on the running
        /// deployment; a reboot is still needed
        #[arg(long)]
        now: bool,
        /// Once per deployment, as the boot units run it: nothing when the booted deployment
        /// was already applied, else apply without asking (changes made by hand are reported,
        /// not reverted) and mark the deployment when every change succeeded
        #[arg(long, conflicts_with_all = ["dry_run", "prune", "overwrite", "now"])]
        boot: bool,
        /// Only these subsystems (repeatable)
        #[arg(short = 's', long = "subsystem", value_name = "ID")]
        only: Vec<String>,
        /// Only user-scope or only system-scope changes (the boot units use this)
        #[arg(long, value_enum, default_value = "all")]
        scope: ScopeFilter,
    },
    /// Write what changed on this machine back into the manifests
    #[command(
        long_about = "Take what changed on this machine since the last sync into the manifests: \
        items added or changed here, and items removed here. Before the first sync it adds \
        untracked items and takes only values you set yourself, never a program's default. Manifest \
        edits and items changed on both sides are left alone unless --overwrite. Shows a diff of \
        every file it changes and writes them (and the Containerfile) together, unless --dry-run. \
        An untracked subsystem is started only when named with -s."
    )]
    Capture {
        /// Show the diffs and write nothing
        #[arg(long)]
        dry_run: bool,
        /// This machine wins: also take items changed in the manifest or on both sides
        #[arg(long)]
        overwrite: bool,
        /// Only these subsystems (repeatable)
        #[arg(short = 's', long = "subsystem", value_name = "ID")]
        only: Vec<String>,
        /// Then propose what was written: a branch with one commit, pushed, and a pull request
        /// (as `bkt pr` does)
        #[arg(long)]
        pr: bool,
    },
    /// Propose what bkt changed in the checkout as a pull request
    #[command(
        long_about = "Commits the manifests and the Containerfile that differ from HEAD (the \
        files bkt writes; others changed in the checkout are left out and named) on a new branch, \
        with a message listing each file's changes, without touching the checkout: it stays on \
        its branch with its files as they are. Then pushes the branch and, when the remote is on \
        GitHub and `gh` is installed, opens a pull request and prints its address; otherwise it \
        says what to run. A refused push takes the branch away again. Editing commands and \
        capture do the same for their own files with --pr."
    )]
    Pr {
        /// The commit message's first line [default: Update FILES]
        #[arg(short, long)]
        message: Option<String>,
        /// The branch to create [default: bkt/pr-DATE-TIME]
        #[arg(short, long)]
        branch: Option<String>,
        /// Commit on the branch, but do not push or open a pull request
        #[arg(long)]
        no_push: bool,
        /// Show what would be committed; make nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Stage the next image, and show what it will change on this machine
    #[command(
        long_about = "Asks bootc (or rpm-ostree where bootc is missing) for the next image and \
        stages it, through the elevator. Then compares the staged image's manifests (its \
        /usr/share/bkt) with the booted image's and shows, per subsystem, the manifest diff and \
        what `bkt apply --boot` will change on this machine after the reboot, and which changes \
        made here it will report and leave alone. With --check it only asks whether a newer \
        image exists (and previews one already staged). Acts on the running system only."
    )]
    Upgrade {
        /// Only ask whether a newer image exists; stage nothing
        #[arg(long, conflicts_with = "reboot")]
        check: bool,
        /// Reboot into the new image once it is staged
        #[arg(long)]
        reboot: bool,
    },
    /// Start a new distribution repository: Containerfile, manifests, schemas, CI, README
    #[command(
        long_about = "Writes a new bkt repository into DIR (the working directory when \
        none is given; made when missing): a Containerfile FROM the base image with every \
        builtin's managed section, an empty manifest for every builtin in manifests/ with its \
        JSON Schema in schemas/, the CI workflow .github/workflows/image.yml (it checks the \
        Containerfile and builds the image) and a README (an existing README is kept). DIR is \
        made a git repository when it is in none; nothing is committed. A DIR that already \
        holds a Containerfile, manifests/, schemas/ or the workflow is refused, and nothing is \
        written. Everything is written beside DIR's files first and moved in together. With \
        --capture, `bkt capture` then fills the manifests from this machine."
    )]
    Init {
        /// The new repository's folder [default: the working directory]
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The base image the Containerfile builds FROM
        #[arg(long, value_name = "IMAGE", default_value = ops::init::DEFAULT_IMAGE)]
        from: String,
        /// bkt's release image, which the Containerfile and CI copy bkt from
        /// [default: the image of this bkt's version]
        #[arg(long, value_name = "IMAGE")]
        bkt_image: Option<String>,
        /// Clone an existing distribution repository into DIR instead (default: a folder
        /// named after it), and make it the repository bkt uses
        #[arg(long, value_name = "URL", conflicts_with_all = ["from", "bkt_image", "capture"])]
        clone: Option<String>,
        /// Then fill the manifests from this machine (`bkt capture` in the new repository)
        #[arg(long)]
        capture: bool,
    },
    /// Regenerate or check the Containerfile's managed sections
    #[command(subcommand)]
    Containerfile(containerfile::ContainerfileCommand),
    /// List, trust or untrust plugins
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Changes made with --local: list them, commit them as a pull request, or clear them
    #[command(subcommand)]
    Local(local::LocalCommand),
    /// Check what bkt needs on this machine, and say what to fix
    #[command(
        long_about = "Checks the programs each tracked subsystem runs, a session bus for user \
        settings, the elevator for system changes, the rpm database, bootc or rpm-ostree on an \
        ostree system, and the cache and trust folders. Says what to do about each missing one. \
        Exit status 1 when something a tracked subsystem needs is missing."
    )]
    Doctor,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell); it asks bkt
    /// itself as you type, so plugin commands and verbs complete too
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write manual pages into DIR: bkt.1 and one per command, plugin commands and verbs
    /// included (e.g. `bkt manpages /usr/share/man/man1`)
    Manpages {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    #[command(external_subcommand)]
    Subsystem(Vec<String>),
}

/// Runs the command line; the value is the exit status. Every error ends here, once: said
/// to people on stderr and, with `--format json`, as a document too.
pub fn main() -> Exit {
    // A shell asking for completions gets them and nothing else.
    complete::answer_if_asked();
    let args = globals::help_for_plugins(&Cli::command(), std::env::args_os().collect());
    let cli = match Cli::try_parse_from(globals::hoist(&Cli::command(), args)) {
        Ok(cli) => cli,
        Err(e) => return clap_failed(e),
    };
    logging::init(cli.verbose, cli.color);
    if let Command::Completions { shell } = cli.command {
        return match complete::write_script(&shell.to_string(), &mut std::io::stdout()) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("error: writing the completion script: {e}");
                Exit::Failed
            }
        };
    }
    if let Command::Manpages { dir } = &cli.command {
        return match manpages::write_all(dir) {
            Ok(pages) => {
                if !cli.quiet {
                    println!("Wrote {} manual pages into {}.", pages.len(), dir.display());
                }
                Exit::Ok
            }
            Err(e) => {
                eprintln!("error: writing the manual pages: {e:#}");
                Exit::Failed
            }
        };
    }
    let out = Printer::new(cli.format, cli.verbose, cli.color, cli.quiet);
    match dispatch(cli, &out) {
        Ok(exit) => exit,
        Err(e) => {
            let e = ops::Error::from(e);
            out.error(&e.to_string());
            e.exit
        }
    }
}

/// Help and version as clap prints them; a command line clap refuses, in bkt's error style.
fn clap_failed(e: clap::Error) -> Exit {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Exit::BadInput
            } else {
                Exit::Ok
            }
        }
        _ => {
            eprintln!("{}", message::clap_error(&e.render().to_string()));
            Exit::BadInput
        }
    }
}

fn dispatch(cli: Cli, out: &Printer) -> anyhow::Result<Exit> {
    let opts = Options {
        repo: cli.repo,
        root: cli.root,
        plugin_timeout: cli.plugin_timeout,
        plugin_memory: cli.plugin_memory,
        elevator: cli.elevator,
    };
    // The boot-time check comes before any plugin loads: a deployment already applied costs
    // one status call.
    if let Command::Apply {
        boot: true,
        only,
        scope,
        ..
    } = cli.command
    {
        return Ok(match ops::boot::run(opts, only, scope, out)? {
            Some(applied) => {
                apply::finish(out, &applied);
                applied.exit()
            }
            None => Exit::Ok,
        });
    }
    if let Command::Init {
        dir,
        from,
        bkt_image,
        capture,
        clone,
    } = cli.command
    {
        if let Some(url) = clone {
            return init::clone(out, &url, dir);
        }
        return init::run(opts, out, dir, from, bkt_image, capture);
    }
    let app = App::new(opts)?;
    match cli.command {
        Command::Status { only } => {
            let status = ops::status::run(&app, &only)?;
            if out.human() {
                status::render(out, &status);
            }
            out.emit(&status);
            Ok(status.exit())
        }
        Command::Apply {
            dry_run,
            yes,
            prune,
            overwrite,
            now,
            only,
            scope,
            ..
        } => apply::run(
            &app,
            out,
            &ops::apply::Args {
                dry_run,
                yes,
                prune,
                overwrite,
                now,
                only,
                scope,
            },
        ),
        Command::Capture {
            dry_run,
            overwrite,
            only,
            pr,
        } => {
            let captured = ops::capture::run(&app, out, dry_run, overwrite, &only)?;
            out.emit(&captured);
            if !pr || captured.exit() != Exit::Ok {
                return Ok(captured.exit());
            }
            verb::propose_written(
                &app,
                out,
                &captured.written,
                "Capture what changed on this machine".into(),
                vec![],
                "bkt/capture",
            )
        }
        Command::Upgrade { check, reboot } => {
            let upgrade = ops::upgrade::run(&app, out, &ops::upgrade::Args { check, reboot })?;
            if out.human() {
                upgrade::render(out, &upgrade);
            }
            out.emit(&upgrade);
            Ok(upgrade.exit())
        }
        Command::Pr {
            message,
            branch,
            no_push,
            dry_run,
        } => ops::pr::run(
            &app,
            out,
            ops::pr::PrArgs {
                message,
                branch,
                no_push,
                dry_run,
            },
        ),
        Command::Containerfile(cmd) => containerfile::run(&app, out, cmd),
        Command::Plugin(cmd) => plugin::run(&app, out, cmd),
        Command::Doctor => Ok(doctor::run(&app, out)),
        Command::Local(cmd) => local::run(&app, out, cmd),
        Command::Subsystem(words) => verb::run(&app, out, &words),
        Command::Completions { .. } | Command::Manpages { .. } | Command::Init { .. } => {
            Ok(Exit::Ok)
        }
    }
}
