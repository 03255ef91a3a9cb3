//! A plugin for testing the host: `info()` loops forever. `info()` runs for every plugin on
//! every command, so the host must stop it after a short limit of its own, not the full call
//! limit.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use bkt_sdk::{EditResult, Error, Guest, Plan, PluginInfo, Section};

struct Spinner;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Spinner);

fn never() -> Error {
    Error::Failed("the spinner only spins".into())
}

impl Guest for Spinner {
    fn info() -> PluginInfo {
        let mut spins = 0u64;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }

    fn capture(_text: Option<String>, _take: Vec<String>) -> Result<String, Error> {
        Err(never())
    }

    fn plan(_text: Option<String>) -> Result<Plan, Error> {
        Err(never())
    }

    fn render_section(_text: Option<String>) -> Result<Vec<Section>, Error> {
        Err(never())
    }

    fn complete(_text: Option<String>, _verb: String, _args: Vec<String>) -> Vec<String> {
        Vec::new()
    }

    fn edit(_text: Option<String>, _verb: String, _args: Vec<String>) -> Result<EditResult, Error> {
        Err(never())
    }
}
