//! Manifest text in and out: strict parsing with the field path, stable pretty output.

use crate::{Error, InvalidManifest};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
    match (old, serde_json::to_value(value)) {
        (Some(old), Ok(new)) => crate::edit::update(Some(old), &new),
        _ => render(value),
    }
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
    use serde::Deserialize;

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
