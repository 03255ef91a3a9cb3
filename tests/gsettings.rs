//! The gsettings subsystem end to end, with the real `gsettings` (keyfile backend, a compiled
//! test schema, a throwaway XDG_CONFIG_HOME).

mod common;
use common::World;

const MANIFEST: &str = r#"{
  "settings": [
    {
      "schema": "org.bkt.other",
      "key": "size",
      "value": "42",
      "comment": "bigger"
    },
    {
      "schema": "org.bkt.test",
      "key": "clock-format",
      "value": "'12h'"
    },
    {
      "schema": "org.bkt.test",
      "key": "favorites",
      "value": "['a.desktop', 'b.desktop']"
    },
    {
      "schema": "org.bkt.test",
      "key": "idle-delay",
      "value": "uint32 900"
    }
  ]
}
"#;

#[test]
fn apply_sets_the_manifest_values() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", MANIFEST);
    let status = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    status.assert_code(1);
    let g = &status.json()["plugins"][0];
    assert_eq!(g["id"], "gsettings");
    assert_eq!(g["items"], 4);
    assert_eq!(g["differs"], 4, "{}", status.stdout());

    let applied = w.bkt(&["apply", "-s", "gsettings", "--yes"]);
    applied.assert_code(0);
    applied.assert_stdout_has("Applied 4 of 4 changes");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");
    assert_eq!(w.gsettings_get("org.bkt.test", "idle-delay"), "uint32 900");
    assert_eq!(
        w.gsettings_get("org.bkt.test", "favorites"),
        "['a.desktop', 'b.desktop']"
    );
    assert_eq!(w.gsettings_get("org.bkt.other", "size"), "42");

    // Equal after parsing: in step now, and a second apply has nothing to do.
    let again = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    assert_eq!(
        again.json()["plugins"][0]["state"],
        "ok",
        "{}",
        again.stdout()
    );
    let noop = w.bkt(&["apply", "-s", "gsettings", "--yes"]);
    noop.assert_code(0);
    assert!(noop.stdout().contains("Nothing to apply"));
}

#[test]
fn a_hand_change_shows_as_differs_and_capture_keeps_the_rest() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", MANIFEST);
    w.bkt(&["apply", "-s", "gsettings", "--yes"]).assert_code(0);
    assert!(
        w.tool(
            "gsettings",
            &["set", "org.bkt.test", "clock-format", "'24h'"]
        )
        .ok()
    );

    let status = w.bkt(&["status", "-s", "gsettings"]);
    status.assert_code(1);
    status.assert_stdout_has("1 differ");
    status.assert_stdout_has("(changed on this machine)");
    status.assert_stdout_has("→ bkt capture -s gsettings keeps 1 change made on this machine");
    assert!(
        status
            .stdout()
            .contains("org.bkt.test clock-format: '12h' → '24h'"),
        "{}",
        status.stdout()
    );

    let dry = w.bkt(&["capture", "-s", "gsettings", "--dry-run"]);
    dry.assert_code(0);
    dry.assert_stdout_has("-      \"value\": \"'12h'\"");
    assert_eq!(w.manifest("gsettings.json"), MANIFEST, "dry run wrote");

    w.bkt(&["capture", "-s", "gsettings"]).assert_code(0);
    let expected = MANIFEST.replace("\"value\": \"'12h'\"", "\"value\": \"'24h'\"");
    assert_eq!(w.manifest("gsettings.json"), expected);
    let status = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    assert_eq!(status.json()["plugins"][0]["state"], "ok");
}

#[test]
fn malformed_json_names_file_line_and_column_and_writes_nothing() {
    let w = World::with_schema();
    let bad = "{\n  \"settings\": [\n    {\"schema\": \"org.bkt.test\",}\n  ]\n}\n";
    w.write_manifest("gsettings.json", bad);
    let status = w.bkt(&["status", "-s", "gsettings"]);
    status.assert_code(2);
    status.assert_all_has("manifests/gsettings.json:3:");
    let capture = w.bkt(&["capture", "-s", "gsettings"]);
    capture.assert_code(2);
    capture.assert_stderr_has("manifests/gsettings.json:3:");
    assert_eq!(w.manifest("gsettings.json"), bad);
    let set = w.bkt(&["gsetting", "set", "org.bkt.test", "clock-format", "'12h'"]);
    set.assert_code(2);
    assert_eq!(w.manifest("gsettings.json"), bad);
}

