//! Host shims end to end in a throwaway home: status (missing, differs, extra), apply with
//! user-scope file effects, the verbs, the HOST_SHIMS section through hadolint, a written
//! shim run against stand-ins for the host bridges, and the original bkt's manifest kept
//! byte for byte.

mod common;
use common::World;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FILE: &str = "host-shims.json";
const CONTAINERFILE: &str = "FROM quay.io/fedora/fedora-bootc:42\n# === HOST_SHIMS (managed by bkt) ===\n# === END HOST_SHIMS ===\nRUN bootc container lint\n";

/// The original bkt's manifest, byte for byte (github.com/wycats/bootc, manifests/): no
/// final newline.
const ORIGINAL: &str = "{\n  \"$schema\": \"https://wycats.github.io/bootc/host-shims.schema.json\",\n  \"shims\": [\n    {\n      \"name\": \"bootc\"\n    },\n    {\n      \"name\": \"docker\",\n      \"host\": \"podman\"\n    },\n    {\n      \"name\": \"flatpak\"\n    },\n    {\n      \"name\": \"journalctl\"\n    },\n    {\n      \"name\": \"podman\"\n    },\n    {\n      \"name\": \"rpm-ostree\"\n    },\n    {\n      \"name\": \"systemctl\"\n    },\n    {\n      \"name\": \"ujust\"\n    }\n  ]\n}";

/// A world run as an unprivileged user (bkt never writes a user's files as root).
fn world(manifest: &str) -> World {
    let w = World::unprivileged();
    w.write_manifest(FILE, manifest);
    w.write_containerfile(CONTAINERFILE);
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    w
}

fn home(w: &World, rel: &str) -> PathBuf {
    w.path("home").join(rel)
}

fn shim(w: &World, name: &str) -> PathBuf {
    home(w, &format!(".local/toolbox/shims/{name}"))
}

fn link(w: &World, name: &str) -> PathBuf {
    home(w, &format!(".local/bin/{name}"))
}

/// The changes of `status -s shims` as (id, kind, live).
fn changes(w: &World) -> Vec<(String, String, String)> {
    let out = w.bkt(&["status", "-s", "shims", "--format", "json"]);
    let doc = out.json();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    doc["plugins"][0]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|c| (text(&c["id"]), text(&c["kind"]), text(&c["live"])))
        .collect()
}

fn row(id: &str, kind: &str, live: &str) -> (String, String, String) {
    (id.into(), kind.into(), live.into())
}

