//! The SYSTEMD_UNITS section: the unit files the repository ships, copied into the image,
//! then one `systemctl` per state at build time.
//!
//! Why `systemctl enable|disable|mask` in the build rather than a preset file: a preset only
//! acts when `systemctl preset` runs, which happens on a machine's first boot and never on
//! the upgrades after it, so a unit added to a preset later would stay off on every machine
//! already installed; and presets cannot mask. The links `systemctl` makes are part of the
//! image's /etc, which bootc carries into each new deployment, keeping a machine's own local
//! changes.

use crate::manifest::{Manifest, State, Units};

/// Where the repository keeps the unit files the image ships.
pub const SYSTEM_FILES: &str = "systemd/units";
pub const USER_FILES: &str = "systemd/units/user";

fn copy(files: &[String], from: &str, to: &str) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let sources: Vec<String> = files.iter().map(|f| format!("{from}/{f}")).collect();
    Some(format!("COPY {} {to}/", sources.join(" ")))
}

/// `systemctl [--global] VERB UNIT...` for each state some unit has, in a fixed order.
fn commands(units: &Units, global: bool) -> Vec<String> {
    let mut out = Vec::new();
    for state in [State::Enabled, State::Disabled, State::Masked] {
        let names: Vec<&str> = units
            .0
            .iter()
            .filter(|(_, s)| *s == state)
            .map(|(u, _)| u.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let scope = if global { "--global " } else { "" };
        out.push(format!(
            "systemctl {scope}{} {}",
            state.verb(),
            names.join(" ")
        ));
    }
    out
}

pub fn section(m: &Manifest) -> Vec<String> {
    let mut lines: Vec<String> = [
        copy(&m.unit_files, SYSTEM_FILES, "/usr/lib/systemd/system"),
        copy(&m.user_unit_files, USER_FILES, "/usr/lib/systemd/user"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut runs = commands(&m.services, false);
    runs.extend(commands(&m.user_services, true));
    if let Some((last, first)) = runs.split_last() {
        for (i, cmd) in first.iter().enumerate() {
            let lead = if i == 0 { "RUN " } else { "    " };
            lines.push(format!("{lead}{cmd} && \\"));
        }
        let lead = if first.is_empty() { "RUN " } else { "    " };
        lines.push(format!("{lead}{last}"));
    }
    if lines.is_empty() {
        lines.push("# No systemd units (`bkt systemd enable UNIT` adds one)".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_copied_then_each_state_set_in_one_run() {
        let m = crate::manifest::parse(Some(
            r#"{"services": {"tuned.service": "enabled", "ppd.service": "masked", "b.timer": "enabled"},
                "user_services": {"u.service": "enabled"},
                "unit_files": ["b.service", "b.timer"], "user_unit_files": ["u.service"]}"#,
        ))
        .unwrap();
        assert_eq!(
            section(&m),
            [
                "COPY systemd/units/b.service systemd/units/b.timer /usr/lib/systemd/system/",
                "COPY systemd/units/user/u.service /usr/lib/systemd/user/",
                "RUN systemctl enable tuned.service b.timer && \\",
                "    systemctl mask ppd.service && \\",
                "    systemctl --global enable u.service",
            ]
        );
        let one =
            crate::manifest::parse(Some(r#"{"services": {"a.service": "disabled"}}"#)).unwrap();
        assert_eq!(section(&one), ["RUN systemctl disable a.service"]);
        assert!(section(&Manifest::default())[0].starts_with("# No systemd units"));
    }
}
