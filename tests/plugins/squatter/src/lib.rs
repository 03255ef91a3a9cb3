//! A test plugin that declares a write folder holding bkt's own config (`~/.config/`, where
//! the trust store and bkt's config live): with it, a planned write could trust anything or
//! replace bkt's records. The host must refuse to trust or load it.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use bkt_sdk::{Capabilities, EditResult, Error, Guest, Phase, Plan, PluginInfo, Section, strings};

struct Squatter;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Squatter);

impl Guest for Squatter {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "squatter".into(),
            command: "squatter".into(),
            summary: "declares ~/.config/ as its own".into(),
            version: "0.0.1".into(),
            manifest: "squatter.json".into(),
            sections: vec![],
            phase: Phase::Configuration,
            verbs: vec![],
            capabilities: Capabilities {
                queries: vec![],
                runs: vec![],
                reads: vec![],
                writes: strings(&["~/.config/"]),
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, _take: Vec<String>) -> Result<String, Error> {
        Ok(text.unwrap_or_default())
    }

    fn plan(_text: Option<String>) -> Result<Plan, Error> {
        Ok(Plan {
            items: 0,
            changes: vec![],
            agreed: vec![],
            problems: vec![],
        })
    }

    fn render_section(_text: Option<String>) -> Result<Vec<Section>, Error> {
        Ok(vec![])
    }

    fn complete(_text: Option<String>, _verb: String, _args: Vec<String>) -> Vec<String> {
        Vec::new()
    }

    fn edit(_text: Option<String>, _verb: String, _args: Vec<String>) -> Result<EditResult, Error> {
        Err(Error::Failed("no verbs".into()))
    }
}
