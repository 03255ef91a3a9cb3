//! The committed JSON Schema of each manifest, `schemas/NAME.schema.json`, is generated from
//! the types the plugin parses (schemars, in the plugin's tests). A plugin's test calls
//! [`check`]: it fails when the committed file differs from what the types generate, and
//! `BKT_WRITE_SCHEMAS=1` rewrites the file instead.

use std::path::PathBuf;

/// The schema file of a manifest, in the repository's `schemas/` folder.
pub fn path(manifest_file: &str) -> PathBuf {
    let stem = manifest_file.strip_suffix(".json").unwrap_or(manifest_file);
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(format!("{stem}.schema.json"))
}

/// Checks (or with `BKT_WRITE_SCHEMAS=1` writes) the committed schema of `manifest_file`.
/// The title names the file, so an editor shows which manifest it validates.
pub fn check(manifest_file: &str, mut schema: serde_json::Value) -> Result<(), String> {
    if let Some(fields) = schema.as_object_mut() {
        fields.insert("title".into(), manifest_file.into());
    }
    let mut text = serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?;
    text.push('\n');
    let file = path(manifest_file);
    if std::env::var_os("BKT_WRITE_SCHEMAS").is_some() {
        std::fs::write(&file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if committed != text {
        return Err(format!(
            "{} differs from the schema the plugin's types generate; regenerate it with \
             `BKT_WRITE_SCHEMAS=1 cargo test --workspace` and commit it",
            file.display()
        ));
    }
    Ok(())
}
