//! One module per command: the logic, over the domain below, returning typed reports. Nothing
//! here prints; what a command must show while it runs (progress, a question) goes through
//! [`Ui`], which the command line implements.

pub mod apply;
pub mod boot;
pub mod capture;
pub mod complete;
pub mod containerfile;
pub mod doctor;
pub mod drift;
pub mod init;
pub mod local;
pub mod plugin;
pub mod pr;
pub mod propose;
pub mod report;
pub mod settle;
pub mod status;
pub mod steps;
pub mod ui;
pub mod upgrade;
pub mod verb;
pub mod verify;
pub mod write;

pub use report::{Error, Exit, Report};
pub use ui::{Progress, Tone, Ui};
