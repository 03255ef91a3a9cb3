//! Three-way sync end to end, with the real gsettings (keyfile backend), rpm and dnf: bkt
//! remembers what both sides last agreed on, so apply and capture never undo each other.

mod common;
use common::World;
use std::path::Path;

const SETTINGS: &str = r#"{
  "settings": [
    {
      "schema": "org.bkt.test",
      "key": "clock-format",
      "value": "'12h'"
    },
    {
      "schema": "org.bkt.test",
      "key": "idle-delay",
      "value": "uint32 900"
    }
  ]
}
"#;

fn gsettings_world() -> World {
    let w = World::with_schema();
    w.write_manifest("gsettings.json", SETTINGS);
    w
}

fn set_by_hand(w: &World, key: &str, value: &str) {
    let out = w.tool("gsettings", &["set", "org.bkt.test", key, value]);
    assert!(out.ok(), "{}", out.all());
}

/// The gsettings changes of `status --format json`, as (id, side) pairs.
fn sides(w: &World) -> Vec<(String, String)> {
    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    let doc = out.json();
    doc["plugins"][0]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("").to_string(),
                c["side"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn first_contact_capture_takes_only_what_the_user_set() {
    let w = gsettings_world();
    // Defaults on the machine ('24h', 300) differ from the curated manifest: nothing to take.
    let out = w.bkt(&["capture"]);
    out.assert_code(0);
    out.assert_stdout_has("Nothing to capture");
    assert_eq!(w.manifest("gsettings.json"), SETTINGS);

    // A value the user set by hand is theirs: first contact takes it, and only it.
    set_by_hand(&w, "idle-delay", "600");
    let out = w.bkt(&["capture", "-s", "gsettings"]);
    out.assert_code(0);
    let m = w.manifest("gsettings.json");
    assert!(m.contains("\"value\": \"uint32 600\""), "{m}");
    assert!(
        m.contains("\"value\": \"'12h'\""),
        "a default never replaces a value: {m}"
    );

    // The record now exists: the untaken default is the manifest's to apply.
    assert_eq!(
        sides(&w),
        [(
            "org.bkt.test clock-format".to_string(),
            "new-in-manifest".to_string()
        )]
    );
    let status = w.bkt(&["status", "-s", "gsettings"]);
    status.assert_code(1);
    status.assert_stdout_has("→ bkt apply -s gsettings applies 1 change from the manifest");
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");
    w.bkt(&["status", "-s", "gsettings"]).assert_code(0);
}

#[test]
fn each_side_that_moved_is_named_and_only_its_command_takes_it() {
    let w = gsettings_world();
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    w.bkt(&["status", "-s", "gsettings"]).assert_code(0);

    // Changed in the manifest: capture leaves it, apply takes it.
    w.write_manifest(
        "gsettings.json",
        &SETTINGS.replace("uint32 900", "uint32 60"),
    );
    assert_eq!(
        sides(&w),
        [(
            "org.bkt.test idle-delay".to_string(),
            "manifest".to_string()
        )]
    );
    w.bkt(&["capture", "-s", "gsettings"]).assert_code(0);
    assert!(w.manifest("gsettings.json").contains("uint32 60"));
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    assert_eq!(w.gsettings_get("org.bkt.test", "idle-delay"), "uint32 60");

    // Changed on the machine: apply names it and, with --yes, leaves it; capture takes it.
    set_by_hand(&w, "clock-format", "'24h'");
    assert_eq!(
        sides(&w),
        [(
            "org.bkt.test clock-format".to_string(),
            "machine".to_string()
        )]
    );
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings"]);
    out.assert_code(0);
    out.assert_stdout_has("Changed on this machine since the last sync (1 item)");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
    let out = w.bkt(&["capture", "-s", "gsettings"]);
    out.assert_code(0);
    assert!(w.manifest("gsettings.json").contains("'24h'"));
    w.bkt(&["status", "-s", "gsettings"]).assert_code(0);

    // --overwrite reverts a hand change.
    set_by_hand(&w, "clock-format", "'12h'");
    w.bkt(&["apply", "--yes", "--overwrite", "-s", "gsettings"])
        .assert_code(0);
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
}

#[test]
fn a_conflict_is_shown_with_both_values_and_left_until_a_side_is_picked() {
    let w = gsettings_world();
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    w.write_manifest(
        "gsettings.json",
        &SETTINGS.replace("uint32 900", "uint32 60"),
    );
    set_by_hand(&w, "idle-delay", "1200");

    let out = w.bkt(&["status", "-s", "gsettings", "--format", "json"]);
    out.assert_code(1);
    let change = &out.json()["plugins"][0]["changes"][0];
    assert_eq!(change["side"], "both");
    assert_eq!(change["wanted"], "60");
    assert_eq!(change["live"], "1200");
    let human = w.bkt(&["status", "-s", "gsettings"]);
    human.assert_stdout_has("1 item changed on both sides: bkt apply --overwrite -s gsettings keeps the manifest's, bkt capture --overwrite -s gsettings this machine's");

    let before = w.manifest("gsettings.json");
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings"]);
    out.assert_code(0);
    out.assert_stdout_has("manifest: 60  machine: 1200");
    assert_eq!(w.gsettings_get("org.bkt.test", "idle-delay"), "uint32 1200");
    let out = w.bkt(&["capture", "-s", "gsettings"]);
    out.assert_code(0);
    // Named, with how to settle it, not passed over in silence.
    out.assert_stdout_has(
        "gsettings: 1 item changed on both sides left as they are: `bkt capture --overwrite -s gsettings`",
    );
    assert_eq!(
        w.manifest("gsettings.json"),
        before,
        "capture left the conflict"
    );

    w.bkt(&["capture", "--overwrite", "-s", "gsettings"])
        .assert_code(0);
    assert!(w.manifest("gsettings.json").contains("\"uint32 1200\""));
    w.bkt(&["status", "-s", "gsettings"]).assert_code(0);
}

/// A manifest that cannot be read stops its subsystem: nothing may then say the machine
/// matches the manifests.
#[test]
fn after_an_unreadable_manifest_nothing_is_said_to_match() {
    let w = gsettings_world();
    w.write_manifest("gsettings.json", "{\"settings\": [\n");
    let out = w.bkt(&["apply", "--yes"]);
    out.assert_code(2);
    assert!(
        !out.stdout().contains("matches the manifests"),
        "{}",
        out.all()
    );
    out.assert_stdout_has("1 subsystem could not be");
    let out = w.bkt(&["capture"]);
    out.assert_code(2);
    assert!(
        !out.stdout().contains("missing from the manifests"),
        "{}",
        out.all()
    );
    out.assert_stdout_has("from the subsystems that could be read");
}

#[test]
fn a_corrupt_record_is_set_aside_with_a_warning() {
    let w = gsettings_world();
    w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
    let dir = w.path("state/bkt/sync");
    let record = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a user record");
    std::fs::write(&record, "{ not json").unwrap();
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings"]);
    out.assert_code(0);
    out.assert_stderr_has("could not be read");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains(".corrupt-")), "{names:?}");
}

