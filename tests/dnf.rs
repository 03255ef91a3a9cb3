//! The dnf subsystem end to end, with the real rpm and dnf on a throwaway root built from
//! tiny RPMs, and rpm-ostree as a test double replaying recorded `status --json` output.

mod common;
use common::World;

use common::dnf_world as world;

fn dnf_status(w: &World, root: &str) -> serde_json::Value {
    let out = w.bkt(&["status", "--root", root, "-s", "dnf", "--format", "json"]);
    let json = out.json();
    assert_eq!(json["format_version"], 1);
    let drift = json["plugins"][0]["state"] == "drift";
    out.assert_code(i32::from(drift));
    json["plugins"][0].clone()
}

#[test]
fn status_counts_missing_and_extra_and_capture_adds_the_extra() {
    let (w, root) = world(
        r#"{"packages": ["alpha", "gamma"], "copr_repos": []}"#,
        &["alpha", "beta"],
    );
    let d = dnf_status(&w, &root);
    assert_eq!(d["items"], 2);
    assert_eq!(d["missing"], 1, "{d}");
    assert_eq!(d["extra"], 1, "{d}");
    assert_eq!(d["changes"][0]["id"], "gamma");
    assert_eq!(d["changes"][1]["id"], "beta");
    // No sync record yet: first contact, both values given.
    assert_eq!(d["changes"][1]["side"], "first-contact");
    assert_eq!(d["changes"][1]["live"], "installed");
    assert_eq!(d["changes"][1]["wanted"], serde_json::Value::Null);

    let out = w.bkt(&["capture", "--root", &root, "-s", "dnf"]);
    out.assert_code(0);
    // The file is edited in place: the inline list stays inline, nothing else moves.
    out.assert_stdout_has("+{\"packages\": [\"alpha\", \"beta\", \"gamma\"], \"copr_repos\": []}");
    assert_eq!(
        w.manifest("system-packages.json"),
        r#"{"packages": ["alpha", "beta", "gamma"], "copr_repos": []}"#
    );
    // The Containerfile changed in the same step.
    assert!(
        w.containerfile().contains(
            "RUN dnf install -y \\\n    alpha \\\n    beta \\\n    gamma \\\n    && dnf clean all\n"
        ),
        "{}",
        w.containerfile()
    );
}

/// The queries bkt ran for `args` (from its log), sorted.
fn queries(w: &World, args: &[&str]) -> Vec<String> {
    let mut cmd = w.bkt_command(args);
    cmd.env("RUST_LOG", "bkt::query=debug");
    let out = cmd.output().expect("running bkt");
    let mut queries: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split("query: ").nth(1))
        .map(|q| q.split(" plugin=").next().unwrap_or(q).trim().to_string())
        .collect();
    queries.sort();
    queries
}

/// Capture changes nothing on the machine, so the plugin's capture is answered from what its
/// plan read: the packages are listed once, as for status.
#[test]
fn capture_lists_the_machine_once() {
    let (w, root) = world(
        r#"{"packages": ["alpha"], "copr_repos": []}"#,
        &["alpha", "beta"],
    );
    let status = queries(&w, &["status", "--root", &root, "-s", "dnf"]);
    assert!(
        status.iter().any(|q| q.starts_with("rpm -qa")),
        "{status:?}"
    );
    let capture = queries(&w, &["capture", "--dry-run", "--root", &root, "-s", "dnf"]);
    assert_eq!(capture, status);
    let out = w.bkt(&["capture", "--dry-run", "--root", &root, "-s", "dnf"]);
    out.assert_stdout_has("dnf: would take 1 item");
}

#[test]
fn apply_installs_missing_in_one_dnf_call_and_prune_removes_extra() {
    let (w, root) = world(
        r#"{"packages": ["alpha", "delta", "gamma"]}"#,
        &["alpha", "beta"],
    );
    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf", "-v"]);
    out.assert_code(0);
    out.assert_stdout_has("Applied 2 of 2 changes");
    let stderr = out.stderr();
    let runs: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("run: dnf install"))
        .map(|l| l.trim())
        .collect();
    assert_eq!(runs.len(), 1, "one dnf for both packages: {runs:?}");
    assert!(runs[0].ends_with("delta gamma"), "{runs:?}");
    assert_eq!(
        w.installed(root.as_ref()),
        ["alpha", "beta", "delta", "gamma"]
    );

    let out = w.bkt(&["apply", "--yes", "--prune", "--root", &root, "-s", "dnf"]);
    out.assert_code(0);
    assert_eq!(w.installed(root.as_ref()), ["alpha", "delta", "gamma"]);
}

