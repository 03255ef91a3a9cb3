//! Trust holds what `bkt plugin trust` showed: names are exclusive (builtins win), the whole
//! declaration is pinned with the hash, and trust follows symlinked folders.

mod common;
use common::World;
use std::path::{Path, PathBuf};

fn test_plugin(name: &str) -> PathBuf {
    PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join(format!("bkt_plugin_{name}.wasm"))
}

/// Copies a test plugin into the user's plugin folder.
fn install(w: &World, name: &str) -> PathBuf {
    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::copy(test_plugin(name), &path).unwrap();
    path
}

fn trust_store(w: &World) -> PathBuf {
    w.path("home/.config/bkt/trusted-plugins.json")
}

/// The `plugin list --format json` entry of the file at `path`.
fn listed(w: &World, path: &Path) -> serde_json::Value {
    let out = w.bkt(&["plugin", "list", "--format", "json"]);
    out.assert_code(0);
    let plugins = out.json()["plugins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    plugins
        .into_iter()
        .find(|p| p["source"] == path.display().to_string())
        .unwrap_or_else(|| panic!("{} not listed", path.display()))
}

#[test]
fn a_plugin_cannot_take_a_builtin_s_command_or_section() {
    let w = World::new();
    let path = install(&w, "impostor");
    let out = w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("impostor claims the command \"dnf\", which the plugin dnf already has");
    assert!(!trust_store(&w).exists(), "nothing was trusted");

    // Even trusted by hand, it does not load, and `plugin list` names both.
    let sha = listed(&w, &path)["sha256"].as_str().unwrap().to_string();
    std::fs::create_dir_all(trust_store(&w).parent().unwrap()).unwrap();
    let declared = serde_json::json!({
        "id": "impostor", "command": "dnf", "manifest": "impostor.json",
        "sections": ["SYSTEM_PACKAGES"], "verbs": [], "queries": [], "runs": [],
        "reads": [], "writes": []
    });
    let store =
        serde_json::json!({"trusted": [{"path": path, "sha256": sha, "declared": declared}]});
    std::fs::write(trust_store(&w), store.to_string()).unwrap();
    let entry = listed(&w, &path);
    let why = entry["error"].as_str().unwrap_or("");
    assert!(
        why.contains("claims the command \"dnf\", which the plugin dnf already has"),
        "{entry}"
    );

    w.write_manifest("system-packages.json", r#"{"packages": ["htop"]}"#);
    w.write_containerfile(
        "FROM x\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n# === SYSTEM_PACKAGES (managed by bkt) ===\n# === END SYSTEM_PACKAGES ===\n",
    );
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    assert!(!w.containerfile().contains("example.invalid"));
    assert!(w.containerfile().contains("    htop \\\n"));
    let list = w.bkt(&["dnf", "list"]);
    list.assert_code(0);
    list.assert_stdout_has("packages (1):");
}

#[test]
fn a_plugin_cannot_declare_a_folder_that_holds_bkt_s_own() {
    let w = World::new();
    let path = install(&w, "squatter");
    let out = w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("its write folder ~/.config/");
    out.assert_stderr_has("would reach bkt's own");
    assert!(!trust_store(&w).exists(), "nothing was trusted");

    // Trusted by hand, it still does not load; the rest of bkt works.
    let sha = listed(&w, &path)["sha256"].as_str().unwrap().to_string();
    std::fs::create_dir_all(trust_store(&w).parent().unwrap()).unwrap();
    let declared = serde_json::json!({
        "id": "squatter", "command": "squatter", "manifest": "squatter.json",
        "sections": [], "verbs": [], "queries": [], "runs": [],
        "reads": [], "writes": ["~/.config/"]
    });
    let store = serde_json::json!({"version": 2,
        "trusted": [{"path": path, "sha256": sha, "declared": declared}]});
    std::fs::write(trust_store(&w), store.to_string()).unwrap();
    let entry = listed(&w, &path);
    let why = entry["error"].as_str().unwrap_or("");
    assert!(why.contains("would reach bkt's own"), "{entry}");
    w.write_manifest("squatter.json", "{}");
    let out = w.bkt(&["status"]);
    assert!(!out.all().contains("squatter   "), "{}", out.all());
    out.assert_stdout_has("skipped");
}

#[test]
fn a_declaration_other_than_the_trusted_one_is_refused_with_what_changed() {
    let w = World::new();
    let path = install(&w, "probe");
    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    w.write_manifest("probe.json", "{}");
    w.bkt(&["status", "-s", "probe"]).assert_code(0);

    // As if the plugin had shown fewer queries when it was trusted.
    let text = std::fs::read_to_string(trust_store(&w)).unwrap();
    let mut store: serde_json::Value = serde_json::from_str(&text).unwrap();
    store["trusted"][0]["declared"]["queries"] = serde_json::json!([]);
    std::fs::write(trust_store(&w), store.to_string()).unwrap();
    let entry = listed(&w, &path);
    let why = entry["error"].as_str().unwrap_or("");
    assert!(
        why.contains("declares other things than when it was trusted"),
        "{entry}"
    );
    assert!(why.contains("queries gained `=echo <word>`"), "{entry}");
    let out = w.bkt(&["status", "-s", "probe"]);
    out.assert_code(2);

    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    w.bkt(&["status", "-s", "probe"]).assert_code(0);
}

#[test]
fn trust_follows_symlinked_folders() {
    let mut w = World::new();
    std::fs::create_dir_all(w.path("var/data")).unwrap();
    std::os::unix::fs::symlink(w.path("var/data"), w.path("linked-data")).unwrap();
    w.extra_env.push((
        "XDG_DATA_HOME".into(),
        w.path("linked-data").display().to_string(),
    ));
    let dir = w.path("linked-data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.wasm");
    std::fs::copy(test_plugin("probe"), &path).unwrap();
    w.write_manifest("probe.json", "{}");
    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    w.bkt(&["status", "-s", "probe"]).assert_code(0);
}

#[test]
fn a_section_cannot_continue_past_its_end_marker() {
    let w = World::new();
    let path = install(&w, "probe");
    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    let original = "FROM x\n# === PROBE (managed by bkt) ===\n# === END PROBE ===\nUSER 1000\n";
    w.write_containerfile(original);
    // The parser skips blank and comment lines while it continues an instruction, the END
    // marker among them: each of these would make `USER 1000` part of the plugin's `RUN`.
    for (section, says) in [
        (r##"["RUN true \\"]"##, "would continue past the END marker"),
        (
            r##"["RUN true \\", ""]"##,
            "would continue past the END marker",
        ),
        (
            r##"["RUN true \\", "# c"]"##,
            "would continue past the END marker",
        ),
        (
            r##"["RUN <<EOF", "echo x"]"##,
            "heredoc <<EOF is not closed",
        ),
        (r##"["# syntax=evil/frontend"]"##, "parser directive"),
        (
            r##"["RUN true", "#=== END PROBE ==="]"##,
            "looks like a bkt marker",
        ),
    ] {
        w.write_manifest("probe.json", &format!(r#"{{"section": {section}}}"#));
        let out = w.bkt(&["containerfile", "sync"]);
        out.assert_code(2);
        out.assert_stderr_has("plugin probe rendered section PROBE");
        out.assert_stderr_has(says);
        assert_eq!(w.containerfile(), original, "{section}");
    }
    // A continued instruction that ends inside the section is the plugin's own business.
    w.write_manifest("probe.json", r#"{"section": ["RUN true \\", "  && true"]}"#);
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    assert!(
        w.containerfile()
            .contains("RUN true \\\n  && true\n# === END PROBE ===")
    );
}

/// Builtins run the code compiled into bkt: nothing of theirs is read from or written to the
/// compiled-code cache, so no file there can stand in for them. A third-party plugin's code is
/// cached, and used again only with bkt's record of it.
#[test]
fn builtin_code_never_comes_from_the_cache() {
    // As a user: root's cache is /var/cache/bkt, whatever the environment says.
    let mut w = World::unprivileged();
    w.cache = w.path("cache");
    w.bkt(&["status", "--format", "json"]);
    let cached: Vec<_> = walk(&w.cache);
    assert!(cached.is_empty(), "builtins cached {cached:?}");

    let path = install(&w, "probe");
    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    let cached = walk(&w.cache);
    assert!(
        cached
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "cwasm")),
        "{cached:?}"
    );
    let records = walk(&w.path("state/bkt/compiled"));
    assert_eq!(records.len(), cached.len(), "{records:?} for {cached:?}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files
}

/// `bkt plugin check` tries a file from anywhere: its declaration, its plan and sections for
/// the repository; nothing is trusted, and the file does not have to be in a plugin folder.
#[test]
fn check_tries_a_plugin_without_trusting_it() {
    let w = World::new();
    let file = w.path("work/probe.wasm");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::copy(test_plugin("probe"), &file).unwrap();
    w.write_manifest("probe.json", "{}");
    let out = w.bkt(&["plugin", "check", file.to_str().unwrap()]);
    out.assert_code(0);
    out.assert_stdout_has("sha256:");
    out.assert_stdout_has("plan of manifests/probe.json:");
    out.assert_stdout_has("Nothing was trusted, installed or run.");
    assert!(!trust_store(&w).exists(), "nothing was trusted");
    // A file that is not a component is refused with why.
    std::fs::write(w.path("work/junk.wasm"), b"not wasm").unwrap();
    let out = w.bkt(&[
        "plugin",
        "check",
        w.path("work/junk.wasm").to_str().unwrap(),
    ]);
    out.assert_code(2);
}

/// Trusting a file again shows what its declaration changed since it was last trusted.
#[test]
fn trusting_a_changed_plugin_shows_what_it_now_declares() {
    let w = World::new();
    let path = install(&w, "probe");
    w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"])
        .assert_code(0);
    // As if the version trusted before had declared no queries.
    let text = std::fs::read_to_string(trust_store(&w)).unwrap();
    let mut store: serde_json::Value = serde_json::from_str(&text).unwrap();
    store["trusted"][0]["declared"]["queries"] = serde_json::json!([]);
    std::fs::write(trust_store(&w), store.to_string()).unwrap();
    let out = w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    out.assert_stdout_has("Since it was last trusted:\n      queries gained `=echo <word>`");
}
