//! `manifests/system-packages.json`: `{"$schema"?, "packages": [...], "groups": [...],
//! "excluded": [...], "copr_repos": ["OWNER/PROJECT" | {"name", "enabled", "gpg_check"}]}`.
//! Entries are unique; new ones go in sorted position and the rest keep the user's order.

use bkt_sdk::manifest::{self, StringOrObject};
use bkt_sdk::{Error, invalid};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
/// System packages, package groups, packages kept out, and COPR repositories.
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Packages installed in the image and on the machine.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Package groups (`@development-tools` or `development-tools`), installed in the image,
    /// and on a dnf system also here (`dnf group install`); rpm-ostree cannot layer groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Packages kept out: excluded when the image installs packages and groups, and removed
    /// from it and from the machine where installed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// COPR repositories, enabled before the packages are installed.
    #[serde(default)]
    pub copr_repos: Vec<Copr>,
}

/// A COPR repository: `"OWNER/PROJECT"`, or the original bkt's object form.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Copr {
    /// Enabled, with signatures checked.
    Name(String),
    Entry(CoprEntry),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CoprEntry {
    /// `OWNER/PROJECT` (a group owner is `@GROUP`).
    pub name: String,
    /// `false` keeps the repository listed but disabled (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `false` installs its packages without checking signatures (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpg_check: Option<bool>,
}

impl StringOrObject for Copr {
    type Object = CoprEntry;
    const EXPECTED: &'static str = r#"a COPR repository: "OWNER/PROJECT" or {"name": "OWNER/PROJECT", "enabled": true, "gpg_check": true}"#;
    fn from_string(s: String) -> Self {
        Copr::Name(s)
    }
    fn from_object(o: CoprEntry) -> Result<Self, String> {
        Ok(Copr::Entry(o))
    }
}

impl<'de> Deserialize<'de> for Copr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        manifest::string_or_object(d)
    }
}

impl Copr {
    pub fn new(name: &str) -> Copr {
        Copr::Name(name.to_string())
    }

    pub fn name(&self) -> &str {
        match self {
            Copr::Name(n) => n,
            Copr::Entry(e) => &e.name,
        }
    }

    pub fn enabled(&self) -> bool {
        match self {
            Copr::Name(_) => true,
            Copr::Entry(e) => e.enabled.unwrap_or(true),
        }
    }

    pub fn gpg_check(&self) -> bool {
        match self {
            Copr::Name(_) => true,
            Copr::Entry(e) => e.gpg_check.unwrap_or(true),
        }
    }

    /// The state the machine should show, as canonical text.
    pub fn state(&self) -> &'static str {
        match (self.enabled(), self.gpg_check()) {
            (false, _) => DISABLED,
            (true, true) => ENABLED,
            (true, false) => ENABLED_UNSIGNED,
        }
    }
}

pub const ENABLED: &str = "enabled";
pub const ENABLED_UNSIGNED: &str = "enabled, signatures not checked";
pub const DISABLED: &str = "disabled";

/// Package names go to dnf and rpm-ostree as arguments: letters, digits and `._+-` only,
/// never a leading `-` (no option injection), no whitespace, `/` or shell metacharacters.
pub fn check_package(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a package name must not be empty".into());
    }
    if name.starts_with('-') {
        return Err(format!(
            "{name:?} is not a package name (it starts with '-')"
        ));
    }
    if let Some(c) = name.chars().find(|c| !name_char(*c)) {
        return Err(format!(
            "{name:?} is not a package name ({c:?} is not allowed)"
        ));
    }
    Ok(())
}

/// A letter, digit or one of `._+-`: what package names and COPR parts are made of.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
}

/// A group is a package-like word, optionally written with dnf's leading `@`.
pub fn check_group(name: &str) -> Result<(), String> {
    check_package(group_id(name)).map_err(|e| e.replace("package name", "group name"))
}

/// A group's id without the `@` dnf accepts in front of it.
pub fn group_id(name: &str) -> &str {
    name.strip_prefix('@').unwrap_or(name)
}

