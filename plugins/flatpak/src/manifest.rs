//! `manifests/flatpak-apps.json`: `{"remotes": [{"name", "url", "scope"}], "apps": [{"id",
//! "remote", "scope", "branch"?, "overrides"?}]}`, sorted, without duplicates. Every name that
//! reaches flatpak as an argument is checked so that none can become an option.

use crate::overrides::{self, Overrides};
use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// Which flatpak installation: `--user` or `--system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Installation {
    User,
    /// flatpak's own default.
    #[default]
    System,
}

impl Installation {
    pub fn name(self) -> &'static str {
        match self {
            Installation::User => "user",
            Installation::System => "system",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Installation::User => "--user",
            Installation::System => "--system",
        }
    }

    pub fn scope(self) -> bkt_sdk::Scope {
        match self {
            Installation::User => bkt_sdk::Scope::User,
            Installation::System => bkt_sdk::Scope::System,
        }
    }

    pub fn parse(name: &str) -> Option<Installation> {
        match name {
            "user" => Some(Installation::User),
            "system" => Some(Installation::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub remotes: Vec<Remote>,
    #[serde(default)]
    pub apps: Vec<App>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    pub name: String,
    /// The repository, or a `.flatpakrepo` file describing it (with its signing key: the
    /// way to add flathub, `https://dl.flathub.org/repo/flathub.flatpakrepo`).
    pub url: String,
    #[serde(default)]
    pub scope: Installation,
    /// `false` adds the remote with `--no-gpg-verify` (a local or test repository without
    /// signatures); signatures are checked otherwise.
    #[serde(
        rename = "gpg-verify",
        default = "verify",
        skip_serializing_if = "is_true"
    )]
    pub gpg_verify: bool,
}

fn verify() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub id: String,
    pub remote: String,
    #[serde(default)]
    pub scope: Installation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Overrides::is_empty",
        deserialize_with = "overrides_either_form"
    )]
    pub overrides: Overrides,
}

/// `overrides` as structured groups, or the older list of `flatpak override` flags.
fn overrides_either_form<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Overrides, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Structured(Overrides),
        Flags(Vec<String>),
    }
    match Either::deserialize(d)? {
        Either::Structured(mut o) => {
            overrides::normalize(&mut o);
            Ok(o)
        }
        Either::Flags(flags) => {
            let mut o = Overrides::new();
            overrides::apply_flags(&mut o, &flags).map_err(serde::de::Error::custom)?;
            Ok(o)
        }
    }
}

/// Flatpak's rules for an application id: at least three dot-separated parts, each starting
/// with a letter or `_` and made of letters, digits, `_` (and `-`, except in the first parts'
/// leading character), 255 bytes at most.
pub fn check_app_id(id: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{id:?} is not a flatpak application id: {why}"));
    if id.len() > 255 {
        return bad("longer than 255 bytes");
    }
    let parts: Vec<&str> = id.split('.').collect();
    if parts.len() < 3 {
        return bad("it needs at least three parts, like org.gnome.Maps");
    }
    for part in parts {
        let Some(first) = part.chars().next() else {
            return bad("a part is empty");
        };
        if !(first.is_ascii_alphabetic() || first == '_') {
            return bad("each part starts with a letter or `_`");
        }
        if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad("only letters, digits, `_` and `-` are allowed");
        }
    }
    Ok(())
}

/// Remote names and branches: letters, digits and `._-`, not starting with `-` or `.`.
pub fn check_word(what: &str, word: &str) -> Result<(), String> {
    if manifest::is_plain_word(word, "._-") {
        Ok(())
    } else {
        Err(format!(
            "{word:?} is not a {what} (letters, digits and `._-`, not starting with `-` or `.`)"
        ))
    }
}

