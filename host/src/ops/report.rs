//! What a command ends with: a report for scripts and its exit status, or an error that
//! carries its exit status.

/// The exit status every command ends with, as the README's table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// In step, or done.
    Ok = 0,
    /// Drift (status, containerfile check), or a change that failed.
    Failed = 1,
    /// Bad input: a manifest, argument or Containerfile that cannot be used.
    BadInput = 2,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// `Failed` when `failed`, else `Ok`.
    pub fn failed_if(failed: bool) -> Exit {
        if failed { Exit::Failed } else { Exit::Ok }
    }
}

/// An error that ends a command, with the exit status it ends with: bad input unless said
/// otherwise (most errors are raised before anything changed, by what was given).
#[derive(Debug)]
pub struct Error {
    pub error: anyhow::Error,
    pub exit: Exit,
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Error {
        Error {
            error,
            exit: Exit::BadInput,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// What a command produced: a document for scripts, and the exit status.
pub trait Report {
    /// The `--format json` document, without `format_version` (the printer adds it).
    fn json(&self) -> serde_json::Value;
    fn exit(&self) -> Exit;
}
