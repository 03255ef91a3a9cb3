//! `manifests/flatpak-apps.json`: `{"$schema"?, "remotes": [{"name", "url", "scope",
//! "gpg-verify"?, "filtered"?}], "apps": [{"id", "remote", "scope", "branch"?, "commit"?,
//! "overrides"?}]}`, without duplicates; the original bkt's form (commit pins, overrides as
//! `flatpak override` flags) is read and written back as it was. Every name that reaches
//! flatpak as an argument is checked so that none can become an option.

use crate::overrides::{self, Overrides};
use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// Which flatpak installation: `--user` or `--system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
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

/// Flatpak remotes and apps, with their overrides, in the user and system installations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<Remote>,
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<AppEntry>"))]
    pub apps: Vec<App>,
    /// The file has no `remotes` list (the original bkt kept remotes in
    /// `flatpak-remotes.json`): remotes are left alone, none is extra or captured.
    #[serde(skip)]
    pub remotes_elsewhere: bool,
}

/// A remote: where apps come from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Remote {
    pub name: String,
    /// The repository, or a `.flatpakrepo` file describing it (with its signing key: the
    /// way to add flathub, `https://dl.flathub.org/repo/flathub.flatpakrepo`).
    pub url: String,
    /// `user` or `system` (the default).
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
    /// The original bkt's mark of a filtered remote (Flathub's verified apps only): kept as
    /// written; bkt does not set filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<bool>,
}

fn verify() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// An app, as bkt works with it. It is read from and written as [`AppEntry`], which keeps
/// how the file said it (scope left out, overrides as flags or in their own order).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(try_from = "AppEntry", into = "AppEntry")]
pub struct App {
    pub id: String,
    pub remote: String,
    pub scope: Installation,
    pub branch: Option<String>,
    /// The commit the app is pinned to (a prefix of it, as `flatpak list` shows 12
    /// characters).
    pub commit: Option<String>,
    pub overrides: Overrides,
    /// What the file held, to write it back the same way while it means the same.
    pub written: Written,
}

/// How an app's entry was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    pub scope: bool,
    pub overrides: Option<OverridesEntry>,
}

impl App {
    pub fn new(id: &str, remote: &str, scope: Installation) -> App {
        App {
            id: id.to_string(),
            remote: remote.to_string(),
            scope,
            branch: None,
            commit: None,
            overrides: Overrides::new(),
            written: Written {
                scope: true,
                overrides: None,
            },
        }
    }
}

/// An app entry as the file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    /// The application id (`org.gnome.Maps`).
    pub id: String,
    /// The remote it comes from.
    pub remote: String,
    /// `user` or `system` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Installation>,
    /// The branch (`stable`); flatpak's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A pin: the commit (or its first characters, as `flatpak list` shows them) the app
    /// should be at. A full 64-character commit is installed by `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Overrides: the override keyfile's groups (`{"Context": {"filesystems": ["home"]}}`),
    /// or the original bkt's list of `flatpak override` flags (`["--filesystem=home"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverridesEntry>,
}

/// Overrides as the file holds them.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum OverridesEntry {
    Groups(Overrides),
    Flags(Vec<String>),
}

impl<'de> Deserialize<'de> for OverridesEntry {
    /// Either form; anything else is named as what it is, not as "no variant matched".
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = OverridesEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    r#"overrides: {"Context": {"filesystems": [...]}, ...} or a list of flatpak override flags"#,
                )
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                let flags = Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(OverridesEntry::Flags(flags))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let groups =
                    Overrides::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(OverridesEntry::Groups(groups))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl OverridesEntry {
    /// The overrides it stands for.
    fn read(&self) -> Result<Overrides, String> {
        match self {
            OverridesEntry::Groups(groups) => {
                let mut o = groups.clone();
                overrides::normalize(&mut o);
                Ok(o)
            }
            OverridesEntry::Flags(flags) => {
                let mut o = Overrides::new();
                overrides::apply_flags(&mut o, flags)?;
                Ok(o)
            }
        }
    }
}

