//! GNOME extensions end to end: the real org.gnome.shell schema (gnome-shell-common) on the
//! keyfile backend, extension folders in a throwaway HOME, installation from a file:// zip
//! the test builds, and the Shell version from a real rpm database.

mod common;
use common::World;
use std::path::Path;

/// The user's extension folder: `$XDG_DATA_HOME/gnome-shell/extensions`, as the Shell reads it.
const USER_DIR: &str = "data/gnome-shell/extensions";

/// An installed extension folder with its metadata.json.
fn install_by_hand(dir: &Path, uuid: &str, shell: &[&str]) {
    let folder = dir.join(uuid);
    std::fs::create_dir_all(&folder).unwrap();
    let meta = serde_json::json!({
        "uuid": uuid, "name": uuid, "shell-version": shell,
        "url": format!("https://github.com/example/{uuid}"),
    });
    std::fs::write(folder.join("metadata.json"), meta.to_string()).unwrap();
}

fn keys(w: &World) -> (String, String) {
    (
        w.gsettings_get("org.gnome.shell", "enabled-extensions"),
        w.gsettings_get("org.gnome.shell", "disabled-extensions"),
    )
}

#[test]
fn enabling_and_disabling_write_each_key_once() {
    let w = World::unprivileged();
    for uuid in ["a@x", "b@x", "c@x"] {
        install_by_hand(&w.path(USER_DIR), uuid, &["45"]);
    }
    w.write_manifest(
        "gnome-extensions.json",
        r#"{"extensions": ["a@x", "b@x", {"uuid": "c@x", "enabled": false}]}"#,
    );
    let out = w.bkt(&["apply", "--yes", "-s", "extensions", "-v"]);
    out.assert_code(0);
    let sets = out
        .stderr()
        .lines()
        .filter(|l| l.contains("run: gsettings set"))
        .count();
    assert_eq!(sets, 2, "one gsettings set per key: {}", out.all());
    assert_eq!(keys(&w), ("['a@x', 'b@x']".into(), "['c@x']".into()));
    w.bkt(&["status", "-s", "extensions"]).assert_code(0);

    // Disabled by hand: changed on this machine; capture takes it.
    let out = w.tool(
        "gsettings",
        &[
            "set",
            "org.gnome.shell",
            "disabled-extensions",
            "['c@x', 'b@x']",
        ],
    );
    assert!(out.ok(), "{}", out.all());
    let json = w
        .bkt(&["status", "-s", "extensions", "--format", "json"])
        .json();
    assert_eq!(
        json["plugins"][0]["changes"][0]["side"], "machine",
        "{json}"
    );
    w.bkt(&["capture", "-s", "extensions"]).assert_code(0);
    // The bare uuid becomes the original bkt's object form; the other entries keep theirs.
    let m: serde_json::Value = serde_json::from_str(&w.manifest("gnome-extensions.json")).unwrap();
    assert_eq!(
        m["extensions"],
        serde_json::json!(["a@x", {"id": "b@x", "enabled": false}, {"uuid": "c@x", "enabled": false}])
    );
}

#[test]
fn capture_adds_enabled_extensions_with_their_url() {
    let w = World::unprivileged();
    install_by_hand(&w.path(USER_DIR), "new@x", &["45"]);
    install_by_hand(&w.path(USER_DIR), "idle@x", &["45"]);
    w.write_manifest("gnome-extensions.json", r#"{"extensions": []}"#);
    let out = w.tool(
        "gsettings",
        &["set", "org.gnome.shell", "enabled-extensions", "['new@x']"],
    );
    assert!(out.ok(), "{}", out.all());
    w.bkt(&["capture", "-s", "extensions"]).assert_code(0);
    let m = w.manifest("gnome-extensions.json");
    assert!(m.contains("\"uuid\": \"new@x\""), "{m}");
    assert!(
        m.contains("\"url\": \"https://github.com/example/new@x\""),
        "{m}"
    );
    assert!(
        !m.contains("idle@x"),
        "an installed but disabled one is not taken: {m}"
    );
}

/// A zip of an extension folder, and its sha256.
fn zip_of(w: &World, uuid: &str) -> (String, String) {
    let src = w.path("zipsrc");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("metadata.json"),
        serde_json::json!({"uuid": uuid, "name": uuid, "shell-version": ["45"]}).to_string(),
    )
    .unwrap();
    std::fs::write(src.join("extension.js"), "export default class {}\n").unwrap();
    // In the home: the plugin fetches files only from there (and from the hosts it declares).
    let zip = w.path("home/ext.zip");
    let ok = std::process::Command::new("zip")
        .arg("-q")
        .arg("-r")
        .arg(&zip)
        .arg(".")
        .current_dir(&src)
        .status()
        .expect("zip")
        .success();
    assert!(ok);
    let bytes = std::fs::read(&zip).unwrap();
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("file://{}", zip.display()), sha)
}

