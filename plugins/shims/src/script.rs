//! The shim itself: a POSIX sh script that runs a host program from inside a container.
//!
//! Inside a container (podman, and so toolbox and distrobox, creates `/run/.containerenv`;
//! docker `/.dockerenv`) it hands the command to the first host bridge the container has:
//! `flatpak-spawn --host` (toolbox images ship it), `host-spawn` (what distrobox downloads),
//! then `distrobox-host-exec`. Each stops reading its own options at the program's name, and
//! the name never starts with `-`, so every argument reaches the host program untouched.
//!
//! The home, and so `~/.local/bin`, is shared with the host, where a shim named like a host
//! program comes first on PATH: outside a container the shim runs the host's own program from
//! the system folders instead, never itself again.
//!
//! The text holds no single quote, so the HOST_SHIMS section can print each line
//! single-quoted, and names are plain words (checked), so they need no quoting here.

/// The folder of shims under the home, and the one on PATH that links to them.
pub const SHIMS_DIR: &str = "~/.local/toolbox/shims";
pub const BIN_DIR: &str = "~/.local/bin";

/// The first line after `#!`: names the shim and its host program, so the machine's value
/// can be read back from the file.
fn header(name: &str, host: &str) -> String {
    format!("# bkt host shim: {name} runs {host} on the host (manifests/host-shims.json)")
}

pub fn lines(name: &str, host: &str) -> Vec<String> {
    let mut lines = vec!["#!/bin/sh".to_string(), header(name, host)];
    lines.extend(
        [
            "if [ -e /run/.containerenv ] || [ -e /.dockerenv ]; then",
            "    if command -v flatpak-spawn >/dev/null 2>&1; then",
            "        exec flatpak-spawn --host {host} \"$@\"",
            "    fi",
            "    for bridge in host-spawn distrobox-host-exec; do",
            "        if command -v \"$bridge\" >/dev/null 2>&1; then",
            "            exec \"$bridge\" {host} \"$@\"",
            "        fi",
            "    done",
            "    echo \"{name}: no flatpak-spawn, host-spawn or distrobox-host-exec in this container\" >&2",
            "    exit 127",
            "fi",
            "for dir in /usr/local/bin /usr/bin /usr/local/sbin /usr/sbin; do",
            "    if [ -x \"$dir/{host}\" ]; then exec \"$dir/{host}\" \"$@\"; fi",
            "done",
            "echo \"{name}: {host} is not installed on this host\" >&2",
            "exit 127",
        ]
        .iter()
        .map(|l| l.replace("{host}", host).replace("{name}", name)),
    );
    lines
}

pub fn text(name: &str, host: &str) -> String {
    let mut text = lines(name, host).join("\n");
    text.push('\n');
    text
}

/// What `~/.local/bin/NAME` holds when it is not a symlink to the shim: a script that runs
/// it (a file effect cannot make a symlink; the image's skel copy is one).
pub fn link_text(name: &str) -> String {
    format!(
        "#!/bin/sh\n# bkt host shim link: runs ~/.local/toolbox/shims/{name} (manifests/host-shims.json)\nexec \"$HOME/.local/toolbox/shims/{name}\" \"$@\"\n"
    )
}

/// The symlink target the image's skel gives `~/.local/bin/NAME`.
pub fn link_target(name: &str) -> String {
    format!("../toolbox/shims/{name}")
}

/// The host program a shim file names in its header, if it is one of bkt's.
pub fn host_of(name: &str, text: &str) -> Option<String> {
    let line = text.lines().nth(1)?;
    let rest = line.strip_prefix(&format!("# bkt host shim: {name} runs "))?;
    let (host, _) = rest.split_once(" on the host")?;
    Some(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_its_host_and_holds_no_single_quote() {
        let text = text("docker", "podman");
        assert!(text.contains("exec flatpak-spawn --host podman \"$@\""));
        assert!(!text.contains('\''));
        assert!(!text.contains("{host}") && !text.contains("{name}"));
        assert_eq!(host_of("docker", &text).as_deref(), Some("podman"));
        assert_eq!(host_of("podman", &text), None);
        assert_eq!(host_of("docker", "#!/bin/sh\nexec podman\n"), None);
    }
}
