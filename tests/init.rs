//! `bkt init` end to end: the repository it writes is one bkt, hadolint, actionlint and the
//! manifests' own schemas accept; git (the real one) is initialized outside a repository and
//! left alone inside one; a folder that already holds a repository, a bad image or a failure
//! part-way leaves everything as it was; `--capture` takes a flatpak installed here with the
//! real flatpak.

mod common;
use common::World;
use common::flatpak::{REMOTE, app, repo};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every builtin's manifest, as `bkt init` writes them.
const MANIFESTS: [&str; 9] = [
    "external-repos.json",
    "flatpak-apps.json",
    "flatpak-remotes.json",
    "gnome-extensions.json",
    "gsettings.json",
    "host-shims.json",
    "kargs.json",
    "system-packages.json",
    "systemd-services.json",
];

/// The sections in the order sync renders plugins: by phase (repositories, packages,
/// configuration), then id.
const SECTIONS: [&str; 6] = [
    "EXTERNAL_REPOS",
    "COPR_REPOS",
    "SYSTEM_PACKAGES",
    "KERNEL_ARGUMENTS",
    "HOST_SHIMS",
    "SYSTEMD_UNITS",
];

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn linter(name: &str) -> PathBuf {
    let path = checkout().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/deps",
        path.display()
    );
    path
}

