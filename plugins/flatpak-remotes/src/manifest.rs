//! `manifests/flatpak-remotes.json`, the original bkt's file of flatpak remotes:
//! `{"$schema"?, "remotes": [{"name", "url", "scope", "filtered"?, "gpg-verify"?}]}`.

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// Flatpak remotes, apart from the apps (which are in flatpak-apps.json).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub remotes: Vec<Remote>,
}

/// Which flatpak installation: `--user` or `--system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Installation {
    User,
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

/// A remote: where apps come from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Remote {
    pub name: String,
    /// The repository, or a `.flatpakrepo` file describing it (with its signing key).
    pub url: String,
    /// `user` or `system` (the default).
    #[serde(default)]
    pub scope: Installation,
    /// Whether the remote is filtered (Flathub's verified apps only): kept as written; bkt
    /// does not set filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<bool>,
    /// `false` adds the remote with `--no-gpg-verify` (an unsigned repository).
    #[serde(
        rename = "gpg-verify",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub gpg_verify: Option<bool>,
}

impl Remote {
    pub fn verified(&self) -> bool {
        self.gpg_verify.unwrap_or(true)
    }
}

/// Remote names: letters, digits and `._-`, not starting with `-` or `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    if manifest::is_plain_word(name, "._-") {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a remote name (letters, digits and `._-`, not starting with `-` or `.`)"
        ))
    }
}

/// A URL flatpak fetches from, as one word.
pub fn check_url(url: &str) -> Result<(), String> {
    let schemes = ["https://", "http://", "file://", "oci+https://"];
    if !schemes.iter().any(|s| url.starts_with(s))
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{url:?} is not a remote URL ({}, no spaces)",
            schemes.join(", ")
        ));
    }
    Ok(())
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
    };
    let m: Manifest = manifest::parse(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in m.remotes.iter().enumerate() {
        let at = |f: &str| format!("remotes[{i}].{f}");
        check_name(&r.name).map_err(|e| invalid(at("name"), e))?;
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
    Ok(m)
}

impl Manifest {
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
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
    fn the_original_file_loads_and_writes_back_unchanged() {
        let text = r#"{
  "$schema": "https://wycats.github.io/bootc/flatpak-remotes.schema.json",
  "remotes": [
    {
      "name": "appcenter",
      "url": "https://flatpak.elementary.io/repo",
      "scope": "system"
    },
    {
      "name": "flathub",
      "url": "https://dl.flathub.org/repo/flathub.flatpakrepo",
      "scope": "system",
      "filtered": true
    }
  ]
}"#;
        let m = parse(Some(text)).unwrap();
        assert_eq!(m.remotes[1].filtered, Some(true));
        assert_eq!(m.render(Some(text)), text);
        match parse(Some(r#"{"remotes": [{"name": "-x", "url": "https://x"}]}"#)) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "remotes[0].name"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }
}