impl TryFrom<AppEntry> for App {
    type Error = String;
    fn try_from(e: AppEntry) -> Result<App, String> {
        let overrides = match &e.overrides {
            Some(entry) => entry.read().map_err(|why| format!("overrides: {why}"))?,
            None => Overrides::new(),
        };
        Ok(App {
            id: e.id,
            remote: e.remote,
            scope: e.scope.unwrap_or_default(),
            branch: e.branch,
            commit: e.commit,
            overrides,
            written: Written {
                scope: e.scope.is_some(),
                overrides: e.overrides,
            },
        })
    }
}

impl From<App> for AppEntry {
    fn from(a: App) -> AppEntry {
        // The entry as read while it still means the same; else the form it was read in.
        let overrides = match a.written.overrides {
            Some(old) if old.read().as_ref() == Ok(&a.overrides) => Some(old),
            _ if a.overrides.is_empty() => None,
            Some(OverridesEntry::Flags(_)) => {
                Some(OverridesEntry::Flags(overrides::to_flags(&a.overrides)))
            }
            _ => Some(OverridesEntry::Groups(a.overrides)),
        };
        AppEntry {
            id: a.id,
            remote: a.remote,
            scope: (a.written.scope || a.scope != Installation::default()).then_some(a.scope),
            branch: a.branch,
            commit: a.commit,
            overrides,
        }
    }
}

/// Whether the manifest text has a `remotes` key (an empty list counts).
fn lists_remotes(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.get("remotes").is_some())
}

/// A commit pin: hexadecimal, at most the 64 characters of a full commit.
pub fn check_commit(commit: &str) -> Result<(), String> {
    if !commit.is_empty() && commit.len() <= 64 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "{commit:?} is not a commit (hexadecimal, as `flatpak list --columns=active` or `flatpak info --show-commit` print it)"
        ))
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
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
    };
    let mut m: Manifest = manifest::parse(text)?;
    m.remotes_elsewhere = !lists_remotes(text);
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
        if let Some(c) = &a.commit {
            check_commit(c).map_err(|e| invalid(at("commit"), e))?;
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
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }

    /// Adds an app in sorted place (a list kept in another order gets it at the end).
    pub fn add_app(&mut self, app: App) {
        manifest::insert_sorted(&mut self.apps, app, |a| (a.scope, a.id.clone()));
    }

    /// Adds a remote in sorted place.
    pub fn add_remote(&mut self, remote: Remote) {
        manifest::insert_sorted(&mut self.remotes, remote, |r| (r.scope, r.name.clone()));
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
        let o = &m.apps[0].overrides;
        assert!(o.contains_key(overrides::CONTEXT) && o.contains_key(overrides::ENVIRONMENT));
        // Written back as flags, unchanged while they mean the same.
        let text = r#"{"apps": [{"id": "org.x.Y", "remote": "flathub", "overrides": ["--filesystem=home", "--env=A=b"]}]}"#;
        let mut m = parse(Some(text)).unwrap();
        assert_eq!(m.render(Some(text)), text);
        overrides::apply_flags(&mut m.apps[0].overrides, &["--share=network".to_string()]).unwrap();
        let out = m.render(Some(text));
        assert!(out.contains("\"--share=network\""), "{out}");
        assert!(!out.contains("\"scope\""), "{out}");
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }

    #[test]
    fn the_original_form_loads_and_writes_back_unchanged() {
        let text = r#"{
  "$schema": "https://wycats.github.io/bootc/flatpak-apps.schema.json",
  "apps": [
    {
      "id": "app.xemu.xemu",
      "remote": "flathub",
      "scope": "user",
      "branch": "stable",
      "commit": "b918fa2fb49f",
      "overrides": [
        "--share=network",
        "--filesystem=host"
      ]
    }
  ]
}"#;
        let m = parse(Some(text)).unwrap();
        assert_eq!(m.apps[0].commit.as_deref(), Some("b918fa2fb49f"));
        assert_eq!(m.render(Some(text)), text);
        match parse(Some(
            r#"{"apps": [{"id": "org.x.Y", "remote": "r", "commit": "xyz"}]}"#,
        )) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "apps[0].commit"),
            other => panic!("{other:?}"),
        }
        match parse(Some(
            r#"{"apps": [{"id": "org.x.Y", "remote": "r", "overrides": 3}]}"#,
        )) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "apps[0].overrides");
                assert!(!e.message.contains("untagged"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
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