#[test]
fn a_missing_extension_is_installed_from_its_checked_zip() {
    let w = World::unprivileged();
    let (url, sha) = zip_of(&w, "zipped@x");
    let wrong = "0".repeat(64);
    w.write_manifest(
        "gnome-extensions.json",
        &format!(r#"{{"extensions": [{{"uuid": "zipped@x", "source": {{"zip": "{url}", "sha256": "{wrong}"}}}}]}}"#),
    );
    let out = w.bkt(&["apply", "--yes", "-s", "extensions"]);
    out.assert_code(1);
    out.assert_stdout_has("not the 0000");
    assert!(
        !w.path(USER_DIR).join("zipped@x").exists(),
        "nothing unpacked"
    );

    w.write_manifest(
        "gnome-extensions.json",
        &format!(r#"{{"extensions": [{{"uuid": "zipped@x", "source": {{"zip": "{url}", "sha256": "{sha}"}}}}]}}"#),
    );
    let out = w.bkt(&["apply", "--yes", "-s", "extensions"]);
    out.assert_code(0);
    assert!(w.path(USER_DIR).join("zipped@x/extension.js").exists());
    assert_eq!(keys(&w).0, "['zipped@x']");
    w.bkt(&["status", "-s", "extensions"]).assert_code(0);
}

/// A fetch of a device or a FIFO would never end: refused before anything is read, at once,
/// and nothing is left behind. A file outside the sources the plugin declared is refused with
/// the plan.
#[test]
fn a_fetch_from_a_device_or_a_fifo_is_refused_at_once() {
    let w = World::unprivileged();
    let sha = "0".repeat(64);
    w.write_manifest(
        "gnome-extensions.json",
        &format!(r#"{{"extensions": [{{"uuid": "zipped@x", "source": {{"zip": "file:///dev/zero", "sha256": "{sha}"}}}}]}}"#),
    );
    let out = w.bkt(&["apply", "--yes", "-s", "extensions"]);
    out.assert_code(1);
    out.assert_all_has("from none of its declared sources");
    let fifo = w.path("home/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let url = format!("file://{}", fifo.display());
    w.write_manifest(
        "gnome-extensions.json",
        &format!(r#"{{"extensions": [{{"uuid": "zipped@x", "source": {{"zip": "{url}", "sha256": "{sha}"}}}}]}}"#),
    );
    let out = w.bkt(&["apply", "--yes", "-s", "extensions"]);
    out.assert_code(1);
    out.assert_stdout_has("is not a regular file");
    assert!(
        !w.path(USER_DIR).join("zipped@x").exists(),
        "nothing unpacked"
    );
}

#[test]
fn status_warns_before_an_image_with_another_shell_boots() {
    let w = World::unprivileged();
    // A root whose rpm database has GNOME Shell 47.1, with a system extension for 45 only.
    let specs = w.path("rpmbuild");
    std::fs::create_dir_all(&specs).unwrap();
    let spec = specs.join("gnome-shell.spec");
    std::fs::write(&spec, "Name: gnome-shell\nVersion: 47.1\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%description\ntest\n%files\n").unwrap();
    let out = std::process::Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", specs.display()))
        .arg("-bb")
        .arg(&spec)
        .output()
        .expect("rpmbuild");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = w.path("root");
    std::fs::create_dir_all(&root).unwrap();
    let rpm = specs.join("RPMS/noarch/gnome-shell-47.1-1.noarch.rpm");
    // Installed as the user bkt runs as, without HOME, as bkt runs rpm: Debian's rpm keeps
    // its database under the user's home, even inside a root.
    let mut cmd = std::process::Command::new("rpm");
    cmd.env_clear()
        .env("PATH", common::SYSTEM_PATH)
        .args([
            "--root",
            root.to_str().unwrap(),
            "-i",
            "--nodeps",
            "--justdb",
        ])
        .arg(&rpm);
    if let Some(uid) = w.user {
        common::chown_all(&w.path(""), uid);
        std::os::unix::process::CommandExt::uid(&mut cmd, uid);
    }
    let out = cmd.output().expect("rpm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    install_by_hand(
        &root.join("usr/share/gnome-shell/extensions"),
        "old@x",
        &["44", "45"],
    );
    install_by_hand(
        &root.join("usr/share/gnome-shell/extensions"),
        "fine@x",
        &["47"],
    );
    w.write_manifest(
        "gnome-extensions.json",
        r#"{"extensions": ["old@x", "fine@x"]}"#,
    );
    let out = w.bkt(&[
        "status",
        "-s",
        "extensions",
        "--root",
        root.to_str().unwrap(),
    ]);
    out.assert_stdout_has(
        "old@x supports GNOME Shell 44, 45 but this system has 47.1: the Shell will not load it",
    );
    assert!(
        !out.stdout().contains("fine@x supports"),
        "{}",
        out.stdout()
    );
}

#[test]
fn verbs_and_bad_input() {
    let w = World::unprivileged();
    install_by_hand(&w.path(USER_DIR), "a@x", &["45"]);
    w.write_manifest("gnome-extensions.json", r#"{"extensions": []}"#);
    w.bkt(&["extension", "add", "a@x"]).assert_code(0);
    assert_eq!(keys(&w).0, "['a@x']");
    w.bkt(&["extension", "disable", "a@x"]).assert_code(0);
    assert_eq!(keys(&w), ("@as []".into(), "['a@x']".into()));
    let list = w.bkt(&["extension", "list"]);
    list.assert_stdout_has("a@x disabled   (disabled here; shell 45)");
    w.bkt(&["extension", "remove", "a@x"]).assert_code(0);
    assert!(!w.manifest("gnome-extensions.json").contains("a@x"));

    let before = w.manifest("gnome-extensions.json");
    let out = w.bkt(&["extension", "enable", "--", "../evil"]);
    out.assert_code(2);
    out.assert_stderr_has("is not an extension uuid");
    assert_eq!(w.manifest("gnome-extensions.json"), before);
    w.write_manifest("gnome-extensions.json", r#"{"extensions": ["a@x", "a@x"]}"#);
    let out = w.bkt(&["status", "-s", "extensions"]);
    out.assert_code(2);
    out.assert_stdout_has(
        "manifests/gnome-extensions.json: extensions[1].uuid: a@x is listed twice",
    );
}

#[test]
fn a_shared_key_write_waits_when_one_of_its_changes_is_left_alone() {
    let w = World::unprivileged();
    for uuid in ["a@x", "b@x"] {
        install_by_hand(&w.path(USER_DIR), uuid, &["45"]);
    }
    w.write_manifest("gnome-extensions.json", r#"{"extensions": ["a@x"]}"#);
    w.bkt(&["apply", "--yes", "-s", "extensions"])
        .assert_code(0);
    // a@x disabled by hand (changed on this machine), b@x added to the manifest.
    let out = w.tool(
        "gsettings",
        &["set", "org.gnome.shell", "disabled-extensions", "['a@x']"],
    );
    assert!(out.ok(), "{}", out.all());
    w.write_manifest("gnome-extensions.json", r#"{"extensions": ["a@x", "b@x"]}"#);
    let out = w.bkt(&["apply", "--yes", "-s", "extensions"]);
    out.assert_code(0);
    out.assert_stdout_has(
        "extensions b@x: not applied, it shares a write with a change left alone",
    );
    assert_eq!(keys(&w).1, "['a@x']", "the hand change stays");
    // Together, with --overwrite, both are applied.
    w.bkt(&["apply", "--yes", "--overwrite", "-s", "extensions"])
        .assert_code(0);
    assert_eq!(keys(&w), ("['a@x', 'b@x']".into(), "@as []".into()));
}

/// A tracked extension that is not installed is missing, never "in step": with the effects
/// that install it, or with a problem saying why it cannot be installed here.
#[test]
fn a_tracked_extension_that_is_not_installed_is_missing() {
    let w = World::unprivileged();
    // From extensions.gnome.org, on a machine with no GNOME Shell: nothing to install for.
    w.write_manifest(
        "gnome-extensions.json",
        r#"{"extensions": [{"uuid": "far@x", "source": "extensions.gnome.org"}]}"#,
    );
    let out = w.bkt(&["status", "-s", "extensions", "--format", "json"]);
    out.assert_code(1);
    let plugin = &out.json()["plugins"][0];
    assert_eq!(plugin["changes"][0]["id"], "far@x", "{plugin}");
    assert_eq!(plugin["changes"][0]["kind"], "missing", "{plugin}");
    let problem = plugin["problems"][0]["message"].as_str().unwrap_or("");
    assert!(problem.contains("cannot be installed here"), "{plugin}");
    assert!(
        !problem.contains("far@x"),
        "the subject is not repeated: {problem}"
    );
    // enable says the same instead of "nothing to change".
    let out = w.bkt(&["extension", "enable", "far@x"]);
    out.assert_all_has("cannot be installed here");
}

/// `add` names where an extension comes from; a source bkt cannot use is refused before
/// anything is written.
#[test]
fn add_takes_a_source() {
    let w = World::unprivileged();
    w.write_manifest("gnome-extensions.json", "{\"extensions\": []}\n");
    let before = w.manifest("gnome-extensions.json");
    for bad in [
        &["--from", "example.org"][..],
        &[
            "--zip",
            "https://example.org/x.zip",
            "--sha256",
            &"0".repeat(64),
        ],
        &["--zip", "file:///x.zip"],
    ] {
        let mut args = vec!["extension", "add", "zipped@x"];
        args.extend(bad);
        let out = w.bkt(&args);
        out.assert_code(2);
        assert_eq!(w.manifest("gnome-extensions.json"), before, "{bad:?}");
    }
    let (url, sha) = zip_of(&w, "zipped@x");
    let out = w.bkt(&[
        "extension",
        "add",
        "zipped@x",
        "--zip",
        &url,
        "--sha256",
        &sha,
    ]);
    out.assert_code(0);
    assert!(
        w.path(USER_DIR).join("zipped@x/extension.js").exists(),
        "{}",
        out.all()
    );
    let m: serde_json::Value = serde_json::from_str(&w.manifest("gnome-extensions.json")).unwrap();
    assert_eq!(m["extensions"][0]["source"]["zip"], url.as_str(), "{m}");
}
