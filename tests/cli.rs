//! The command line keeps its word: one exit-status table for every command (0 in step or
//! done, 1 drift or a failed change, 2 bad input), JSON for every error, help for plugin
//! commands, quiet broken pipes, and verbosity levels that differ.

mod common;
use common::World;

const SETTINGS: &str =
    r#"{"settings": [{"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"}]}"#;

#[test]
fn one_exit_status_table_for_every_command() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    w.write_containerfile("FROM x\n");
    // 1: drift.
    w.bkt(&["status"]).assert_code(1);
    w.bkt(&["apply", "--dry-run"]).assert_code(0);
    // 0: done, then in step.
    w.bkt(&["apply", "--yes"]).assert_code(0);
    w.bkt(&["status"]).assert_code(0);
    w.bkt(&["capture"]).assert_code(0);
    w.bkt(&["containerfile", "check"]).assert_code(0);
    // 2: usage.
    w.bkt(&["apply", "--no-such-flag"]).assert_code(2);
    w.bkt(&["no-such-command"]).assert_code(2);
    w.bkt(&["gsetting", "set", "org.bkt.test"]).assert_code(2);
    // 2: a manifest that cannot be used, for every command that reads it.
    w.write_manifest("gsettings.json", "{\"settings\": [}");
    for args in [
        &["status"][..],
        &["apply", "--yes"],
        &["capture"],
        &["gsetting", "list"],
    ] {
        let out = w.bkt(args);
        out.assert_code(2);
        out.assert_all_has("manifests/gsettings.json:1:");
    }
    // 2: a Containerfile that cannot be used.
    w.write_manifest("gsettings.json", SETTINGS);
    w.write_containerfile("FROM x\n# === A (managed by bkt) ===\n");
    w.bkt(&["containerfile", "check"]).assert_code(2);
    w.bkt(&["status"]).assert_code(2);
    // 2: a repository that is not there.
    let out = w.bkt(&["status", "--repo", "/nonexistent"]);
    out.assert_code(2);
    out.assert_stderr_has("/nonexistent (from --repo) does not exist");
    // The table is in --help.
    let help = w.bkt(&["--help"]);
    help.assert_stdout_has("2  bad input");
}

#[test]
fn json_reports_the_errors_it_exits_for_with_a_format_version() {
    let w = World::with_schema();
    let out = w.bkt(&["status", "--repo", "/nonexistent", "--format", "json"]);
    out.assert_code(2);
    let doc = out.json();
    assert_eq!(doc["format_version"], 1);
    assert!(
        doc["error"]
            .as_str()
            .unwrap_or("")
            .contains("does not exist")
    );

    w.write_manifest("gsettings.json", SETTINGS);
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(1);
    let change = &out.json()["plugins"][0]["changes"][0];
    assert_eq!(change["wanted"], "'12h'");
    assert_eq!(change["live"], "'24h'");
    assert_eq!(change["live_is_default"], true);
    let out = w.bkt(&["apply", "--dry-run", "--format", "json"]);
    assert_eq!(out.json()["format_version"], 1);
}

#[test]
fn help_broken_pipes_and_verbosity() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    let help = w.bkt(&["help", "gsetting"]);
    help.assert_code(0);
    help.assert_stdout_has("set SCHEMA KEY VALUE");

    // `bkt status | head -1`: the pipe closes early; bkt ends without a panic message.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} status | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_bkt")
        ))
        .env("HOME", w.path("home"))
        .env("XDG_CONFIG_HOME", w.path("home/.config"))
        .env("XDG_STATE_HOME", w.path("state"))
        .env("GSETTINGS_SCHEMA_DIR", w.path("schemas"))
        .env("GSETTINGS_BACKEND", "keyfile")
        .current_dir(w.repo())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut stderr)
        .expect("read");
    child.wait().expect("wait");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let v = w.bkt(&["status", "-v"]).stderr();
    let vv = w.bkt(&["status", "-vv"]).stderr();
    assert!(v.contains("query: gsettings list-recursively"), "{v}");
    assert!(!v.contains("loaded in"), "{v}");
    assert!(vv.contains("loaded in"), "{vv}");
}

