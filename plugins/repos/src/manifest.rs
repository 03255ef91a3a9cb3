//! `manifests/external-repos.json`, the original bkt's format: `{"$schema"?, "repos": [{"name",
//! "display_name", "baseurl", "gpg_key"?, "packages": [...], "opt_path"?, "layer_group"?}]}`.
//! Every value reaches a repo file and a shell line in the Containerfile, so each is checked
//! to be one plain line without quotes.

use bkt_sdk::manifest;
use bkt_sdk::{Error, invalid};
use serde::{Deserialize, Serialize};

/// Third-party RPM repositories (VS Code, Edge, 1Password, ...) and the packages taken from
/// them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub repos: Vec<Repo>,
}

/// One repository: a `/etc/yum.repos.d/NAME.repo` file, in the image and on the machine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Repo {
    /// The repository id and file name (`code` → `/etc/yum.repos.d/code.repo`).
    pub name: String,
    /// Its name for people (`Visual Studio Code`).
    pub display_name: String,
    /// Where its packages are (`https://packages.microsoft.com/yumrepos/vscode`); dnf's
    /// variables such as `$basearch` are kept for dnf.
    pub baseurl: String,
    /// The key its packages are signed with (an https URL). Left out only for an unsigned
    /// repository: its packages are then installed without checking signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpg_key: Option<String>,
    /// Packages installed from it, in the image and on the machine.
    #[serde(default)]
    pub packages: Vec<String>,
    /// The original bkt's folder under /opt to relocate (kept as written; bkt does not act on
    /// it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_path: Option<String>,
    /// The original bkt's layer grouping, `independent` or `bundled` (kept as written; bkt
    /// does not act on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_group: Option<LayerGroup>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LayerGroup {
    Independent,
    Bundled,
}

/// A repository id: letters, digits and `._-`, not starting with `-` or `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    if manifest::is_plain_word(name, "._-") {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a repository name (letters, digits and `._-`, not starting with `-` or `.`)"
        ))
    }
}

/// One line of text without quotes, backslashes or control characters: it goes into a repo
/// file and a single-quoted shell word unchanged.
pub fn check_text(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    match text
        .chars()
        .find(|c| c.is_control() || "'\"\\`".contains(*c))
    {
        Some(c) => Err(format!("{text:?} may not contain {c:?}")),
        None => Ok(()),
    }
}

/// A URL dnf and rpm fetch from, as one word.
pub fn check_url(url: &str) -> Result<(), String> {
    check_text(url)?;
    let schemes = ["https://", "http://", "file:///"];
    if !schemes.iter().any(|s| url.starts_with(s)) || url.contains(char::is_whitespace) {
        return Err(format!(
            "{url:?} is not a URL ({}, no spaces)",
            schemes.join(", ")
        ));
    }
    Ok(())
}

/// Package names: letters, digits and `._+-`, never a leading `-`.
pub fn check_package(name: &str) -> Result<(), String> {
    if !name.starts_with('-')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a package name (letters, digits and `._+-`, not starting with `-`)"
        ))
    }
}

fn check_repo(r: &Repo, i: usize) -> Result<(), Error> {
    let at = |f: &str| format!("repos[{i}].{f}");
    check_name(&r.name).map_err(|e| invalid(at("name"), e))?;
    check_text(&r.display_name).map_err(|e| invalid(at("display_name"), e))?;
    check_url(&r.baseurl).map_err(|e| invalid(at("baseurl"), e))?;
    if let Some(key) = &r.gpg_key {
        check_url(key).map_err(|e| invalid(at("gpg_key"), e))?;
    }
    if let Some(path) = &r.opt_path {
        check_text(path).map_err(|e| invalid(at("opt_path"), e))?;
    }
    for (j, p) in r.packages.iter().enumerate() {
        check_package(p).map_err(|e| invalid(format!("repos[{i}].packages[{j}]"), e))?;
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
    let mut names = std::collections::BTreeSet::new();
    let mut packages = std::collections::BTreeMap::new();
    for (i, r) in m.repos.iter().enumerate() {
        check_repo(r, i)?;
        if !names.insert(r.name.as_str()) {
            return Err(invalid(
                format!("repos[{i}].name"),
                format!("{} is listed twice", r.name),
            ));
        }
        for (j, p) in r.packages.iter().enumerate() {
            if let Some(other) = packages.insert(p.as_str(), r.name.as_str()) {
                return Err(invalid(
                    format!("repos[{i}].packages[{j}]"),
                    format!("{p} is listed twice (also under {other})"),
                ));
            }
        }
    }
    Ok(m)
}

impl Manifest {
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }

    /// The repository a package is taken from.
    pub fn repo_of(&self, package: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.packages.iter().any(|p| p == package))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = r#"{
  "$schema": "../schemas/external-repos.schema.json",
  "repos": [
    {
      "name": "microsoft-edge",
      "display_name": "microsoft-edge",
      "baseurl": "https://packages.microsoft.com/yumrepos/edge",
      "gpg_key": "https://packages.microsoft.com/keys/microsoft.asc",
      "packages": ["microsoft-edge-stable"],
      "opt_path": "microsoft",
      "layer_group": "independent"
    },
    {
      "name": "1password",
      "display_name": "1Password Stable Channel",
      "baseurl": "https://downloads.1password.com/linux/rpm/stable/$basearch",
      "gpg_key": "https://downloads.1password.com/linux/keys/1password.asc",
      "packages": ["1password", "1password-cli"],
      "opt_path": "1Password"
    }
  ]
}
"#;

    #[test]
    fn the_original_file_loads_and_writes_back_unchanged() {
        let m = parse(Some(ORIGINAL)).unwrap();
        assert_eq!(m.repos.len(), 2);
        assert_eq!(m.repo_of("1password-cli").unwrap().name, "1password");
        assert_eq!(m.render(Some(ORIGINAL)), ORIGINAL);
    }

    #[test]
    fn values_that_could_break_a_file_or_a_shell_line_are_refused() {
        for (bad, field) in [
            (
                r#"{"repos": [{"name": "-x", "display_name": "x", "baseurl": "https://x", "packages": []}]}"#,
                "repos[0].name",
            ),
            (
                r#"{"repos": [{"name": "x", "display_name": "it's", "baseurl": "https://x", "packages": []}]}"#,
                "repos[0].display_name",
            ),
            (
                r#"{"repos": [{"name": "x", "display_name": "x", "baseurl": "ftp://x", "packages": []}]}"#,
                "repos[0].baseurl",
            ),
            (
                r#"{"repos": [{"name": "x", "display_name": "x", "baseurl": "https://x y", "packages": []}]}"#,
                "repos[0].baseurl",
            ),
            (
                r#"{"repos": [{"name": "x", "display_name": "x", "baseurl": "https://x", "packages": ["--nogpgcheck"]}]}"#,
                "repos[0].packages[0]",
            ),
            (
                r#"{"repos": [{"name": "x", "display_name": "x", "baseurl": "https://x", "packages": [], "layer_group": "loose"}]}"#,
                "repos[0].layer_group",
            ),
        ] {
            match parse(Some(bad)) {
                Err(Error::InvalidManifest(e)) => assert_eq!(e.field, field, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }
}
