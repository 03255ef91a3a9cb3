//! Every `--format json` document bkt prints keeps the shape its schema in schemas/output/
//! promises: real commands (real gsettings, rpm and dnf in throwaway homes and roots) print
//! them, and the schemas validate what they printed. The schemas are strict enough that a
//! document that changes shape fails.

mod common;
use common::{Out, SYSTEM_PATH, World, dnf_world};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Every document, by schema file name.
// `upgrade` is validated where it can run: tests/upgrade.rs.
const DOCUMENTS: [&str; 12] = [
    "status",
    "apply",
    "capture",
    "init",
    "init-clone",
    "verb",
    "containerfile",
    "plugin-list",
    "local-list",
    "doctor",
    "error",
    "upgrade",
];

const SETTINGS: &str = r#"{"settings": [
  {"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"},
  {"schema": "org.bkt.test", "key": "idle-delay", "value": "uint32 900"}
]}
"#;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/output")
}

fn schema(name: &str) -> Value {
    let path = schema_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What `name`.json finds wrong with `doc`, one line per violation.
fn violations(name: &str, doc: &Value) -> Vec<String> {
    let validator = jsonschema::draft202012::new(&schema(name))
        .unwrap_or_else(|e| panic!("{name}.json does not compile: {e}"));
    validator
        .iter_errors(doc)
        .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
        .collect()
}

/// stdout is exactly one JSON document, valid against `name`.json; returns it.
#[track_caller]
fn valid(name: &str, out: &Out) -> Value {
    let doc = out.json();
    let errors = violations(name, &doc);
    assert!(
        errors.is_empty(),
        "{name}.json rejects what bkt printed:\n{}\n{}\nstderr: {}",
        errors.join("\n"),
        out.stdout(),
        out.stderr()
    );
    doc
}

#[track_caller]
fn rejects(name: &str, doc: &Value, what: &str) {
    assert!(
        !violations(name, doc).is_empty(),
        "{name}.json accepts a document with {what}: {doc:#}"
    );
}

/// `doc` with `value` at the JSON pointer `at` (a field is replaced or added).
#[track_caller]
fn with(doc: &Value, at: &str, value: Value) -> Value {
    let mut doc = doc.clone();
    let (parent, key) = at.rsplit_once('/').expect("a JSON pointer");
    match doc.pointer_mut(parent) {
        Some(Value::Object(object)) => {
            object.insert(key.to_string(), value);
        }
        Some(Value::Array(array)) => {
            let i: usize = key.parse().expect("an index");
            array[i] = value;
        }
        _ => panic!("no object or array at {parent:?}"),
    }
    doc
}

/// `doc` without the field `key` of the object at `at`.
#[track_caller]
fn without(doc: &Value, at: &str, key: &str) -> Value {
    let mut doc = doc.clone();
    let object = doc
        .pointer_mut(at)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {at:?}"));
    assert!(object.remove(key).is_some(), "no {key} at {at:?}");
    doc
}

/// The entry of `id` in a status document's plugins, and its index.
#[track_caller]
fn plugin<'a>(doc: &'a Value, id: &str) -> (usize, &'a Value) {
    doc["plugins"]
        .as_array()
        .and_then(|ps| ps.iter().enumerate().find(|(_, p)| p["id"] == id))
        .unwrap_or_else(|| panic!("no plugin {id} in {doc:#}"))
}

fn gsettings_world() -> World {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    w.write_containerfile("FROM quay.io/fedora/fedora-bootc:42\n");
    w
}

fn gsettings_set(w: &World, key: &str, value: &str) {
    let out = w.tool("gsettings", &["set", "org.bkt.test", key, value]);
    assert!(out.ok(), "gsettings set: {}", out.all());
}

/// `root` boots with the boot id `id` (what `--local` records belong to).
fn set_boot(root: &str, id: &str) {
    let dir = Path::new(root).join("proc/sys/kernel/random");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("boot_id"), format!("{id}\n")).unwrap();
}

