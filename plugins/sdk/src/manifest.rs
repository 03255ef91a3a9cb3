//! Manifest text in and out: strict parsing with the field path, stable pretty output.

use crate::{Error, InvalidManifest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Parses manifest JSON. Unknown fields are rejected by the plugin's types
/// (`#[serde(deny_unknown_fields)]`); the error names the field path, line and column.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize(de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let field = err.path().to_string();
            let inner = err.into_inner();
            let field = if field == "." { String::new() } else { field };
            Err(Error::InvalidManifest(InvalidManifest {
                field,
                message: strip_position(&inner.to_string()),
                line: inner.line() as u32,
                column: inner.column() as u32,
            }))
        }
    }
}

/// serde_json appends " at line L column C"; the host prints the position itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// An entry written either as a plain string or as an object, as the original bkt's manifests
/// allow (`"uuid"` or `{"id": "uuid", "enabled": false}`). Unlike `#[serde(untagged)]`, a
/// wrong entry is reported with what was expected and where, not as "did not match any
/// variant of untagged enum".
pub trait StringOrObject: Sized {
    /// The object form.
    type Object: DeserializeOwned;
    /// What the entry must be, for messages: `an extension uuid or {"id", "enabled"}`.
    const EXPECTED: &'static str;
    fn from_string(s: String) -> Self;
    /// The entry from its object form; an error says what is wrong with the object.
    fn from_object(o: Self::Object) -> Result<Self, String>;
}

/// Deserializes a [`StringOrObject`]: use it as `deserialize_with` or from a `Deserialize` impl.
pub fn string_or_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: StringOrObject,
{
    struct Visit<T>(std::marker::PhantomData<T>);
    impl<'de, T: StringOrObject> serde::de::Visitor<'de> for Visit<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(T::EXPECTED)
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            Ok(T::from_string(s.to_string()))
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let object = T::Object::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            T::from_object(object).map_err(serde::de::Error::custom)
        }
    }
    d.deserialize_any(Visit(std::marker::PhantomData))
}

/// Adds `item` and moves nothing else: into its sorted place in a sorted list, at the end of
/// a list the user keeps in another order.
pub fn insert_sorted<T, K: Ord>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> K) {
    let sorted = list.windows(2).all(|w| key(&w[0]) <= key(&w[1]));
    let k = key(&item);
    let at = match sorted {
        true => list.iter().position(|e| key(e) > k).unwrap_or(list.len()),
        false => list.len(),
    };
    list.insert(at, item);
}

/// A word that reaches a program as one argument and can never be an option or a hidden or
/// parent path: not empty, not starting with `-` or `.`, only ASCII letters, digits and the
/// characters in `extra`.
pub fn is_plain_word(word: &str, extra: &str) -> bool {
    !word.is_empty()
        && !word.starts_with(['-', '.'])
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// The manifest text for `value`: `old` (the text the plugin read) edited only where it
/// differs, keeping every other byte (see [`crate::edit`]); without an old text, a fresh
/// rendering as [`render`] makes it.
pub fn write<T: Serialize>(old: Option<&str>, value: &T) -> String {
    let edited = match (old, serde_json::to_string(value)) {
        (Some(old), Ok(new)) => crate::edit::update(old, &new),
        _ => None,
    };
    edited.unwrap_or_else(|| render(value))
}

/// The `$schema` a manifest bkt creates starts with: its schema in the repository's
/// `schemas/` folder, relative to `manifests/` (`system-packages.json` →
/// `../schemas/system-packages.schema.json`), which editors resolve without a network.
pub fn schema_ref(manifest_file: &str) -> String {
    let stem = manifest_file.strip_suffix(".json").unwrap_or(manifest_file);
    format!("../schemas/{stem}.schema.json")
}

/// Serializes a manifest the way bkt always writes them: two-space indent, final newline.
/// Writing the same value twice gives the same bytes, so diffs stay small.
pub fn render<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{e}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    #[test]
    fn names_the_field_and_position() {
        let text = "{\n  \"items\": [\n    {\"name\": \"a\"},\n    {\"nmae\": \"b\"}\n  ]\n}\n";
        match parse::<Doc>(text) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "items[1].nmae");
                assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
                assert_eq!(e.line, 4);
            }
            other => panic!("expected invalid manifest, got {other:?}"),
        }
    }

    #[derive(Debug, PartialEq)]
    enum Entry {
        Name(String),
        Full(Full),
    }
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Full {
        id: String,
        #[serde(default)]
        enabled: Option<bool>,
    }
    impl StringOrObject for Entry {
        type Object = Full;
        const EXPECTED: &'static str = r#"an id, or {"id", "enabled"}"#;
        fn from_string(s: String) -> Self {
            Entry::Name(s)
        }
        fn from_object(o: Full) -> Result<Self, String> {
            Ok(Entry::Full(o))
        }
    }
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            string_or_object(d)
        }
    }
    #[derive(Debug, Deserialize)]
    struct List {
        #[allow(dead_code)]
        entries: Vec<Entry>,
    }

    #[test]
    fn string_or_object_says_what_was_expected_and_where() {
        let ok: List = parse(r#"{"entries": ["a", {"id": "b", "enabled": false}]}"#).unwrap();
        assert_eq!(ok.entries[0], Entry::Name("a".into()));
        match parse::<List>("{\"entries\": [\n  \"a\",\n  7\n]}") {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "entries[1]");
                assert_eq!(e.line, 3);
                assert!(
                    e.message
                        .contains(r#"expected an id, or {"id", "enabled"}"#),
                    "{}",
                    e.message
                );
                assert!(!e.message.contains("untagged"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        match parse::<List>(r#"{"entries": [{"id": "b", "enabld": false}]}"#) {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!(e.field, "entries[0].enabld");
                assert!(
                    e.message.contains("unknown field `enabld`"),
                    "{}",
                    e.message
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        match parse::<Doc>("{\n  \"items\": [,]\n}") {
            Err(Error::InvalidManifest(e)) => {
                assert_eq!((e.line, e.column), (2, 13));
            }
            other => panic!("expected invalid manifest, got {other:?}"),
        }
    }
}