#[test]
fn unknown_fields_and_bad_values_name_the_entry() {
    let w = World::with_schema();
    w.write_manifest(
        "gsettings.json",
        r#"{"settings":[{"schema":"org.bkt.test","key":"clock-format","value":"'12h'","valeu":"x"}]}"#,
    );
    let out = w.bkt(&["status", "-s", "gsettings"]);
    out.assert_code(2);
    out.assert_stdout_has("settings[0].valeu");
    out.assert_stdout_has("unknown field");

    w.write_manifest(
        "gsettings.json",
        r#"{"settings":[{"schema":"org.bkt.test","key":"clock-format","value":"'12h'"},{"schema":"org.bkt.test","key":"idle-delay","value":"dark"}]}"#,
    );
    let out = w.bkt(&["apply", "-s", "gsettings", "--yes"]);
    out.assert_code(2);
    out.assert_stderr_has("settings[1].value");
    out.assert_stderr_has("org.bkt.test idle-delay");
    // An invalid manifest applies nothing at all.
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
}

#[test]
fn unknown_schema_or_key_fails_that_entry_only() {
    let w = World::with_schema();
    w.write_manifest(
        "gsettings.json",
        r#"{"settings":[
            {"schema":"org.bkt.missing","key":"x","value":"1"},
            {"schema":"org.bkt.test","key":"clock-format","value":"'12h'"},
            {"schema":"org.bkt.test","key":"no-such-key","value":"1"}]}"#,
    );
    let out = w.bkt(&["apply", "-s", "gsettings", "--yes"]);
    out.assert_code(1);
    out.assert_stderr_has("no such schema \"org.bkt.missing\"");
    out.assert_stderr_has("has no key \"no-such-key\"");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");
}

#[test]
fn without_gsettings_status_says_unavailable_and_succeeds() {
    let mut w = World::with_schema();
    w.write_manifest("gsettings.json", MANIFEST);
    // bkt looks programs up itself: an empty folder as its only one means no gsettings.
    std::fs::create_dir_all(w.path("empty-bin")).unwrap();
    w.extra_env.push((
        "BKT_PROGRAM_PATH".into(),
        w.path("empty-bin").display().to_string(),
    ));
    let out = w.bkt(&["status", "-s", "gsettings"]);
    out.assert_code(0);
    out.assert_stdout_has("unavailable: gsettings is not installed here");
    let json = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    json.assert_code(0);
    assert_eq!(json.json()["plugins"][0]["state"], "unavailable");
}

#[test]
fn punned_set_unset_and_list() {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", MANIFEST);
    let set = w.bkt(&["gsetting", "set", "org.bkt.other", "name", "'Ada'"]);
    set.assert_code(0);
    set.assert_stdout_has("+      \"key\": \"name\"");
    assert_eq!(w.gsettings_get("org.bkt.other", "name"), "'Ada'");
    // Only the named setting was applied, not the rest of the drift.
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
    let m: serde_json::Value = serde_json::from_str(&w.manifest("gsettings.json")).unwrap();
    assert_eq!(m["settings"][0]["key"], "name", "sorted by schema then key");
    assert_eq!(m["settings"][1]["comment"], "bigger");

    // Already in the manifest, not yet on the machine: set applies it anyway.
    let again = w.bkt(&["gsetting", "set", "org.bkt.test", "clock-format", "'12h'"]);
    again.assert_code(0);
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");
    assert_eq!(
        w.gsettings_get("org.bkt.test", "idle-delay"),
        "uint32 300",
        "nothing else applied"
    );

    let dry = w.bkt(&["gsetting", "set", "org.bkt.other", "size", "7", "--dry-run"]);
    dry.assert_code(0);
    dry.assert_stdout_has("+      \"value\": \"7\"");
    assert!(w.manifest("gsettings.json").contains("\"42\""));

    let bad = w.bkt(&["gsetting", "set", "org.bkt.other", "name", "Ada"]);
    bad.assert_code(2);
    bad.assert_stderr_has("not GVariant text");

    let list = w.bkt(&["gsetting", "list"]);
    list.assert_code(0);
    list.assert_stdout_has("org.bkt.test idle-delay uint32 900   (live: uint32 300)");
    list.assert_stdout_has("org.bkt.test clock-format '12h'\n");

    w.bkt(&["gsetting", "unset", "org.bkt.other", "name"])
        .assert_code(0);
    assert!(!w.manifest("gsettings.json").contains("\"name\""));
    let help = w.bkt(&["gsetting", "--help"]);
    help.assert_code(0);
    help.assert_stdout_has("set SCHEMA KEY VALUE");
}

