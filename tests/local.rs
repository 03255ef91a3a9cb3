//! Local changes end to end: `--local` with the real dnf in a throwaway root, the record and
//! its boot, `bkt local list|commit|clear` with real git (a bare repository as the remote),
//! and gh as a double that records its argv (it cannot reach GitHub here).

mod common;
use common::{SYSTEM_PATH, World, dnf_world};
use std::path::{Path, PathBuf};

/// A dnf world whose repository is a git repository with a bare remote; the root boots with
/// `boot-1`. The remote's path contains github.com when `github` is set, so that bkt offers
/// a pull request through gh.
fn world(github: bool) -> (World, String, PathBuf) {
    let (mut w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &["alpha"]);
    set_boot(&root, "boot-1");
    w.with_git_identity();
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    let repo = w.repo().display().to_string();
    let git = |args: &[&str]| {
        let out = w.tool("git", &[&["-C", &repo][..], args].concat());
        assert!(out.ok(), "git {args:?}: {}", out.all());
        out.stdout()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "The distribution"]);
    let remote = if github {
        w.path("github.com/me/distro.git")
    } else {
        w.path("remote.git")
    };
    std::fs::create_dir_all(remote.parent().unwrap()).unwrap();
    let out = w.tool(
        "git",
        &["clone", "-q", "--bare", &repo, remote.to_str().unwrap()],
    );
    assert!(out.ok(), "{}", out.all());
    git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    // gh records what it was asked.
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh\necho \"gh $*\" >> '{}'\necho https://github.com/me/distro/pull/1\n",
            w.path("gh.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&gh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    w.extra_env.push((
        "BKT_PROGRAM_PATH".into(),
        format!("{}:{SYSTEM_PATH}", bin.display()),
    ));
    (w, root, remote)
}

fn set_boot(root: &str, id: &str) {
    let dir = Path::new(root).join("proc/sys/kernel/random");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("boot_id"), format!("{id}\n")).unwrap();
}

fn record(root: &str) -> PathBuf {
    Path::new(root).join("var/lib/bkt/ephemeral.json")
}

