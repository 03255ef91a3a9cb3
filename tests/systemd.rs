//! systemd units end to end with the real systemctl on a throwaway root: status before and
//! after, apply (enable, disable, mask, unmask), capture, the verbs, the SYSTEMD_UNITS
//! section through hadolint, shipped units through systemd-analyze, and the original bkt's
//! manifest kept byte for byte.

mod common;
use common::World;
use std::path::{Path, PathBuf};

const CONTAINERFILE: &str = "FROM quay.io/fedora/fedora-bootc:42\n# === SYSTEMD_UNITS (managed by bkt) ===\n# === END SYSTEMD_UNITS ===\nRUN bootc container lint\n";

/// The original bkt's manifest, byte for byte (github.com/wycats/bootc, manifests/).
const ORIGINAL: &str = "{\n  \"$schema\": \"../schemas/systemd-services.schema.json\",\n  \"services\": {\n    \"tuned.service\": \"enabled\",\n    \"tuned-ppd.service\": \"enabled\",\n    \"power-profiles-daemon.service\": \"masked\"\n  }\n}\n";

const UNIT: &str = "[Unit]\nDescription=bkt test unit\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n";

/// A root with system units a..e and x, user unit u, and vendor presets that enable only e
/// (and every user unit, as systemd does without a user preset).
fn root(w: &World) -> PathBuf {
    let root = w.path("root");
    let system = root.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&system).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/systemd/user")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/systemd/system-preset")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for name in ["a", "b", "c", "d", "e", "x"] {
        std::fs::write(system.join(format!("{name}.service")), UNIT).unwrap();
    }
    std::fs::write(
        root.join("usr/lib/systemd/user/u.service"),
        UNIT.replace("multi-user.target", "default.target"),
    )
    .unwrap();
    std::fs::write(
        root.join("usr/lib/systemd/system-preset/90-test.preset"),
        "enable e.service\ndisable *\n",
    )
    .unwrap();
    root
}

fn systemctl(root: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(args)
        .output()
        .expect("systemctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What `systemctl is-enabled` says of each unit, one word each.
fn states(root: &Path, units: &[&str]) -> Vec<String> {
    units
        .iter()
        .map(|u| systemctl(root, &["is-enabled", u]))
        .collect()
}

fn world(manifest: &str) -> (World, PathBuf, String) {
    let w = World::new();
    w.write_manifest("systemd-services.json", manifest);
    w.write_containerfile(CONTAINERFILE);
    let root = root(&w);
    // The section in step, so status speaks of the units alone (a bad manifest leaves the
    // file as it is).
    let _ = w.bkt(&["containerfile", "sync"]);
    let text = root.display().to_string();
    (w, root, text)
}

/// The changes of `status -s systemd` as (id, kind, wanted, live).
fn changes(w: &World, root: &str) -> Vec<(String, String, String, String)> {
    let out = w.bkt(&[
        "status", "-s", "systemd", "--root", root, "--format", "json",
    ]);
    let doc = out.json();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    doc["plugins"][0]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|c| {
            (
                text(&c["id"]),
                text(&c["kind"]),
                text(&c["wanted"]),
                text(&c["live"]),
            )
        })
        .collect()
}

fn row(id: &str, kind: &str, wanted: &str, live: &str) -> (String, String, String, String) {
    (id.into(), kind.into(), wanted.into(), live.into())
}

#[test]
fn apply_enables_disables_masks_and_unmasks_in_the_root() {
    let (w, root, r) = world(
        r#"{"services": {"a.service": "enabled", "b.service": "masked", "c.service": "disabled", "d.service": "enabled"},
            "user_services": {"u.service": "enabled"}}"#,
    );
    // By hand: c enabled, d masked, x masked (the manifest does not name x).
    systemctl(&root, &["enable", "c.service"]);
    systemctl(&root, &["mask", "d.service", "x.service"]);
    let units = [
        "a.service",
        "b.service",
        "c.service",
        "d.service",
        "x.service",
    ];
    assert_eq!(
        states(&root, &units),
        ["disabled", "disabled", "enabled", "masked", "masked"]
    );

    assert_eq!(
        changes(&w, &r),
        [
            row("a.service", "differs", "enabled", "disabled"),
            row("b.service", "differs", "masked", "disabled"),
            row("c.service", "differs", "disabled", "enabled"),
            row("d.service", "differs", "enabled", "masked"),
            row("x.service", "extra", "-", "masked"),
            row("user:u.service", "differs", "enabled", "disabled"),
        ]
    );
    let plan = w.bkt(&["apply", "--dry-run", "-s", "systemd", "--root", &r]);
    plan.assert_stdout_has(&format!("systemctl --root={r} unmask d.service"));
    plan.assert_stdout_has(&format!("systemctl --root={r} --global enable u.service"));

    w.bkt(&["apply", "--yes", "-s", "systemd", "--root", &r])
        .assert_code(0);
    assert_eq!(
        states(&root, &units),
        ["enabled", "masked", "disabled", "enabled", "masked"]
    );
    assert_eq!(
        systemctl(&root, &["--global", "is-enabled", "u.service"]),
        "enabled"
    );
    // x is new on this machine: apply leaves it, --prune gives it back to its preset.
    assert_eq!(changes(&w, &r), [row("x.service", "extra", "-", "masked")]);
    w.bkt(&["apply", "--yes", "--prune", "-s", "systemd", "--root", &r])
        .assert_code(0);
    assert_eq!(systemctl(&root, &["is-enabled", "x.service"]), "disabled");
    w.bkt(&["status", "-s", "systemd", "--root", &r])
        .assert_code(0);
}

