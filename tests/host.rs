//! The host's promises about plugins: sandbox, capability checks, trust, limits, cache.
//! Driven by the probe test plugin, whose manifest tells it what to try.

mod common;
use common::World;
use common::probe::{probe_in, wasm as probe_wasm, with_probe};
use std::path::PathBuf;

/// `bkt apply --yes -s probe --root ROOT`.
fn apply_probe(w: &World, root: &str) -> common::Out {
    w.bkt(&["apply", "--yes", "-s", "probe", "--root", root])
}

#[test]
fn untrusted_plugins_do_not_load_and_changed_ones_are_refused() {
    let w = World::new();
    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.wasm");
    std::fs::copy(probe_wasm(), &path).unwrap();
    w.write_manifest("probe.json", "{}");

    let list = w.bkt(&["plugin", "list"]);
    list.assert_code(0);
    list.assert_stdout_has("not trusted yet");
    let status = w.bkt(&["status", "-s", "probe"]);
    status.assert_stderr_has("no subsystem \"probe\"");

    let trust = w.bkt(&["plugin", "trust", path.to_str().unwrap(), "--yes"]);
    trust.assert_code(0);
    trust.assert_stdout_has("runs:     true (as root)");
    trust.assert_stdout_has("echo WORD (as the user)");
    trust.assert_stdout_has("queries:  echo WORD");
    w.bkt(&["status", "-s", "probe"]).assert_code(0);

    // Same file name, other bytes: refused until trusted again.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"\0\0\0\0\0\0\0\0");
    std::fs::write(&path, bytes).unwrap();
    let list = w.bkt(&["plugin", "list"]);
    list.assert_stdout_has("changed since it was trusted");
}

