//! Reading what gsettings and dconf print.

use std::collections::{BTreeMap, BTreeSet};

/// `gsettings list-recursively SCHEMA` prints `schema key value` a line; the value is the rest
/// of the line after the second space. Returns key → value text for `schema`.
pub fn parse_list(schema_id: &str, stdout: &str) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(schema), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if schema == schema_id {
            keys.insert(key.to_string(), value.to_string());
        }
    }
    keys
}

/// The keys of each of `wanted` (schema ids) in `gsettings list-recursively` output of many
/// schemas; a schema the output does not name is not in the map.
pub fn parse_many(
    wanted: &BTreeSet<&str>,
    stdout: &str,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut schemas: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(schema), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if wanted.contains(schema) {
            schemas
                .entry(schema.to_string())
                .or_default()
                .insert(key.to_string(), value.to_string());
        }
    }
    schemas
}

/// `gsettings list-schemas --print-paths` prints `schema /path/` a line.
pub fn schema_path(schema_id: &str, stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let (schema, path) = line.split_once(' ')?;
        (schema == schema_id).then(|| path.trim().to_string())
    })
}

/// The keys `dconf dump /` lists under `path` (`/org/gnome/desktop/interface/`): the keys a
/// user has set, as opposed to schema defaults.
pub fn dconf_keys(path: &str, dump: &str) -> Vec<String> {
    let section = format!("[{}]", path.trim_matches('/'));
    let mut inside = false;
    let mut keys = Vec::new();
    for line in dump.lines() {
        if line.starts_with('[') {
            inside = line.trim() == section;
        } else if inside && let Some((key, _)) = line.split_once('=') {
            keys.push(key.to_string());
        }
    }
    keys
}

/// Every key a user has set, as full paths (`/org/gnome/desktop/interface/clock-format`), from
/// `dconf dump /` or the keyfile backend's file: both are keyfiles whose groups are folders
/// without their outer slashes (`[org/gnome/desktop/interface]`, `[/]` for the top).
pub fn user_set(keyfile: &str, into: &mut BTreeSet<String>) {
    let mut folder = String::from("/");
    for line in keyfile.lines() {
        let line = line.trim_end();
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let inner = group.trim_matches('/');
            folder = if inner.is_empty() {
                "/".to_string()
            } else {
                format!("/{inner}/")
            };
        } else if let Some((key, _)) = line.split_once('=')
            && !key.is_empty()
            && !key.starts_with('#')
        {
            into.insert(format!("{folder}{}", key.trim()));
        }
    }
}

/// The folder a schema's keys live in: the path of a relocatable `SCHEMA:/path/`, else the one
/// `gsettings list-schemas --print-paths` gives.
pub fn folder_of(schema: &str, paths: &str) -> Option<String> {
    match schema.split_once(':') {
        Some((_, path)) => Some(path.to_string()),
        None => schema_path(schema, paths),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_set_keys_from_dconf_and_keyfile() {
        let mut set = BTreeSet::new();
        user_set("[org/a]\nk1='x'\n\n[org/a/child]\nk3=true\n", &mut set);
        user_set("[/org/b/]\nk=1\n", &mut set);
        assert!(set.contains("/org/a/k1"));
        assert!(set.contains("/org/a/child/k3"));
        assert!(set.contains("/org/b/k"));
        assert!(!set.contains("/org/a/k3"));
    }

    #[test]
    fn splits_on_the_first_two_spaces() {
        let out = "org.a clock-format '24h'\norg.a favs ['a b', 'c']\norg.a.child x 1\n";
        let keys = parse_list("org.a", out);
        assert_eq!(keys["clock-format"], "'24h'");
        assert_eq!(keys["favs"], "['a b', 'c']");
        assert!(!keys.contains_key("x"));
    }

    #[test]
    fn finds_user_set_keys() {
        let dump = "[org/a]\nk1='x'\nk2=5\n\n[org/a/child]\nk3=true\n";
        assert_eq!(dconf_keys("/org/a/", dump), vec!["k1", "k2"]);
        assert_eq!(
            schema_path("org.a", "org.b /org/b/\norg.a /org/a/\n").as_deref(),
            Some("/org/a/")
        );
    }
}