/// A remote's URL: one of the schemes flatpak fetches from, no spaces or control characters.
pub fn check_url(url: &str) -> Result<(), String> {
    let schemes = ["https://", "http://", "file://", "oci+https://"];
    if !schemes.iter().any(|s| url.starts_with(s)) {
        return Err(format!(
            "{url:?} is not a remote URL ({})",
            schemes.join(", ")
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?} contains spaces or control characters"));
    }
    Ok(())
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest::default());
    };
    let m: Manifest = manifest::parse(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in m.remotes.iter().enumerate() {
        let at = |f: &str| format!("remotes[{i}].{f}");
        check_word("remote name", &r.name).map_err(|e| invalid(at("name"), e))?;
        check_url(&r.url).map_err(|e| invalid(at("url"), e))?;
        if !seen.insert((r.scope, r.name.as_str())) {
            return Err(invalid(
                at("name"),
                format!(
                    "{} is listed twice for the {} installation",
                    r.name,
                    r.scope.name()
                ),
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in m.apps.iter().enumerate() {
        let at = |f: &str| format!("apps[{i}].{f}");
        check_app_id(&a.id).map_err(|e| invalid(at("id"), e))?;
        check_word("remote name", &a.remote).map_err(|e| invalid(at("remote"), e))?;
        if let Some(b) = &a.branch {
            check_word("branch", b).map_err(|e| invalid(at("branch"), e))?;
        }
        if let Some(key) = overrides::unsupported(&a.overrides) {
            return Err(invalid(
                at("overrides"),
                format!("{key} cannot be set with flatpak override"),
            ));
        }
        if !seen.insert((a.scope, a.id.as_str())) {
            return Err(invalid(
                at("id"),
                format!(
                    "{} is listed twice for the {} installation",
                    a.id,
                    a.scope.name()
                ),
            ));
        }
    }
    Ok(m)
}

impl Manifest {
    pub fn sort(&mut self) {
        self.remotes
            .sort_by(|a, b| (a.scope, &a.name).cmp(&(b.scope, &b.name)));
        self.apps
            .sort_by(|a, b| (a.scope, &a.id).cmp(&(b.scope, &b.id)));
    }

    pub fn render(&self) -> String {
        let mut m = self.clone();
        m.sort();
        manifest::render(&m)
    }

    pub fn app(&self, scope: Installation, id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.scope == scope && a.id == id)
    }

    pub fn app_mut(&mut self, scope: Installation, id: &str) -> Option<&mut App> {
        self.apps
            .iter_mut()
            .find(|a| a.scope == scope && a.id == id)
    }

    pub fn remote(&self, scope: Installation, name: &str) -> Option<&Remote> {
        self.remotes
            .iter()
            .find(|r| r.scope == scope && r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_follow_flatpak_s_rules() {
        for good in [
            "org.gnome.Maps",
            "com.valvesoftware.Steam",
            "org._x.y-z",
            "io.github.a_b.C",
        ] {
            assert!(check_app_id(good).is_ok(), "{good}");
        }
        for bad in [
            "-oops",
            "org..x",
            "1org.x.y",
            "org.x",
            "org.x.y z",
            "org.x.-y",
            "--user",
        ] {
            assert!(check_app_id(bad).is_err(), "{bad}");
        }
        assert!(check_word("remote name", "flathub").is_ok());
        assert!(check_word("remote name", "--system").is_err());
        assert!(check_url("https://dl.flathub.org/repo/").is_ok());
        assert!(check_url("--from=x").is_err());
    }

    #[test]
    fn the_older_override_flags_are_read_into_groups() {
        let m = parse(Some(
            r#"{"apps": [{"id": "org.x.Y", "remote": "flathub", "overrides": ["--filesystem=home", "--env=A=b"]}]}"#,
        ))
        .unwrap();
        let rendered = m.render();
        assert!(rendered.contains("\"filesystems\": [\n"), "{rendered}");
        assert!(rendered.contains("\"A\": \"b\""), "{rendered}");
        assert!(rendered.contains("\"scope\": \"system\""), "{rendered}");
    }

    #[test]
    fn bad_entries_name_their_field() {
        for (text, field) in [
            (
                r#"{"apps": [{"id": "org..x", "remote": "r"}]}"#,
                "apps[0].id",
            ),
            (
                r#"{"apps": [{"id": "org.x.Y", "remote": "-r"}]}"#,
                "apps[0].remote",
            ),
            (
                r#"{"remotes": [{"name": "r", "url": "ftp://x"}]}"#,
                "remotes[0].url",
            ),
            (
                r#"{"apps": [{"id": "org.x.Y", "remote": "r", "colour": 1}]}"#,
                "apps[0].colour",
            ),
            (
                r#"{"apps": [{"id": "org.x.Y", "remote": "r"}, {"id": "org.x.Y", "remote": "r"}]}"#,
                "apps[1].id",
            ),
        ] {
            match parse(Some(text)) {
                Err(Error::InvalidManifest(e)) => assert_eq!(e.field, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