#[test]
fn builtin_plugins_are_listed_with_capabilities() {
    let w = World::new();
    let out = w.bkt(&["plugin", "list", "--format", "json"]);
    out.assert_code(0);
    let plugins = out.json()["plugins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let g = plugins
        .iter()
        .find(|p| p["id"] == "gsettings")
        .expect("gsettings listed");
    assert_eq!(g["source"], "builtin");
    assert_eq!(
        g["capabilities"]["runs"][0]["argv"],
        "gsettings set SCHEMA WORD VALUE"
    );
    assert_eq!(g["capabilities"]["runs"][0]["as_root"], false);
}

/// The plugins bkt started for `args`, from its timing log: a builtin's info is part of the
/// binary, so a builtin starts only when the command calls it.
fn started(w: &World, args: &[&str]) -> Vec<String> {
    let mut cmd = w.bkt_command(args);
    cmd.env("RUST_LOG", "bkt::timing=debug");
    let out = cmd.output().expect("running bkt");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(": prepared in"))
        .filter_map(|l| {
            l.split("plugin ")
                .nth(1)?
                .split(':')
                .next()
                .map(String::from)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn builtins_start_only_when_a_command_calls_them() {
    let w = World::new();
    assert_eq!(started(&w, &["plugin", "list"]), Vec::<String>::new());
    w.write_manifest("kargs.json", r#"{"kargs": []}"#);
    assert_eq!(started(&w, &["status", "-s", "kargs"]), ["kargs"]);
}

/// render-section is pure: `containerfile check` starts a plugin only when its manifest (or
/// the plugin) changed since it last rendered, and a cached rendering someone replaced is not
/// used.
#[test]
fn sections_are_rendered_again_only_when_their_manifest_changes() {
    // Its own cache (root's is /var/cache/bkt).
    let w = World::unprivileged();
    w.write_manifest("kargs.json", r#"{"kargs": ["quiet"]}"#);
    std::fs::write(
        w.repo().join("Containerfile"),
        "FROM quay.io/fedora/fedora-bootc:42\n\n# === KERNEL_ARGUMENTS (managed by bkt) ===\n# === END KERNEL_ARGUMENTS ===\n",
    )
    .unwrap();
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let check = ["containerfile", "check"];
    assert_eq!(started(&w, &check), Vec::<String>::new());
    w.write_manifest("kargs.json", r#"{"kargs": ["quiet", "rhgb"]}"#);
    assert_eq!(started(&w, &check), ["kargs"]);
    // The section is now out of date, and check says so from the cached rendering too.
    w.bkt(&check).assert_code(1);
    assert_eq!(started(&w, &check), Vec::<String>::new());

    // A check answered from the kept renderings starts no engine at all.
    let mut quiet = w.bkt_command(&check);
    quiet.env("RUST_LOG", "bkt::timing=debug");
    let out = quiet.output().expect("running bkt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("engine and linker ready"), "{stderr}");

    // A kept rendering with other bytes than bkt wrote is not believed.
    let kept: Vec<std::path::PathBuf> = walk(&w.cache)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("renderings.json"))
        .collect();
    // One file, however many manifest texts were rendered.
    assert_eq!(kept.len(), 1, "{kept:?}");
    for path in &kept {
        std::fs::write(path, r#"{"bkt": "0.1.0", "plugins": {}}"#).unwrap();
    }
    assert_eq!(started(&w, &check), ["kargs"]);
}

#[test]
fn undeclared_queries_are_refused_and_reported() {
    let (w, _) = with_probe(r#"{"queries": [["echo", "hello"], ["rm", "-rf", "/nonexistent"]]}"#);
    let out = w.bkt(&["status", "-s", "probe"]);
    out.assert_code(1);
    out.assert_stdout_has(
        "plugin probe tried to run `rm -rf /nonexistent`, which it did not declare",
    );
    let (w, _) = with_probe(r#"{"queries": [["echo", "hello"]]}"#);
    let out = w.bkt(&["status", "-s", "probe", "--format", "json"]);
    out.assert_code(1);
    assert_eq!(out.json()["plugins"][0]["changes"][0]["summary"], "hello");
}

#[test]
fn undeclared_effects_are_refused_before_anything_runs() {
    let marker = tempfile::tempdir().unwrap();
    let made = marker.path().join("made");
    let manifest = format!(
        r#"{{"effects": [["sudo:true"], ["touch", "{}"]]}}"#,
        made.display()
    );
    let (w, _) = with_probe(&manifest);
    let out = w.bkt(&["apply", "--yes", "-s", "probe"]);
    out.assert_code(1);
    out.assert_stderr_has(&format!(
        "plugin probe runs `touch {}` as the user, which fits none of its declared programs",
        made.display()
    ));
    assert!(
        !out.stdout().contains("[1/"),
        "nothing may run: {}",
        out.stdout()
    );
    assert!(!made.exists());

    let (w, _) = with_probe(r#"{"writes": ["/etc/probe/ok", "/etc/passwd"]}"#);
    std::fs::create_dir_all(w.path("root")).unwrap();
    let out = apply_probe(&w, w.path("root").to_str().unwrap());
    out.assert_code(1);
    out.assert_stderr_has("writes /etc/passwd, outside its declared write paths");
    assert!(
        !w.path("root/etc/probe/ok").exists(),
        "the declared write must not run either"
    );
}

#[test]
fn file_effects_stay_under_the_root() {
    let (w, _) = with_probe(r#"{"writes": ["/etc/probe/conf.d/a.conf"]}"#);
    let root = w.path("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = apply_probe(&w, root.to_str().unwrap());
    out.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/probe/conf.d/a.conf")).unwrap(),
        "probe\n"
    );
}

#[test]
fn reads_see_only_declared_folders_under_the_root() {
    let (w, _) = with_probe(r#"{"reads": ["/etc/probe/motd", "/etc/hostname"]}"#);
    let root = w.path("root");
    std::fs::create_dir_all(root.join("etc/probe")).unwrap();
    std::fs::write(root.join("etc/probe/motd"), "from the test root\n").unwrap();
    let out = w.bkt(&[
        "status",
        "-s",
        "probe",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let p = &out.json()["plugins"][0];
    assert_eq!(
        p["changes"][0]["summary"],
        "from the test root",
        "{}",
        out.stdout()
    );
    assert_eq!(p["problems"][0]["id"], "/etc/hostname", "{}", out.stdout());
}

#[test]
fn a_panic_is_reported_with_the_plugin_and_its_message() {
    let (w, _) = with_probe(r#"{"panic": "the probe gave up"}"#);
    let out = w.bkt(&["status", "-s", "probe"]);
    out.assert_code(1);
    out.assert_stdout_has("plugin probe crashed");
    out.assert_stdout_has("the probe gave up");
}

#[test]
fn time_and_memory_limits_end_in_clear_errors() {
    let (w, _) = with_probe(r#"{"spin": true}"#);
    let out = w.bkt(&["status", "-s", "probe", "--plugin-timeout", "0.3"]);
    out.assert_code(1);
    out.assert_stdout_has("plugin probe ran longer than 0.3 s");

    let (w, _) = with_probe(r#"{"allocate_mib": 200}"#);
    let out = w.bkt(&["status", "-s", "probe", "--plugin-memory", "64"]);
    out.assert_code(1);
    out.assert_stdout_has("plugin probe needed more than 64 MiB");
}

#[test]
fn compiled_code_is_cached_privately_and_a_bad_artifact_is_recompiled() {
    // A third-party plugin's code is cached (the builtins' is part of bkt).
    let mut w = World::unprivileged();
    w.cache = w.path("cache");
    let (w, _) = probe_in(w, "{}");
    w.bkt(&["plugin", "list"]).assert_code(0);
    let folder = w.cache.join("bkt");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&folder).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);
    let artifacts: Vec<PathBuf> = walk(&folder)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert!(!artifacts.is_empty());
    // Each plugin's info is cached beside its code; without it, listing loads every plugin.
    let forget_info = || {
        for p in walk(&folder) {
            if p.to_string_lossy().ends_with(".info.json") {
                std::fs::remove_file(p).unwrap();
            }
        }
    };
    // Bytes other than those bkt recorded writing are not loaded.
    for a in &artifacts {
        std::fs::write(a, b"not an artifact").unwrap();
    }
    forget_info();
    let out = w.bkt(&["plugin", "list"]);
    out.assert_code(0);
    out.assert_stderr_has("it is not what bkt recorded writing there");
    for a in &artifacts {
        assert!(
            std::fs::metadata(a).unwrap().len() > 1000,
            "{} was not rewritten",
            a.display()
        );
    }

    // Artifacts others may write are not loaded, but compiled again and stored privately.
    let mode = |p: &PathBuf| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
            & 0o777
    };
    for a in &artifacts {
        std::fs::set_permissions(a, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    }
    forget_info();
    let out = w.bkt(&["plugin", "list"]);
    out.assert_code(0);
    out.assert_stderr_has("not using");
    out.assert_stderr_has("others may write to it (mode 666)");
    for a in &artifacts {
        assert_eq!(mode(a), 0o600, "{}", a.display());
    }
}

#[test]
fn root_caches_compiled_code_only_in_its_own_folder() {
    if common::test_uid() != 0 {
        return;
    }
    let mut w = World::new();
    w.cache = w.path("user-cache");
    w.bkt(&["plugin", "list"]).assert_code(0);
    assert!(
        !w.cache.exists(),
        "root wrote compiled code into the folder XDG_CACHE_HOME names"
    );
    assert!(std::path::Path::new("/var/cache/bkt/components").is_dir());
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn no_repository_is_a_clear_error() {
    let w = World::new();
    let out = {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bkt"));
        cmd.arg("status")
            .current_dir(w.path("home"))
            .env("HOME", w.path("home"))
            .env("XDG_CONFIG_HOME", w.path("home/.config"))
            .env("XDG_CACHE_HOME", &w.cache)
            .env_remove("BKT_REPO");
        common::Out(cmd.output().unwrap())
    };
    out.assert_code(2);
    out.assert_stderr_has("no bkt repository found");
}

#[test]
fn rendered_sections_cannot_break_the_containerfile() {
    let (w, _) = with_probe(r##"{"section": ["RUN ok", "# === END PROBE ===", "RUN after"]}"##);
    let original = "FROM x\n# === PROBE (managed by bkt) ===\n# === END PROBE ===\n";
    std::fs::write(w.repo().join("Containerfile"), original).unwrap();
    let out = w.bkt(&["containerfile", "sync"]);
    out.assert_code(2);
    out.assert_stderr_has("plugin probe rendered \"# === END PROBE ===\" into section PROBE");
    assert_eq!(
        std::fs::read_to_string(w.repo().join("Containerfile")).unwrap(),
        original
    );

    let (w, _) = with_probe(r#"{"section": ["RUN a", "RUN b"]}"#);
    std::fs::write(w.repo().join("Containerfile"), original).unwrap();
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(w.repo().join("Containerfile")).unwrap(),
        "FROM x\n# === PROBE (managed by bkt) ===\nRUN a\nRUN b\n# === END PROBE ===\n"
    );
}

#[test]
fn render_sees_nothing_of_the_machine() {
    // What status may read and ask is out of render-section's reach, and it is told a fixed
    // home: its sections depend on the manifest alone, which is what keeping them relies on.
    let (w, _) = with_probe(r#"{"render_tries": true, "reads": ["/etc/probe/motd"]}"#);
    let root = w.path("root");
    std::fs::create_dir_all(root.join("etc/probe")).unwrap();
    std::fs::write(root.join("etc/probe/motd"), "from the test root\n").unwrap();
    let root = root.to_str().unwrap();
    let status = w.bkt(&["status", "-s", "probe", "--root", root, "--format", "json"]);
    assert!(
        status.stdout().contains("from the test root"),
        "{}",
        status.stdout()
    );
    let original = "FROM x\n# === PROBE (managed by bkt) ===\n# === END PROBE ===\n";
    let containerfile = w.repo().join("Containerfile");
    std::fs::write(&containerfile, original).unwrap();
    w.bkt(&["containerfile", "sync", "--root", root])
        .assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&containerfile).unwrap(),
        "FROM x\n# === PROBE (managed by bkt) ===\n# home /home/user\n\
         # read /etc/probe/motd: not readable\n# === END PROBE ===\n"
    );

    // A declared query is refused there, and the rendering with it.
    std::fs::write(&containerfile, original).unwrap();
    w.write_manifest(
        "probe.json",
        r#"{"render_tries": true, "queries": [["echo", "hi"]]}"#,
    );
    let out = w.bkt(&["containerfile", "sync"]);
    out.assert_code(2);
    out.assert_stderr_has(
        "plugin probe tried to run `echo hi`, from render-section, which runs with no \
         capabilities; the host refused",
    );
    assert_eq!(std::fs::read_to_string(&containerfile).unwrap(), original);
}

#[test]
fn scope_filter_and_confirmation() {
    // The probe's runs change nothing it can see afterwards: each runs (and says ok), and
    // then bkt, which checks the machine after every change, reports it as not taken.
    const EFFECTS: &str = r#"{"effects": [["sudo:true"], ["echo", "user"]]}"#;
    let (w, _) = probe_in(World::unprivileged(), EFFECTS);
    let out = w.bkt(&["apply", "--yes", "-s", "probe", "--scope", "user"]);
    out.assert_code(1);
    out.assert_stdout_has("probe echo user … ok");
    out.assert_stderr_has("echo exited 0 but echo user is still absent");
    assert!(!out.all().contains("sudo:true … ok"), "{}", out.all());

    let (w, _) = with_probe(EFFECTS);
    if common::test_uid() == 0 {
        // Root with nobody on whose behalf it runs: user settings are not touched, and that
        // is a skip, said as one, not a failure.
        let out = w.bkt(&["apply", "--yes", "-s", "probe", "--scope", "user"]);
        out.assert_code(0);
        out.assert_stdout_has("1 user setting left to the user's own session");
        out.assert_stdout_has("in the user's own session");
        assert!(!out.all().contains("echo user … "), "{}", out.all());
        // Status offers apply only for what apply would do as root.
        let status = w.bkt(&["status", "-s", "probe", "--format", "json"]);
        let next = status.json()["plugins"][0]["next"].to_string();
        assert!(next.contains("applies 1 change"), "{next}");
        assert!(
            next.contains("1 user setting left to the user's own session"),
            "{next}"
        );
    }
    let out = w.bkt(&["apply", "--yes", "-s", "probe", "--scope", "system"]);
    out.assert_code(1);
    out.assert_stdout_has("probe sudo:true … ok");
    assert!(!out.all().contains("echo user … ok"), "{}", out.all());

    // Not a terminal and no --yes: nothing runs, and the message says what to do.
    let out = w.bkt(&["apply", "-s", "probe"]);
    out.assert_code(2);
    out.assert_stderr_has("pass --yes to apply, or --dry-run to only look");
    // Neither took, so nothing was recorded as agreed: both are still to apply.
    let dry = w.bkt(&["apply", "--dry-run", "-s", "probe"]);
    dry.assert_code(0);
    dry.assert_stdout_has("# true");
    if common::test_uid() == 0 {
        dry.assert_stdout_has("Plan: 1 change");
        dry.assert_stdout_has("1 user setting left to the user's own session");
    } else {
        dry.assert_stdout_has("Plan: 2 changes");
        dry.assert_stdout_has("$ echo user");
    }
}

#[test]
fn only_files_in_plugin_folders_can_be_trusted() {
    let w = World::new();
    let elsewhere = w.path("probe.wasm");
    std::fs::copy(probe_wasm(), &elsewhere).unwrap();
    let out = w.bkt(&["plugin", "trust", elsewhere.to_str().unwrap(), "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("is not in a plugin folder");
    out.assert_stderr_has(&w.path("data/bkt/plugins").display().to_string());
}

/// With `-v`, what a running program writes is shown under its step as it comes; without it,
/// and in JSON, it is not.
#[test]
fn a_running_program_s_output_is_streamed_with_verbose() {
    let (w, _) = probe_in(
        World::unprivileged(),
        r#"{"effects": [["echo", "from-the-tool"]]}"#,
    );
    let out = w.bkt(&["apply", "--yes", "-s", "probe", "-v"]);
    out.assert_stderr_has("│ from-the-tool");
    let quiet = w.bkt(&["apply", "--yes", "-s", "probe", "--format", "json"]);
    assert!(!quiet.all().contains("│ from-the-tool"), "{}", quiet.all());
}
