//! The Containerfile's managed sections: sync, check, and writes that change the manifest
//! and the Containerfile together or not at all.

mod common;
use common::World;

/// A realistic file: two stages, comments, CRLF line endings, no final newline.
const CRLF_FILE: &str = "# syntax=docker/dockerfile:1\r\nARG FEDORA=42\r\nFROM registry.fedoraproject.org/fedora:${FEDORA} AS tools\r\nRUN dnf install -y golang && go build -o /out/tool ./cmd/tool\r\n\r\nFROM quay.io/fedora/fedora-bootc:${FEDORA}\r\n# Repositories first, then packages.\r\n# === COPR_REPOS (managed by bkt) ===\r\nRUN stale\r\n# === END COPR_REPOS ===\r\n\r\n# === SYSTEM_PACKAGES (managed by bkt) ===\r\n# === END SYSTEM_PACKAGES ===\r\nCOPY --from=tools /out/tool /usr/bin/tool\r\nRUN bootc container lint";

const MANIFEST: &str = r#"{"packages": ["htop", "vim"], "copr_repos": ["atim/starship"]}"#;

fn world(containerfile: &str) -> World {
    let w = World::new();
    w.write_manifest("system-packages.json", MANIFEST);
    w.write_containerfile(containerfile);
    w
}

#[test]
fn sync_rewrites_only_the_sections_and_keeps_every_other_byte() {
    let w = world(CRLF_FILE);
    let check = w.bkt(&["containerfile", "check"]);
    check.assert_code(1);
    check.assert_stdout_has("-RUN stale");
    assert_eq!(w.containerfile(), CRLF_FILE, "check writes nothing");

    let sync = w.bkt(&["containerfile", "sync"]);
    sync.assert_code(0);
    sync.assert_stdout_has("Updated Containerfile: COPR_REPOS, SYSTEM_PACKAGES");
    let expected = CRLF_FILE
        .replace("RUN stale\r\n", "RUN dnf copr enable -y atim/starship\r\n")
        .replace(
            "# === SYSTEM_PACKAGES (managed by bkt) ===\r\n",
            "# === SYSTEM_PACKAGES (managed by bkt) ===\r\nRUN dnf install -y \\\r\n    htop \\\r\n    vim \\\r\n    && dnf clean all\r\n",
        );
    assert_eq!(w.containerfile(), expected);

    w.bkt(&["containerfile", "check"]).assert_code(0);
    let again = w.bkt(&["containerfile", "sync"]);
    again.assert_code(0);
    again.assert_stdout_has("in step");
    assert_eq!(w.containerfile(), expected, "sync is idempotent");
    let status = w.bkt(&["status", "-s", "dnf", "--format", "json"]);
    assert_eq!(
        status.json()["containerfile"]["state"],
        "ok",
        "{}",
        status.stdout()
    );
}

#[test]
fn structural_errors_name_the_line_and_change_nothing() {
    let unclosed = "FROM x\n# === SYSTEM_PACKAGES (managed by bkt) ===\nRUN a\n";
    let w = world(unclosed);
    let check = w.bkt(&["containerfile", "check"]);
    check.assert_code(2);
    assert!(
        check
            .stderr()
            .contains("Containerfile:2: section SYSTEM_PACKAGES is never closed"),
        "{}",
        check.stderr()
    );
    w.bkt(&["containerfile", "sync"]).assert_code(2);
    assert_eq!(w.containerfile(), unclosed);
    // A manifest edit is refused too: the two files must not disagree.
    let install = w.bkt(&["dnf", "install", "gcc", "--no-apply"]);
    install.assert_code(2);
    assert_eq!(w.manifest("system-packages.json"), MANIFEST);

    let duplicated = "# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n";
    let w = world(duplicated);
    let out = w.bkt(&["containerfile", "sync"]);
    out.assert_code(2);
    out.assert_stderr_has("Containerfile:3: section COPR_REPOS appears twice (first on line 1)");
}

#[test]
fn a_missing_section_is_reported_with_the_marker_lines() {
    let w = world("FROM x\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n");
    let check = w.bkt(&["containerfile", "check"]);
    check.assert_code(1);
    assert!(
        check
            .stderr()
            .contains("has no SYSTEM_PACKAGES section (dnf renders it)"),
        "{}",
        check.stderr()
    );
    check.assert_stderr_has(
        "    # === SYSTEM_PACKAGES (managed by bkt) ===\n    # === END SYSTEM_PACKAGES ===",
    );
    let sync = w.bkt(&["containerfile", "sync"]);
    sync.assert_code(1);
    assert!(
        w.containerfile()
            .contains("RUN dnf copr enable -y atim/starship"),
        "the present section is still written"
    );
}

#[test]
fn a_failed_containerfile_write_leaves_both_files_untouched() {
    // A Containerfile larger than the file-size limit: its write fails (EFBIG), the smaller
    // manifest's would succeed. Neither may change.
    let mut big = String::from(
        "FROM x\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n# === SYSTEM_PACKAGES (managed by bkt) ===\nRUN dnf install -y \\\n    htop \\\n    vim \\\n    && dnf clean all\n# === END SYSTEM_PACKAGES ===\n",
    );
    for i in 0..2000 {
        big.push_str(&format!(
            "# filler line {i} keeping this file well over the limit\n"
        ));
    }
    let w = world(&big);
    w.bkt(&["plugin", "list"]).assert_code(0); // warm the compiled-code cache first
    let limited = w.tool(
        "sh",
        &[
            "-c",
            "trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_bkt"),
            "dnf",
            "install",
            "gcc",
            "--no-apply",
        ],
    );
    assert_eq!(limited.code(), 2, "{}", limited.all());
    limited.assert_stderr_has("nothing was changed");
    assert_eq!(w.manifest("system-packages.json"), MANIFEST);
    assert_eq!(w.containerfile(), big);
    let leftovers: Vec<_> = std::fs::read_dir(w.repo())
        .unwrap()
        .chain(std::fs::read_dir(w.repo().join("manifests")).unwrap())
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".bkt-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

