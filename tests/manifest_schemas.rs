//! Every manifest format has a JSON Schema in `schemas/NAME.schema.json` (draft 2020-12,
//! generated from the plugins' types; each plugin's own test fails when it is out of date).
//! Here a real validator checks this repository's manifests and every fixture of the original
//! bkt's formats against them, and shows that a wrong document is rejected.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The schema of a manifest file name (`gsettings.json` → `schemas/gsettings.schema.json`).
fn schema_of(manifest: &str) -> Value {
    let stem = manifest.strip_suffix(".json").unwrap_or(manifest);
    let path = root().join("schemas").join(format!("{stem}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{manifest} has no schema at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the schema of `manifest` finds wrong with `doc`, one line per violation.
fn violations(manifest: &str, doc: &Value) -> Vec<String> {
    let schema = schema_of(manifest);
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("the schema of {manifest} does not compile: {e}"));
    validator
        .iter_errors(doc)
        .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
        .collect()
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_manifest_schema_is_draft_2020_12() {
    for path in json_files(&root().join("schemas")) {
        let schema = read(&path);
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!(
                "{} is not a valid draft 2020-12 schema: {e}",
                path.display()
            );
        }
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema",
            "{}",
            path.display()
        );
    }
}

#[test]
fn this_repository_s_manifests_are_valid() {
    let files = json_files(&root().join("manifests"));
    assert!(files.len() >= 5, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let errors = violations(&name, &read(&path));
        assert!(errors.is_empty(), "manifests/{name}: {errors:#?}");
    }
}

/// tests/fixtures/original/NAME/*.json holds documents of manifest NAME.json.
#[test]
fn every_fixture_of_the_original_formats_is_valid() {
    let base = root().join("tests/fixtures/original");
    let mut checked = 0;
    for dir in std::fs::read_dir(&base)
        .expect("fixtures")
        .map(|e| e.unwrap().path())
    {
        let Some(manifest) = dir
            .file_name()
            .map(|n| format!("{}.json", n.to_string_lossy()))
        else {
            continue;
        };
        if !dir.is_dir() || dir.ends_with("containerfile") {
            continue;
        }
        for path in json_files(&dir) {
            let errors = violations(&manifest, &read(&path));
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} fixtures found");
}

#[test]
fn wrong_documents_are_rejected() {
    for (manifest, doc) in [
        ("system-packages.json", json!({"packages": "htop"})),
        (
            "system-packages.json",
            json!({"copr_repos": [{"enabled": true}]}),
        ),
        ("system-packages.json", json!({"pakages": []})),
        (
            "gsettings.json",
            json!({"settings": [{"schema": "a", "key": "k"}]}),
        ),
        (
            "gnome-extensions.json",
            json!({"extensions": [{"enabled": false}]}),
        ),
        (
            "gnome-extensions.json",
            json!({"extensions": [{"id": "a@b", "uuid": "a@b"}]}),
        ),
        (
            "flatpak-apps.json",
            json!({"apps": [{"id": "org.a.B", "remote": "r", "scope": "both"}]}),
        ),
        (
            "flatpak-apps.json",
            json!({"apps": [{"id": "org.a.B", "remote": "r", "overrides": 1}]}),
        ),
        (
            "kargs.json",
            json!({"kargs": ["quiet"], "match_architectures": []}),
        ),
        (
            "systemd-services.json",
            json!({"services": {"tuned.service": "on"}}),
        ),
        (
            "systemd-services.json",
            json!({"services": {"a;b.service": "enabled"}}),
        ),
        (
            "systemd-services.json",
            json!({"user_unit_files": ["u.service", "u.service"]}),
        ),
        ("host-shims.json", json!({"shims": [{"host": "podman"}]})),
        ("host-shims.json", json!({"shims": [{"name": "-rf"}]})),
    ] {
        assert!(
            !violations(manifest, &doc).is_empty(),
            "{manifest}: {doc} passed"
        );
    }
}
