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
