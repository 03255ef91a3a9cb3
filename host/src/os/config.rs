//! bkt's own JSON files in `$XDG_CONFIG_HOME/bkt`.

use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

/// A JSON file in `$XDG_CONFIG_HOME/bkt`: its path (when there is a config folder) and its
/// contents, or the default when the file does not exist.
pub fn read_json<T: serde::de::DeserializeOwned + Default>(
    name: &str,
) -> Result<(Option<PathBuf>, T)> {
    let Some(path) = super::paths::config_dir().map(|d| d.join(name)) else {
        return Ok((None, T::default()));
    };
    let value = read_json_file(&path)?;
    Ok((Some(path), value))
}

/// The JSON file at `path`, or the default when it does not exist.
pub fn read_json_file<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Sets the string `key` of the JSON object in `$XDG_CONFIG_HOME/bkt/NAME` to `value`, made
/// when missing; every other byte of the file (other keys, their order, spacing) stays as it
/// was. Written atomically. Returns the file's path.
pub fn set_string(name: &str, key: &str, value: &str) -> Result<PathBuf> {
    use jsonc_parser::ParseOptions;
    use jsonc_parser::cst::{CstInputValue, CstRootNode};
    let path = super::paths::config_dir()
        .context("there is no config folder (HOME is not set)")?
        .join(name);
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "{}\n".to_string(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let root = CstRootNode::parse(&old, &ParseOptions::default())
        .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
    let object = root.object_value_or_set();
    let input = CstInputValue::String(value.to_string());
    match object.get(key) {
        Some(prop) => prop.set_value(input),
        None => {
            object.append(key, input);
        }
    }
    let text = root.to_string();
    super::atomic::write(&path, text.as_bytes(), super::atomic::Mode::Keep)?;
    Ok(path)
}