/// Every file under `dir`, relative, sorted (`.git`'s contents left out).
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                if rel != ".git" {
                    walk(&e.path(), &format!("{rel}/"), out);
                }
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Each manifest names its schema with `$schema`, relative to `manifests/`; that file is in
/// the new repository, is this checkout's schema, and a real validator finds nothing wrong.
fn assert_manifests_valid(dir: &Path) {
    for name in MANIFESTS {
        let text = std::fs::read_to_string(dir.join("manifests").join(name)).expect(name);
        assert!(
            text.starts_with("{\n  \"$schema\": "),
            "{name} starts with its $schema: {text}"
        );
        let doc: Value = serde_json::from_str(&text).expect(name);
        let reference = doc["$schema"].as_str().expect("$schema");
        let schema_path = dir.join("manifests").join(reference);
        let schema_text = std::fs::read_to_string(&schema_path)
            .unwrap_or_else(|e| panic!("{name}: {reference} does not resolve: {e}"));
        let file = schema_path.file_name().unwrap();
        assert_eq!(
            schema_text,
            std::fs::read_to_string(checkout().join("schemas").join(file)).unwrap(),
            "{reference} is this checkout's schema"
        );
        let schema: Value = serde_json::from_str(&schema_text).unwrap();
        let validator = jsonschema::draft202012::new(&schema).expect("a schema");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn a_new_repository_is_in_step_and_passes_the_linters() {
    let w = World::new();
    let dir = w.path("distro");
    let d = dir.to_str().unwrap();
    let out = w.bkt(&["init", d]);
    out.assert_code(0);
    out.assert_stdout_has("Wrote a new bkt repository in");
    out.assert_stdout_has("Made it a git repository");

    let mut expected = vec![
        ".github/workflows/image.yml".to_string(),
        "Containerfile".to_string(),
        "README.md".to_string(),
    ];
    for m in MANIFESTS {
        expected.push(format!("manifests/{m}"));
        expected.push(format!("schemas/{}", m.replace(".json", ".schema.json")));
    }
    expected.sort();
    assert_eq!(files_under(&dir), expected);

    // A git repository of its own, with nothing committed.
    let top = w.tool("git", &["-C", d, "rev-parse", "--show-toplevel"]);
    assert!(top.ok(), "{}", top.all());
    assert_eq!(Path::new(top.stdout().trim()), dir.canonicalize().unwrap());
    assert!(!w.tool("git", &["-C", d, "rev-parse", "HEAD"]).ok());

    let containerfile = std::fs::read_to_string(dir.join("Containerfile")).unwrap();
    assert!(
        containerfile.contains("\nFROM quay.io/fedora/fedora-bootc:42\n"),
        "{containerfile}"
    );
    let at: Vec<usize> = SECTIONS
        .iter()
        .map(|s| {
            containerfile
                .find(&format!("# === {s} (managed by bkt) ==="))
                .unwrap_or_else(|| panic!("{s} is missing:\n{containerfile}"))
        })
        .collect();
    assert!(at.windows(2).all(|p| p[0] < p[1]), "{containerfile}");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("bkt containerfile check"), "{readme}");

    w.bkt(&["--repo", d, "containerfile", "check"])
        .assert_code(0)
        .assert_stdout_has("in step");
    // Every manifest loads: each subsystem is tracked, none is in error.
    let status = w.bkt(&["--repo", d, "status", "--format", "json"]);
    assert_ne!(status.code(), 2, "{}", status.all());
    let doc = status.json();
    let plugins = doc["plugins"].as_array().expect("plugins");
    assert_eq!(plugins.len(), MANIFESTS.len(), "{doc:#}");
    for p in plugins {
        assert_eq!(p["manifest_exists"], true, "{p:#}");
        let state = p["state"].as_str().unwrap();
        assert!(["ok", "drift", "unavailable"].contains(&state), "{p:#}");
    }
    assert_eq!(doc["containerfile"]["state"], "ok", "{doc:#}");

    assert_manifests_valid(&dir);

    let hadolint = std::process::Command::new(linter("hadolint"))
        .arg("--config")
        .arg(checkout().join(".hadolint.yaml"))
        .arg("--no-color")
        .arg(dir.join("Containerfile"))
        .output()
        .expect("running hadolint");
    assert!(
        hadolint.status.success(),
        "hadolint: {}",
        String::from_utf8_lossy(&hadolint.stdout)
    );
    let workflow = dir.join(".github/workflows/image.yml");
    let text = std::fs::read_to_string(&workflow).unwrap();
    assert!(text.contains("bkt --repo . containerfile check"), "{text}");
    assert!(text.contains("podman build"), "{text}");
    let actionlint = std::process::Command::new(linter("actionlint"))
        .arg("-no-color")
        .arg(&workflow)
        .output()
        .expect("running actionlint");
    assert!(
        actionlint.status.success(),
        "actionlint: {}",
        String::from_utf8_lossy(&actionlint.stdout)
    );
}

#[test]
fn a_folder_that_holds_a_repository_is_refused_and_nothing_is_written() {
    let w = World::new();
    for (what, make) in [
        (
            "Containerfile",
            &(|p: &Path| std::fs::write(p, "FROM x\n")) as &dyn Fn(&Path) -> _,
        ),
        ("manifests/", &|p: &Path| std::fs::create_dir(p)),
    ] {
        let dir = w.path(&format!("taken-{}", what.trim_end_matches('/')));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine\n").unwrap();
        make(&dir.join(what.trim_end_matches('/'))).unwrap();
        let before = entries(&dir);
        let out = w.bkt(&["init", dir.to_str().unwrap()]);
        out.assert_code(2);
        out.assert_stderr_has(&format!("already holds {what}"));
        out.assert_stderr_has("wrote nothing");
        assert_eq!(entries(&dir), before, "{what}");
    }

    // The working directory is the default: the world's repository has manifests/.
    let out = w.bkt(&["init"]);
    out.assert_code(2);
    out.assert_stderr_has("already holds manifests/");

    // An image reference that is not one: refused before the folder is made.
    let fresh = w.path("fresh");
    for bad in [
        "fedora; rm -rf ~",
        "quay.io/fedora/fedora-bootc:$(id)",
        "a b",
    ] {
        let out = w.bkt(&["init", fresh.to_str().unwrap(), "--from", bad]);
        out.assert_code(2);
        out.assert_stderr_has("--from");
        assert!(!fresh.exists(), "{bad}");
    }
    let out = w.bkt(&["--repo", w.path("x").to_str().unwrap(), "init"]);
    out.assert_code(2);
    out.assert_stderr_has("not --repo");
}

#[test]
fn a_failure_part_way_leaves_no_half_repository() {
    // A .github folder the user cannot write into: everything else is staged and git
    // initialized, then moving the workflow in fails. Run as an unprivileged user (root
    // could write there anyway).
    use std::os::unix::fs::PermissionsExt;
    let w = World::unprivileged();
    let dir = w.path("distro");
    std::fs::create_dir_all(dir.join(".github")).unwrap();
    std::fs::write(dir.join("LICENSE"), "mine\n").unwrap();
    std::fs::set_permissions(dir.join(".github"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = w.bkt(&["init", dir.to_str().unwrap(), "--from", "ghcr.io/me/base:1"]);
    std::fs::set_permissions(dir.join(".github"), std::fs::Permissions::from_mode(0o755)).unwrap();
    out.assert_code(2);
    out.assert_stderr_has(".github/workflows");
    assert_eq!(entries(&dir), [".github", "LICENSE"], "{}", out.all());
    assert!(entries(&dir.join(".github")).is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.join("LICENSE")).unwrap(),
        "mine\n"
    );
}

#[test]
fn inside_a_git_repository_the_working_directory_becomes_the_repository_and_a_readme_is_kept() {
    let w = World::new();
    let outer = w.path("outer");
    std::fs::create_dir_all(outer.join("distro")).unwrap();
    let init = w.tool("git", &["init", "--quiet", outer.to_str().unwrap()]);
    assert!(init.ok(), "{}", init.all());
    let dir = outer.join("distro");
    std::fs::write(dir.join("README.md"), "My notes.\n").unwrap();

    let mut cmd = w.bkt_command(&["init", "--format", "json", "--from", "ghcr.io/me/base:1"]);
    cmd.current_dir(&dir);
    let out = common::Out(cmd.output().expect("running bkt"));
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["format_version"], 1, "{doc:#}");
    assert_eq!(doc["dir"], dir.to_str().unwrap());
    assert_eq!(doc["image"], "ghcr.io/me/base:1");
    assert_eq!(doc["git_initialized"], false);
    assert_eq!(doc["kept"], serde_json::json!(["README.md"]));
    assert_eq!(doc["captured"], Value::Null);
    let mut written: Vec<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    written.push("README.md".into());
    written.sort();
    assert_eq!(
        written,
        files_under(&dir),
        "the document lists what was written"
    );
    assert_output_schema(&doc);

    assert!(
        !dir.join(".git").exists(),
        "no repository inside the outer one"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "My notes.\n"
    );
    let containerfile = std::fs::read_to_string(dir.join("Containerfile")).unwrap();
    assert!(containerfile.contains("\nFROM ghcr.io/me/base:1\n"));
    // Found from the working directory, like any repository.
    let mut check = w.bkt_command(&["containerfile", "check"]);
    check.current_dir(&dir);
    common::Out(check.output().unwrap()).assert_code(0);
}

/// `doc` is what schemas/output/init.json promises.
fn assert_output_schema(doc: &Value) {
    let path = checkout().join("schemas/output/init.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("init.json compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "init.json: {errors:#?}\n{doc:#}");
}

/// The system installation is every world's; hold the lock the flatpak tests share, so the
/// one that changes it does not run meanwhile.
fn system_unchanged() -> std::fs::File {
    let lock = std::fs::File::create(std::env::temp_dir().join("bkt-test-flatpak-system.lock"))
        .expect("lock file");
    lock.lock_shared().expect("locking the system installation");
    lock
}

#[test]
fn capture_takes_a_flatpak_installed_here_into_the_new_manifests() {
    let _system = system_unchanged();
    let w = common::flatpak::world();
    w.add_remote(REMOTE, &repo(1).url());
    w.install_app(REMOTE, &app(1));
    let dir = w.path("distro");
    let d = dir.to_str().unwrap();

    let out = w.bkt(&["init", d, "--capture"]);
    out.assert_code(0);
    out.assert_stdout_has("flatpak: taking 1 item");
    out.assert_stdout_has("flatpak-remotes: taking 1 item");
    // Phase order: remotes (repositories) before apps (packages).
    out.assert_stdout_has("Wrote manifests/flatpak-remotes.json, manifests/flatpak-apps.json");
    let apps: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifests/flatpak-apps.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(apps["apps"][0]["id"], app(1), "{apps:#}");
    assert_eq!(apps["apps"][0]["scope"], "user", "{apps:#}");
    let remotes: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifests/flatpak-remotes.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(remotes["remotes"][0]["name"], REMOTE, "{remotes:#}");
    assert_manifests_valid(&dir);

    // What was taken is in step now, and recorded as agreed.
    let status = w.bkt(&[
        "--repo",
        d,
        "status",
        "-s",
        "flatpak",
        "-s",
        "flatpak-remotes",
    ]);
    status.assert_code(0);
    w.bkt(&["--repo", d, "containerfile", "check"])
        .assert_code(0);

    let again = w.bkt(&[
        "init",
        w.path("distro2").to_str().unwrap(),
        "--capture",
        "--format",
        "json",
    ]);
    again.assert_code(0);
    let doc = again.json();
    assert_output_schema(&doc);
    let captured: Vec<&str> = doc["captured"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        captured,
        [
            "manifests/flatpak-remotes.json",
            "manifests/flatpak-apps.json"
        ]
    );
    assert_eq!(doc["captured"]["written"], true);
}

/// The new repository takes bkt from bkt's release image, in the image build and in CI: its
/// boot units and manual pages come with it, and nothing is compiled.
#[test]
fn the_new_image_copies_bkt_from_its_release_image() {
    let w = World::new();
    let dir = w.path("distro");
    w.bkt(&[
        "init",
        dir.to_str().unwrap(),
        "--bkt-image",
        "ghcr.io/example/bkt:1.2.3",
    ])
    .assert_code(0);
    let containerfile = std::fs::read_to_string(dir.join("Containerfile")).unwrap();
    assert!(
        containerfile.contains("ARG BKT_IMAGE=ghcr.io/example/bkt:1.2.3\n")
            && containerfile.contains("FROM ${BKT_IMAGE} AS bkt\n")
            && containerfile.contains("COPY --from=bkt /usr/bin/bkt /usr/bin/bkt\n")
            && containerfile.contains("systemctl enable bkt-apply.service"),
        "{containerfile}"
    );
    let workflow = std::fs::read_to_string(dir.join(".github/workflows/image.yml")).unwrap();
    assert!(
        workflow.contains("sed -n 's/^ARG BKT_IMAGE=//p' Containerfile"),
        "{workflow}"
    );
    assert!(
        !workflow.contains("cargo"),
        "nothing is compiled: {workflow}"
    );
    // A reference that could be read as something else is refused.
    let out = w.bkt(&[
        "init",
        w.path("other").to_str().unwrap(),
        "--bkt-image",
        "x y",
    ]);
    out.assert_code(2);
    out.assert_stderr_has("--bkt-image");
}

/// `bkt init --clone URL`: a checkout of one's own distribution (real git, a bare repository
/// as the remote), made the repository bkt uses in config.json, whose other keys stay as
/// they were; then bkt finds it from anywhere.
#[test]
fn clone_makes_a_checkout_the_repository_bkt_uses() {
    let mut w = World::new();
    w.with_git_identity();
    let source = w.path("source");
    w.bkt(&["init", source.to_str().unwrap()]).assert_code(0);
    let git = |args: &[&str]| {
        let out = w.tool("git", args);
        assert!(out.ok(), "git {args:?}: {}", out.all());
    };
    let src = source.to_str().unwrap();
    git(&["-C", src, "add", "."]);
    git(&["-C", src, "commit", "-q", "-m", "The distribution"]);
    let remote = w.path("distro.git");
    git(&["clone", "-q", "--bare", src, remote.to_str().unwrap()]);

    let config = w.path("home/.config/bkt/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "{\n    \"elevator\": \"sudo\"\n}\n").unwrap();
    let here = w.path("home");
    let mut cmd = w.bkt_command(&["init", "--clone", remote.to_str().unwrap()]);
    cmd.current_dir(&here);
    let out = common::Out(cmd.output().unwrap());
    out.assert_code(0);
    let clone = here.join("distro");
    assert!(clone.join("manifests").is_dir());
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!(
            "{{\n    \"elevator\": \"sudo\",\n    \"repo\": \"{}\"\n}}\n",
            clone.display()
        )
    );
    let mut status = w.bkt_command(&["status", "-s", "kargs"]);
    status.current_dir(&here);
    let status = common::Out(status.output().unwrap());
    status.assert_stdout_has(&format!("repository {}", clone.display()));

    // An occupied folder is refused, and the config stays as it is.
    let before = std::fs::read_to_string(&config).unwrap();
    let mut again = w.bkt_command(&["init", "--clone", remote.to_str().unwrap()]);
    again.current_dir(&here);
    let again = common::Out(again.output().unwrap());
    again.assert_code(2);
    again.assert_stderr_has("is not empty");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}