#[test]
fn counts_read_as_words() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    let out = w.bkt(&["status"]);
    out.assert_stdout_has("1 item · 1 differ");
    let out = w.bkt(&["apply", "--yes"]);
    out.assert_stdout_has("Applied 1 of 1 change\n");
}

/// The config file names the repository when bkt runs outside it, and a field it does not
/// know is named with the file.
#[test]
fn the_config_file_names_the_repository() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    w.write_containerfile("FROM x\n");
    let dir = w.path("home/.config/bkt");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    let exe = w.bkt_exe();
    let from_elsewhere = || {
        w.tool(
            "sh",
            &[
                "-c",
                "cd / && exec \"$0\" status --format json",
                exe.to_str().unwrap(),
            ],
        )
    };
    std::fs::write(&config, serde_json::json!({ "repo": w.repo() }).to_string()).unwrap();
    let out = from_elsewhere();
    out.assert_code(1);
    let plugins = out.json()["plugins"].clone();
    let gsettings = plugins
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == "gsettings"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(gsettings["state"], "drift", "{plugins}");

    std::fs::write(&config, r#"{"repo_path": "/x"}"#).unwrap();
    let out = from_elsewhere();
    out.assert_code(2);
    out.assert_stderr_has("config.json");
    out.assert_stderr_has("repo_path");
}

/// The completions the README installs load in the shells they are for.
#[test]
fn completions_load_in_their_shell() {
    let w = World::new();
    let exe = w.bkt_exe();
    let bash = w.tool(
        "bash",
        &[
            "-c",
            "source <(\"$0\" completions bash) && complete -p bkt",
            exe.to_str().unwrap(),
        ],
    );
    assert!(bash.ok(), "{}", bash.all());
    bash.assert_stdout_has("bkt");
    let zsh = w.bkt(&["completions", "zsh"]);
    zsh.assert_code(0);
    zsh.assert_stdout_has("#compdef bkt");
    let fish = w.bkt(&["completions", "fish"]);
    fish.assert_code(0);
    fish.assert_stdout_has("complete -c bkt");
}

/// `--color` wins over the environment; without it, CLICOLOR_FORCE colours a pipe and
/// NO_COLOR (set in every test world) keeps it plain.
#[test]
fn colour_is_chosen_by_flag_then_environment() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    let plain = w.bkt(&["status"]);
    assert!(!plain.stdout().contains('\x1b'), "{}", plain.stdout());
    let always = w.bkt(&["status", "--color", "always"]);
    assert!(always.stdout().contains("\x1b["), "{}", always.stdout());
    let never = w.bkt(&["--color", "never", "status"]);
    assert!(!never.stdout().contains('\x1b'));
}

/// `-q` leaves out what only narrates (progress, notes); the result and errors stay.
#[test]
fn quiet_says_the_result_only() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    let loud = w.bkt(&["apply", "--yes"]);
    loud.assert_code(0);
    loud.assert_stdout_has("[1/1]");
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [{"schema": "org.bkt.test", "key": "clock-format", "value": "'24h'"}]}"#,
    );
    let quiet = w.bkt(&["apply", "--yes", "-q"]);
    quiet.assert_code(0);
    assert!(!quiet.stdout().contains("[1/1]"), "{}", quiet.stdout());
    quiet.assert_stdout_has("Applied 1 of 1 change");
    w.bkt(&["status", "-q", "-v"]).assert_code(2);
}

/// The manual page is roff that man renders, naming the commands.
#[test]
fn the_manual_page_renders() {
    let w = World::new();
    let page = w.bkt(&["man"]);
    page.assert_code(0);
    page.assert_stdout_has(".TH bkt 1");
    let file = w.path("bkt.1");
    std::fs::write(&file, page.stdout()).unwrap();
    let shown = std::process::Command::new("man")
        .args(["-l", file.to_str().unwrap()])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    // man-db is not on every machine; when it is, the page must render.
    if let Ok(shown) = shown {
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(
            text.contains("SYNOPSIS") && text.contains("status"),
            "{text}"
        );
    }
}
