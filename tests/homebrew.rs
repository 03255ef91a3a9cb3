//! The example third-party plugin (`examples/plugins/homebrew`), built from its own crate the
//! way its author would build it, then checked, trusted and used against a stand-in brew that
//! replays a real brew's output (`tests/doubles/brew`, tests/fixtures/recorded/README.md).
//!
//! The plugin declares brew at Homebrew's own place, `/home/linuxbrew/.linuxbrew/bin/brew`;
//! each test runs bkt in a private mount namespace where a bind mount puts the test's brew
//! prefix there, so the machine's `/home` is never touched. Mount namespaces need root, as CI
//! runs the tests; bkt itself runs as an unprivileged user, as brew requires.

mod common;
use common::{Out, World};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn can_mount() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: putting a brew at /home/linuxbrew needs root");
    }
    root
}

/// The example built for wasm32-wasip2 from its own crate, once per test run.
fn example_wasm() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-plugins");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip2",
            ])
            .arg("--manifest-path")
            .arg(root.join("examples/plugins/homebrew/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            // Flags meant for bkt's own build are not the example's.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .expect("cargo");
        assert!(
            out.status.success(),
            "building the example: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("wasm32-wasip2/release/bkt_example_homebrew.wasm")
    })
}

/// A brew prefix at `linuxbrew/.linuxbrew` in `dir`: the stand-in as `bin/brew`, the
/// recording it replays, and what it holds installed: every recorded formula but `missing`.
fn brew_prefix(dir: &Path, missing: &[&str]) -> PathBuf {
    let prefix = dir.join("linuxbrew/.linuxbrew");
    for sub in ["bin", "share", "var"] {
        std::fs::create_dir_all(prefix.join(sub)).unwrap();
    }
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::copy(
        repo_root.join("tests/doubles/brew"),
        prefix.join("bin/brew"),
    )
    .unwrap();
    let recorded = repo_root.join("tests/fixtures/recorded/brew/info-v2-installed.json");
    std::fs::copy(&recorded, prefix.join("share/recorded.json")).unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&recorded).unwrap()).unwrap();
    let mut installed = serde_json::Map::new();
    for f in info["formulae"].as_array().unwrap() {
        let name = f["full_name"].as_str().unwrap();
        if !missing.contains(&name) {
            let asked = f["installed"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["installed_on_request"] == true);
            installed.insert(name.into(), asked.into());
        }
    }
    let state = serde_json::json!({"installed": installed, "taps": []});
    std::fs::write(prefix.join("var/stand-in.json"), state.to_string()).unwrap();
    prefix
}

/// What the stand-in was asked, one call a line.
fn calls(prefix: &Path) -> String {
    std::fs::read_to_string(prefix.join("var/calls.log")).unwrap_or_default()
}

/// bkt with `args` as the world's user, where `/home/linuxbrew` is `brew_home`'s
/// `linuxbrew` folder.
fn bkt_with_brew(w: &World, brew_home: &Path, args: &[&str]) -> Out {
    let uid = w.user.expect("an unprivileged world");
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs -o mode=755 tmpfs /home && \
         mkdir /home/linuxbrew && mount --bind {} /home/linuxbrew && \
         exec setpriv --reuid={uid} --regid={uid} --clear-groups \"$0\" \"$@\"",
        brew_home.join("linuxbrew").display()
    );
    let mut cmd = w.command_as_test_user("unshare");
    cmd.args(["--mount", "sh", "-c", &script])
        .arg(w.bkt_exe())
        .args(args);
    Out(cmd.output().expect("unshare"))
}

const MANIFEST: &str = r#"{
  "$schema": "https://wycats.github.io/bootc/homebrew.schema.json",
  "formulae": [
    "git",
    "wget",
    {
      "name": "node"
    }
  ],
  "taps": ["valkyrie00/bbrew"]
}"#;

/// A world with the example in the user's plugin folder and its manifest.
fn world() -> (World, PathBuf) {
    let w = World::unprivileged();
    let plugins = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join("homebrew.wasm");
    std::fs::copy(example_wasm(), &plugin).unwrap();
    w.write_manifest("homebrew.json", MANIFEST);
    (w, plugin)
}