#[test]
fn capture_takes_units_set_by_hand_and_never_a_vendor_preset() {
    let (w, root, r) = world("{\n  \"services\": {\n    \"a.service\": \"enabled\"\n  }\n}\n");
    // e is enabled by its preset; b enabled and x masked by hand.
    systemctl(&root, &["preset", "e.service"]);
    systemctl(&root, &["enable", "b.service"]);
    systemctl(&root, &["mask", "x.service"]);
    let out = w.bkt(&["capture", "-s", "systemd", "--root", &r]);
    out.assert_code(0);
    assert_eq!(
        w.manifest("systemd-services.json"),
        "{\n  \"services\": {\n    \"a.service\": \"enabled\",\n    \"b.service\": \"enabled\",\n    \"x.service\": \"masked\"\n  }\n}\n",
        "a keeps the manifest's value over its preset; e is the preset's"
    );
}

#[test]
fn verbs_edit_manifest_and_section_together_and_change_the_root() {
    let (w, root, r) = world(ORIGINAL);
    w.bkt(&["systemd", "enable", "a.service", "b.service", "--root", &r])
        .assert_code(0);
    assert_eq!(
        states(&root, &["a.service", "b.service"]),
        ["enabled", "enabled"]
    );
    w.bkt(&["systemd", "mask", "c.service", "--root", &r])
        .assert_code(0);
    w.bkt(&["systemd", "enable", "u.service", "--user", "--root", &r])
        .assert_code(0);
    assert_eq!(
        systemctl(&root, &["--global", "is-enabled", "u.service"]),
        "enabled"
    );
    assert!(
        w.containerfile().contains(
            "RUN systemctl enable tuned.service tuned-ppd.service a.service b.service && \\\n    systemctl mask power-profiles-daemon.service c.service && \\\n    systemctl --global enable u.service\n"
        ),
        "{}",
        w.containerfile()
    );
    w.bkt(&["containerfile", "check"]).assert_code(0);

    // unmask: out of the manifest and off the machine's mask.
    assert_eq!(systemctl(&root, &["is-enabled", "c.service"]), "masked");
    w.bkt(&["systemd", "unmask", "c.service", "--root", &r])
        .assert_code(0);
    assert_eq!(systemctl(&root, &["is-enabled", "c.service"]), "disabled");
    assert!(!w.manifest("systemd-services.json").contains("c.service"));
    let list = w.bkt(&["systemd", "list", "--root", &r]);
    list.assert_stdout_has("tuned.service enabled   (not installed here)");
    list.assert_stdout_has("a.service enabled\n");

    // remove: the manifest forgets, the machine keeps its state; back to the original bytes.
    w.bkt(&["systemd", "remove", "a.service", "b.service", "--root", &r])
        .assert_code(0);
    w.bkt(&["systemd", "remove", "u.service", "--user", "--root", &r])
        .assert_code(0);
    assert_eq!(
        w.manifest("systemd-services.json"),
        ORIGINAL,
        "byte for byte"
    );
    assert_eq!(systemctl(&root, &["is-enabled", "a.service"]), "enabled");

    let before = (w.manifest("systemd-services.json"), w.containerfile());
    for bad in [
        "a;b.service",
        "x.device",
        "$(id).service",
        "--now",
        "a b.service",
        "tuned",
    ] {
        let out = w.bkt(&["systemd", "enable", "--root", &r, "--", bad]);
        out.assert_code(2);
        out.assert_stderr_has(&format!("{bad:?}"));
    }
    assert_eq!(
        (w.manifest("systemd-services.json"), w.containerfile()),
        before
    );
}

