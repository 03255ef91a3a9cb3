//! The one output layer: reports printed for people or as JSON documents (each with
//! `format_version`), progress and questions while a command runs, and errors.

use super::style::{ColorChoice, Style};
use crate::ops::{Progress, Report, Tone, Ui};
use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};

/// The version of every `--format json` document (`format_version`).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Where everything a command shows goes.
#[derive(Clone, Copy)]
pub struct Printer {
    pub format: Format,
    pub style: Style,
    /// Whether a running step's line is kept live (rewritten with its program's latest
    /// output): on a terminal, for people, when `-v` is not already printing that output.
    live: bool,
    /// `-q`: no progress, diffs or notes; errors and each command's result still.
    quiet: bool,
}

/// The running step's line as first printed, and when it started: the live line rewrites it.
static RUNNING: std::sync::Mutex<Option<(String, std::time::Instant)>> =
    std::sync::Mutex::new(None);

impl Printer {
    pub fn new(format: Format, verbose: u8, color: ColorChoice, quiet: bool) -> Printer {
        Printer {
            format,
            style: Style::detect(color),
            live: format == Format::Human
                && verbose == 0
                && !quiet
                && std::io::stdout().is_terminal(),
            quiet,
        }
    }

    /// Whether lines that only narrate (progress, diffs, notes) are shown.
    fn narrates(&self) -> bool {
        self.human() && !self.quiet
    }

    /// Rewrites the running step's line with how long it has run and `latest`, its program's
    /// last line, cut to fit: replaced in place, never scrolled.
    fn live_line(&self, latest: &str) {
        let Ok(running) = RUNNING.lock() else { return };
        let Some((line, started)) = running.as_ref() else {
            return;
        };
        let latest = crate::os::text::printable(latest.trim());
        let elapsed = started.elapsed().as_secs();
        let room = 100usize.saturating_sub(line.chars().count() + 8);
        let latest: String = latest.chars().take(room).collect();
        print!(
            "\r\x1b[2K{line}{} {}",
            self.style.dim(&format!("{elapsed}s")),
            self.style.dim(&latest)
        );
        let _ = std::io::stdout().flush();
    }

    /// Ends the running step's line: back to its start, for its outcome.
    fn end_live(&self) {
        let Ok(mut running) = RUNNING.lock() else {
            return;
        };
        if let Some((line, _)) = running.take()
            && self.live
        {
            print!("\r\x1b[2K{line}");
        }
    }

    pub fn human(&self) -> bool {
        self.format == Format::Human
    }

    /// For scripts: the report's document, with `format_version`. For people the command's
    /// renderer has printed it already.
    pub fn emit(&self, report: &dyn Report) {
        if self.format == Format::Json {
            print_document(report.json());
        }
    }

    /// An error a command ends with: for people on stderr, and for scripts also as a
    /// document on stdout.
    pub fn error(&self, error: &str) {
        eprintln!("{}", super::message::error_lines(error));
        if self.format == Format::Json {
            print_document(serde_json::json!({ "error": error }));
        }
    }

    pub fn paint(&self, tone: Tone, text: &str) -> String {
        match tone {
            Tone::Plain => text.to_string(),
            Tone::Dim => self.style.dim(text),
        }
    }
}

/// `doc` with `format_version` added, pretty-printed (serde_json keeps keys in name order).
fn print_document(doc: serde_json::Value) {
    let mut out = serde_json::Map::new();
    out.insert("format_version".into(), FORMAT_VERSION.into());
    match doc {
        serde_json::Value::Object(fields) => out.extend(fields),
        other => {
            out.insert("document".into(), other);
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Object(out)).unwrap_or_default()
    );
}

/// Asks a yes/no question on the terminal; no is the default.
pub fn confirm(question: &str, refusal: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("not asking on a non-terminal: {refusal}");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

impl Ui for Printer {
    fn confirm(&self, question: &str) -> Result<bool> {
        confirm(question, "pass --yes to apply, or --dry-run to only look")
    }

    fn progress(&self, event: Progress) {
        if !self.narrates() {
            return;
        }
        match event {
            Progress::Starting {
                place,
                total,
                plugin,
                ids,
            } => {
                let line = format!("[{place}/{total}] {plugin} {} … ", ids.join(", "));
                print!("{line}");
                let _ = std::io::stdout().flush();
                if let Ok(mut running) = RUNNING.lock() {
                    *running = Some((line, std::time::Instant::now()));
                }
            }
            Progress::Output(latest) => {
                if self.live {
                    self.live_line(latest);
                }
            }
            Progress::Done(Ok(_)) => {
                self.end_live();
                println!("{}", self.style.green("ok"))
            }
            Progress::Done(Err(e)) => {
                self.end_live();
                println!("{}", self.style.red(&format!("failed: {e}")))
            }
            Progress::FailedAgain => {
                self.end_live();
                println!("{}", self.style.red("failed, as above"))
            }
            Progress::BatchFailed(e) => {
                self.end_live();
                println!(
                    "{}",
                    self.style.yellow(&format!("failed ({e}); one at a time:"))
                )
            }
        }
    }

    fn say(&self, tone: Tone, line: &str) {
        if self.narrates() {
            println!("{}", self.paint(tone, line));
        }
    }

    fn show(&self, text: &str) {
        if self.narrates() {
            print!("{text}");
        }
    }

    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }

    fn error(&self, label: &str, subject: &str, message: &str) {
        eprintln!("{} {subject}: {message}", self.style.red(label));
    }
}