/// A COPR is `OWNER/PROJECT` (a group owner is `@GROUP`).
pub fn check_copr(name: &str) -> Result<(), String> {
    let Some((owner, project)) = name.split_once('/') else {
        return Err(format!(
            "{name:?} is not a COPR repository; write it as OWNER/PROJECT"
        ));
    };
    let owner_name = owner.strip_prefix('@').unwrap_or(owner);
    for part in [owner_name, project] {
        if part.is_empty() || part.starts_with('-') || part.chars().any(|c| !name_char(c)) {
            return Err(format!(
                "{name:?} is not a COPR repository; write it as OWNER/PROJECT (letters, digits, `._+-`)"
            ));
        }
    }
    Ok(())
}

type Check = fn(&str) -> Result<(), String>;

/// The index of the first entry equal to one before it. Sorting indices by name finds
/// repeats without a set: a manifest can list thousands of packages, already in order.
fn first_repeat(list: &[&str]) -> Option<usize> {
    let mut order: Vec<usize> = (0..list.len()).collect();
    // Stable: equal names keep the order of their indices.
    order.sort_by(|&a, &b| list[a].cmp(list[b]));
    order
        .windows(2)
        .filter(|pair| list[pair[0]] == list[pair[1]])
        .map(|pair| pair[1])
        .min()
}

