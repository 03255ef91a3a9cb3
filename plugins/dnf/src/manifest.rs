//! `manifests/system-packages.json`: `{"packages": [...], "copr_repos": [...]}`, sorted and
//! without duplicates.

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub copr_repos: Vec<String>,
}

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
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(*c)))
    {
        return Err(format!(
            "{name:?} is not a package name ({c:?} is not allowed)"
        ));
    }
    Ok(())
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
        if part.is_empty()
            || part.starts_with('-')
            || part
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(c)))
        {
            return Err(format!(
                "{name:?} is not a COPR repository; write it as OWNER/PROJECT (letters, digits, `._+-`)"
            ));
        }
    }
    Ok(())
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest::default());
    };
    let m: Manifest = manifest::parse(text)?;
    for (field, list, check) in [
        (
            "packages",
            &m.packages,
            check_package as fn(&str) -> Result<(), String>,
        ),
        ("copr_repos", &m.copr_repos, check_copr),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        for (i, name) in list.iter().enumerate() {
            check(name).map_err(|e| invalid(format!("{field}[{i}]"), e))?;
            if !seen.insert(name) {
                return Err(invalid(
                    format!("{field}[{i}]"),
                    format!("{name} is listed twice"),
                ));
            }
        }
    }
    Ok(m)
}

impl Manifest {
    pub fn normalize(&mut self) {
        for list in [&mut self.packages, &mut self.copr_repos] {
            list.sort();
            list.dedup();
        }
    }

    pub fn render(&self) -> String {
        let mut m = self.clone();
        m.normalize();
        manifest::render(&m)
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
    }

    #[test]
    fn renders_sorted_and_deduplicated() {
        let m = Manifest {
            packages: vec!["vim".into(), "htop".into(), "vim".into()],
            copr_repos: vec![],
        };
        assert_eq!(
            m.render(),
            "{\n  \"packages\": [\n    \"htop\",\n    \"vim\"\n  ],\n  \"copr_repos\": []\n}\n"
        );
    }
}
