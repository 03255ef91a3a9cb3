//! The Containerfile sections the plugins rendered last, kept between runs in one cache file
//! (under the rules of every cached file, `cache.rs`). render-section is pure: the same code
//! and manifest text give the same sections, so `containerfile check` starts no plugin whose
//! manifest did not change.
//!
//! One file holds the renderings of the last command that rendered: one read when every
//! plugin's rendering is there, one write when any was made again, and it does not grow with
//! each manifest edit or plugin update. It names the bkt that wrote it, which turns the
//! plugins' answers into sections: another bkt's file is not used.

use super::cache::{Folders, Kept};
use crate::model::Section;
use crate::os::hash::sha256_hex;
use std::collections::BTreeMap;

const FILE: &str = "renderings.json";

pub struct Rendered {
    /// `None` keeps nothing (no usable cache folder).
    kept: Option<Kept>,
}

/// What the file holds.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct Renderings {
    bkt: String,
    /// By the plugin's code hash.
    plugins: BTreeMap<String, Rendering>,
}

/// A plugin's rendering and the manifest it came from.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct Rendering {
    manifest: String,
    sections: Vec<Section>,
}

impl Rendered {
    pub fn new(folders: Option<&Folders>) -> Rendered {
        Rendered {
            kept: folders.map(|f| Kept::new(f, "sections")),
        }
    }

    /// What the last rendering command kept; empty when there is none this bkt may use.
    pub fn load(&self) -> Renderings {
        self.kept
            .as_ref()
            .and_then(|kept| kept.read(FILE))
            .and_then(|bytes| serde_json::from_slice::<Renderings>(&bytes).ok())
            .filter(|r| r.bkt == env!("CARGO_PKG_VERSION"))
            .unwrap_or_default()
    }

    /// Keeps `renderings` in place of what was kept.
    pub fn store(&self, renderings: &Renderings) {
        let Some(kept) = &self.kept else { return };
        let stored = serde_json::to_vec(renderings)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| kept.write(FILE, &bytes));
        if let Err(e) = stored {
            tracing::debug!("cannot keep the rendered sections: {e:#}");
        }
    }
}

impl Renderings {
    pub fn fresh() -> Renderings {
        Renderings {
            bkt: env!("CARGO_PKG_VERSION").to_string(),
            plugins: BTreeMap::new(),
        }
    }

    /// The sections `plugin` (its code hash) rendered from `manifest` (its text, or none),
    /// if that is the text it last rendered.
    pub fn get(&self, plugin: &str, manifest: Option<&str>) -> Option<&[Section]> {
        self.plugins
            .get(plugin)
            .filter(|r| r.manifest == manifest_key(manifest))
            .map(|r| r.sections.as_slice())
    }

    pub fn insert(&mut self, plugin: &str, manifest: Option<&str>, sections: Vec<Section>) {
        self.plugins.insert(
            plugin.to_string(),
            Rendering {
                manifest: manifest_key(manifest),
                sections,
            },
        );
    }
}

/// A manifest text (or its absence), as a rendering names it.
fn manifest_key(manifest: Option<&str>) -> String {
    match manifest {
        Some(text) => format!("sha256:{}", sha256_hex(text.as_bytes())),
        None => "none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(line: &str) -> Vec<Section> {
        vec![Section {
            name: "s".into(),
            lines: vec![line.into()],
        }]
    }

    fn kept_in(dir: &std::path::Path) -> Rendered {
        Rendered::new(Some(&Folders {
            cache: dir.join("cache"),
            record: dir.join("state"),
        }))
    }

    #[test]
    fn a_rendering_is_used_for_the_text_it_came_from_only() {
        let t = tempfile::tempdir().unwrap();
        let rendered = kept_in(t.path());
        assert!(rendered.load().plugins.is_empty());
        let mut kept = Renderings::fresh();
        kept.insert("p", Some("{}"), section("RUN a"));
        kept.insert("q", None, section("RUN b"));
        rendered.store(&kept);
        let loaded = rendered.load();
        assert_eq!(loaded.get("p", Some("{}")), Some(&section("RUN a")[..]));
        assert_eq!(loaded.get("p", Some("{ }")), None);
        assert_eq!(loaded.get("p", None), None);
        assert_eq!(loaded.get("q", None), Some(&section("RUN b")[..]));
        assert_eq!(loaded.get("r", None), None);
    }

    #[test]
    fn another_bkt_s_renderings_are_not_used() {
        let t = tempfile::tempdir().unwrap();
        let rendered = kept_in(t.path());
        let mut kept = Renderings::fresh();
        kept.bkt = "0.0.0-other".into();
        kept.insert("p", None, section("RUN a"));
        rendered.store(&kept);
        assert_eq!(rendered.load().get("p", None), None);
    }
}