#[test]
fn gsetting_set_checks_the_key_before_writing() {
    let w = gsettings_world();
    let bad_type = w.bkt(&["gsetting", "set", "org.bkt.test", "hot-corners", "5"]);
    bad_type.assert_code(2);
    bad_type.assert_stderr_has("is not true or false");
    let no_key = w.bkt(&["gsetting", "set", "org.bkt.test", "nope", "5"]);
    no_key.assert_code(2);
    no_key.assert_stderr_has("has no key \"nope\"");
    let no_schema = w.bkt(&["gsetting", "set", "org.bkt.nope", "k", "5"]);
    no_schema.assert_code(2);
    no_schema.assert_stderr_has("no such schema");
    assert_eq!(w.manifest("gsettings.json"), SETTINGS);

    let out = w.bkt(&["gsetting", "set", "org.bkt.test", "clock-format", "'12h'"]);
    out.assert_code(0);
    out.assert_stdout_has("clock-format … ok");
    let out = w.bkt(&["gsetting", "set", "org.bkt.test", "clock-format", "'12h'"]);
    out.assert_code(0);
    out.assert_stdout_has("Nothing to change");
}

#[test]
fn user_settings_are_refused_on_a_mounted_root() {
    let w = gsettings_world();
    std::fs::create_dir_all(w.path("root")).unwrap();
    let root = w.path("root").display().to_string();
    let out = w.bkt(&["apply", "--yes", "-s", "gsettings", "--root", &root]);
    out.assert_code(1);
    out.assert_stderr_has("changes the running user's settings, not the mounted root");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
}