#[test]
fn the_example_is_checked_trusted_and_keeps_brew_in_step() {
    if !can_mount() {
        return;
    }
    let (w, plugin) = world();
    let plugin = plugin.to_str().unwrap();
    // In the world: handed to its user with everything else.
    let home = w.path("");
    let prefix = brew_prefix(&home, &["wget"]);
    let bkt = |args: &[&str]| bkt_with_brew(&w, &home, args);

    // Checked before anyone trusts it: its declaration, brew's place, and its plan.
    let check = bkt(&["plugin", "check", plugin]);
    check.assert_stdout_has("programs: brew = /home/linuxbrew/.linuxbrew/bin/brew");
    check.assert_stdout_has("license:  Apache-2.0");
    check.assert_stdout_has("wget");
    check.assert_stdout_has("Nothing was trusted");
    assert!(!w.path("home/.config/bkt/trusted-plugins.json").exists());

    bkt(&["plugin", "trust", plugin, "--yes"]).assert_code(0);
    let status = bkt(&["status", "-s", "homebrew"]);
    status.assert_stdout_has("wget");
    status.assert_stdout_has("valkyrie00/bbrew");
    // One listing of the formulae and one of the taps, whatever the number of formulae.
    // (plugin check's plan and this one; the two of a plan run side by side, in any order).
    let mut asked: Vec<String> = calls(&prefix).lines().map(String::from).collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "info --json=v2 --installed",
            "info --json=v2 --installed",
            "tap",
            "tap"
        ]
    );

    // Apply installs what is missing, asked of brew as the user; what was installed by hand
    // here (new since nothing was synced) is left for capture.
    let apply = bkt(&["apply", "-s", "homebrew", "--yes"]);
    apply.assert_code(0);
    let log = calls(&prefix);
    assert!(log.contains("\ninstall wget\n"), "{log}");
    assert!(log.contains("\ntap valkyrie00/bbrew\n"), "{log}");
    assert!(!log.contains("uninstall"), "{log}");
    let state = std::fs::read_to_string(prefix.join("var/stand-in.json")).unwrap();
    assert!(state.contains("\"wget\": true"), "{state}");

    // Capture takes the formulae installed on request, not those that came as dependencies,
    // and writes only what changed: the original's `$schema` and entries stay as they were.
    let capture = bkt(&["capture", "-s", "homebrew"]);
    capture.assert_code(0);
    let m = w.manifest("homebrew.json");
    assert!(m.starts_with("{\n  \"$schema\": \"https://wycats.github.io/bootc/homebrew.schema.json\",\n  \"formulae\": [\n    \"git\",\n    \"wget\",\n    {\n      \"name\": \"node\"\n    },"), "{m}");
    assert!(m.contains("\"automake\""), "{m}");
    assert!(!m.contains("\"aom\""), "{m}");
    bkt(&["status", "-s", "homebrew"]).assert_stdout_has("in step");

    // A verb: out of the manifest and uninstalled here.
    let remove = bkt(&["brew", "remove", "git"]);
    remove.assert_code(0);
    assert!(!w.manifest("homebrew.json").contains("\"git\""));
    let log = calls(&prefix);
    assert!(log.contains("\nuninstall git\n"), "{log}\n{}", remove.all());
    let state = std::fs::read_to_string(prefix.join("var/stand-in.json")).unwrap();
    assert!(!state.contains("\"git\""), "{state}");
}

#[test]
fn a_brew_someone_else_can_change_is_not_run() {
    if !can_mount() {
        return;
    }
    let (w, plugin) = world();
    // Outside the world, owned by another user (daemon, uid 1) than the one bkt runs as.
    let elsewhere = tempfile::tempdir().unwrap();
    let prefix = brew_prefix(elsewhere.path(), &[]);
    let st = std::process::Command::new("chown")
        .args(["-R", "1:1"])
        .arg(elsewhere.path().join("linuxbrew"))
        .status()
        .unwrap();
    assert!(st.success());
    // Its log folder open to all (it is not on the way to bin/brew): had brew run as the
    // world's user, it could have said so.
    std::fs::set_permissions(
        prefix.join("var"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let bkt = |args: &[&str]| bkt_with_brew(&w, elsewhere.path(), args);
    bkt(&["plugin", "trust", plugin.to_str().unwrap(), "--yes"]).assert_code(0);
    let out = bkt(&["status", "-s", "homebrew"]);
    out.assert_all_has("belongs to user 1, not to root or user");
    assert_eq!(calls(&prefix), "", "brew ran");
}
