//! The Containerfile sections the plugins rendered last, kept between runs in one cache file
//! (under the rules of every cached file, `cache.rs`). render-section is pure: the same code
//! and manifest text give the same sections, so `containerfile check` starts no plugin whose
//! manifest did not change.
//!
//! One file holds the renderings of the last command that rendered: one read when every
//! plugin's rendering is there, one write when any was made again, and it does not grow with
//! each manifest edit or plugin update. A rendering is found by the plugin's code hash and the
//! manifest's, not by the bkt that kept it: after an update of bkt (a new image), a plugin
//! whose code did not change is not started again to render an unchanged manifest. The file
//! names the layout it keeps sections in; a file of another layout is not used.

use super::cache::{Folders, Kept};
use crate::model::Section;
use crate::os::hash::sha256_hex;
use std::collections::BTreeMap;

const FILE: &str = "renderings.json";

/// The layout of a kept section (the JSON of [`Section`]). Raise it whenever that changes:
/// `a_kept_section_s_layout_is_the_one_format_names` fails until it is.
const FORMAT: u32 = 1;

pub struct Rendered {
    /// `None` keeps nothing (no usable cache folder).
    kept: Option<Kept>,
}

/// What the file holds.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct Renderings {
    format: u32,
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
            .filter(|r| r.format == FORMAT)
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
            format: FORMAT,
            plugins: BTreeMap::new(),
        }
    }

    /// The sections `plugin` (its code hash) rendered from `manifest` (its text, or none),
    /// if that is the text it last rendered; taken out, not copied (they can be thousands
    /// of lines).
    pub fn take(&mut self, plugin: &str, manifest: Option<&str>) -> Option<Vec<Section>> {
        if self.plugins.get(plugin)?.manifest != manifest_key(manifest) {
            return None;
        }
        self.plugins.remove(plugin).map(|r| r.sections)
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
        let mut loaded = rendered.load();
        assert_eq!(loaded.take("p", Some("{ }")), None);
        assert_eq!(loaded.take("p", None), None);
        assert_eq!(loaded.take("p", Some("{}")), Some(section("RUN a")));
        assert_eq!(loaded.take("q", None), Some(section("RUN b")));
        assert_eq!(loaded.take("r", None), None);
    }

    #[test]
    fn renderings_kept_in_another_layout_are_not_used() {
        let t = tempfile::tempdir().unwrap();
        let rendered = kept_in(t.path());
        let mut kept = Renderings::fresh();
        kept.format = FORMAT + 1;
        kept.insert("p", None, section("RUN a"));
        rendered.store(&kept);
        assert_eq!(rendered.load().take("p", None), None);
        // What an earlier bkt kept, naming its version and no layout, is not used either.
        let earlier = r#"{"bkt":"0.1.0","plugins":{"p":{"manifest":"none","sections":[]}}}"#;
        rendered
            .kept
            .as_ref()
            .unwrap()
            .write(FILE, earlier.as_bytes())
            .unwrap();
        assert_eq!(rendered.load().take("p", None), None);
    }

    #[test]
    fn a_kept_section_s_layout_is_the_one_format_names() {
        let kept = serde_json::to_string(&section("RUN a")).unwrap();
        assert_eq!(
            kept, r#"[{"name":"s","lines":["RUN a"]}]"#,
            "the kept layout of a section changed: raise FORMAT in rendered.rs and update this"
        );
    }
}