#[test]
fn local_changes_are_known_not_drift_and_leave_the_repository_alone() {
    let (w, root, _) = world(false);
    let before = (w.manifest("system-packages.json"), w.containerfile());
    let out = w.bkt(&["dnf", "install", "gamma", "--local", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has("Changed this machine only");
    assert_eq!(
        (w.manifest("system-packages.json"), w.containerfile()),
        before
    );
    assert_eq!(w.installed(root.as_ref()), ["alpha", "gamma"]);
    let text = std::fs::read_to_string(record(&root)).expect("the record");
    assert!(text.contains("\"boot_id\": \"boot-1\""), "{text}");
    assert!(text.contains("bkt dnf install gamma --local"), "{text}");

    // Known, not drift: status says local and exits 0; capture and apply --prune leave it.
    let status = w.bkt(&["status", "--root", &root, "-s", "dnf"]);
    status.assert_code(0);
    status.assert_stdout_has("(local change)");
    status.assert_stdout_has("1 change made with --local: bkt local commit proposes it");
    w.bkt(&["capture", "--root", &root, "-s", "dnf"])
        .assert_code(0);
    assert!(!w.manifest("system-packages.json").contains("gamma"));
    w.bkt(&["apply", "--yes", "--prune", "--root", &root, "-s", "dnf"])
        .assert_code(0);
    assert_eq!(w.installed(root.as_ref()), ["alpha", "gamma"]);

    // An install then a remove of the same package cancels out.
    w.bkt(&["dnf", "install", "delta", "--local", "--root", &root])
        .assert_code(0);
    w.bkt(&["dnf", "remove", "delta", "--local", "--root", &root])
        .assert_code(0);
    let list = w.bkt(&["local", "list", "--root", &root, "--format", "json"]);
    list.assert_code(0);
    let doc = list.json();
    let diff = doc["plugins"][0]["diff"].as_str().unwrap_or("");
    // The manifest is edited in place: its one-line list gets gamma.
    assert!(
        diff.contains("+{\"packages\": [\"alpha\", \"gamma\"]}"),
        "{doc}"
    );
    assert!(!diff.contains("delta"), "{doc}");
    assert_eq!(doc["plugins"][0]["commands"].as_array().unwrap().len(), 3);

    // After a reboot the record is stale: kept aside, and gamma is ordinary drift again.
    set_boot(&root, "boot-2");
    let list = w.bkt(&["local", "list", "--root", &root]);
    list.assert_stderr_has("stale");
    list.assert_stdout_has("No local changes this boot.");
    assert!(!record(&root).exists());
    let aside: Vec<String> = std::fs::read_dir(record(&root).parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ephemeral.json.stale-"))
        .collect();
    assert_eq!(aside.len(), 1);
    w.bkt(&["status", "--root", &root, "-s", "dnf"])
        .assert_code(1);
}

#[test]
fn commit_makes_a_branch_pushes_it_and_opens_a_pull_request() {
    let (w, root, remote) = world(true);
    let branch = |w: &World| {
        w.tool(
            "git",
            &[
                "-C",
                w.repo().to_str().unwrap(),
                "rev-parse",
                "--abbrev-ref",
                "HEAD",
            ],
        )
        .stdout()
        .trim()
        .to_string()
    };
    let started_on = branch(&w);
    w.bkt(&["dnf", "install", "gamma", "--local", "--root", &root])
        .assert_code(0);
    let out = w.bkt(&[
        "local",
        "commit",
        "--branch",
        "try-gamma",
        "--message",
        "Add gamma",
        "--root",
        &root,
    ]);
    out.assert_code(0);
    out.assert_stdout_has(
        "Committed manifests/system-packages.json and Containerfile on the branch try-gamma",
    );
    out.assert_stdout_has("Opened a pull request for try-gamma");
    // The checkout never left its branch: the next command does not land on try-gamma.
    assert_eq!(branch(&w), started_on);
    out.assert_stdout_has(&format!("your checkout stays on {started_on}"));
    // The remote has the branch, whose commit holds both files and lists the command.
    let remote = remote.to_str().unwrap();
    let log = w.tool(
        "git",
        &["--git-dir", remote, "log", "-1", "--format=%B", "try-gamma"],
    );
    assert!(log.ok(), "{}", log.all());
    assert!(log.stdout().starts_with("Add gamma\n"), "{}", log.stdout());
    assert!(log.stdout().contains("- bkt dnf install gamma --local"));
    let files = w.tool(
        "git",
        &[
            "--git-dir",
            remote,
            "show",
            "--name-only",
            "--format=",
            "try-gamma",
        ],
    );
    assert_eq!(
        files.stdout().trim(),
        "Containerfile\nmanifests/system-packages.json"
    );
    let cf = w.tool(
        "git",
        &["--git-dir", remote, "show", "try-gamma:Containerfile"],
    );
    assert!(cf.stdout().contains("    gamma \\\n"));
    assert_eq!(
        std::fs::read_to_string(w.path("gh.log")).unwrap(),
        "gh pr create --fill --head try-gamma\n"
    );
    assert!(!record(&root).exists(), "cleared once the commit exists");
}

#[test]
fn a_conflict_or_a_failed_commit_changes_nothing() {
    let (mut w, root, _) = world(false);
    w.bkt(&["dnf", "remove", "alpha", "--local", "--root", &root])
        .assert_code(0);
    // Meanwhile the manifest dropped alpha itself: the local remove no longer fits.
    w.write_manifest("system-packages.json", r#"{"packages": []}"#);
    let head = |w: &World| {
        w.tool(
            "git",
            &["-C", w.repo().to_str().unwrap(), "rev-parse", "HEAD"],
        )
        .stdout()
    };
    let before = head(&w);
    let out = w.bkt(&["local", "commit", "--root", &root]);
    out.assert_code(2);
    out.assert_stderr_has(
        "`bkt dnf remove alpha --local` no longer fits manifests/system-packages.json",
    );
    assert!(record(&root).exists());
    assert_eq!(head(&w), before);

    // A commit git refuses (no identity) leaves files, branch and record as they were.
    w.write_manifest("system-packages.json", r#"{"packages": ["alpha", "beta"]}"#);
    let manifest = w.manifest("system-packages.json");
    w.extra_env.retain(|(k, _)| !k.starts_with("GIT_"));
    w.extra_env
        .push(("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()));
    w.extra_env.push(("EMAIL".into(), String::new()));
    let out = w.bkt(&["local", "commit", "--branch", "nope", "--root", &root]);
    out.assert_code(2);
    out.assert_stderr_has("nothing was committed");
    assert!(record(&root).exists());
    assert_eq!(w.manifest("system-packages.json"), manifest);
    let branches = w.tool(
        "git",
        &["-C", w.repo().to_str().unwrap(), "branch", "--list", "nope"],
    );
    assert_eq!(branches.stdout().trim(), "");

    let out = w.bkt(&["local", "clear", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has("Forgot 1 command made with --local");
    assert!(!record(&root).exists());
}

fn git_out(w: &World, args: &[&str]) -> String {
    let repo = w.repo().display().to_string();
    let out = w.tool("git", &[&["-C", &repo][..], args].concat());
    assert!(out.ok(), "git {args:?}: {}", out.all());
    out.stdout().trim().to_string()
}

/// The branches of the bare remote.
fn remote_branches(w: &World, remote: &Path) -> Vec<String> {
    let out = w.tool(
        "git",
        &[
            "--git-dir",
            remote.to_str().unwrap(),
            "branch",
            "--format=%(refname:short)",
        ],
    );
    out.stdout().lines().map(String::from).collect()
}

/// The files the newest commit of `branch` on the remote changed.
fn files_of(w: &World, remote: &Path, branch: &str) -> String {
    let out = w.tool(
        "git",
        &[
            "--git-dir",
            remote.to_str().unwrap(),
            "show",
            "--name-only",
            "--format=",
            branch,
        ],
    );
    out.stdout().trim().to_string()
}

#[test]
fn a_verb_with_pr_proposes_its_files_and_leaves_the_checkout_alone() {
    let (w, root, remote) = world(true);
    let out = w.bkt(&[
        "dnf",
        "install",
        "gamma",
        "--no-apply",
        "--pr",
        "--root",
        &root,
    ]);
    out.assert_code(0);
    out.assert_stdout_has("Opened a pull request for bkt/dnf-install-");
    let branches = remote_branches(&w, &remote);
    let new: Vec<&String> = branches.iter().filter(|b| *b != "main").collect();
    assert_eq!(new.len(), 1, "{branches:?}");
    assert_eq!(
        files_of(&w, &remote, new[0]),
        "Containerfile\nmanifests/system-packages.json"
    );
    let message = w.tool(
        "git",
        &[
            "--git-dir",
            remote.to_str().unwrap(),
            "log",
            "-1",
            "--format=%B",
            new[0],
        ],
    );
    assert!(
        message
            .stdout()
            .starts_with("bkt dnf install gamma --no-apply --pr\n\n- bkt dnf install gamma"),
        "{}",
        message.stdout()
    );
    // The checkout stays on main with the change in its files, as the machine has it.
    assert_eq!(git_out(&w, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert!(w.manifest("system-packages.json").contains("gamma"));
    assert_eq!(
        git_out(&w, &["log", "-1", "--format=%s"]),
        "The distribution"
    );
    let gh = std::fs::read_to_string(w.path("gh.log")).unwrap();
    assert!(
        gh.starts_with("gh pr create --fill --head bkt/dnf-install-"),
        "{gh}"
    );
}

#[test]
fn pr_proposes_only_bkt_s_files_and_names_the_others() {
    let (w, root, remote) = world(false);
    w.bkt(&["dnf", "install", "delta", "--no-apply", "--root", &root])
        .assert_code(0);
    std::fs::write(w.repo().join("NOTES.md"), "mine\n").unwrap();
    let out = w.bkt(&["pr", "--branch", "add-delta", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has("Left out (bkt did not write them; commit them yourself): NOTES.md");
    out.assert_stdout_has("Pushed add-delta to origin");
    assert_eq!(
        files_of(&w, &remote, "add-delta"),
        "Containerfile\nmanifests/system-packages.json"
    );
    // Once proposed, asking again makes another branch, never reuses one.
    let out = w.bkt(&["pr", "--dry-run", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has(
        "Dry run: would commit Containerfile and manifests/system-packages.json on the branch bkt/pr-",
    );
    out.assert_stdout_has(
        "- manifests/system-packages.json (+1 −1)\nNothing was committed or pushed.",
    );
    assert_eq!(remote_branches(&w, &remote).len(), 2);
}

#[test]
fn capture_with_pr_proposes_what_it_took() {
    let (w, root, remote) = world(false);
    let installroot = format!("--installroot={root}");
    let out = w.system_tool("dnf", &["-y", "-q", &installroot, "install", "beta"]);
    assert!(out.ok(), "{}", out.all());
    let out = w.bkt(&["capture", "--pr", "-s", "dnf", "--root", &root]);
    out.assert_code(0);
    let branch = remote_branches(&w, &remote)
        .into_iter()
        .find(|b| b.starts_with("bkt/capture-"))
        .expect("a capture branch");
    let manifest = w.tool(
        "git",
        &[
            "--git-dir",
            remote.to_str().unwrap(),
            "show",
            &format!("{branch}:manifests/system-packages.json"),
        ],
    );
    assert!(manifest.stdout().contains("beta"), "{}", manifest.stdout());
}

#[test]
fn a_refused_push_leaves_branches_and_files_as_they_were() {
    let (w, root, remote) = world(false);
    w.bkt(&["dnf", "install", "delta", "--no-apply", "--root", &root])
        .assert_code(0);
    let manifest = w.manifest("system-packages.json");
    // The remote refuses every push.
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'pushes are closed' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before = git_out(&w, &["branch", "--format=%(refname:short)"]);
    let out = w.bkt(&["pr", "--branch", "refused", "--root", &root]);
    assert_eq!(out.code(), 1, "{}", out.all());
    out.assert_stderr_has("not pushed, so the branch refused is taken away again");
    assert_eq!(
        git_out(&w, &["branch", "--format=%(refname:short)"]),
        before
    );
    assert_eq!(w.manifest("system-packages.json"), manifest);
    assert_eq!(remote_branches(&w, &remote), ["main"]);
}