#[test]
fn every_schema_is_a_2020_12_schema_that_requires_format_version() {
    let mut found: Vec<String> = std::fs::read_dir(schema_dir())
        .expect("schemas/output")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(String::from)
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = DOCUMENTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected, "one schema per document, no more");
    let readme = std::fs::read_to_string(schema_dir().join("README.md")).expect("README.md");
    for name in DOCUMENTS {
        let s = schema(name);
        if let Err(e) = jsonschema::draft202012::meta::validate(&s) {
            panic!("{name}.json is not a valid draft 2020-12 schema: {e}");
        }
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}.json"
        );
        let required = s["required"].as_array().expect("required");
        assert!(required.contains(&json!("format_version")), "{name}.json");
        assert_eq!(
            s["properties"]["format_version"],
            json!({"type": "integer", "const": 1}),
            "{name}.json"
        );
        assert_eq!(s["additionalProperties"], false, "{name}.json");
        assert!(
            readme.contains(&format!("**{name}.json**")),
            "README.md says nothing of {name}.json"
        );
    }
}

#[test]
fn a_document_without_format_version_or_with_another_fails() {
    let minimal = [
        (
            "status",
            json!({"format_version": 1, "repo": "/r", "plugins": [], "containerfile": null,
                   "skipped_plugins": [], "boot_apply": {}}),
        ),
        (
            "apply",
            json!({"format_version": 1, "steps": [], "skipped": [], "errors": [], "applied": false}),
        ),
        (
            "capture",
            json!({"format_version": 1, "files": [], "written": false}),
        ),
        (
            "verb",
            json!({"format_version": 1, "output": [], "files": [], "written": false,
                   "applied": [], "note": null}),
        ),
        (
            "containerfile",
            json!({"format_version": 1, "file": "Containerfile", "in_step": true,
                   "changed_sections": [], "missing_sections": [], "diff": "", "written": false}),
        ),
        ("plugin-list", json!({"format_version": 1, "plugins": []})),
        ("local-list", json!({"format_version": 1, "plugins": []})),
        (
            "doctor",
            json!({"format_version": 1, "checks": [], "missing": 0}),
        ),
        ("error", json!({"format_version": 1, "error": "it broke"})),
        (
            "init",
            json!({"format_version": 1, "dir": "/d", "image": "quay.io/fedora/fedora-bootc:42",
                   "files": ["Containerfile"], "kept": [], "git_initialized": false,
                   "captured": null}),
        ),
        (
            "init-clone",
            json!({"format_version": 1, "dir": "/d", "url": "https://x/y.git",
                   "config": "/c/config.json"}),
        ),
        (
            "upgrade",
            json!({"format_version": 1, "tool": "bootc", "checked_only": true,
                   "next": {"state": "up_to_date"}, "staged_copy": false, "subsystems": []}),
        ),
    ];
    assert_eq!(minimal.len(), DOCUMENTS.len());
    for (name, doc) in minimal {
        let errors = violations(name, &doc);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        rejects(
            name,
            &without(&doc, "", "format_version"),
            "no format_version",
        );
        rejects(
            name,
            &with(&doc, "/format_version", json!(2)),
            "format_version 2",
        );
        rejects(
            name,
            &with(&doc, "/format_version", json!("1")),
            "format_version \"1\"",
        );
        let mut extra = doc.clone();
        extra["surprise"] = json!(true);
        rejects(name, &extra, "a field bkt does not print");
    }
}

