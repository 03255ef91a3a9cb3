//! `manifests/homebrew.json`, the original bkt's format:
//! `{"$schema": ..., "formulae": ["bat", "valkyrie00/bbrew/bbrew", {"name": "x", "tap": "o/r"}],
//! "taps": ["o/r"]}`. A formula is its name, its full name with the tap it comes from
//! (`OWNER/REPO/NAME`), or an object naming both. The text is written back through the SDK's
//! in-place edit: only the entries a command changes are touched.

use bkt_sdk::manifest::{self, StringOrObject};
use bkt_sdk::{Error, invalid};
use serde::{Deserialize, Serialize};

/// One formula, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Formula {
    Name(String),
    Entry(FormulaEntry),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormulaEntry {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap: Option<String>,
}

impl StringOrObject for Formula {
    type Object = FormulaEntry;
    const EXPECTED: &'static str = "a formula name or {\"name\", \"tap\"}";
    fn from_string(s: String) -> Self {
        Formula::Name(s)
    }
    fn from_object(o: FormulaEntry) -> Result<Self, String> {
        Ok(Formula::Entry(o))
    }
}

impl<'de> Deserialize<'de> for Formula {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        manifest::string_or_object(d)
    }
}

impl Formula {
    /// The name brew reports and installs it by: `bat`, or `OWNER/REPO/NAME` from a tap.
    pub fn full_name(&self) -> String {
        match self {
            Formula::Name(n) => n.clone(),
            Formula::Entry(FormulaEntry { name, tap: None }) => name.clone(),
            Formula::Entry(FormulaEntry { name, tap: Some(_) }) if name.contains('/') => {
                name.clone()
            }
            Formula::Entry(FormulaEntry {
                name,
                tap: Some(tap),
            }) => format!("{tap}/{name}"),
        }
    }

    /// The tap it needs, if it is not from Homebrew's own.
    pub fn tap(&self) -> Option<String> {
        let full = self.full_name();
        let (tap, _) = full.rsplit_once('/')?;
        Some(tap.to_string())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub formulae: Vec<Formula>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taps: Vec<String>,
}

impl Manifest {
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }

    pub fn has(&self, full_name: &str) -> bool {
        self.formulae.iter().any(|f| f.full_name() == full_name)
    }

    /// Adds a formula by its full name, in its sorted place when the list is sorted.
    pub fn add(&mut self, full_name: &str) {
        if !self.has(full_name) {
            manifest::insert_sorted(
                &mut self.formulae,
                Formula::Name(full_name.to_string()),
                Formula::full_name,
            );
        }
    }

    /// Drops a formula; whether it was there.
    pub fn remove(&mut self, full_name: &str) -> bool {
        let before = self.formulae.len();
        self.formulae.retain(|f| f.full_name() != full_name);
        self.formulae.len() != before
    }

    /// Every tap the manifest needs: those it lists, and those its formulae come from.
    pub fn wanted_taps(&self) -> Vec<String> {
        let mut taps = self.taps.clone();
        for tap in self.formulae.iter().filter_map(Formula::tap) {
            if !taps.contains(&tap) {
                taps.push(tap);
            }
        }
        taps
    }
}

/// A formula name brew takes as one argument: `NAME` or `OWNER/REPO/NAME`, each part letters,
/// digits and `._+@-`, not starting with `-` or `.`.
pub fn check_formula(name: &str) -> Result<(), String> {
    let parts: Vec<&str> = name.split('/').collect();
    let ok = (parts.len() == 1 || parts.len() == 3)
        && parts.iter().all(|p| manifest::is_plain_word(p, "._+@-"));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a formula: NAME or OWNER/REPO/NAME (letters, digits, ._+@-)"
        ))
    }
}

/// A tap: `OWNER/REPO`.
pub fn check_tap(tap: &str) -> Result<(), String> {
    let parts: Vec<&str> = tap.split('/').collect();
    if parts.len() == 2 && parts.iter().all(|p| manifest::is_plain_word(p, "._-")) {
        Ok(())
    } else {
        Err(format!("{tap:?} is not a tap: OWNER/REPO"))
    }
}

/// The manifest in `text`, checked; without a file, an empty one.
pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest::default());
    };
    let m: Manifest = manifest::parse(text)?;
    for (i, f) in m.formulae.iter().enumerate() {
        check_formula(&f.full_name()).map_err(|e| invalid(format!("formulae[{i}]"), e))?;
        if let Formula::Entry(FormulaEntry { tap: Some(tap), .. }) = f {
            check_tap(tap).map_err(|e| invalid(format!("formulae[{i}].tap"), e))?;
        }
    }
    for (i, tap) in m.taps.iter().enumerate() {
        check_tap(tap).map_err(|e| invalid(format!("taps[{i}]"), e))?;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_format_reads_and_writes_back_unchanged() {
        let text = "{\n  \"$schema\": \"https://wycats.github.io/bootc/homebrew.schema.json\",\n  \"formulae\": [\n    \"atuin\",\n    \"valkyrie00/bbrew/bbrew\",\n    {\n      \"name\": \"lefthook\",\n      \"tap\": \"evilmartians/lefthook\"\n    }\n  ]\n}";
        let m = parse(Some(text)).unwrap();
        assert_eq!(m.formulae[1].tap().as_deref(), Some("valkyrie00/bbrew"));
        assert_eq!(m.formulae[2].full_name(), "evilmartians/lefthook/lefthook");
        assert_eq!(
            m.wanted_taps(),
            ["valkyrie00/bbrew", "evilmartians/lefthook"]
        );
        assert_eq!(m.render(Some(text)), text);
        let mut m = m;
        m.add("bat");
        let out = m.render(Some(text));
        // The list is not in order (a tap's full name sorts after `valkyrie00/...`): the new
        // formula goes last, and nothing else moves.
        assert!(out.ends_with("    },\n    \"bat\"\n  ]\n}"), "{out}");
        assert!(!out.contains("\"taps\""), "{out}");
    }

    #[test]
    fn bad_entries_name_their_field() {
        let Err(Error::InvalidManifest(e)) = parse(Some("{\"formulae\": [\"ok\", \"-rf\"]}"))
        else {
            panic!()
        };
        assert_eq!(e.field, "formulae[1]");
        let Err(Error::InvalidManifest(e)) = parse(Some("{\"formulae\": [{\"nam\": \"x\"}]}"))
        else {
            panic!()
        };
        assert!(e.message.contains("nam"), "{}", e.message);
        assert!(parse(Some("{\"taps\": [\"a/b/c\"]}")).is_err());
    }
}