#[test]
fn capture_schema_adds_the_keys_the_user_set_in_dconf() {
    // The real dconf backend: writes go through dconf-service on a private session bus; reads
    // (gsettings, dconf dump) come straight from the database file.
    let mut w = World::with_schema();
    w.extra_env
        .push(("GSETTINGS_BACKEND".into(), "dconf".into()));
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [{"schema": "org.bkt.test", "key": "idle-delay", "value": "uint32 60", "comment": "kept"}]}"#,
    );
    let wrote = w.tool(
        "dbus-run-session",
        &["--", "sh", "-c", "dconf write /org/bkt/test/clock-format \"'12h'\" && dconf write /org/bkt/test/favorites \"['x.desktop']\" && dconf write /org/bkt/other/size 3"],
    );
    assert!(wrote.ok(), "{}", wrote.all());
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");

    let out = w.bkt(&["gsetting", "capture", "org.bkt.test"]);
    out.assert_code(0);
    out.assert_stdout_has("captured org.bkt.test clock-format '12h'");
    let m: serde_json::Value = serde_json::from_str(&w.manifest("gsettings.json")).unwrap();
    let keys: Vec<&str> = m["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    // Only keys set away from their defaults, only in that schema; the tracked one is kept.
    assert_eq!(keys, ["clock-format", "favorites", "idle-delay"]);
    assert_eq!(m["settings"][2]["comment"], "kept");
    assert_eq!(m["settings"][1]["value"], "['x.desktop']");

    let again = w.bkt(&["gsetting", "capture", "org.bkt.test"]);
    again.assert_code(0);
    assert!(
        again
            .stdout()
            .contains("no keys set away from their defaults"),
        "{}",
        again.stdout()
    );
}

/// With the dconf backend and no session bus, `gsettings set` would exit 0 and change
/// nothing. bkt refuses it before anything runs, says why, puts the manifest back, and
/// records nothing, so no later hint undoes the user's edit.
#[test]
fn a_setting_that_cannot_take_is_refused_not_reported_done() {
    let mut w = World::with_schema();
    w.extra_env
        .push(("GSETTINGS_BACKEND".into(), "dconf".into()));
    w.write_manifest("gsettings.json", "{\"settings\": []}\n");
    let before = w.manifest("gsettings.json");
    let out = w.bkt(&["gsetting", "set", "org.bkt.test", "clock-format", "'12h'"]);
    out.assert_code(1);
    out.assert_all_has("not run: there is no session bus here");
    out.assert_all_has("dbus-run-session");
    out.assert_stdout_has("put back as it was");
    assert_eq!(
        w.manifest("gsettings.json"),
        before,
        "the manifest is as it was"
    );
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");

    // apply says the same, and what did not take is not recorded as agreed: status still
    // offers to apply it, never to capture the old value over the manifest.
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [{"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"}]}"#,
    );
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings"]);
    out.assert_code(1);
    out.assert_all_has("there is no session bus here");
    out.assert_stdout_has("1 failed");
    let status = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    status.assert_code(1);
    let change = &status.json()["plugins"][0]["changes"][0];
    assert_eq!(change["id"], "org.bkt.test clock-format", "{change}");
    assert_ne!(change["side"], "machine", "{change}");
    let next = status.json()["plugins"][0]["next"].to_string();
    assert!(!next.contains("bkt capture"), "{next}");
}

/// However many schemas the manifest names, their values come from one listing; a schema the
/// listing lacks is named as not installed.
#[test]
fn every_schema_comes_from_one_listing() {
    let w = World::with_schema();
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [
            {"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"},
            {"schema": "org.bkt.test", "key": "idle-delay", "value": "uint32 60"},
            {"schema": "org.bkt.absent", "key": "x", "value": "1"}
        ]}"#,
    );
    let out = w.bkt(&["status", "-s", "gsettings", "-v"]);
    let listings = out
        .stderr()
        .lines()
        .filter(|l| l.contains("query: gsettings list-recursively"))
        .count();
    assert_eq!(listings, 1, "{}", out.stderr());
    out.assert_stdout_has("org.bkt.test clock-format");
    out.assert_stdout_has("no such schema \"org.bkt.absent\"");
}