#[test]
fn status_first_contact_in_step_and_each_side_that_moved() {
    let w = gsettings_world();
    // A third-party plugin nobody trusted: listed as skipped.
    let plugins = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(common::probe::wasm(), plugins.join("untrusted.wasm")).unwrap();

    let out = w.bkt(&["status", "--format", "json"]);
    let doc = valid("status", &out);
    let (i, g) = plugin(&doc, "gsettings");
    assert_eq!(g["state"], "drift", "{doc:#}");
    assert_eq!(g["differs"], 2);
    assert!(
        g["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["side"] == "first-contact")
    );
    assert_eq!(doc["containerfile"]["state"], "ok", "{doc:#}");
    assert_eq!(doc["skipped_plugins"].as_array().map(Vec::len), Some(1));
    // The other builtins have no manifest here, or no tool: their entries have other shapes.
    assert!(
        doc["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["state"] == "untracked" || p["state"] == "unavailable"),
        "{doc:#}"
    );
    // The schema is not a formality: the shapes it pins fail when they change.
    let at = format!("/plugins/{i}");
    rejects(
        "status",
        &with(&doc, &format!("{at}/state"), json!("stale")),
        "an unknown state",
    );
    rejects(
        "status",
        &without(&doc, &at, "next"),
        "a plugin without next steps",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/items"), json!(-1)),
        "a negative count",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/changes/0/kind"), json!("removed")),
        "an unknown change kind",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/changes/0/side"), json!("elsewhere")),
        "an unknown side",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/changes/0/wanted"), json!(12)),
        "a number for a value",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/error"), json!("but it drifts")),
        "an error on a plugin that planned",
    );
    rejects(
        "status",
        &with(&doc, &format!("{at}/state"), json!("ok")),
        "ok with changes",
    );

    // In step after apply.
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("status", &out);
    assert_eq!(doc["plugins"][0]["state"], "ok", "{doc:#}");
    assert_eq!(doc["plugins"][0]["next"], json!([]));

    // Changed on this machine, and changed in the manifest.
    gsettings_set(&w, "clock-format", "'24h'");
    w.write_manifest(
        "gsettings.json",
        &SETTINGS.replace("uint32 900", "uint32 60"),
    );
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(1);
    let doc = valid("status", &out);
    let sides: Vec<&Value> = doc["plugins"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["side"])
        .collect();
    assert_eq!(sides, [&json!("machine"), &json!("manifest")], "{doc:#}");
    assert_eq!(doc["plugins"][0]["next"].as_array().map(Vec::len), Some(2));
}

#[test]
fn status_of_a_broken_manifest_or_containerfile_is_still_a_status_document() {
    let w = gsettings_world();
    w.write_manifest("gsettings.json", "{\"settings\": [}");
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(2);
    let doc = valid("status", &out);
    assert_eq!(doc["plugins"][0]["state"], "error");
    assert!(
        doc["plugins"][0]["error"]
            .as_str()
            .unwrap()
            .contains("manifests/gsettings.json:1:")
    );
    rejects(
        "status",
        &without(&doc, "/plugins/0", "error"),
        "an error state without the error",
    );

    w.write_manifest("gsettings.json", SETTINGS);
    w.write_containerfile("FROM x\n# === SYSTEM_PACKAGES (managed by bkt) ===\n");
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(2);
    let doc = valid("status", &out);
    assert_eq!(doc["containerfile"]["state"], "error", "{doc:#}");
}

/// A `bootc` that replays a recorded status: the booted deployment is 736b359467c9.
fn bootc_double(w: &World) -> String {
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    common::bootc_double(
        &bin,
        &common::recorded_status("bootc-status-staged-booted.json"),
    );
    format!("{}:{SYSTEM_PATH}", bin.display())
}

#[test]
fn status_shows_the_last_boot_time_apply_with_its_failures() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha", "nosuchpkg"]}"#, &[]);
    let mut boot = w.bkt_command(&["apply", "--boot", "--scope", "system", "--root", &root]);
    boot.env("BKT_PROGRAM_PATH", bootc_double(&w));
    common::Out(boot.output().expect("bkt")).assert_code(1);

    let out = w.bkt(&["status", "--root", &root, "-s", "dnf", "--format", "json"]);
    out.assert_code(1);
    let doc = valid("status", &out);
    let run = &doc["boot_apply"]["system"];
    assert_eq!(run["ok"], false, "{doc:#}");
    assert_eq!(run["short"], "736b359467c9");
    assert_eq!(run["failures"][0]["plugin"], "dnf");
    assert_eq!(run["failures"][0]["item"], "nosuchpkg");
    rejects(
        "status",
        &without(&doc, "/boot_apply/system", "at_utc"),
        "a boot run without its time",
    );
    rejects(
        "status",
        &with(&doc, "/boot_apply/elsewhere", run.clone()),
        "a third half",
    );
}

#[test]
fn apply_plan_run_and_changes_left_alone() {
    let w = gsettings_world();
    let out = w.bkt(&["apply", "--dry-run", "-s", "gsettings", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("apply", &out);
    assert_eq!(doc["applied"], false);
    assert_eq!(doc["steps"].as_array().map(Vec::len), Some(2), "{doc:#}");
    assert_eq!(doc["steps"][0]["plugin"], "gsettings");
    assert!(
        doc["steps"][0]["effects"][0]
            .as_str()
            .unwrap()
            .contains("gsettings set")
    );
    rejects(
        "apply",
        &with(&doc, "/steps/0/ok", json!(true)),
        "an outcome in a plan",
    );
    rejects(
        "apply",
        &without(&doc, "/steps/0", "effects"),
        "a step without effects",
    );
    // Not asked, not a terminal: an error, as JSON.
    let out = w.bkt(&["apply", "-s", "gsettings", "--format", "json"]);
    out.assert_code(2);
    let err = valid("error", &out);
    assert!(err["error"].as_str().unwrap().contains("--yes"), "{err:#}");

    let out = w.bkt(&["apply", "--yes", "-s", "gsettings", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("apply", &out);
    assert_eq!(doc["applied"], true);
    assert!(
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true),
        "{doc:#}"
    );
    rejects(
        "apply",
        &without(&doc, "/steps/0", "ok"),
        "a run step without its outcome",
    );
    rejects(
        "apply",
        &with(&doc, "/steps/0/ok", json!(false)),
        "a failure without an error",
    );

    // Nothing to run: still a document.
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("apply", &out);
    assert_eq!(doc["steps"], json!([]));

    // One change from the manifest runs; one made here by hand is left alone without
    // --overwrite.
    gsettings_set(&w, "clock-format", "'24h'");
    w.write_manifest(
        "gsettings.json",
        &SETTINGS.replace("uint32 900", "uint32 60"),
    );
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("apply", &out);
    assert_eq!(doc["steps"][0]["side"], "manifest", "{doc:#}");
    assert_eq!(doc["skipped"][0]["side"], "machine", "{doc:#}");
    assert_eq!(doc["skipped"][0]["reason"], "changed on this machine");
    rejects(
        "apply",
        &with(&doc, "/skipped/0/reason", json!("felt like it")),
        "an unknown reason",
    );
    rejects(
        "apply",
        &without(&doc, "/skipped/0", "reason"),
        "a skipped change without a reason",
    );
}

#[test]
fn apply_reports_failed_changes_and_plan_problems() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha", "nosuchpkg"]}"#, &[]);
    let out = w.bkt(&[
        "apply", "--yes", "--root", &root, "-s", "dnf", "--format", "json",
    ]);
    out.assert_code(1);
    let doc = valid("apply", &out);
    let steps = doc["steps"].as_array().unwrap();
    let failed: Vec<&Value> = steps.iter().filter(|s| s["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{doc:#}");
    assert_eq!(failed[0]["id"], "nosuchpkg");
    assert!(failed[0]["error"].is_string());
    assert!(steps.iter().any(|s| s["id"] == "alpha" && s["ok"] == true));
    let i = steps.iter().position(|s| s["ok"] == false).unwrap();
    rejects(
        "apply",
        &without(&doc, &format!("/steps/{i}"), "error"),
        "a failed step without its error",
    );

    // Entries the plugin cannot use are problems of the plan.
    let w = World::with_schema();
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [
            {"schema": "org.bkt.missing", "key": "x", "value": "1"},
            {"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"},
            {"schema": "org.bkt.test", "key": "no-such-key", "value": "1"}]}"#,
    );
    let out = w.bkt(&["apply", "--dry-run", "-s", "gsettings", "--format", "json"]);
    out.assert_code(1);
    let doc = valid("apply", &out);
    let severities: Vec<&Value> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["severity"])
        .collect();
    assert_eq!(severities, [&json!("warning"), &json!("error")], "{doc:#}");
    assert_eq!(doc["errors"][1]["plugin"], "gsettings");
    assert_eq!(doc["errors"][1]["id"], "org.bkt.test no-such-key");
    rejects(
        "apply",
        &with(&doc, "/errors/0/severity", json!("fatal")),
        "an unknown severity",
    );
}

#[test]
fn capture_shows_and_writes_the_files_it_changes() {
    let w = gsettings_world();
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    gsettings_set(&w, "clock-format", "'24h'");
    let out = w.bkt(&["capture", "--dry-run", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("capture", &out);
    assert_eq!(doc["written"], false);
    assert_eq!(
        doc["files"][0]["file"], "manifests/gsettings.json",
        "{doc:#}"
    );
    assert!(doc["files"][0]["diff"].as_str().unwrap().contains("+"));
    rejects(
        "capture",
        &without(&doc, "/files/0", "diff"),
        "a file without its diff",
    );

    let out = w.bkt(&["capture", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("capture", &out);
    assert_eq!(doc["written"], true);
    rejects(
        "capture",
        &with(&doc, "/files", json!([])),
        "written without files",
    );

    let out = w.bkt(&["capture", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("capture", &out);
    assert_eq!(
        doc,
        json!({"format_version": 1, "files": [], "written": false})
    );

    // The Containerfile changes with the manifest.
    let (w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha", "beta"]);
    let out = w.bkt(&[
        "capture",
        "--dry-run",
        "--root",
        &root,
        "-s",
        "dnf",
        "--format",
        "json",
    ]);
    out.assert_code(0);
    let doc = valid("capture", &out);
    let files: Vec<&Value> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["file"])
        .collect();
    assert_eq!(
        files,
        [
            &json!("manifests/system-packages.json"),
            &json!("Containerfile")
        ],
        "{doc:#}"
    );
}

#[test]
fn subsystem_verbs_say_what_they_wrote_and_applied() {
    let w = gsettings_world();
    let set = [
        "gsetting",
        "set",
        "org.bkt.other",
        "name",
        "'Ada'",
        "--format",
        "json",
    ];
    let out = w.bkt(&set);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert_eq!(doc["written"], true);
    assert_eq!(
        doc["files"][0]["file"], "manifests/gsettings.json",
        "{doc:#}"
    );
    assert_eq!(doc["applied"][0]["ok"], true, "{doc:#}");
    assert_eq!(doc["applied"][0]["error"], Value::Null);
    assert_eq!(w.gsettings_get("org.bkt.other", "name"), "'Ada'");
    rejects(
        "verb",
        &with(&doc, "/applied/0/error", json!("but it failed")),
        "an error on a change that succeeded",
    );
    rejects("verb", &without(&doc, "", "note"), "no note");

    let out = w.bkt(&set);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert!(
        doc["note"]
            .as_str()
            .unwrap()
            .starts_with("Nothing to change"),
        "{doc:#}"
    );

    let out = w.bkt(&[
        "gsetting",
        "set",
        "org.bkt.other",
        "size",
        "7",
        "--dry-run",
        "--format",
        "json",
    ]);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert_eq!(doc["written"], false);
    assert_eq!(
        doc["files"][0]["file"], "manifests/gsettings.json",
        "{doc:#}"
    );

    let out = w.bkt(&[
        "gsetting",
        "set",
        "org.bkt.other",
        "size",
        "7",
        "--no-apply",
        "--format",
        "json",
    ]);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert_eq!(doc["applied"], json!([]));

    let out = w.bkt(&["gsetting", "list", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert!(
        doc["output"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("org.bkt.test clock-format")),
        "{doc:#}"
    );

    // A package that cannot be installed: the files are put back, and the document says so.
    let (w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    let out = w.bkt(&[
        "dnf",
        "install",
        "nosuchpkg",
        "--root",
        &root,
        "--format",
        "json",
    ]);
    out.assert_code(1);
    let doc = valid("verb", &out);
    assert_eq!(doc["applied"][0]["ok"], false, "{doc:#}");
    assert!(doc["applied"][0]["error"].is_string());
    assert!(
        doc["note"]
            .as_str()
            .unwrap()
            .contains("put back as they were"),
        "{doc:#}"
    );
    rejects(
        "verb",
        &with(&doc, "/applied/0/error", Value::Null),
        "a failure without its error",
    );

    // This machine only.
    set_boot(&root, "boot-1");
    let out = w.bkt(&[
        "dnf", "install", "gamma", "--local", "--root", &root, "--format", "json",
    ]);
    out.assert_code(0);
    let doc = valid("verb", &out);
    assert!(
        doc["note"].as_str().unwrap().contains("this machine only"),
        "{doc:#}"
    );
}

#[test]
fn containerfile_check_and_sync() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    let out = w.bkt(&[
        "containerfile",
        "check",
        "--root",
        &root,
        "--format",
        "json",
    ]);
    out.assert_code(1);
    let doc = valid("containerfile", &out);
    assert_eq!(doc["in_step"], false);
    assert_eq!(
        doc["changed_sections"],
        json!(["COPR_REPOS", "SYSTEM_PACKAGES"]),
        "{doc:#}"
    );
    assert_eq!(doc["written"], false);
    rejects(
        "containerfile",
        &with(&doc, "/in_step", json!(true)),
        "in step with a diff",
    );

    let out = w.bkt(&["containerfile", "sync", "--root", &root, "--format", "json"]);
    out.assert_code(0);
    let doc = valid("containerfile", &out);
    assert_eq!(doc["written"], true);

    for verb in ["check", "sync"] {
        let out = w.bkt(&["containerfile", verb, "--root", &root, "--format", "json"]);
        out.assert_code(0);
        let doc = valid("containerfile", &out);
        assert_eq!(doc["in_step"], true, "{doc:#}");
        assert_eq!(doc["diff"], "");
        assert_eq!(doc["written"], false);
    }

    // No markers for the sections: named, with the lines to add.
    w.write_containerfile("FROM quay.io/fedora/fedora-bootc:42\n");
    let out = w.bkt(&[
        "containerfile",
        "check",
        "--root",
        &root,
        "--format",
        "json",
    ]);
    out.assert_code(1);
    let doc = valid("containerfile", &out);
    let missing = doc["missing_sections"].as_array().unwrap();
    assert_eq!(missing.len(), 2, "{doc:#}");
    assert_eq!(
        missing[0]["markers"][0],
        format!(
            "# === {} (managed by bkt) ===",
            missing[0]["section"].as_str().unwrap()
        )
    );
    rejects(
        "containerfile",
        &with(
            &doc,
            "/missing_sections/0/markers",
            json!(["# === X (managed by bkt) ==="]),
        ),
        "one marker line",
    );

    // A file that cannot be used is an error.
    w.write_containerfile("FROM x\n# === SYSTEM_PACKAGES (managed by bkt) ===\n");
    let out = w.bkt(&[
        "containerfile",
        "check",
        "--root",
        &root,
        "--format",
        "json",
    ]);
    out.assert_code(2);
    let doc = valid("error", &out);
    assert!(
        doc["error"].as_str().unwrap().contains("never closed"),
        "{doc:#}"
    );
}

#[test]
fn plugin_list_shows_builtins_trusted_and_refused_plugins() {
    let (w, _) = common::probe::with_probe("{}");
    std::fs::copy(
        common::probe::wasm(),
        w.path("data/bkt/plugins/untrusted.wasm"),
    )
    .unwrap();
    let out = w.bkt(&["plugin", "list", "--format", "json"]);
    out.assert_code(0);
    let doc = valid("plugin-list", &out);
    let plugins = doc["plugins"].as_array().unwrap();
    let g = plugins
        .iter()
        .position(|p| p["id"] == "gsettings")
        .expect("gsettings");
    assert_eq!(plugins[g]["source"], "builtin");
    let probe = plugins
        .iter()
        .find(|p| p["id"] == "probe")
        .expect("the probe");
    assert!(probe["source"].as_str().unwrap().ends_with("/probe.wasm"));
    let refused = plugins
        .iter()
        .find(|p| p["name"].is_string())
        .expect("the untrusted copy");
    assert!(
        refused["error"].as_str().unwrap().contains("not trusted"),
        "{doc:#}"
    );

    let at = format!("/plugins/{g}");
    rejects(
        "plugin-list",
        &without(&doc, &at, "capabilities"),
        "no capabilities",
    );
    rejects(
        "plugin-list",
        &with(&doc, &format!("{at}/sha256"), json!("ABC")),
        "a sha256 that is not one",
    );
    rejects(
        "plugin-list",
        &with(
            &doc,
            &format!("{at}/capabilities/runs/0/as_root"),
            json!("no"),
        ),
        "a word for as_root",
    );
}

#[test]
fn local_list_with_and_without_local_changes() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    set_boot(&root, "boot-1");
    let out = w.bkt(&["local", "list", "--root", &root, "--format", "json"]);
    out.assert_code(0);
    let doc = valid("local-list", &out);
    assert_eq!(doc, json!({"format_version": 1, "plugins": []}));

    w.bkt(&["dnf", "install", "gamma", "--local", "--root", &root])
        .assert_code(0);
    let out = w.bkt(&["local", "list", "--root", &root, "--format", "json"]);
    out.assert_code(0);
    let doc = valid("local-list", &out);
    assert_eq!(doc["boot_id"], "boot-1");
    assert_eq!(doc["plugins"][0]["plugin"], "dnf");
    assert_eq!(
        doc["plugins"][0]["commands"],
        json!(["bkt dnf install gamma --local"])
    );
    assert!(doc["plugins"][0]["diff"].as_str().unwrap().contains("+"));
    rejects(
        "local-list",
        &without(&doc, "", "created"),
        "a boot id without its time",
    );
    rejects(
        "local-list",
        &with(&doc, "/plugins", json!([])),
        "a record without plugins",
    );
}

#[test]
fn errors_are_documents_too() {
    let w = World::with_schema();
    for args in [
        &["status", "--repo", "/nonexistent", "--format", "json"][..],
        &["no-such-command", "--format", "json"],
        &["gsetting", "no-such-verb", "--format", "json"],
    ] {
        let out = w.bkt(args);
        out.assert_code(2);
        let doc = valid("error", &out);
        assert!(!doc["error"].as_str().unwrap().is_empty());
    }
    // A manifest that does not parse stops a subsystem command before it changes anything.
    w.write_manifest("gsettings.json", "{\"settings\": [}");
    let out = w.bkt(&[
        "gsetting",
        "set",
        "org.bkt.test",
        "clock-format",
        "'12h'",
        "--format",
        "json",
    ]);
    out.assert_code(2);
    let doc = valid("error", &out);
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("manifests/gsettings.json:1:"),
        "{doc:#}"
    );
    rejects(
        "error",
        &with(&doc, "/error", json!("")),
        "an empty message",
    );
}

/// `bkt doctor` counts only what tracked subsystems need: without a manifest for user
/// settings no session bus is needed; with one, its absence is missing, said with the fix,
/// and the exit status is 1.
#[test]
fn doctor_says_what_is_missing_for_the_tracked_subsystems() {
    let w = World::new();
    let out = w.bkt(&["doctor", "--format", "json"]);
    let doc = valid("doctor", &out);
    let bus = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "session bus")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (bus["ok"].clone(), bus["needed"].clone()),
        (json!(false), json!(false)),
        "{doc}"
    );
    out.assert_code(0);

    w.write_manifest("gsettings.json", r#"{"settings": []}"#);
    let out = w.bkt(&["doctor", "--format", "json"]);
    let doc = valid("doctor", &out);
    assert_eq!(doc["missing"], 1, "{doc}");
    out.assert_code(1);
    let human = w.bkt(&["doctor"]);
    human.assert_code(1);
    human.assert_stdout_has("MISSING session bus");
    human.assert_stdout_has("→ run bkt inside your graphical session");
    human.assert_stdout_has("ok      program gsettings: ");
}
