//! What a command needs from the person running it while it runs: questions, progress,
//! lines to show as they happen.

crate::os::reason!(
    /// Why a change failed, in the program's own words where it printed any.
    Failed
);

/// How one change went: done (with what its programs said on stderr all the same, which
/// may be empty), or why it failed.
pub type Outcome = Result<String, Failed>;

/// What running the steps shows as it goes.
pub enum Progress<'a> {
    /// A step, or a batch of steps run as one process, is about to run: `place` is its
    /// number (`3`) or range (`3-5`) out of `total`.
    Starting {
        place: &'a str,
        total: usize,
        plugin: &'a str,
        ids: &'a [&'a str],
    },
    Done(&'a Outcome),
    /// A step failed with the same words as the failure shown just before it (a systemic
    /// failure, such as a missing elevator, repeats for every step): said once.
    FailedAgain,
    /// A batch failed; its steps are run one by one next.
    BatchFailed(&'a str),
    /// A line the running step's program wrote.
    Output(&'a str),
}

/// How a line a command says reads: the printer picks colours from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Dim,
}

/// What a command needs from the person running it while it runs.
pub trait Ui {
    /// Whether the answer to a yes/no question is yes; an error where nobody can answer.
    fn confirm(&self, question: &str) -> anyhow::Result<bool>;
    /// Progress of effects being run.
    fn progress(&self, event: Progress);
    /// A line to show now, on stdout, for people only.
    fn say(&self, tone: Tone, line: &str);
    /// Text to show now as it is (a diff), on stdout, for people only.
    fn show(&self, text: &str);
    /// A line to show now, on stderr, for people and scripts alike.
    fn warn(&self, line: &str);
    /// A problem about `subject` (a plugin, an item) to show now, on stderr, after its
    /// `label` (`error`, `problem`).
    fn error(&self, label: &str, subject: &str, message: &str);
}
