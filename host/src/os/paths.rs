//! The user's folders: home and the XDG base folders bkt and the tools it drives use.

use std::path::PathBuf;

/// The home folder of the user bkt acts for; `None` without an absolute HOME (a system
/// service), never `/` in its place: `~/` paths then mean nothing.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
}

/// Where a `~/` path lives on the host: `~/.local/share/…` and `~/.config/…` follow
/// XDG_DATA_HOME and XDG_CONFIG_HOME, as the tools that write there do (flatpak keeps a
/// user's overrides in `$XDG_DATA_HOME/flatpak/overrides`). A folder the variable names
/// counts only if the user bkt runs as owns it.
pub fn xdg_base<'a>(home: &str, rest: &'a str) -> (PathBuf, &'a str) {
    for (prefix, var) in [
        (".local/share/", "XDG_DATA_HOME"),
        (".config/", "XDG_CONFIG_HOME"),
    ] {
        let Some(under) = rest.strip_prefix(prefix) else {
            continue;
        };
        let Some(dir) = std::env::var_os(var).map(PathBuf::from) else {
            continue;
        };
        let owned = std::fs::metadata(&dir)
            .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == super::identity::euid());
        if dir.is_absolute() && owned {
            return (dir, under);
        }
    }
    (PathBuf::from(home), rest)
}

/// The user's data folder (`$XDG_DATA_HOME`, else `~/.local/share`) without a trailing
/// slash; empty without a home.
pub fn data_home() -> String {
    home_dir()
        .map(|h| {
            let (base, rest) = xdg_base(&h.to_string_lossy(), ".local/share/");
            base.join(rest)
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string()
        })
        .unwrap_or_default()
}

/// `$XDG_CONFIG_HOME/bkt`, when there is a config folder.
pub fn config_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.config_dir().join("bkt"))
}

/// `$XDG_CACHE_HOME/bkt`, when there is a cache folder.
pub fn cache_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.cache_dir().join("bkt"))
}

/// `$XDG_DATA_HOME`, when there is one.
pub fn user_data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.data_dir().to_path_buf())
}

/// Absolute and free of `.`/`..`, so joining it under a root cannot climb out.
pub fn is_clean_absolute(path: &str) -> bool {
    use std::path::{Component, Path};
    let p = Path::new(path);
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}