mod packages {
    use super::common::World;

    use super::common::dnf_world as world;

    fn dnf_json(w: &World, root: &str) -> serde_json::Value {
        let out = w.bkt(&["status", "--root", root, "-s", "dnf", "--format", "json"]);
        out.json()["plugins"][0].clone()
    }

    #[test]
    fn a_package_removed_from_the_manifest_is_removed_not_captured_back() {
        let (w, root) = world(r#"{"packages": ["alpha", "gamma"]}"#, &["alpha", "gamma"]);
        w.bkt(&["dnf", "remove", "gamma", "--no-apply", "--root", &root])
            .assert_code(0);
        let d = dnf_json(&w, &root);
        assert_eq!(d["changes"][0]["id"], "gamma", "{d}");
        assert_eq!(d["changes"][0]["side"], "manifest", "{d}");
        assert_eq!(
            d["next"][0],
            "bkt apply -s dnf applies 1 change from the manifest"
        );
        // Capture does not put it back.
        w.bkt(&["capture", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        assert!(!w.manifest("system-packages.json").contains("gamma"));
        w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        assert_eq!(w.installed(root.as_ref()), ["alpha"]);
        w.bkt(&["status", "--root", &root, "-s", "dnf"])
            .assert_code(0);
    }

    #[test]
    fn a_package_uninstalled_by_hand_is_dropped_by_capture_not_reinstalled() {
        let (w, root) = world(r#"{"packages": ["alpha", "gamma"]}"#, &["alpha", "gamma"]);
        w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        let installroot = format!("--installroot={root}");
        let out = w.system_tool("dnf", &["-y", "-q", &installroot, "remove", "gamma"]);
        assert!(out.ok(), "{}", out.all());
        let d = dnf_json(&w, &root);
        assert_eq!(d["changes"][0]["side"], "machine", "{d}");
        let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
        out.assert_code(0);
        assert_eq!(w.installed(root.as_ref()), ["alpha"], "not reinstalled");
        w.bkt(&["capture", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        assert!(!w.manifest("system-packages.json").contains("gamma"));
        assert!(!w.containerfile().contains("gamma"));
    }

    #[test]
    fn a_failed_install_restores_manifest_and_containerfile_byte_for_byte() {
        let (w, root) = world(r#"{"packages": ["alpha"]}"#, &[]);
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        let before = (w.manifest("system-packages.json"), w.containerfile());
        let out = w.bkt(&["dnf", "install", "nosuchpkg", "--root", &root]);
        out.assert_code(1);
        out.assert_stdout_has("Unable to find a match: nosuchpkg");
        out.assert_all_has(
            "so manifests/system-packages.json and Containerfile were put back as they were",
        );
        assert_eq!(
            (w.manifest("system-packages.json"), w.containerfile()),
            before
        );
    }

    #[test]
    fn one_unknown_package_does_not_keep_the_others_off() {
        let (w, root) = world(r#"{"packages": ["alpha", "gamma", "nosuchpkg"]}"#, &[]);
        let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
        out.assert_code(1);
        out.assert_stdout_has("one at a time");
        out.assert_stdout_has("Applied 2 of 3 changes");
        assert_eq!(w.installed(root.as_ref()), ["alpha", "gamma"]);
    }

    #[test]
    fn copr_repositories_are_enabled_before_packages_in_a_root() {
        let (w, root) = world(
            r#"{"packages": ["alpha"], "copr_repos": ["atim/starship"]}"#,
            &[],
        );
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        let d = dnf_json(&w, &root);
        assert_eq!(d["changes"][0]["id"], "copr:atim/starship", "{d}");
        assert_eq!(d["changes"][0]["kind"], "missing");
        let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
        out.assert_code(0);
        let stdout = out.stdout();
        let copr = stdout.find("copr:atim/starship").unwrap_or(usize::MAX);
        let alpha = stdout.find("] dnf alpha").unwrap_or(0);
        assert!(copr < alpha, "repositories first: {stdout}");
        let file = std::path::Path::new(&root)
            .join("etc/yum.repos.d/_copr:copr.fedorainfracloud.org:atim:starship.repo");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(
                "baseurl=https://download.copr.fedorainfracloud.org/results/atim/starship/"
            )
        );
        // dnf itself reads the file as a repository of the root.
        let installroot = format!("--installroot={root}");
        let repos = w.system_tool("dnf", &[&installroot, "repolist", "--all", "-q", "-C"]);
        assert!(
            repos
                .stdout()
                .contains("copr:copr.fedorainfracloud.org:atim:starship"),
            "{}",
            repos.all()
        );
        w.bkt(&["status", "--root", &root, "-s", "dnf"])
            .assert_code(0);
    }

    /// Kills `bkt dnf install --no-apply` at random instants: the manifest and the
    /// Containerfile are always in step afterwards, and no temp file survives the next run.
    #[test]
    fn edits_killed_at_any_instant_leave_the_pair_in_step() {
        let (w, _root) = world(r#"{"packages": []}"#, &[]);
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        // How long an edit takes here, uninterrupted: the kills are spread over all of it
        // (and a little past), so some land before the write, some during, some after.
        let mut took: Vec<u128> = (0..3)
            .map(|k| {
                let started = std::time::Instant::now();
                w.bkt(&["dnf", "install", &format!("warm{k}"), "--no-apply"])
                    .assert_code(0);
                started.elapsed().as_micros()
            })
            .collect();
        took.sort();
        let mut span = (took[1] * 13 / 10).max(1) as u64;
        let mut seed = 0x2545_f491_u32;
        let (mut before, mut after) = (0, 0);
        // At least 40 kills; on a machine slower now than when measured, the span grows
        // (shrinks) until kills land after (before) the write too, up to 160 kills.
        let mut i = 0;
        while i < 40 || (i < 160 && (before == 0 || after == 0)) {
            if i >= 40 && i % 10 == 0 {
                span = if after == 0 {
                    span * 3 / 2
                } else {
                    (span * 2 / 3).max(1)
                };
            }
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let name = format!("p{i}");
            let mut child = w.spawn_bkt(&["dnf", "install", &name, "--no-apply"]);
            std::thread::sleep(std::time::Duration::from_micros(u64::from(seed) % span));
            let _ = child.kill();
            let _ = child.wait();
            let check = w.bkt(&["containerfile", "check"]);
            assert_eq!(check.code(), 0, "after kill {i}: {}", check.all());
            let manifest = w.manifest("system-packages.json");
            serde_json::from_str::<serde_json::Value>(&manifest).expect("the manifest is whole");
            if manifest.contains(&format!("\"{name}\"")) {
                after += 1;
            } else {
                before += 1;
            }
            i += 1;
        }
        // Kills that all landed before the first write would pass whatever the writes do.
        assert!(
            before > 0 && after > 0,
            "the kills did not straddle the write: {before} before it, {after} after (an edit takes {} µs)",
            took[1]
        );
        w.bkt(&["dnf", "install", "last", "--no-apply"])
            .assert_code(0);
        let leftovers: Vec<String> = ["", "manifests"]
            .iter()
            .flat_map(|d| std::fs::read_dir(w.repo().join(d)).unwrap().flatten())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".bkt-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// `ROOT/var/lib/bkt` planted as a link out of the mounted root: bkt's own record is not
/// written through it (it warns, and the link's target stays empty).
#[test]
fn the_sync_record_under_a_root_does_not_follow_a_planted_link() {
    let (w, root) = common::dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    let outside = w.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(Path::new(&root).join("var/lib")).unwrap();
    std::os::unix::fs::symlink(&outside, Path::new(&root).join("var/lib/bkt")).unwrap();
    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
    out.assert_code(0);
    out.assert_stderr_has("cannot write the sync record");
    let written: Vec<_> = walk(&outside);
    assert!(written.is_empty(), "written through the link: {written:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
