//! Where a plugin may fetch from, and how much: its declared URL prefixes and size limit.
//!
//! A fetch reaches out (an https request carries its URL to a server) or copies a file the
//! plugin could not read itself, so it is a capability like any other: declared, shown on the
//! trust screen, pinned with the rest.

/// What one fetch may bring when the plugin declares no limit.
pub const DEFAULT_LIMIT: u64 = 64 << 20;
/// The most any plugin may declare.
pub const MAX_LIMIT: u64 = 1 << 30;

/// The bytes one fetch of this plugin may bring.
pub fn limit(declared: u64) -> u64 {
    match declared {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

/// Why a declared source is not usable, if it is not: `https://HOST/…` with a plain host, or
/// `file:///FOLDER/` / `file://~/FOLDER/`; always ending in `/`, so a prefix never matches
/// a longer host or folder name (`https://a.org` would admit `https://a.org.evil.net`).
pub fn check_source(prefix: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("fetch source {prefix:?} {why}"));
    if !prefix.ends_with('/') {
        return bad("must end with `/`");
    }
    if prefix
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '%' | '\\' | '?' | '#'))
    {
        return bad("may not hold spaces, control characters, `%`, `\\`, `?` or `#`");
    }
    if let Some(rest) = prefix.strip_prefix("https://") {
        let host = rest.split('/').next().unwrap_or_default();
        let plain = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !plain {
            return bad("must name a host: `https://HOST/`");
        }
        return Ok(());
    }
    let folder = prefix
        .strip_prefix("file://~")
        .or_else(|| prefix.strip_prefix("file://"));
    match folder {
        Some(path) if crate::os::paths::is_clean_absolute(path) => Ok(()),
        _ => bad("must be `https://HOST/`, `file:///FOLDER/` or `file://~/FOLDER/`"),
    }
}

/// The declared source that admits `url`, if one does. `file://~/` sources match the
/// user's home (`home`; without one, they match nothing).
pub fn source_of<'a>(sources: &'a [String], url: &str, home: &str) -> Option<&'a String> {
    sources
        .iter()
        .find(|prefix| match prefix.strip_prefix("file://~/") {
            Some(rest) => {
                home.starts_with('/')
                    && url
                        .strip_prefix("file://")
                        .and_then(|path| path.strip_prefix(home.trim_end_matches('/')))
                        .and_then(|path| path.strip_prefix('/'))
                        .is_some_and(|path| path.starts_with(rest))
            }
            None => url.starts_with(prefix.as_str()),
        })
}

/// The folder a `file://` source names on this machine (`~/` in `home`), for the rule that
/// keeps plugins out of bkt's own folders; `None` for an https source.
pub fn source_folder(prefix: &str) -> Option<String> {
    let path = prefix.strip_prefix("file://")?;
    Some(match path.strip_prefix('~') {
        Some(rest) => format!("~{rest}"),
        None => path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_a_host_or_a_folder() {
        for good in [
            "https://extensions.gnome.org/",
            "https://github.com/owner/",
            "https://localhost:8443/",
            "file:///usr/share/zips/",
            "file://~/Downloads/",
            "file://~/",
        ] {
            assert!(check_source(good).is_ok(), "{good}");
        }
        for bad in [
            "https://extensions.gnome.org",
            "https:///",
            "https://user@host/",
            "http://example.org/",
            "file:///usr/../etc/",
            "file://usr/",
            "https://a.org/%2e%2e/",
            "ftp://a.org/",
        ] {
            assert!(check_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_url_fits_only_its_declared_prefix() {
        let sources = vec![
            "https://extensions.gnome.org/".to_string(),
            "file://~/zips/".to_string(),
        ];
        let home = "/home/u";
        let fits = |url: &str| source_of(&sources, url, home).is_some();
        assert!(fits("https://extensions.gnome.org/download/x.zip"));
        assert!(!fits("https://extensions.gnome.org.evil.net/x.zip"));
        assert!(!fits("https://evil.net/?q=https://extensions.gnome.org/"));
        assert!(fits("file:///home/u/zips/a.zip"));
        assert!(!fits("file:///home/u/other/a.zip"));
        assert!(!fits("file:///home/user2/zips/a.zip"));
        assert!(source_of(&sources, "file:///zips/a.zip", "").is_none());
        assert_eq!(limit(0), DEFAULT_LIMIT);
        assert_eq!(limit(u64::MAX), MAX_LIMIT);
    }
}