#[test]
fn a_bad_manifest_names_file_and_field() {
    let (w, _root, r) = world(r#"{"services": {"a.service": "on"}}"#);
    let out = w.bkt(&["status", "-s", "systemd", "--root", &r]);
    out.assert_code(2);
    out.assert_stdout_has(
        "manifests/systemd-services.json:1:31: services.a.service: unknown variant `on`",
    );
    w.write_manifest(
        "systemd-services.json",
        r#"{"services": {"a b.service": "enabled"}}"#,
    );
    let out = w.bkt(&["containerfile", "sync"]);
    out.assert_code(2);
    out.assert_stderr_has("services.a b.service");
}

/// hadolint, installed by scripts/deps.
fn hadolint(file: &Path) -> std::process::Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let hadolint = repo.join(".venv/bin/hadolint");
    assert!(
        hadolint.exists(),
        "{} is missing: run scripts/deps",
        hadolint.display()
    );
    std::process::Command::new(&hadolint)
        .arg("--config")
        .arg(repo.join(".hadolint.yaml"))
        .arg("--no-color")
        .arg(file)
        .output()
        .expect("running hadolint")
}

#[test]
fn the_section_passes_hadolint() {
    let (w, _root, _r) = world(
        r#"{"services": {"a.service": "enabled", "b.service": "disabled", "c.service": "masked"},
            "user_services": {"u.service": "enabled"},
            "unit_files": ["a.service"], "user_unit_files": ["u.service"]}"#,
    );
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let text = w.containerfile();
    assert!(text.contains("COPY systemd/units/a.service /usr/lib/systemd/system/\nCOPY systemd/units/user/u.service /usr/lib/systemd/user/\nRUN systemctl enable a.service && \\\n"), "{text}");
    let out = hadolint(&w.repo().join("Containerfile"));
    assert!(
        out.status.success(),
        "hadolint: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every unit file the repository ships (the boot-time apply units, and any under
/// systemd/units/) passes `systemd-analyze verify` with nothing to say, with the bkt they run
/// being this build's (the image has it in /usr/bin); and the check does catch a broken unit.
#[test]
fn shipped_units_pass_systemd_analyze_verify() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd");
    let mut units: Vec<PathBuf> = Vec::new();
    for dir in [repo.clone(), repo.join("units"), repo.join("units/user")] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_file() {
                units.push(entry.path());
            }
        }
    }
    assert!(units.len() >= 2, "{units:?}");
    let w = World::new();
    let verify = |unit: &Path| {
        let out = std::process::Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(unit)
            .output()
            .expect("systemd-analyze");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let bkt = w.bkt_exe();
    for unit in &units {
        let text = std::fs::read_to_string(unit).unwrap();
        let copy = w.path(&unit.file_name().unwrap().to_string_lossy());
        std::fs::write(
            &copy,
            text.replace("/usr/bin/bkt", &bkt.display().to_string()),
        )
        .unwrap();
        let (ok, said) = verify(&copy);
        assert!(ok && said.is_empty(), "{}: {said}", unit.display());
    }
    let bad = w.path("bad.service");
    std::fs::write(
        &bad,
        "[Unit]\nDescription=no command\n[Service]\nType=oneshot\n",
    )
    .unwrap();
    assert!(
        !verify(&bad).0,
        "systemd-analyze accepted a service without a command"
    );
}

/// The JSON Schemas of both manifests accept the original bkt's files, this repository's and
/// every form the docs show, and reject what the plugins reject.
#[test]
fn the_manifest_schemas_agree_with_the_plugins() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let check = |schema: &str, good: &[&str], bad: &[&str]| {
        let text = std::fs::read_to_string(repo.join("schemas").join(schema)).unwrap();
        let schema_doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let validator =
            jsonschema::draft202012::new(&schema_doc).unwrap_or_else(|e| panic!("{schema}: {e}"));
        for doc in good {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert!(validator.is_valid(&v), "{schema} rejects {doc}");
        }
        for doc in bad {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert!(!validator.is_valid(&v), "{schema} accepts {doc}");
        }
    };
    let own = |name: &str| std::fs::read_to_string(repo.join("manifests").join(name)).unwrap();
    check(
        "systemd-services.schema.json",
        &[
            ORIGINAL,
            &own("systemd-services.json"),
            r#"{"services": {"getty@tty1.service": "enabled"}, "user_services": {"u.timer": "disabled"}, "unit_files": ["a.service"], "user_unit_files": ["u.timer"]}"#,
        ],
        &[
            r#"{"services": {"a.service": "on"}}"#,
            r#"{"services": {"a;b.service": "enabled"}}"#,
            r#"{"services": {"x.device": "enabled"}}"#,
            r#"{"services": {}, "extra": 1}"#,
            r#"{"unit_files": ["a.service", "a.service"]}"#,
        ],
    );
    check(
        "host-shims.schema.json",
        &[
            "{\"$schema\": \"x\", \"shims\": [{\"name\": \"bootc\"}, {\"name\": \"docker\", \"host\": \"podman\"}]}",
            &own("host-shims.json"),
        ],
        &[
            r#"{"shims": [{"name": "a b"}]}"#,
            r#"{"shims": [{"name": "-x"}]}"#,
            r#"{"shims": [{"host": "podman"}]}"#,
            r#"{"shims": [{"name": "a", "hots": "b"}]}"#,
        ],
    );
}

