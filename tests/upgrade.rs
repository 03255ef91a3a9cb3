//! `bkt upgrade` end to end: bootc (or rpm-ostree) as a double whose status moves through
//! recorded documents as the real tool's does, and a system where the booted image's
//! `/usr/share/bkt` and a staged deployment's tree under `/ostree/deploy` hold different
//! manifests. bkt runs chrooted into an overlay of this machine's own root with those folders
//! added, in a private mount namespace (root only, as CI runs the tests); the machine's own
//! folders are never touched.

mod common;
use common::{Out, SYSTEM_PATH, World, recorded_status};
use std::path::{Path, PathBuf};

/// The staged deployment of the recorded bootc status.
const STAGED_TREE: &str = "ostree/deploy/default/deploy/3c6dad657109522e0b2e49bf44b5420f16f0b438b5b9357e5132211cfbad135d.0";
/// The staged deployment of the recorded rpm-ostree status (Fedora CoreOS).
const RPM_OSTREE_STAGED_TREE: &str = "ostree/deploy/fedora-coreos/deploy/967b7b8d624e6d10ff51c2e81ef198fae966c567ac2e9b479771c693d0987949.0";
const CONTAINERFILE: &str = "FROM quay.io/fedora/fedora-bootc:42\n";

fn can_mount() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: a chroot over an overlay of / needs root");
    }
    root
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The files added over `/`: the booted image's repository copy with `booted` as its kargs
/// manifest, and the staged deployments' trees (the bootc one with `staged` as its kargs).
fn system_files(w: &World, booted: &str, staged: &str) -> PathBuf {
    let files = w.path("system");
    let copy = files.join("usr/share/bkt");
    write(&copy.join("Containerfile"), CONTAINERFILE);
    write(&copy.join("manifests/kargs.json"), booted);
    let next = files.join(STAGED_TREE).join("usr/share/bkt");
    write(&next.join("Containerfile"), CONTAINERFILE);
    write(&next.join("manifests/kargs.json"), staged);
    // Above the image: an app the next image's manifest adds, which the boot units install.
    write(
        &next.join("manifests/flatpak-apps.json"),
        r#"{"apps": [{"id": "org.bkt.NextImageApp", "remote": "flathub", "scope": "system"}]}"#,
    );
    // The rpm-ostree system's next image ships no repository copy.
    std::fs::create_dir_all(files.join(RPM_OSTREE_STAGED_TREE).join("usr/bin")).unwrap();
    files
}

/// A bootc double whose status starts at `start` and becomes `checked` after `upgrade
/// --check` and `upgraded` after `upgrade`. Returns the BKT_PROGRAM_PATH.
fn bootc(w: &World, start: &str, checked: &str, upgraded: &str) -> String {
    let bin = w.path("bin");
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    let status = w.path("bootc-status.json");
    std::fs::copy(recorded_status(start), &status).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/doubles/bootc");
    let wrapper = bin.join("bootc");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nBOOTC_STATUS='{}' BOOTC_CHECKED='{}' BOOTC_UPGRADED='{}' exec '{}' \"$@\"\n",
            status.display(),
            recorded_status(checked).display(),
            recorded_status(upgraded).display(),
            script.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    format!("{}:{SYSTEM_PATH}", bin.display())
}

/// bkt with `args`, chrooted into an overlay of `/` with `files` added; the world's own
/// folder is the real one, so that what the doubles record outlives the run.
fn bkt_in(w: &World, files: &Path, program_path: &str, args: &[&str]) -> Out {
    let t = w.path("overlay");
    let new_root = w.path("new-root");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::create_dir_all(&new_root).unwrap();
    let world = w.path("");
    let (t, n, f, world) = (
        t.display(),
        new_root.display(),
        files.display(),
        world.display(),
    );
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs tmpfs {t} && mkdir {t}/u {t}/w && \
         cp -a {f}/. {t}/u/ && \
         mount -t overlay overlay -o lowerdir=/,upperdir={t}/u,workdir={t}/w {n} && \
         mount --rbind /proc {n}/proc && mount --rbind /dev {n}/dev && \
         mount --bind {world} {n}{world} && \
         exec chroot {n} \"$0\" \"$@\""
    );
    let mut cmd = w.command("unshare");
    cmd.args(["--mount", "sh", "-c", &script])
        .arg(w.bkt_exe())
        .args(args)
        .env("BKT_PROGRAM_PATH", program_path);
    Out(cmd.output().expect("unshare"))
}

