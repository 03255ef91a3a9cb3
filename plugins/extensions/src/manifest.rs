//! `manifests/gnome-extensions.json`: `{"$schema"?, "extensions": [ENTRY, ...]}` where an
//! entry is a bare uuid string (enabled), the original bkt's `{"id", "enabled"}`, or
//! `{"uuid", "enabled", "source"?, "url"?}`. Each entry is written back in the form it was
//! read in while that form can say what it holds.

use bkt_sdk::manifest::{self, StringOrObject};
use bkt_sdk::{Error, invalid};
use serde::{Deserialize, Serialize};

/// GNOME Shell extensions: installed, and enabled or disabled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<Entry>"))]
    pub extensions: Vec<Extension>,
}

/// How an entry was written, so that it is written back the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Form {
    /// `"uuid"`.
    Bare,
    /// `{"id": ...}`, the original bkt's object.
    Id,
    /// `{"uuid": ...}`.
    #[default]
    Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    pub uuid: String,
    pub enabled: bool,
    /// Where to get it when it is not installed.
    pub source: Option<Source>,
    /// Its homepage, for people (metadata.json's `url`).
    pub url: Option<String>,
    pub form: Form,
    /// Whether `enabled` was written (it defaults to true).
    pub enabled_written: bool,
}

impl Extension {
    /// A new entry, written in `form`.
    pub fn new(uuid: &str, enabled: bool, form: Form) -> Extension {
        Extension {
            uuid: uuid.to_string(),
            enabled,
            source: None,
            url: None,
            form,
            enabled_written: form == Form::Uuid,
        }
    }
}

/// An entry as a schema describes it: a uuid, or an object.
#[cfg(test)]
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Entry {
    /// An extension uuid, enabled.
    Uuid(String),
    Object(Object),
}

/// An entry's object form: exactly one of `id` (the original bkt's name) and `uuid`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(
    test,
    schemars(extend("oneOf" = [{"required": ["id"]}, {"required": ["uuid"]}]))
)]
#[serde(deny_unknown_fields)]
pub struct Object {
    /// The extension's uuid (`dash-to-dock@micxgx.gmail.com`), as the original bkt wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The extension's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Whether it runs (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Where to get it when it is not installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Its homepage, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl StringOrObject for Extension {
    type Object = Object;
    const EXPECTED: &'static str = r#"an extension uuid, or {"id": UUID, "enabled": BOOL}, or {"uuid": UUID, "enabled": BOOL}"#;
    fn from_string(uuid: String) -> Self {
        Extension::new(&uuid, true, Form::Bare)
    }
    fn from_object(o: Object) -> Result<Self, String> {
        let (uuid, form) = match (o.id, o.uuid) {
            (Some(id), None) => (id, Form::Id),
            (None, Some(uuid)) => (uuid, Form::Uuid),
            (Some(_), Some(_)) => {
                return Err("give the extension's \"id\" or its \"uuid\", not both".into());
            }
            (None, None) => return Err("an extension entry needs its \"id\" (or \"uuid\")".into()),
        };
        Ok(Extension {
            uuid,
            enabled: o.enabled.unwrap_or(true),
            enabled_written: o.enabled.is_some(),
            source: o.source,
            url: o.url,
            form,
        })
    }
}

impl<'de> Deserialize<'de> for Extension {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        manifest::string_or_object(d)
    }
}

impl Serialize for Extension {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plain = self.enabled && self.source.is_none() && self.url.is_none();
        if self.form == Form::Bare && plain {
            return s.serialize_str(&self.uuid);
        }
        let id = self.form != Form::Uuid;
        Object {
            id: id.then(|| self.uuid.clone()),
            uuid: (!id).then(|| self.uuid.clone()),
            enabled: (self.enabled_written || !self.enabled).then_some(self.enabled),
            source: self.source.clone(),
            url: self.url.clone(),
        }
        .serialize(s)
    }
}

/// Where to get an extension: a zip with the sha256 it must have, or `"extensions.gnome.org"`
/// (the uuid and the installed Shell's version pick the download there).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Source {
    Zip(Zip),
    Named(String),
}

impl StringOrObject for Source {
    type Object = Zip;
    const EXPECTED: &'static str =
        r#"a source: "extensions.gnome.org" or {"zip": URL, "sha256": HEX}"#;
    fn from_string(name: String) -> Self {
        Source::Named(name)
    }
    fn from_object(zip: Zip) -> Result<Self, String> {
        Ok(Source::Zip(zip))
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        manifest::string_or_object(d)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Zip {
    pub zip: String,
    pub sha256: String,
}

/// The one named source.
pub const EGO: &str = "extensions.gnome.org";

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
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
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
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }

    /// Adds an entry in sorted place, written the way the file's first entry is.
    pub fn add(&mut self, uuid: &str, enabled: bool, url: Option<String>) {
        let form = self.extensions.first().map_or(Form::Uuid, |x| x.form);
        let mut x = Extension::new(uuid, enabled, form);
        x.url = url;
        manifest::insert_sorted(&mut self.extensions, x, |x| x.uuid.clone());
    }

    pub fn get_mut(&mut self, uuid: &str) -> Option<&mut Extension> {
        self.extensions.iter_mut().find(|x| x.uuid == uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_form_loads_and_keeps_its_form() {
        let text = "{\n  \"extensions\": [\n    \"a@x\",\n    {\n      \"id\": \"b@x\",\n      \"enabled\": false\n    },\n    {\"uuid\": \"c@x\", \"enabled\": true}\n  ]\n}\n";
        let mut m = parse(Some(text)).unwrap();
        let on: Vec<bool> = m.extensions.iter().map(|x| x.enabled).collect();
        assert_eq!(on, [true, false, true]);
        assert_eq!(m.render(Some(text)), text);
        m.get_mut("a@x").unwrap().enabled = false;
        m.get_mut("b@x").unwrap().enabled = true;
        assert_eq!(
            m.render(Some(text)),
            text.replace(
                "\"a@x\"",
                "{\n      \"id\": \"a@x\",\n      \"enabled\": false\n    }"
            )
            .replace(
                "\"enabled\": false\n    },\n    {\"uuid",
                "\"enabled\": true\n    },\n    {\"uuid"
            )
        );
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }

    #[test]
    fn a_wrong_entry_says_what_an_entry_is() {
        for (text, field, says) in [
            (
                r#"{"extensions": [5]}"#,
                "extensions[0]",
                "expected an extension uuid",
            ),
            (
                r#"{"extensions": [{"enabled": true}]}"#,
                "extensions[0]",
                "needs its \"id\"",
            ),
            (
                r#"{"extensions": [{"id": "a@b", "enabled": "no"}]}"#,
                "extensions[0].enabled",
                "expected a boolean",
            ),
        ] {
            match parse(Some(text)) {
                Err(Error::InvalidManifest(e)) => {
                    assert_eq!(e.field, field, "{text}");
                    assert!(e.message.contains(says), "{text}: {}", e.message);
                    assert!(!e.message.contains("untagged"), "{}", e.message);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
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