/// This repository's own Containerfile: in step with its manifests (COPR_REPOS,
/// SYSTEM_PACKAGES, KERNEL_ARGUMENTS, SYSTEMD_UNITS, HOST_SHIMS), and the whole file, unmanaged parts included, passes
/// hadolint (installed by scripts/deps) with only the rules .hadolint.yaml explains left out.
#[test]
fn this_repository_s_containerfile_is_in_step_and_passes_hadolint() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let w = World::new();
    let check = w.bkt(&["--repo", repo.to_str().unwrap(), "containerfile", "check"]);
    check.assert_code(0);
    let text = std::fs::read_to_string(repo.join("Containerfile")).unwrap();
    for section in [
        "COPR_REPOS",
        "SYSTEM_PACKAGES",
        "KERNEL_ARGUMENTS",
        "SYSTEMD_UNITS",
        "HOST_SHIMS",
    ] {
        assert!(
            text.contains(&format!("# === {section} (managed by bkt) ===")),
            "{section}"
        );
    }
    let hadolint = repo.join(".venv/bin/hadolint");
    assert!(
        hadolint.exists(),
        "{} is missing: run scripts/deps",
        hadolint.display()
    );
    // The image's Containerfile, and the one bkt's release image is built from.
    for file in ["Containerfile", "release/Containerfile"] {
        let out = std::process::Command::new(&hadolint)
            .arg("--config")
            .arg(repo.join(".hadolint.yaml"))
            .arg("--no-color")
            .arg(repo.join(file))
            .output()
            .expect("running hadolint");
        assert!(
            out.status.success(),
            "hadolint {file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And it would catch a bad line: the same linter fails a `cd` in a RUN.
    let bad = w.path("Containerfile.bad");
    std::fs::write(&bad, format!("{text}RUN cd /tmp && ls\n")).unwrap();
    let out = std::process::Command::new(&hadolint)
        .arg("--config")
        .arg(repo.join(".hadolint.yaml"))
        .arg(&bad)
        .output()
        .expect("running hadolint");
    assert!(!out.status.success(), "hadolint accepted a cd in RUN");
}

/// The distribution's CI workflow (every pull request checks the Containerfile and builds the
/// image; main also pushes it) passes actionlint, installed by scripts/deps; and actionlint
/// does catch a broken workflow.
#[test]
fn the_distribution_s_ci_workflow_passes_actionlint() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let actionlint = repo.join(".venv/bin/actionlint");
    assert!(
        actionlint.exists(),
        "{} is missing: run scripts/deps",
        actionlint.display()
    );
    let workflow = repo.join(".github/workflows/image.yml");
    let text = std::fs::read_to_string(&workflow).expect("the workflow");
    assert!(
        text.contains("containerfile check"),
        "the workflow checks the Containerfile"
    );
    let lint = |path: &std::path::Path| {
        std::process::Command::new(&actionlint)
            .arg("-no-color")
            .arg(path)
            .output()
            .expect("running actionlint")
    };
    // Every workflow: the image build and bkt's own release.
    let mut workflows: Vec<_> = std::fs::read_dir(repo.join(".github/workflows"))
        .expect("the workflows")
        .flatten()
        .map(|e| e.path())
        .collect();
    workflows.sort();
    assert!(workflows.len() >= 2, "{workflows:?}");
    for path in &workflows {
        let out = lint(path);
        assert!(
            out.status.success(),
            "actionlint {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let w = World::new();
    let bad = w.path("broken.yml");
    std::fs::write(&bad, text.replace("runs-on:", "runs_on:")).unwrap();
    assert!(
        !lint(&bad).status.success(),
        "actionlint accepted a broken workflow"
    );
}

/// The original bkt's Containerfile: a user block whose markers look like bkt's but name no
/// bkt section is kept byte for byte; its SYSTEMD_UNITS section renders as it was from the
/// original's systemd-services.json.
#[test]
fn a_foreign_marker_is_the_users_text() {
    let original = include_str!("fixtures/original/containerfile/foreign-marker.Containerfile");
    let w = world(original);
    w.write_manifest(
        "systemd-services.json",
        r#"{"services": {"tuned.service": "enabled"}}"#,
    );
    let check = w.bkt(&["containerfile", "check"]);
    check.assert_code(1);
    check.assert_stdout_has("-RUN stale");
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let synced = w.containerfile();
    let expected = original
        .replace(
            "# No COPR repositories\n",
            "RUN dnf copr enable -y atim/starship\n",
        )
        .replace(
            "RUN stale\n",
            "RUN dnf install -y \\\n    htop \\\n    vim \\\n    && dnf clean all\n",
        );
    assert_eq!(synced, expected);
    w.bkt(&["containerfile", "check"]).assert_code(0);
    w.bkt(&["status", "-s", "dnf"])
        .assert_stdout_has("containerfile in step");
}

/// An unclosed bkt section is still an error naming its line, after a foreign block.
#[test]
fn an_unclosed_bkt_section_after_a_foreign_block_names_its_line() {
    let original = include_str!("fixtures/original/containerfile/unclosed-section.Containerfile");
    let w = world(original);
    for args in [&["containerfile", "check"][..], &["containerfile", "sync"]] {
        let out = w.bkt(args);
        out.assert_code(2);
        out.assert_stderr_has("Containerfile:6: section SYSTEM_PACKAGES is never closed");
    }
    assert_eq!(w.containerfile(), original);
}