#[test]
fn check_then_stage_and_show_what_the_next_boot_changes() {
    if !can_mount() {
        return;
    }
    let w = World::new();
    let files = system_files(
        &w,
        "{\"kargs\": [\"quiet\"]}\n",
        "{\"kargs\": [\"quiet\", \"bkt-next-image-karg\"]}\n",
    );
    let path = bootc(
        &w,
        "bootc-status-only-booted.json",
        "bootc-status-update-available.json",
        "bootc-status-staged-booted.json",
    );

    let out = bkt_in(&w, &files, &path, &["upgrade", "--check"]);
    out.assert_code(0);
    out.assert_stdout_has("An update is available: stream9.20240901.0");

    let out = bkt_in(&w, &files, &path, &["upgrade"]);
    out.assert_code(0);
    out.assert_stdout_has("Staged for the next boot: nightly.");
    out.assert_stdout_has("+{\"kargs\": [\"quiet\", \"bkt-next-image-karg\"]}");
    // Kernel arguments are the image's own (its KERNEL_ARGUMENTS section): nothing for the
    // boot units to do.
    out.assert_stdout_has(
        "  Comes with the new image:\n    bkt-next-image-karg is not on the running kernel's command line\n  After the reboot, `apply --boot` has nothing to change here.",
    );

    out.assert_stdout_has("After the reboot, `apply --boot` will:\n    org.bkt.NextImageApp");

    // Checked again once staged, bootc still says staged.
    let path = bootc(
        &w,
        "bootc-status-staged-booted.json",
        "bootc-status-staged-booted.json",
        "bootc-status-staged-booted.json",
    );
    let out = bkt_in(
        &w,
        &files,
        &path,
        &["upgrade", "--check", "--format", "json"],
    );
    out.assert_code(0);
    let doc = out.json();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/output/upgrade.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("upgrade.json compiles");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc}");
    assert_eq!(doc["next"]["state"], "staged", "{doc}");
    let ids: Vec<&str> = doc["subsystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["flatpak", "kargs"], "{doc}");
    let kargs = &doc["subsystems"][1];
    assert!(
        kargs["with_image"]
            .to_string()
            .contains("bkt-next-image-karg"),
        "{doc}"
    );
    assert_eq!(kargs["will_apply"], serde_json::json!([]), "{doc}");
}

#[test]
fn an_unchanged_manifest_is_not_shown_and_a_next_image_without_a_copy_says_so() {
    if !can_mount() {
        return;
    }
    let w = World::new();
    let same = "{\"kargs\": [\"quiet\"]}\n";
    let files = system_files(&w, same, same);
    let path = bootc(
        &w,
        "bootc-status-staged-booted.json",
        "bootc-status-staged-booted.json",
        "bootc-status-staged-booted.json",
    );
    let out = bkt_in(&w, &files, &path, &["upgrade", "--check"]);
    out.assert_code(0);
    out.assert_stdout_has("Staged for the next boot: nightly.");
    assert!(!out.stdout().contains("kargs"), "{}", out.all());

    // Without bootc, rpm-ostree stages; its next image has no repository copy.
    let bin = w.path("bin");
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    let log = w.path("rpm-ostree.log");
    common::rpm_ostree_double(&bin, "rpm-ostree-status-staged.json", &log);
    let path = format!("{}:{SYSTEM_PATH}", bin.display());
    let out = bkt_in(&w, &files, &path, &["upgrade"]);
    out.assert_code(0);
    out.assert_stdout_has("Staged for the next boot: 31.20200517.3.0.");
    out.assert_stdout_has("carries no bkt repository");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        "rpm-ostree upgrade\n",
        "{}",
        out.all()
    );
}

#[test]
fn upgrade_refuses_a_mounted_root_and_a_machine_without_deployments() {
    let w = World::new();
    let out = w.bkt(&["upgrade", "--root", w.path("home").to_str().unwrap()]);
    out.assert_code(2);
    out.assert_stderr_has("bkt upgrade acts on the running system");
    // Neither tool here (the doubles are not on the program path).
    let out = w.bkt(&["upgrade", "--check"]);
    out.assert_code(2);
    out.assert_stderr_has("neither bootc nor rpm-ostree is installed here");
}
