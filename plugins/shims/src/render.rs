//! The HOST_SHIMS section: every shim written into `/etc/skel`, so each user the image
//! creates starts with them (`~/.local/toolbox/shims/NAME`, linked from `~/.local/bin`).
//! Users that exist already get them from `bkt apply`, which keeps their homes in step.

use crate::manifest::Manifest;
use crate::script;

const SKEL: &str = "/etc/skel/.local";

fn one(lines: &mut Vec<String>, name: &str, host: &str) {
    lines.push("    printf '%s\\n' \\".into());
    for line in script::lines(name, host) {
        lines.push(format!("        '{line}' \\"));
    }
    lines.push(format!("        > {SKEL}/toolbox/shims/{name} && \\"));
    lines.push(format!(
        "    ln -sf {} {SKEL}/bin/{name} && \\",
        script::link_target(name)
    ));
}

pub fn section(m: &Manifest) -> Vec<String> {
    if m.shims.is_empty() {
        return vec!["# No host shims (`bkt shim add NAME` adds one)".into()];
    }
    let mut lines = vec![
        "# Each shim is printed as written: its $ signs are the shim's, not this shell's.".into(),
        "# hadolint ignore=SC2016".into(),
        format!("RUN mkdir -p {SKEL}/toolbox/shims {SKEL}/bin && \\"),
    ];
    for shim in &m.shims {
        one(&mut lines, &shim.name, shim.host_cmd());
    }
    lines.push(format!("    chmod 0755 {SKEL}/toolbox/shims/*"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the RUN line writes for one shim: printf prints each single-quoted word.
    fn written(section: &[String], name: &str) -> String {
        let end = format!("> {SKEL}/toolbox/shims/{name} ");
        let mut text = String::new();
        let mut inside = false;
        for line in section {
            if line.trim() == "printf '%s\\n' \\" {
                inside = true;
                text.clear();
                continue;
            }
            if inside && line.contains(&end) {
                return text;
            }
            if let (true, Some(start), Some(stop)) = (inside, line.find('\''), line.rfind('\'')) {
                text.push_str(&line[start + 1..stop]);
                text.push('\n');
            }
        }
        panic!("no shim {name} in {section:?}")
    }

    #[test]
    fn each_shim_is_written_whole_and_linked() {
        let m = crate::manifest::parse(Some(
            r#"{"shims": [{"name": "docker", "host": "podman"}, {"name": "flatpak"}]}"#,
        ))
        .unwrap();
        let lines = section(&m);
        assert_eq!(written(&lines, "docker"), script::text("docker", "podman"));
        assert_eq!(
            written(&lines, "flatpak"),
            script::text("flatpak", "flatpak")
        );
        assert!(lines.contains(
            &"    ln -sf ../toolbox/shims/docker /etc/skel/.local/bin/docker && \\".to_string()
        ));
        assert_eq!(
            lines.last().unwrap(),
            "    chmod 0755 /etc/skel/.local/toolbox/shims/*"
        );
    }
}
