//! Choices about privilege: which effects a run does, and how system ones get root.

use super::contract::Scope;

/// Which effects a run does: the boot-time system unit does only system ones, the user unit
/// only user ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeFilter {
    #[default]
    All,
    System,
    User,
}

impl ScopeFilter {
    pub fn allows(self, scope: Scope) -> bool {
        matches!(
            (self, scope),
            (ScopeFilter::All, _)
                | (ScopeFilter::System, Scope::System)
                | (ScopeFilter::User, Scope::User)
        )
    }
}

/// How system-scope effects get root when bkt is not root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Elevator {
    Sudo,
    Pkexec,
    Run0,
}

impl Elevator {
    /// The words put before the program: the elevator and its own arguments.
    pub fn prefix(self) -> &'static [&'static str] {
        match self {
            Elevator::Sudo => &["sudo", "--"],
            Elevator::Pkexec => &["pkexec"],
            Elevator::Run0 => &["run0"],
        }
    }
}
