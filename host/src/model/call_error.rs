//! Why a plugin call did not produce a result.

use super::contract::InvalidManifest;

#[derive(Debug, Clone)]
pub enum CallError {
    /// The manifest cannot be used: the field and position inside it.
    Invalid(InvalidManifest),
    /// The tool the plugin drives is not installed.
    Unavailable(String),
    /// The plugin reported a failure.
    Failed(String),
    /// The plugin did something it did not declare.
    Refused(String),
    /// The plugin trapped: a panic, the time limit, the memory cap.
    Crashed(String),
}

impl CallError {
    /// The error as the user should read it, with the manifest's file, line and column.
    pub fn describe(&self, manifest_path: &str) -> String {
        match self {
            CallError::Invalid(e) => {
                let position = if e.line > 0 {
                    format!(":{}:{}", e.line, e.column)
                } else {
                    String::new()
                };
                let field = if e.field.is_empty() {
                    String::new()
                } else {
                    format!(" {}:", e.field)
                };
                format!("{manifest_path}{position}:{field} {}", e.message)
            }
            other => other.to_string(),
        }
    }

    /// Whether the input (a manifest) is what cannot be used: exit status 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, CallError::Invalid(_))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Invalid(e) if e.field.is_empty() => write!(f, "{}", e.message),
            CallError::Invalid(e) => write!(f, "{}: {}", e.field, e.message),
            CallError::Unavailable(m) => write!(f, "unavailable: {m}"),
            CallError::Failed(m) | CallError::Refused(m) | CallError::Crashed(m) => f.write_str(m),
        }
    }
}
