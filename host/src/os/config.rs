//! bkt's own JSON files in `$XDG_CONFIG_HOME/bkt`.

use anyhow::{Context as _, Result};
use std::path::PathBuf;

/// A JSON file in `$XDG_CONFIG_HOME/bkt`: its path (when there is a config folder) and its
/// contents, or the default when the file does not exist.
pub fn read_json<T: serde::de::DeserializeOwned + Default>(
    name: &str,
) -> Result<(Option<PathBuf>, T)> {
    let Some(path) = super::paths::config_dir().map(|d| d.join(name)) else {
        return Ok((None, T::default()));
    };
    let value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => T::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok((Some(path), value))
}
