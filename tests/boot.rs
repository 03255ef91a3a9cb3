//! Boot-time apply: once per deployment, identified from recorded `bootc status` and
//! `rpm-ostree status` output (doubles replaying it), with the real dnf in a throwaway root;
//! and the units themselves, checked by the real systemd tools in a throwaway root.

mod common;
use common::{SYSTEM_PATH, World, bootc_double, dnf_world, recorded_status};
use std::path::{Path, PathBuf};

/// A folder of doubles: `bootc` replaying `bootc_status` (none: bootc is not installed) and
/// `rpm-ostree` replaying the recorded Fedora CoreOS status with an update staged. Returns
/// the BKT_PROGRAM_PATH.
fn doubles(w: &World, bootc_status: Option<&Path>) -> String {
    let bin = w.path("bin");
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    common::rpm_ostree_double(
        &bin,
        "rpm-ostree-status-staged.json",
        &w.path("rpm-ostree.log"),
    );
    if let Some(status) = bootc_status {
        bootc_double(&bin, status);
    }
    format!("{}:{SYSTEM_PATH}", bin.display())
}

/// The recorded bootc status with a staged update, as it reads after the booted commit was
/// deployed again with other kernel arguments: ostree numbers the new deployment of the same
/// commit with the next `deploySerial`, and nothing else in the document changes.
fn redeployed_with_other_kargs(w: &World) -> PathBuf {
    let recorded =
        std::fs::read_to_string(recorded_status("bootc-status-staged-booted.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    doc["status"]["booted"]["ostree"]["deploySerial"] = 1.into();
    let path = w.path("bootc-status-redeployed.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn boot(w: &World, path: &str, root: &str, extra: &[&str]) -> common::Out {
    let mut args = vec!["apply", "--boot", "--scope", "system", "--root", root];
    args.extend(extra);
    let mut cmd = w.bkt_command(&args);
    cmd.env("BKT_PROGRAM_PATH", path);
    common::Out(cmd.output().expect("bkt"))
}

#[test]
fn once_per_deployment_and_again_for_a_new_one() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha"]}"#, &[]);
    let path = doubles(
        &w,
        Some(&recorded_status("bootc-status-staged-booted.json")),
    );
    let out = boot(&w, &path, &root, &[]);
    out.assert_code(0);
    out.assert_stdout_has("Applying the system half for deployment 736b359467c9");
    assert_eq!(w.installed(root.as_ref()), ["alpha"]);
    let marker = Path::new(&root).join("var/lib/bkt/last-applied-deployment");
    let first = std::fs::read_to_string(&marker).expect("marker written");
    assert!(
        first.starts_with("sha256:736b359467c9"),
        "the booted one, not the staged: {first}"
    );

    // The same deployment: nothing runs, not even a plugin query.
    let out = boot(&w, &path, &root, &["-v"]);
    out.assert_code(0);
    out.assert_stdout_has("already applied for deployment 736b359467c9; nothing to do");
    assert!(!out.stderr().contains("query:"), "{}", out.stderr());

    // A redeploy that only changed kernel arguments is a new deployment.
    let redeploy = doubles(&w, Some(&redeployed_with_other_kargs(&w)));
    let out = boot(&w, &redeploy, &root, &[]);
    out.assert_code(0);
    out.assert_stdout_has("Applying the system half");
    let second = std::fs::read_to_string(&marker).unwrap();
    assert_ne!(second, first);

    // bootc installed on a system it did not boot says nothing is booted: rpm-ostree names
    // the deployment (its booted entry, listed after the staged one).
    let not_bootc = doubles(&w, Some(&recorded_status("bootc-status-not-booted.json")));
    let out = boot(&w, &not_bootc, &root, &[]);
    out.assert_code(0);
    out.assert_stdout_has("Applying the system half for deployment 01f074cc6cd8");
    // Without bootc, rpm-ostree names the same deployment.
    boot(&w, &doubles(&w, None), &root, &[])
        .assert_stdout_has("already applied for deployment 01f074cc6cd8");

    let status = w.bkt(&["status", "--root", &root, "-s", "dnf", "--format", "json"]);
    let run = &status.json()["boot_apply"]["system"];
    assert_eq!(run["ok"], true, "{run}");
    assert_eq!(run["short"], "01f074cc6cd8");
}

#[test]
fn a_failure_leaves_the_marker_so_the_next_boot_retries() {
    let (w, root) = dnf_world(r#"{"packages": ["alpha", "nosuchpkg"]}"#, &[]);
    let path = doubles(
        &w,
        Some(&recorded_status("bootc-status-staged-booted.json")),
    );
    let out = boot(&w, &path, &root, &[]);
    out.assert_code(1);
    out.assert_stderr_has("warning: boot-time apply failed: dnf nosuchpkg");
    out.assert_stderr_has("stays unmarked for deployment 736b359467c9");
    assert_eq!(
        w.installed(root.as_ref()),
        ["alpha"],
        "the others still ran"
    );
    let marker = Path::new(&root).join("var/lib/bkt/last-applied-deployment");
    assert!(!marker.exists());

    let status = w.bkt(&["status", "--root", &root, "-s", "dnf"]);
    status.assert_stdout_has("boot (system) 1 change failed");
    status.assert_stdout_has("dnf nosuchpkg: dnf exited with 1");

    w.write_manifest("system-packages.json", r#"{"packages": ["alpha"]}"#);
    boot(&w, &path, &root, &[]).assert_code(0);
    assert!(marker.exists());
}

/// Both units pass the real `systemd-analyze verify` in a root with bkt and the standard
/// targets, and enable offline there with `systemctl --root`.
#[test]
fn the_units_verify_and_enable_offline() {
    let w = World::new();
    let root = w.path("sysroot");
    let system = root.join("usr/lib/systemd/system");
    let user = root.join("usr/lib/systemd/user");
    for dir in [&system, &user, &root.join("usr/bin"), &root.join("etc")] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(env!("CARGO_BIN_EXE_bkt"), root.join("usr/bin/bkt")).unwrap();
    for dir in ["/usr/lib/systemd/system", "/usr/lib/systemd/user"] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().ends_with(".target") {
                let _ = std::fs::copy(e.path(), system.join(e.file_name()));
            }
        }
    }
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd");
    std::fs::copy(
        units.join("bkt-apply.service"),
        system.join("bkt-apply.service"),
    )
    .unwrap();
    std::fs::copy(
        units.join("bkt-apply-user.service"),
        user.join("bkt-apply-user.service"),
    )
    .unwrap();
    // systemd-analyze cannot verify user units under --root; the user unit's directives are
    // checked in the system tree, where every one of them is valid too.
    std::fs::copy(
        units.join("bkt-apply-user.service"),
        system.join("bkt-apply-user.service"),
    )
    .unwrap();
    // The pages the units' Documentation= names, as the image installs them; systemd-analyze
    // looks each one up with man.
    let man = root.join("usr/share/man");
    w.bkt(&["manpages", man.join("man1").to_str().unwrap()])
        .assert_code(0);
    for unit in ["bkt-apply.service", "bkt-apply-user.service"] {
        let out = common::Out(
            std::process::Command::new("systemd-analyze")
                .args([
                    "verify",
                    &format!("--root={}", root.display()),
                    &format!("/usr/lib/systemd/system/{unit}"),
                ])
                .env_clear()
                .env("PATH", SYSTEM_PATH)
                .env("MANPATH", &man)
                .output()
                .expect("systemd-analyze"),
        );
        assert!(
            out.ok() && out.stderr().trim().is_empty(),
            "{unit}: {}",
            out.all()
        );
    }
    std::fs::remove_file(system.join("bkt-apply-user.service")).unwrap();
    let root_flag = format!("--root={}", root.display());
    let out = w.system_tool("systemctl", &[&root_flag, "enable", "bkt-apply.service"]);
    assert!(out.ok(), "{}", out.all());
    let out = w.system_tool(
        "systemctl",
        &[&root_flag, "--global", "enable", "bkt-apply-user.service"],
    );
    assert!(out.ok(), "{}", out.all());
    // The links point into the root's own /usr: look at them, not through them.
    for link in [
        "etc/systemd/system/multi-user.target.wants/bkt-apply.service",
        "etc/systemd/user/graphical-session.target.wants/bkt-apply-user.service",
    ] {
        assert!(std::fs::symlink_metadata(root.join(link)).is_ok(), "{link}");
    }
}

/// The user half: each person's settings, once per deployment, marked in their state folder.
#[test]
fn the_user_half_runs_once_per_deployment_for_each_user() {
    let w = World::with_schema();
    w.write_manifest(
        "gsettings.json",
        r#"{"settings": [{"schema": "org.bkt.test", "key": "clock-format", "value": "'12h'"}]}"#,
    );
    // The double and its recording live in the world, which the user bkt runs as can read.
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let status = w.path("bootc-status.json");
    std::fs::copy(recorded_status("bootc-status-staged-booted.json"), &status).unwrap();
    bootc_double(&bin, &status);
    let path = format!("{}:{SYSTEM_PATH}", bin.display());
    let run = || {
        let mut cmd = w.bkt_command(&["apply", "--boot", "--scope", "user"]);
        cmd.env("BKT_PROGRAM_PATH", &path);
        common::Out(cmd.output().expect("bkt"))
    };
    let out = run();
    out.assert_code(0);
    out.assert_stdout_has("Applying the user half for deployment 736b359467c9");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'12h'");
    assert!(w.path("state/bkt/last-applied-deployment").exists());

    // Changed by hand since: the same deployment leaves it, and says nothing needs doing.
    let out = w.tool(
        "gsettings",
        &["set", "org.bkt.test", "clock-format", "'24h'"],
    );
    assert!(out.ok(), "{}", out.all());
    run().assert_stdout_has("already applied for deployment 736b359467c9; nothing to do");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");

    // A new deployment applies again, but what was changed by hand is reported, not reverted.
    std::fs::copy(redeployed_with_other_kargs(&w), &status).unwrap();
    let out = run();
    out.assert_code(0);
    // Set by hand from '12h' to '24h': the arrow tells what happened here.
    out.assert_stdout_has("org.bkt.test clock-format: '12h' → '24h' (changed on this machine)");
    out.assert_stdout_has("Nothing was changed.");
    assert_eq!(w.gsettings_get("org.bkt.test", "clock-format"), "'24h'");
    let marker = std::fs::read_to_string(w.path("state/bkt/last-applied-deployment")).unwrap();
    assert!(
        marker.trim().ends_with(".1"),
        "the redeploy is marked: {marker}"
    );
}
