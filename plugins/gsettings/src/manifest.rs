//! `manifests/gsettings.json`: `{"$schema"?, "settings": [{"schema", "key", "value",
//! "comment"?}]}`, the original bkt's format. New settings go in sorted place; the rest keep
//! the user's order.

use crate::gvariant;
use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// GNOME settings (GSettings keys) for the user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub settings: Vec<Setting>,
}

/// One key and the value it should have.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// A schema id (`org.gnome.desktop.interface`), optionally `SCHEMA:/path/` for a
    /// relocatable schema.
    pub schema: String,
    /// The key (`clock-format`).
    pub key: String,
    /// GVariant text, exactly as `gsettings set` takes it (`'24h'`, `true`, `uint32 5`).
    pub value: String,
    /// Why the setting is there; bkt keeps it and never writes it itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Setting {
    pub fn id(&self) -> String {
        format!("{} {}", self.schema, self.key)
    }

    /// The schema id without a relocatable path, as `list-recursively` prints it.
    pub fn schema_id(&self) -> &str {
        schema_id(&self.schema)
    }
}

pub fn schema_id(schema: &str) -> &str {
    schema.split(':').next().unwrap_or(schema)
}

/// Parses and checks a manifest: every name usable as an argument, every value GVariant text,
/// no key twice.
pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
    };
    let m: Manifest = manifest::parse(text)?;
    let mut seen = std::collections::BTreeMap::new();
    for (i, s) in m.settings.iter().enumerate() {
        let at = |field: &str| format!("settings[{i}].{field}");
        check_name(&s.schema).map_err(|e| invalid(at("schema"), e))?;
        check_name(&s.key).map_err(|e| invalid(at("key"), e))?;
        if let Err(e) = gvariant::parse(&s.value) {
            return Err(invalid(
                at("value"),
                format!(
                    "{} {}: {:?} is not GVariant text: {e} (strings need quotes: \"'dark'\")",
                    s.schema, s.key, s.value
                ),
            ));
        }
        // The original bkt wrote some keys twice with the same value: one setting, kept as
        // written. Two different values for one key cannot both be applied.
        if let Some(first) = seen.insert((s.schema.as_str(), s.key.as_str()), s.value.as_str())
            && !gvariant::same(first, &s.value)
        {
            return Err(invalid(
                at("key"),
                format!(
                    "{} {} is listed twice with different values ({first} and {})",
                    s.schema, s.key, s.value
                ),
            ));
        }
    }
    Ok(m)
}

/// Schema and key names go to gsettings as arguments: no options, no whitespace.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.starts_with('-') {
        return Err(format!("{name:?} must not start with '-'"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{name:?} must not contain whitespace"));
    }
    Ok(())
}

impl Manifest {
    /// Each setting once: a key the file lists twice (with the same value) counts once.
    pub fn unique(&self) -> impl Iterator<Item = &Setting> {
        let mut seen = std::collections::BTreeSet::new();
        self.settings
            .iter()
            .filter(move |s| seen.insert((s.schema.clone(), s.key.clone())))
    }

    /// Sets a value (in every entry of that key), keeping comments. Returns whether anything
    /// changed.
    pub fn upsert(&mut self, schema: &str, key: &str, value: &str) -> bool {
        let mut found = false;
        let mut changed = false;
        for s in self
            .settings
            .iter_mut()
            .filter(|s| s.schema == schema && s.key == key)
        {
            found = true;
            if s.value != value {
                s.value = value.to_string();
                changed = true;
            }
        }
        if found {
            return changed;
        }
        let setting = Setting {
            schema: schema.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            comment: None,
        };
        manifest::insert_sorted(&mut self.settings, setting, |s| {
            (s.schema.clone(), s.key.clone())
        });
        true
    }

    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_value_names_the_entry() {
        let text = r#"{"settings":[{"schema":"a.b","key":"k","value":"dark"}]}"#;
        match parse(Some(text)) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "settings[0].value");
                assert!(e.message.contains("a.b k"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicates_and_option_names_are_rejected() {
        let dup = r#"{"settings":[{"schema":"a","key":"k","value":"1"},{"schema":"a","key":"k","value":"2"}]}"#;
        assert!(matches!(parse(Some(dup)), Err(Error::InvalidManifest(_))));
        // The same key twice with the same value, as the original bkt wrote it: one setting.
        let same = r#"{"settings":[{"schema":"a","key":"k","value":"['x']"},{"schema":"b","key":"k","value":"1"},{"schema":"a","key":"k","value":"['x']"}]}"#;
        let mut m = parse(Some(same)).unwrap();
        assert_eq!(m.unique().count(), 2);
        assert_eq!(m.render(Some(same)), same);
        assert!(m.upsert("a", "k", "['y']"));
        assert_eq!(m.render(Some(same)), same.replace("['x']", "['y']"));
        let opt = r#"{"settings":[{"schema":"--help","key":"k","value":"1"}]}"#;
        assert!(matches!(parse(Some(opt)), Err(Error::InvalidManifest(_))));
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }

    #[test]
    fn upsert_keeps_comment_and_sorts() {
        let mut m = parse(Some(
            r#"{"settings":[{"schema":"b","key":"k","value":"1","comment":"why"}]}"#,
        ))
        .unwrap();
        assert!(m.upsert("b", "k", "2"));
        assert!(m.upsert("a", "z", "'x'"));
        assert!(!m.upsert("a", "z", "'x'"));
        assert_eq!(m.settings[0].schema, "a");
        assert_eq!(m.settings[1].comment.as_deref(), Some("why"));
        assert_eq!(m.settings[1].value, "2");
    }
}
