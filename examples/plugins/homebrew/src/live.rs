//! What brew says is installed here: `brew info --json=v2 --installed` for the formulae (one
//! call for all of them, with whether each was asked for or came as a dependency) and
//! `brew tap` for the taps, run together.

use bkt_sdk::{Error, Output, query_each};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

pub const INFO: &[&str] = &["brew", "info", "--json=v2", "--installed"];
pub const TAPS: &[&str] = &["brew", "tap"];

/// Taps every Homebrew has, never a manifest's to add or drop.
const OWN_TAPS: &[&str] = &["homebrew/core", "homebrew/cask"];

#[derive(Debug, Default, PartialEq)]
pub struct Live {
    /// Installed formulae by full name: whether someone asked for it (not a dependency).
    pub formulae: BTreeMap<String, bool>,
    pub taps: BTreeSet<String>,
}

impl Live {
    pub fn installed(&self, full_name: &str) -> bool {
        self.formulae.contains_key(full_name)
    }
}

#[derive(Deserialize)]
struct Info {
    formulae: Vec<InfoFormula>,
}

#[derive(Deserialize)]
struct InfoFormula {
    full_name: String,
    #[serde(default)]
    installed: Vec<Installed>,
}

#[derive(Deserialize)]
struct Installed {
    #[serde(default)]
    installed_on_request: bool,
}

pub fn read() -> Result<Live, Error> {
    let [info, taps] = query_each([INFO, TAPS])?;
    let (info, taps) = (ok(info?, "brew info")?, ok(taps?, "brew tap")?);
    Ok(Live {
        formulae: parse_info(&info)?,
        taps: parse_taps(&taps),
    })
}

fn ok(out: Output, what: &str) -> Result<String, Error> {
    if out.status == 0 {
        return Ok(out.stdout);
    }
    let why = out
        .stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(Error::Failed(format!(
        "`{what}` exited with {}: {why}",
        out.status
    )))
}

pub fn parse_info(json: &str) -> Result<BTreeMap<String, bool>, Error> {
    let info: Info = serde_json::from_str(json).map_err(|e| {
        Error::Failed(format!(
            "`brew info --json=v2` printed what bkt cannot read: {e}"
        ))
    })?;
    Ok(info
        .formulae
        .into_iter()
        .filter(|f| !f.installed.is_empty())
        .map(|f| {
            let asked = f.installed.iter().any(|i| i.installed_on_request);
            (f.full_name, asked)
        })
        .collect())
}

pub fn parse_taps(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !OWN_TAPS.contains(t))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulae_and_who_asked_for_them() {
        let json = r#"{"formulae": [
            {"full_name": "wget", "installed": [{"installed_on_request": true}], "x": 1},
            {"full_name": "openssl@3", "installed": [{"installed_on_request": false}]},
            {"full_name": "o/r/tool", "installed": [{"installed_on_request": false}, {"installed_on_request": true}]},
            {"full_name": "gone", "installed": []}
        ], "casks": []}"#;
        let live = parse_info(json).unwrap();
        assert_eq!(live.get("wget"), Some(&true));
        assert_eq!(live.get("openssl@3"), Some(&false));
        assert_eq!(live.get("o/r/tool"), Some(&true));
        assert!(!live.contains_key("gone"));
        assert!(parse_info("not json").is_err());
        assert_eq!(
            parse_taps("homebrew/core\nvalkyrie00/bbrew\n\n"),
            ["valkyrie00/bbrew".to_string()].into()
        );
    }
}
