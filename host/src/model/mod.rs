//! The host's own types: what plugins declare and return (`contract`, converted from each
//! contract version's bindings in `since_v*`), why a plugin call failed, the system root bkt
//! acts on, and where its state lives. Everything above `os` speaks these.

mod call_error;
pub mod contract;
mod root;
mod scope;
pub mod since_v1_0_0;
mod state_dirs;

pub use call_error::CallError;
pub use contract::*;
pub use root::SystemRoot;
pub use scope::{Elevator, ScopeFilter};
pub use state_dirs::StateDirs;