/// A unit the distribution ships masked (a link to /dev/null in /usr/lib, as Debian ships
/// `rcS.service`) was masked by nobody here: not an extra, never captured. One masked in /etc
/// is.
#[test]
fn a_unit_shipped_masked_is_not_a_choice_made_here() {
    let (w, root, r) = world(r#"{"services": {}}"#);
    std::os::unix::fs::symlink("/dev/null", root.join("usr/lib/systemd/system/v.service")).unwrap();
    systemctl(&root, &["mask", "x.service"]);
    let ids: Vec<String> = changes(&w, &r).into_iter().map(|c| c.0).collect();
    assert_eq!(ids, ["x.service"], "{ids:?}");
}

/// The root boots with a fixed boot id: what `--local` records belong to.
fn set_boot(root: &Path) {
    let dir = root.join("proc/sys/kernel/random");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("boot_id"), "boot-1\n").unwrap();
}

/// `--local` sets the unit in the root and leaves the repository alone; the change is known
/// as local, not drift, and `bkt local list` names the command.
#[test]
fn a_local_verb_changes_this_machine_only() {
    let (w, root, r) = world("{\n  \"services\": {\n    \"b.service\": \"disabled\"\n  }\n}\n");
    set_boot(&root);
    let before = (w.manifest("systemd-services.json"), w.containerfile());
    let out = w.bkt(&["systemd", "enable", "a.service", "--local", "--root", &r]);
    out.assert_code(0);
    out.assert_stdout_has("Changed this machine only");
    assert_eq!(
        (w.manifest("systemd-services.json"), w.containerfile()),
        before,
        "byte for byte"
    );
    assert_eq!(systemctl(&root, &["is-enabled", "a.service"]), "enabled");
    let status = w.bkt(&["status", "-s", "systemd", "--root", &r]);
    status.assert_code(0);
    status.assert_stdout_has("(local change)");
    let list = w.bkt(&["local", "list", "--root", &r]);
    list.assert_code(0);
    list.assert_stdout_has("bkt systemd enable a.service --local");
}

/// `bkt admin systemd ...`, as the original bkt spelled it, is `bkt systemd ...`.
#[test]
fn admin_systemd_reaches_the_same_plugin() {
    let (w, root, r) = world(ORIGINAL);
    w.bkt(&["admin", "systemd", "mask", "c.service", "--root", &r])
        .assert_code(0);
    assert_eq!(systemctl(&root, &["is-enabled", "c.service"]), "masked");
    assert!(
        w.manifest("systemd-services.json").contains(
            "    \"power-profiles-daemon.service\": \"masked\",\n    \"c.service\": \"masked\"\n"
        ),
        "{}",
        w.manifest("systemd-services.json")
    );
    w.bkt(&["containerfile", "check"]).assert_code(0);
}

/// A unit the manifest wants enabled that this machine does not have: systemctl cannot
/// enable it, so it is a warning that says so, never a change apply claims or a hint to
/// run apply; the units that are here are still set.
#[test]
fn a_unit_not_installed_here_is_said_not_planned() {
    let (w, root, r) = world(
        r#"{"services": {"a.service": "enabled", "tuned.service": "enabled", "gone.service": "disabled"},
            "user_services": {"nope.service": "enabled"}}"#,
    );
    let out = w.bkt(&["status", "-s", "systemd", "--root", &r, "--format", "json"]);
    let doc = out.json();
    let plugin = &doc["plugins"][0];
    let ids: Vec<&str> = plugin["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a.service"], "{plugin:#}");
    let problems = plugin["problems"].as_array().unwrap();
    let said: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            ("tuned.service", "warning"),
            ("user:nope.service", "warning")
        ],
        "{plugin:#}"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("tuned.service is not installed here"),
        "{plugin:#}"
    );

    let out = w.bkt(&["apply", "--yes", "-s", "systemd", "--root", &r]);
    out.assert_code(0);
    out.assert_stderr_has("tuned.service is not installed here");
    out.assert_stdout_has("Applied 1 of 1");
    assert_eq!(systemctl(&root, &["is-enabled", "a.service"]), "enabled");
    assert!(
        !root
            .join("etc/systemd/system/multi-user.target.wants/tuned.service")
            .exists()
    );
    let status = w.bkt(&["status", "-s", "systemd", "--root", &r]);
    status.assert_code(0);
    status.assert_stdout_has("tuned.service is not installed here");
    assert!(
        !status.stdout().contains("bkt apply"),
        "{}",
        status.stdout()
    );
}
