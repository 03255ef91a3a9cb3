//! A plugin's `requires-bkt`: the oldest bkt it runs on. Compared as three numbers, so
//! `1.10.0` is newer than `1.9.0`; a pre-release suffix of this bkt (`1.2.0-rc.1`) counts as
//! that release.

/// `Ok` when `running` (this bkt's version) is at least `required`; an empty requirement
/// admits every bkt.
pub fn check(required: &str, running: &str) -> Result<(), String> {
    if required.is_empty() {
        return Ok(());
    }
    let wanted = parse(required).ok_or_else(|| {
        format!("it requires bkt {required:?}, which is not a version such as 1.2.0")
    })?;
    // This bkt's own version is a Cargo version: it always parses.
    let have = parse(running).unwrap_or((0, 0, 0));
    if have < wanted {
        return Err(format!(
            "it needs bkt {required} or newer, and this is bkt {running}; update bkt, or use \
             an older release of the plugin"
        ));
    }
    Ok(())
}

fn parse(version: &str) -> Option<(u64, u64, u64)> {
    let release = version.split(['-', '+']).next()?;
    let mut parts = release.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(check("", "0.1.0").is_ok());
        assert!(check("0.1.0", "0.1.0").is_ok());
        assert!(check("0.9", "0.10.0").is_ok());
        assert!(
            check("1.10.0", "1.9.0")
                .unwrap_err()
                .contains("needs bkt 1.10.0")
        );
        assert!(check("1.2.0", "1.2.0-rc.1").is_ok());
        assert!(
            check("soon", "1.0.0")
                .unwrap_err()
                .contains("not a version")
        );
        assert!(check("1.2.3.4", "9.0.0").is_err());
    }
}
