//! `manifests/gnome-extensions.json`: `{"extensions": [{"uuid", "enabled", "source"?, "url"?}]}`.
//! An entry written as a bare uuid string (the form earlier bkt distributions used) means
//! enabled, and is rewritten in full on the next write.

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default, deserialize_with = "entries")]
    pub extensions: Vec<Extension>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub uuid: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where to get it when it is not installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Its homepage, for people (metadata.json's `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn yes() -> bool {
    true
}

/// Where to get an extension: a zip with the sha256 it must have, or `"extensions.gnome.org"`
/// (the uuid and the installed Shell's version pick the download there).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Source {
    Zip(Zip),
    Named(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Zip {
    pub zip: String,
    pub sha256: String,
}

/// The one named source.
pub const EGO: &str = "extensions.gnome.org";

fn entries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Extension>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Uuid(String),
        Full(Extension),
    }
    let list: Vec<Entry> = Vec::deserialize(d)?;
    Ok(list
        .into_iter()
        .map(|e| match e {
            Entry::Uuid(uuid) => Extension {
                uuid,
                enabled: true,
                source: None,
                url: None,
            },
            Entry::Full(x) => x,
        })
        .collect())
}

/// An extension's uuid names its folder: no `/`, whitespace or control characters, not `.`
/// or `..`, not starting with `-`.
pub fn check_uuid(uuid: &str) -> Result<(), String> {
    if uuid.len() <= 255 && manifest::is_plain_word(uuid, "._@-+") {
        Ok(())
    } else {
        Err(format!(
            "{uuid:?} is not an extension uuid (like dash-to-dock@micxgx.gmail.com: letters, digits and `._@-+`)"
        ))
    }
}

/// Where zips may come from (besides files in the user's home): the plugin declares these
/// and no other, so the host fetches from nowhere else.
pub const ZIP_HOSTS: &[&str] = &[
    "https://extensions.gnome.org/",
    "https://github.com/",
    "https://gitlab.gnome.org/",
    "https://gitlab.com/",
];

pub fn check_source(s: &Source) -> Result<(), String> {
    let s = match s {
        Source::Named(name) if name == EGO => return Ok(()),
        Source::Named(name) => {
            return Err(format!(
                "{name:?} is not a source: give {{\"zip\": URL, \"sha256\": HEX}} or \"{EGO}\""
            ));
        }
        Source::Zip(z) => z,
    };
    let from_known_host = ZIP_HOSTS.iter().any(|h| s.zip.starts_with(h));
    if !(from_known_host || s.zip.starts_with("file:///"))
        || s.zip.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{:?} is not a zip bkt may fetch: it must be a file:/// URL of a file in your home, or an https URL under {}",
            s.zip,
            ZIP_HOSTS.join(", ")
        ));
    }
    if s.sha256.len() != 64 || !s.sha256.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!("{:?} is not a sha256 in lowercase hex", s.sha256));
    }
    Ok(())
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest::default());
    };
    let m: Manifest = manifest::parse(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, x) in m.extensions.iter().enumerate() {
        let at = |f: &str| format!("extensions[{i}].{f}");
        check_uuid(&x.uuid).map_err(|e| invalid(at("uuid"), e))?;
        if let Some(s) = &x.source {
            check_source(s).map_err(|e| invalid(at("source"), e))?;
        }
        if !seen.insert(&x.uuid) {
            return Err(invalid(at("uuid"), format!("{} is listed twice", x.uuid)));
        }
    }
    Ok(m)
}

impl Manifest {
    pub fn render(&self) -> String {
        let mut m = self.clone();
        m.extensions.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        manifest::render(&m)
    }

    pub fn get_mut(&mut self, uuid: &str) -> Option<&mut Extension> {
        self.extensions.iter_mut().find(|x| x.uuid == uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_uuids_are_enabled_entries() {
        let m = parse(Some(r#"{"extensions": ["appindicatorsupport@rgcjonas.gmail.com", {"uuid": "x@y", "enabled": false}]}"#)).unwrap();
        assert!(m.extensions[0].enabled);
        assert!(!m.extensions[1].enabled);
        assert!(m.render().contains(
            "\"uuid\": \"appindicatorsupport@rgcjonas.gmail.com\",\n      \"enabled\": true"
        ));
    }

    #[test]
    fn bad_entries_name_their_field() {
        for (text, field) in [
            (r#"{"extensions": ["../x"]}"#, "extensions[0].uuid"),
            (
                r#"{"extensions": [{"uuid": "a@b", "source": {"zip": "ftp://x", "sha256": "00"}}]}"#,
                "extensions[0].source",
            ),
            (r#"{"extensions": ["a@b", "a@b"]}"#, "extensions[1].uuid"),
        ] {
            match parse(Some(text)) {
                Err(Error::InvalidManifest(e)) => assert_eq!(e.field, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(Some(
                r#"{"extensions": [{"uuid": "a@b", "enabeld": true}]}"#
            )),
            Err(Error::InvalidManifest(_))
        ));
    }
}
