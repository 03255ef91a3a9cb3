//! Whether a program that stores user settings through the session bus can reach one.
//!
//! gsettings with the dconf backend (and `dconf write`) hand every write to dconf-service over
//! the session bus; with no bus they exit 0, print a warning, and change nothing. Asked
//! beforehand, bkt can refuse instead of running a write that cannot take.

use std::ffi::OsString;
use std::path::Path;

/// True when `program` needs the session bus for a write and none is reachable with the
/// environment `get` reads.
pub fn missing_for(program: &str, get: impl Fn(&str) -> Option<OsString>) -> bool {
    let through_dconf = match program {
        "dconf" => true,
        // Another backend (keyfile, memory) writes without the bus.
        "gsettings" => get("GSETTINGS_BACKEND").is_none_or(|b| b.is_empty() || b == "dconf"),
        _ => false,
    };
    through_dconf && !reachable(get)
}

/// A session bus address whose socket exists, or the standard one in XDG_RUNTIME_DIR (where
/// GLib looks when no address is set).
fn reachable(get: impl Fn(&str) -> Option<OsString>) -> bool {
    if let Some(address) = get("DBUS_SESSION_BUS_ADDRESS").filter(|a| !a.is_empty()) {
        let address = address.to_string_lossy().into_owned();
        // `unix:path=/run/user/1000/bus,guid=…`: the socket must be there. Other transports
        // (abstract sockets, tcp) cannot be checked from here, and are taken as reachable.
        return match address.strip_prefix("unix:path=") {
            Some(rest) => Path::new(rest.split(',').next().unwrap_or(rest)).exists(),
            None => true,
        };
    }
    get("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .is_some_and(|d| Path::new(&d).join("bus").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn a_dconf_write_needs_a_bus_it_can_reach() {
        let t = tempfile::tempdir().unwrap();
        let socket = t.path().join("bus");
        std::fs::write(&socket, "").unwrap();
        let there = format!("unix:path={},guid=1", socket.display());
        let runtime = t.path().to_string_lossy().into_owned();
        assert!(missing_for("gsettings", env(&[])));
        assert!(missing_for(
            "dconf",
            env(&[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")])
        ));
        assert!(!missing_for(
            "gsettings",
            env(&[("DBUS_SESSION_BUS_ADDRESS", &there)])
        ));
        assert!(!missing_for(
            "gsettings",
            env(&[("XDG_RUNTIME_DIR", &runtime)])
        ));
        assert!(!missing_for(
            "gsettings",
            env(&[("GSETTINGS_BACKEND", "keyfile")])
        ));
        assert!(missing_for(
            "gsettings",
            env(&[("GSETTINGS_BACKEND", "dconf")])
        ));
        assert!(!missing_for("flatpak", env(&[])));
    }
}