#[test]
fn install_and_remove_edit_manifest_and_containerfile_together() {
    let (w, root) = world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    let out = w.bkt(&["dnf", "install", "gamma", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has("+{\"packages\": [\"alpha\", \"gamma\"]}");
    out.assert_stdout_has("+    gamma \\");
    assert_eq!(w.installed(root.as_ref()), ["alpha", "gamma"]);
    assert!(w.containerfile().contains("    gamma \\\n"));

    w.bkt(&["dnf", "install", "delta", "--no-apply", "--root", &root])
        .assert_code(0);
    assert!(w.manifest("system-packages.json").contains("delta"));
    assert_eq!(
        w.installed(root.as_ref()),
        ["alpha", "gamma"],
        "--no-apply installs nothing"
    );
    // Named again while already in the manifest: installed now.
    w.bkt(&["dnf", "install", "delta", "--root", &root])
        .assert_code(0);
    assert_eq!(w.installed(root.as_ref()), ["alpha", "delta", "gamma"]);

    w.bkt(&["dnf", "remove", "alpha", "--root", &root])
        .assert_code(0);
    assert!(!w.manifest("system-packages.json").contains("alpha"));
    assert!(!w.containerfile().contains("alpha"));
    assert_eq!(w.installed(root.as_ref()), ["delta", "gamma"]);

    let dry = w.bkt(&["dnf", "install", "beta", "--dry-run", "--root", &root]);
    dry.assert_code(0);
    assert!(!w.manifest("system-packages.json").contains("beta"));
    assert!(!w.containerfile().contains("beta"));
}

#[test]
fn copr_enable_and_disable_render_one_run() {
    let (w, root) = world("{}", &[]);
    w.bkt(&["dnf", "copr", "enable", "atim/starship", "--root", &root])
        .assert_code(0);
    w.bkt(&["dnf", "copr", "enable", "@gnome/shell", "--root", &root])
        .assert_code(0);
    let cf = w.containerfile();
    assert!(
        cf.contains("# === COPR_REPOS (managed by bkt) ===\nRUN dnf copr enable -y @gnome/shell && \\\n    dnf copr enable -y atim/starship\n# === END COPR_REPOS ==="),
        "{cf}"
    );
    assert!(
        cf.contains("# No extra packages"),
        "empty package list renders a comment: {cf}"
    );
    w.bkt(&["dnf", "copr", "disable", "@gnome/shell", "--root", &root])
        .assert_code(0);
    assert!(!w.containerfile().contains("@gnome/shell"));
    let bad = w.bkt(&["dnf", "copr", "enable", "not-a-copr", "--root", &root]);
    bad.assert_code(2);
    bad.assert_stderr_has("OWNER/PROJECT");
}

#[test]
fn names_that_could_inject_arguments_are_rejected_before_anything_runs() {
    let (w, root) = world(r#"{"packages": ["alpha"]}"#, &[]);
    let before = (w.manifest("system-packages.json"), w.containerfile());
    for bad in ["--nogpgcheck", "a;rm -rf /", "a b", "$(id)", "x/y"] {
        let out = w.bkt(&["--root", &root, "dnf", "install", "--", bad]);
        out.assert_code(2);
        out.assert_stderr_has("is not a package name");
    }
    assert_eq!(
        (w.manifest("system-packages.json"), w.containerfile()),
        before
    );
    assert!(w.installed(root.as_ref()).is_empty());

    w.write_manifest("system-packages.json", r#"{"packages": ["alpha", "-y"]}"#);
    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
    out.assert_code(2);
    out.assert_stderr_has("manifests/system-packages.json: packages[1]:");
    assert!(w.installed(root.as_ref()).is_empty());
}

/// An ostree root: rpm-ostree is the double, replaying the status of a Fedora workstation
/// with 16 packages layered by hand, fish among them.
fn ostree_world() -> (World, String, std::path::PathBuf) {
    let (mut w, root) = world(r#"{"packages": ["fish", "gamma"]}"#, &["alpha", "fish"]);
    std::fs::create_dir_all(w.path("root/run")).unwrap();
    std::fs::write(w.path("root/run/ostree-booted"), "").unwrap();
    let log = w.path("rpm-ostree.log");
    let programs = w.program_path_with_doubles("rpm-ostree-status-layered.json", &log);
    w.extra_env.push(("BKT_PROGRAM_PATH".into(), programs));
    (w, root, log)
}

#[test]
fn on_ostree_extras_come_from_the_booted_deployment_and_live_changes_stay_off_a_mounted_root() {
    let (w, root, log) = ostree_world();
    let d = dnf_status(&w, &root);
    // rpm-ostree cannot act inside a mounted root: each change is a problem that says so.
    let refused: Vec<&str> = d["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // gamma is missing; the 15 packages layered on the booted deployment that the manifest
    // does not list are extras (fish it lists; alpha came with the image, not layered).
    assert_eq!(refused[0], "gamma", "{d}");
    assert_eq!(refused.len(), 16, "{d}");
    assert!(
        refused.contains(&"tmux") && refused.contains(&"xsel"),
        "{d}"
    );
    assert!(
        !refused.contains(&"fish") && !refused.contains(&"alpha"),
        "{d}"
    );
    assert!(
        d["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("acts on the running system, not inside the mounted root"),
        "{d}"
    );

    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
    out.assert_code(1);
    out.assert_stderr_has(
        "gamma: not applied: `rpm-ostree install --idempotent --apply-live gamma`",
    );
    let out = w.bkt(&["dnf", "sync", "--now", "--root", &root]);
    out.assert_code(1);
    assert!(!log.exists(), "nothing ran: {}", out.all());
}

/// A group the manifest lists is read back from dnf: missing until `apply` runs the real
/// `dnf group install`, then in step; on an ostree system it is the image's alone.
#[test]
fn a_group_is_installed_here_and_then_in_step() {
    let (w, root) = world(
        r#"{"packages": ["alpha"], "groups": ["@bkt-test-tools"]}"#,
        &["alpha"],
    );
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let d = dnf_status(&w, &root);
    assert_eq!(d["changes"][0]["id"], "group:bkt-test-tools", "{d}");
    assert_eq!(d["problems"], serde_json::json!([]), "{d}");

    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
    out.assert_code(0);
    assert_eq!(w.installed(root.as_ref()), ["alpha", "beta", "delta"]);
    let d = dnf_status(&w, &root);
    assert_eq!(d["state"], "ok", "{d}");
    assert_eq!(d["changes"], serde_json::json!([]), "{d}");

    // The same manifest on an ostree system: a note, no change bkt cannot make.
    let (w, root, _log) = ostree_world();
    w.write_manifest("system-packages.json", r#"{"groups": ["bkt-test-tools"]}"#);
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let d = dnf_status(&w, &root);
    let note = d["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "group:bkt-test-tools")
        .unwrap_or_else(|| panic!("{d}"));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("rpm-ostree cannot layer groups"),
        "{note}"
    );
}

#[test]
fn concurrent_edits_do_not_lose_each_other() {
    let (w, _root) = world(r#"{"packages": []}"#, &[]);
    w.bkt(&["plugin", "list"]).assert_code(0);
    let names = ["p1", "p2", "p3", "p4", "p5", "p6"];
    std::thread::scope(|s| {
        for name in names {
            let w = &w;
            s.spawn(move || {
                w.bkt(&["dnf", "install", name, "--no-apply"])
                    .assert_code(0);
            });
        }
    });
    let m: serde_json::Value = serde_json::from_str(&w.manifest("system-packages.json")).unwrap();
    assert_eq!(m["packages"], serde_json::json!(names));
    for name in names {
        assert!(
            w.containerfile().contains(&format!("    {name} \\\n")),
            "{name} missing from the Containerfile"
        );
    }
}

#[test]
fn subsystem_commands_speak_json() {
    let (w, root) = world(r#"{"packages": ["alpha"]}"#, &[]);
    let list = w.bkt(&["dnf", "list", "--format", "json", "--root", &root]);
    list.assert_code(0);
    assert_eq!(list.json()["output"][1], "  alpha   (not installed here)");

    let install = w.bkt(&[
        "dnf", "install", "gamma", "--format", "json", "--root", &root,
    ]);
    install.assert_code(0);
    let doc = install.json();
    assert_eq!(doc["written"], true);
    let files: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["manifests/system-packages.json", "Containerfile"]);
    assert_eq!(doc["applied"][0]["id"], "gamma");
    assert_eq!(doc["applied"][0]["ok"], true);
}

/// Where rpm has no database at all (the user bkt runs as has none, as on a fresh Debian
/// machine), dnf is unavailable here: said as such, not as an error, and status exits 0.
#[test]
fn no_rpm_database_means_unavailable_not_an_error() {
    let w = World::unprivileged();
    w.write_manifest("system-packages.json", r#"{"packages": ["htop"]}"#);
    // rpm as bkt runs it: a cleared environment, as the world's user.
    let mut rpm = w.command("rpm");
    rpm.env_clear().env("PATH", common::SYSTEM_PATH).arg("-qa");
    let bare = rpm.output().expect("rpm");
    if bare.status.success() {
        // This user has a database after all: there is nothing to check here.
        return;
    }
    let out = w.bkt(&["status", "-s", "dnf", "--format", "json"]);
    out.assert_code(0);
    let dnf = &out.json()["plugins"][0];
    assert_eq!(dnf["state"], "unavailable", "{dnf}");
    assert!(
        dnf["error"]
            .as_str()
            .unwrap_or("")
            .contains("no rpm database"),
        "{dnf}"
    );
}

/// A failure that is the same for every item (no repository to install from) is said once:
/// the batch's failure, then each retried item as "failed, as above".
#[test]
fn the_same_failure_is_said_once() {
    let (w, root) = world(r#"{"packages": ["alpha", "delta", "gamma"]}"#, &["alpha"]);
    std::fs::remove_file(std::path::Path::new(&root).join("etc/yum.repos.d/local.repo")).unwrap();
    let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
    out.assert_code(1);
    out.assert_stdout_has("one at a time");
    let stdout = out.stdout();
    // Once as it happens, once in the summary with how many changes it stopped.
    let said = stdout.matches("no enabled repositories").count();
    assert_eq!(said, 2, "{stdout}");
    assert_eq!(stdout.matches("failed, as above").count(), 2, "{stdout}");
    out.assert_stdout_has("2 failed");
    out.assert_stdout_has("  2 × ");
}