/// Each list's entries are valid and unique.
fn check_lists(m: &Manifest) -> Result<(), Error> {
    let coprs: Vec<&str> = m.copr_repos.iter().map(Copr::name).collect();
    let lists: [(&str, Vec<&str>, Check); 4] = [
        (
            "packages",
            m.packages.iter().map(String::as_str).collect(),
            check_package,
        ),
        (
            "groups",
            m.groups.iter().map(String::as_str).collect(),
            check_group,
        ),
        (
            "excluded",
            m.excluded.iter().map(String::as_str).collect(),
            check_package,
        ),
        ("copr_repos", coprs, check_copr),
    ];
    for (field, list, check) in lists {
        // The first entry that is wrong: invalid, or a repeat of one before it. (They never
        // share an index: a repeated invalid name is invalid where it first appears.)
        let invalid_at = list
            .iter()
            .enumerate()
            .find_map(|(i, name)| check(name).err().map(|e| (i, e)));
        let repeat_at = first_repeat(&list).map(|r| (r, format!("{} is listed twice", list[r])));
        let error = invalid_at
            .into_iter()
            .chain(repeat_at)
            .min_by_key(|(i, _)| *i);
        if let Some((i, message)) = error {
            return Err(invalid(format!("{field}[{i}]"), message));
        }
    }
    if let Some((i, p)) = m
        .excluded
        .iter()
        .enumerate()
        .find(|(_, p)| m.packages.contains(p))
    {
        return Err(invalid(
            format!("excluded[{i}]"),
            format!("{p} is both in packages and excluded"),
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
    check_lists(&m)?;
    Ok(m)
}

impl Manifest {
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }

    pub fn add_package(&mut self, name: &str) {
        if !self.packages.iter().any(|p| p == name) {
            manifest::insert_sorted(&mut self.packages, name.to_string(), String::clone);
        }
    }

    pub fn add_copr(&mut self, copr: Copr) {
        self.copr_repos.retain(|c| c.name() != copr.name());
        manifest::insert_sorted(&mut self.copr_repos, copr, |c| c.name().to_string());
    }

    pub fn copr(&self, name: &str) -> Option<&Copr> {
        self.copr_repos.iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_inject_are_rejected() {
        for bad in [
            "-y",
            "--installroot=/",
            "a b",
            "a;rm",
            "$(x)",
            "a/b",
            "",
            "a`b`",
            "*",
        ] {
            assert!(check_package(bad).is_err(), "{bad:?}");
        }
        for good in [
            "htop",
            "gcc-c++",
            "python3.12",
            "kernel-devel",
            "NetworkManager",
        ] {
            assert!(check_package(good).is_ok(), "{good:?}");
        }
        for bad in ["owner", "a/b/c", "-o/p", "o/-p", "o/p q", "/p", "o/"] {
            assert!(check_copr(bad).is_err(), "{bad:?}");
        }
        for good in ["atim/starship", "@gnome/shell", "che/nerd-fonts"] {
            assert!(check_copr(good).is_ok(), "{good:?}");
        }
        assert!(check_group("@development-tools").is_ok());
        assert!(check_group("@-x").is_err());
    }

    #[test]
    fn the_first_wrong_entry_is_named_whether_invalid_or_repeated() {
        let field = |text: &str| match parse(Some(text)) {
            Err(Error::InvalidManifest(e)) => (e.field, e.message),
            other => panic!("{other:?}"),
        };
        let (at, why) = field(r#"{"packages": ["b", "a", "c", "a", "b", "x y"]}"#);
        assert_eq!(
            (at.as_str(), why.as_str()),
            ("packages[3]", "a is listed twice")
        );
        let (at, why) = field(r#"{"packages": ["a", "x y", "a"]}"#);
        assert_eq!(at, "packages[1]");
        assert!(why.contains("not allowed"), "{why}");
        // An invalid name repeated is named where it first appears, as invalid.
        let (at, why) = field(r#"{"packages": ["x y", "x y"]}"#);
        assert_eq!(at, "packages[0]");
        assert!(why.contains("not allowed"), "{why}");
        assert_eq!(first_repeat(&["a", "b", "c"]), None);
        assert_eq!(first_repeat(&[]), None);
    }

    #[test]
    fn bad_entries_name_their_index() {
        match parse(Some(r#"{"packages": ["htop", "--nogpgcheck"]}"#)) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "packages[1]"),
            other => panic!("{other:?}"),
        }
        match parse(Some(r#"{"packages": ["htop", "htop"]}"#)) {
            Err(Error::InvalidManifest(e)) => assert!(e.message.contains("twice")),
            other => panic!("{other:?}"),
        }
        match parse(Some(
            r#"{"copr_repos": [{"name": "a/b", "enabled": "yes"}]}"#,
        )) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "copr_repos[0].enabled");
                assert!(!e.message.contains("untagged"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        match parse(Some(r#"{"copr_repos": [3]}"#)) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "copr_repos[0]");
                assert!(e.message.contains("OWNER/PROJECT"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        match parse(Some(r#"{"packages": ["a"], "excluded": ["a"]}"#)) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "excluded[0]"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_copr_forms_and_the_original_fields_load() {
        let m = parse(Some(
            r#"{"$schema": "x", "packages": [], "groups": ["@dev"], "excluded": ["nano"],
                "copr_repos": ["a/b", {"name": "c/d", "enabled": false, "gpg_check": true},
                               {"name": "e/f", "enabled": true, "gpg_check": false}]}"#,
        ))
        .unwrap();
        let states: Vec<&str> = m.copr_repos.iter().map(Copr::state).collect();
        assert_eq!(states, [ENABLED, DISABLED, ENABLED_UNSIGNED]);
        assert_eq!(m.schema.as_deref(), Some("x"));
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }

    #[test]
    fn a_new_package_goes_in_sorted_place_and_nothing_else_moves() {
        let old = "{\n    \"packages\": [\"zsh\", \"htop\", \"vim\"],\n    \"copr_repos\": []\n}\n";
        let mut m = parse(Some(old)).unwrap();
        m.add_package("jq");
        assert_eq!(
            m.render(Some(old)),
            "{\n    \"packages\": [\"zsh\", \"htop\", \"vim\", \"jq\"],\n    \"copr_repos\": []\n}\n"
        );
        let sorted = "{\"packages\": [\"a\", \"c\"]}";
        let mut m = parse(Some(sorted)).unwrap();
        m.add_package("b");
        assert_eq!(
            m.render(Some(sorted)),
            "{\"packages\": [\"a\", \"b\", \"c\"]}"
        );
        let created = parse(None).unwrap();
        assert!(
            created
                .render(None)
                .starts_with("{\n  \"$schema\": \"../schemas/system-packages.schema.json\",\n")
        );
    }
}
