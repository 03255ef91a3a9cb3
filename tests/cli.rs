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

/// What bash's completion offers after `line` (the last word is the one being completed),
/// asked the way bash asks: the script `bkt completions bash` prints, sourced, its function
/// called with COMP_WORDS and COMP_CWORD set.
fn bash_completes(w: &World, line: &str) -> Vec<String> {
    let exe = w.bkt_exe();
    let dir = exe.parent().unwrap().to_str().unwrap().to_string();
    let script = r#"
        PATH="$1:$PATH"
        source <(bkt completions bash) || exit 9
        read -ra COMP_WORDS <<< "$2"
        [[ "$2" == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _clap_complete_bkt bkt "${COMP_WORDS[$COMP_CWORD]}" "${COMP_WORDS[$COMP_CWORD - 1]}"
        for c in "${COMPREPLY[@]}"; do printf '%s\n' "$c"; done
    "#;
    let out = w.tool("bash", &["-c", script, "bash", &dir, line]);
    assert!(out.ok(), "{}", out.all());
    out.stdout().lines().map(String::from).collect()
}

/// A verb's values come from its plugin: the manifest's items after `remove` and `unset`,
/// the installed schemas and their keys after `gsetting set`.
#[test]
fn completion_offers_what_a_verb_can_take() {
    let w = World::with_schema();
    // What is offered that is not a flag.
    let values = |w: &World, line: &str| -> Vec<String> {
        bash_completes(w, line)
            .into_iter()
            .filter(|c| !c.starts_with('-'))
            .collect()
    };
    w.write_manifest(
        "system-packages.json",
        r#"{"packages": ["htop", "vim-enhanced"]}"#,
    );
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [{"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"}]}"#,
    );
    assert_eq!(values(&w, "bkt dnf remove "), ["htop", "vim-enhanced"]);
    // With nothing typed yet, the verb's flags are offered too, after its values.
    assert!(bash_completes(&w, "bkt dnf remove ").contains(&"--no-apply".to_string()));
    assert_eq!(values(&w, "bkt dnf remove htop "), ["vim-enhanced"]);
    assert_eq!(values(&w, "bkt dnf remove v"), ["vim-enhanced"]);
    assert!(values(&w, "bkt dnf install ").is_empty());
    assert_eq!(
        values(&w, "bkt gsetting unset org.bkt.test "),
        ["clock-format"]
    );
    assert_eq!(values(&w, "bkt gsetting set org.bkt.t"), ["org.bkt.test"]);
    assert_eq!(
        values(&w, "bkt gsetting set org.bkt.test i"),
        ["idle-delay"]
    );
}

/// Completion asks bkt as the user types: built-in commands, plugin commands and their verbs,
/// subsystem ids for `-s`, and a third-party plugin once it is trusted.
#[test]
fn completion_knows_the_plugins() {
    let w = World::new();
    assert_eq!(bash_completes(&w, "bkt dn"), ["dnf"]);
    assert_eq!(bash_completes(&w, "bkt dnf ins"), ["install"]);
    assert_eq!(bash_completes(&w, "bkt status -s gs"), ["gsettings"]);
    assert_eq!(bash_completes(&w, "bkt sta"), ["status"]);
    assert!(bash_completes(&w, "bkt dnf install x --no").contains(&"--no-apply".to_string()));

    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let plugin = dir.join("probe.wasm");
    std::fs::copy(
        std::path::PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join("bkt_plugin_probe.wasm"),
        &plugin,
    )
    .unwrap();
    assert!(bash_completes(&w, "bkt pro").is_empty(), "not trusted yet");
    w.bkt(&["plugin", "trust", plugin.to_str().unwrap(), "--yes"])
        .assert_code(0);
    assert_eq!(bash_completes(&w, "bkt pro"), ["probe"]);

    // zsh and fish get scripts that ask bkt the same way.
    let zsh = w.bkt(&["completions", "zsh"]);
    zsh.assert_code(0);
    zsh.assert_stdout_has("#compdef bkt");
    zsh.assert_stdout_has("COMPLETE=\"zsh\"");
    let fish = w.bkt(&["completions", "fish"]);
    fish.assert_code(0);
    fish.assert_stdout_has("complete --keep-order --exclusive --command bkt");
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

/// `bkt manpages DIR` writes a page per command, plugin commands and verbs included, each
/// rendered by the real groff without a warning.
#[test]
fn the_manual_pages_render() {
    let w = World::new();
    let dir = w.path("man1");
    w.bkt(&["manpages", dir.to_str().unwrap()]).assert_code(0);
    for page in [
        "bkt.1",
        "bkt-status.1",
        "bkt-upgrade.1",
        "bkt-dnf.1",
        "bkt-dnf-install.1",
    ] {
        let file = dir.join(page);
        assert!(file.is_file(), "{page} missing");
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&file)
            .output()
            .expect("groff");
        assert!(out.status.success(), "{page}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{page}");
    }
    let page = std::fs::read_to_string(dir.join("bkt-dnf-install.1")).unwrap();
    assert!(page.contains(".TH bkt-dnf-install 1"), "{page}");
    assert!(page.contains("no\\-apply"), "{page}");
}

/// Every refusal reads the same: `error: what went wrong`, then `hint: what to do` where
/// there is something to do, clap's own refusals included; slips of the keyboard get a
/// suggestion, and flags that contradict each other are refused.
#[test]
fn every_error_has_one_style_and_slips_get_a_suggestion() {
    let w = World::new();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["stauts"],
            &[
                "error: unknown command \"stauts\"",
                "hint: did you mean `bkt status`?",
            ],
        ),
        (
            &["dnf", "instal", "x"],
            &[
                "error: bkt dnf has no verb \"instal\"",
                "hint: did you mean `bkt dnf install`?",
            ],
        ),
        (
            &["status", "-s", "gsetings"],
            &[
                "error: no subsystem \"gsetings\"",
                "hint: did you mean \"gsettings\"?",
            ],
        ),
        (
            &["status", "--bogus"],
            &["error: unexpected argument '--bogus' found"],
        ),
        (
            &["status", "-q", "-v"],
            &["error: the argument '--quiet' cannot be used with"],
        ),
        (
            &[
                "flatpak",
                "add",
                "org.gnome.Maps",
                "--user",
                "--system",
                "--dry-run",
            ],
            &[
                "error: --user and --system name two installations",
                "hint: use one of them",
            ],
        ),
        (
            &["dnf", "install", "x", "--local", "--no-apply"],
            &["error: --local is for commands that change something here"],
        ),
        (
            &["dnf", "install", "x", "--local", "--pr"],
            &[
                "error: --pr proposes the repository's change and --local keeps the repository as it is",
            ],
        ),
        (
            &["upgrade", "--check", "--reboot"],
            &["error: the argument '--check' cannot be used with '--reboot'"],
        ),
    ];
    for (args, wanted) in cases {
        let out = w.bkt(args);
        out.assert_code(2);
        let stderr = out.stderr();
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("bkt: "), "{args:?}: {stderr}");
        for line in *wanted {
            assert!(stderr.contains(line), "{args:?} lacks {line:?}: {stderr}");
        }
    }
}
