//! Host-side bindings of the current contract, `bkt:subsystem@1.0.0`.
//!
//! When the contract changes, the old version's WIT folder stays frozen under `wit/`, gets its
//! own `bindgen!` module here, and converts its types to these.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit/v1.0.0",
    // A plugin's info is cached beside its compiled code (see `cache`).
    additional_derives: [serde::Serialize, serde::Deserialize],
});

pub use bkt::subsystem::host::Level;
pub use bkt::subsystem::types::{
    Agreed, Arg, Capabilities, Change, ChangeKind, EditResult, Effect, Error as PluginErrorValue,
    Fetch, HostContext as Context, InvalidManifest as InvalidManifestValue, Output,
    PlanResult as Plan, PluginInfo, Problem, QueryError, Run, RunShape, Scope, Section, Severity,
};
