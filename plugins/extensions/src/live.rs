//! What the machine says about extensions without a running Shell: the `org.gnome.shell` keys
//! (one `gsettings list-recursively`), the folders with a metadata.json, and the installed
//! GNOME Shell's version (from rpm).

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

pub const USER_DIR: &str = "~/.local/share/gnome-shell/extensions";
pub const SYSTEM_DIR: &str = "/usr/share/gnome-shell/extensions";

/// The keys that say which extensions run.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    pub enabled: Vec<String>,
    pub disabled: Vec<String>,
    pub disable_user: bool,
}

/// An installed extension, from its metadata.json.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "shell-version")]
    pub shell_version: Vec<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Set by bkt: installed in the user's folder (else the system's).
    #[serde(skip)]
    pub user: bool,
}

/// A GVariant string array as gsettings prints it: `['a', 'b']` or `@as []`.
pub fn parse_strv(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.trim().trim_start_matches("@as").chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let quote = c;
        let mut item = String::new();
        while let Some(c) = chars.next() {
            match c {
                c if c == quote => break,
                '\\' => item.extend(chars.next()),
                c => item.push(c),
            }
        }
        out.push(item);
    }
    out
}

/// The GVariant text of a string array, as `gsettings set` takes it.
pub fn strv_text(items: &[String]) -> String {
    if items.is_empty() {
        return "@as []".into();
    }
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("'{}'", i.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// `gsettings list-recursively org.gnome.shell`: the three keys.
pub fn parse_keys(stdout: &str) -> Keys {
    let mut keys = Keys::default();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some("org.gnome.shell"), Some(key), Some(value)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        match key {
            "enabled-extensions" => keys.enabled = parse_strv(value),
            "disabled-extensions" => keys.disabled = parse_strv(value),
            "disable-user-extensions" => keys.disable_user = value.trim() == "true",
            _ => {}
        }
    }
    keys
}

/// Every folder with a readable metadata.json, by uuid; the user's folder wins over the
/// system's, as in the Shell.
pub fn installed(home: &str) -> BTreeMap<String, Metadata> {
    let mut out = BTreeMap::new();
    let user = USER_DIR.replacen('~', home.trim_end_matches('/'), 1);
    for (dir, is_user) in [(SYSTEM_DIR.to_string(), false), (user, true)] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let uuid = entry.file_name().to_string_lossy().into_owned();
            let Ok(text) = std::fs::read_to_string(entry.path().join("metadata.json")) else {
                continue;
            };
            let Ok(mut meta) = serde_json::from_str::<Metadata>(&text) else {
                continue;
            };
            meta.user = is_user;
            out.insert(uuid, meta);
        }
    }
    out
}

/// Whether the Shell runs it: enabled, not disabled (disabled wins), and not a user extension
/// while user extensions are off.
pub fn runs(uuid: &str, meta: &Metadata, keys: &Keys) -> bool {
    keys.enabled.iter().any(|e| e == uuid)
        && !keys.disabled.iter().any(|d| d == uuid)
        && !(meta.user && keys.disable_user)
}

/// Whether an extension declares support for a Shell version (`47.2` matches `47`).
pub fn supports(meta: &Metadata, shell: &str) -> bool {
    let major = shell.split('.').next().unwrap_or(shell);
    meta.shell_version
        .iter()
        .any(|v| v == shell || v == major || shell.starts_with(&format!("{v}.")))
}

/// The uuids the keys mention at all: a state nobody mentioned is only the default.
pub fn mentioned(keys: &Keys) -> BTreeSet<&str> {
    keys.enabled
        .iter()
        .chain(&keys.disabled)
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_lists_and_versions() {
        let out = "org.gnome.shell enabled-extensions ['a@x', 'b@y']\norg.gnome.shell disabled-extensions ['b@y']\norg.gnome.shell disable-user-extensions false\norg.gnome.shell favorite-apps ['x.desktop']\n";
        let k = parse_keys(out);
        assert_eq!(k.enabled, ["a@x", "b@y"]);
        let meta = Metadata {
            shell_version: vec!["45".into(), "46".into()],
            ..Metadata::default()
        };
        assert!(runs("a@x", &meta, &k));
        assert!(!runs("b@y", &meta, &k), "disabled wins");
        assert!(supports(&meta, "46.3"));
        assert!(!supports(&meta, "47.1"));
        assert_eq!(parse_strv("@as []"), Vec::<String>::new());
        assert_eq!(strv_text(&["it's".to_string()]), "['it\\'s']");
        assert_eq!(parse_strv(&strv_text(&["it's".to_string()])), ["it's"]);
    }
}