#[test]
fn apply_keeps_the_home_s_shims_in_step() {
    let w = world(r#"{"shims": [{"name": "docker", "host": "podman"}, {"name": "flatpak"}]}"#);
    std::fs::create_dir_all(shim(&w, "")).unwrap();
    std::fs::write(
        shim(&w, "flatpak"),
        "#!/bin/sh\nexec flatpak-spawn --host flatpak \"$@\"\n",
    )
    .unwrap();
    std::fs::write(shim(&w, "old"), "#!/bin/sh\n").unwrap();
    assert_eq!(
        changes(&w),
        [
            row("docker", "missing", "-"),
            row(
                "flatpak",
                "differs",
                "(not a bkt shim) (no ~/.local/bin/flatpak)"
            ),
            row("old", "extra", "(not a bkt shim)"),
        ]
    );
    let out = w.bkt(&["apply", "--yes", "--prune", "-s", "shims"]);
    out.assert_code(0);
    for name in ["docker", "flatpak"] {
        let mode = std::fs::metadata(shim(&w, name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "{name}");
        assert!(link(&w, name).exists(), "{name}");
    }
    assert!(
        std::fs::read_to_string(shim(&w, "docker"))
            .unwrap()
            .contains("flatpak-spawn --host podman \"$@\"")
    );
    assert!(!shim(&w, "old").exists());
    w.bkt(&["status", "-s", "shims"]).assert_code(0);

    // The image's skel links with a symlink; that is in step too. Someone's own program in
    // ~/.local/bin is never replaced.
    std::fs::remove_file(link(&w, "docker")).unwrap();
    std::os::unix::fs::symlink("../toolbox/shims/docker", link(&w, "docker")).unwrap();
    std::fs::write(link(&w, "flatpak"), "#!/bin/sh\necho mine\n").unwrap();
    let out = w.bkt(&["status", "-s", "shims"]);
    out.assert_code(0);
    out.assert_stdout_has("~/.local/bin/flatpak is not bkt's link to the shim; it is left alone");
    w.bkt(&["apply", "--yes", "-s", "shims"]).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(link(&w, "flatpak")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

#[test]
fn a_mounted_root_does_not_reach_the_running_user_s_home() {
    let w = world(r#"{"shims": [{"name": "flatpak"}]}"#);
    std::fs::create_dir_all(w.path("root")).unwrap();
    let root = w.path("root").display().to_string();
    let out = w.bkt(&["apply", "--yes", "-s", "shims", "--root", &root]);
    out.assert_code(1);
    out.assert_all_has("in the running user's home, not the mounted root");
    assert!(!shim(&w, "flatpak").exists());
}

#[test]
fn verbs_edit_manifest_section_and_home_together() {
    let w = world(ORIGINAL);
    w.bkt(&["shim", "add", "toolbox"]).assert_code(0);
    assert!(shim(&w, "toolbox").exists());
    w.bkt(&["shim", "add", "docker", "--host", "podman"])
        .assert_code(0);
    assert!(w.containerfile().contains("        > /etc/skel/.local/toolbox/shims/toolbox && \\\n    ln -sf ../toolbox/shims/toolbox /etc/skel/.local/bin/toolbox && \\\n"));
    w.bkt(&["containerfile", "check"]).assert_code(0);
    let list = w.bkt(&["shim", "list"]);
    list.assert_stdout_has("  docker -> podman");
    list.assert_stdout_has("  toolbox -> toolbox\n");
    w.bkt(&["shim", "remove", "toolbox"]).assert_code(0);
    assert!(!shim(&w, "toolbox").exists());
    assert!(!link(&w, "toolbox").exists());
    assert_eq!(w.manifest(FILE), ORIGINAL, "byte for byte");

    let before = (w.manifest(FILE), w.containerfile());
    for bad in ["a;b", "../x", "$(id)", "a b", "-rf"] {
        let out = w.bkt(&["shim", "add", "--", bad]);
        out.assert_code(2);
        out.assert_stderr_has(&format!("{bad:?}"));
    }
    let out = w.bkt(&["shim", "add", "x", "--host", "a'b"]);
    out.assert_code(2);
    assert_eq!((w.manifest(FILE), w.containerfile()), before);
    let out = w.bkt(&["shim", "remove", "nope"]);
    out.assert_code(2);
    out.assert_stderr_has("nope is not in host-shims.json");
}

#[test]
fn capture_takes_shims_made_by_hand() {
    // A shim bkt wrote elsewhere, copied in by hand, and a shim of someone's own.
    let other = world(r#"{"shims": [{"name": "docker", "host": "podman"}]}"#);
    other.bkt(&["apply", "--yes", "-s", "shims"]).assert_code(0);
    let w = world("{\n  \"shims\": []\n}\n");
    std::fs::create_dir_all(shim(&w, "")).unwrap();
    std::fs::copy(shim(&other, "docker"), shim(&w, "docker")).unwrap();
    std::fs::write(shim(&w, "mine"), "#!/bin/sh\n").unwrap();
    w.bkt(&["capture", "-s", "shims"]).assert_code(0);
    assert_eq!(
        w.manifest(FILE),
        "{\n  \"shims\": [\n    {\n      \"name\": \"docker\",\n      \"host\": \"podman\"\n    },\n    {\n      \"name\": \"mine\"\n    }\n  ]\n}\n"
    );
}

/// A folder with stand-ins for the host bridges named in `bridges`: each appends its name
/// and arguments, one per line, to `log`.
fn bridges(dir: &Path, log: &Path, bridges: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for name in bridges {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\n{{ echo {name}; for a in \"$@\"; do echo \"$a\"; done; }} >> '{}'\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Runs a shim with PATH = `bin` and the system folders.
fn run(script: &Path, bin: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(script)
        .args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .expect("running the shim")
}

#[test]
fn a_written_shim_hands_its_arguments_to_the_host_bridge() {
    let w = world(
        r#"{"shims": [{"name": "docker", "host": "podman"}, {"name": "mytrue", "host": "true"}]}"#,
    );
    w.bkt(&["apply", "--yes", "-s", "shims"]).assert_code(0);
    let text = std::fs::read_to_string(shim(&w, "docker")).unwrap();
    // The same scripts, told that they run in a container (a marker that exists) or on the
    // host (markers that do not), whatever this test machine is.
    let marker = w.path("containerenv");
    std::fs::write(&marker, "").unwrap();
    let variant = |name: &str, inside: bool| {
        let to = if inside {
            marker.display().to_string()
        } else {
            "/nonexistent/.containerenv".into()
        };
        let src = std::fs::read_to_string(shim(&w, name)).unwrap();
        let path = w.path(&format!("{name}-{inside}"));
        let text = src
            .replace("/run/.containerenv", &to)
            .replace("/.dockerenv", "/nonexistent/.dockerenv");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let inside = variant("docker", true);
    let log = w.path("log");
    let bin = w.path("bin");
    bridges(&bin, &log, &["flatpak-spawn", "host-spawn"]);
    let out = run(&inside, &bin, &["run", "--rm", "-it", "two words", ""]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "flatpak-spawn\n--host\npodman\nrun\n--rm\n-it\ntwo words\n\n"
    );
    // distrobox without flatpak-spawn: host-spawn.
    std::fs::remove_file(&log).unwrap();
    let only = w.path("bin2");
    bridges(&only, &log, &["host-spawn"]);
    run(&inside, &only, &["ps"]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "host-spawn\npodman\nps\n"
    );
    // No bridge at all: said, and 127 like a missing command.
    let none = w.path("bin3");
    std::fs::create_dir_all(&none).unwrap();
    let out = run(&inside, &none, &["ps"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("docker: no flatpak-spawn, host-spawn or distrobox-host-exec")
    );
    // On the host the shim runs the host's own program from the system folders.
    let host = variant("mytrue", false);
    let out = run(&host, &none, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Unchanged, it takes the branch this machine calls for.
    assert!(text.contains("if [ -e /run/.containerenv ] || [ -e /.dockerenv ]; then"));
    // And the link in ~/.local/bin runs the shim.
    let out = std::process::Command::new(link(&w, "mytrue"))
        .env_clear()
        .env("HOME", w.path("home"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_section_passes_hadolint() {
    let w = world(ORIGINAL);
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let hadolint = repo.join(".venv/bin/hadolint");
    assert!(
        hadolint.exists(),
        "{} is missing: run scripts/deps",
        hadolint.display()
    );
    let out = std::process::Command::new(&hadolint)
        .arg("--config")
        .arg(repo.join(".hadolint.yaml"))
        .arg("--no-color")
        .arg(w.repo().join("Containerfile"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hadolint: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `--local` writes the shim into the home and leaves the repository alone; the shim is a
/// known local change, and `bkt local list` names the command.
#[test]
fn a_local_add_changes_this_home_only() {
    let w = world(ORIGINAL);
    let before = (w.manifest(FILE), w.containerfile());
    let out = w.bkt(&["shim", "add", "toolbox", "--local"]);
    out.assert_code(0);
    out.assert_stdout_has("Changed this machine only");
    assert_eq!(
        (w.manifest(FILE), w.containerfile()),
        before,
        "byte for byte"
    );
    assert!(shim(&w, "toolbox").exists());
    assert!(link(&w, "toolbox").exists());
    let out = w.bkt(&["status", "-s", "shims", "--format", "json"]);
    let doc = out.json();
    let changes = doc["plugins"][0]["changes"].as_array().unwrap();
    let toolbox = changes
        .iter()
        .find(|c| c["id"] == "toolbox")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(toolbox["side"], "local", "{doc:#}");
    let list = w.bkt(&["local", "list"]);
    list.assert_code(0);
    list.assert_stdout_has("bkt shim add toolbox --local");
}
