//! Kernel arguments end to end: the manifest against a root's /proc/cmdline and the kargs.d
//! file its image carries, the KERNEL_ARGUMENTS section, and the verbs.

mod common;
use common::World;

const CONTAINERFILE: &str = "FROM quay.io/fedora/fedora-bootc:42\n# === KERNEL_ARGUMENTS (managed by bkt) ===\n# === END KERNEL_ARGUMENTS ===\nRUN bootc container lint\n";

/// A root booted with `cmdline`, whose image set `image_kargs` through bkt's kargs.d file.
fn world(manifest: &str, cmdline: &str, image_kargs: &str) -> (World, String) {
    let w = World::new();
    w.write_manifest("kargs.json", manifest);
    w.write_containerfile(CONTAINERFILE);
    let root = w.path("root");
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/bootc/kargs.d")).unwrap();
    std::fs::write(root.join("proc/cmdline"), cmdline).unwrap();
    std::fs::write(
        root.join("usr/lib/bootc/kargs.d/10-bkt.toml"),
        format!("kargs = {image_kargs}\n"),
    )
    .unwrap();
    (w, root.display().to_string())
}

#[test]
fn status_compares_the_manifest_with_the_running_kernel() {
    let (w, root) = world(
        r#"{"kargs": ["quiet", "mitigations=auto"]}"#,
        "BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet rhgb\n",
        r#"["quiet", "rhgb"]"#,
    );
    let out = w.bkt(&["status", "-s", "kargs", "--root", &root, "--format", "json"]);
    out.assert_code(1);
    let k = out.json()["plugins"][0].clone();
    let ids: Vec<&str> = k["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // `ro` and `root=` are the base image's; rhgb left the manifest but not the kernel yet.
    assert_eq!(ids, ["mitigations=auto", "rhgb"], "{k}");
    assert_eq!(k["changes"][0]["kind"], "missing");
    assert_eq!(k["changes"][1]["kind"], "extra");
    let human = w.bkt(&["status", "-s", "kargs", "--root", &root]);
    human.assert_stdout_has("2 changes take effect when the next image boots");
    // Not an ostree system: `apply --now` could set nothing here, so it is not offered.
    assert!(!human.all().contains("--now"), "{}", human.all());

    // Apply does not pretend: it says they wait for the image.
    let out = w.bkt(&["apply", "--yes", "-s", "kargs", "--root", &root]);
    out.assert_code(0);
    out.assert_stdout_has("2 changes take effect when the next image boots");
    assert!(!out.all().contains("--now"), "{}", out.all());
    let now = w.bkt(&["apply", "--yes", "--now", "-s", "kargs", "--root", &root]);
    now.assert_stdout_has("Nothing");
}

#[test]
fn apply_now_cannot_change_a_mounted_root_s_kernel() {
    let (w, root) = world(r#"{"kargs": ["quiet"]}"#, "ro\n", "[]");
    std::fs::create_dir_all(w.path("root/run")).unwrap();
    std::fs::write(w.path("root/run/ostree-booted"), "").unwrap();
    let out = w.bkt(&["apply", "--yes", "--now", "-s", "kargs", "--root", &root]);
    out.assert_code(1);
    out.assert_stderr_has("`rpm-ostree kargs --append-if-missing=quiet` acts on the running system, not inside the mounted root");
}

#[test]
fn verbs_keep_the_manifest_and_the_section_in_step() {
    let (w, root) = world(r#"{"kargs": []}"#, "ro\n", "[]");
    w.bkt(&["containerfile", "sync"]).assert_code(0);
    assert!(w.containerfile().contains("# No kernel arguments"));

    let out = w.bkt(&[
        "kargs",
        "add",
        "quiet",
        "console=ttyS0,115200n8",
        "--root",
        &root,
    ]);
    out.assert_code(0);
    out.assert_stdout_has("take effect when the next image boots");
    assert!(
        w.containerfile()
            .contains("        'kargs = [\"quiet\", \"console=ttyS0,115200n8\"]' \\\n        > /usr/lib/bootc/kargs.d/10-bkt.toml\n"),
        "{}",
        w.containerfile()
    );
    w.bkt(&["admin", "kargs", "remove", "quiet", "--root", &root])
        .assert_code(0);
    assert!(!w.manifest("kargs.json").contains("quiet"));
    w.bkt(&["containerfile", "check"]).assert_code(0);

    let before = (w.manifest("kargs.json"), w.containerfile());
    for bad in ["a b", "x\"y", "--debug", "$(id)"] {
        let out = w.bkt(&["kargs", "add", "--", bad]);
        out.assert_code(2);
        out.assert_stderr_has(&format!("{bad:?}"));
    }
    assert_eq!((w.manifest("kargs.json"), w.containerfile()), before);
    let list = w.bkt(&["kargs", "list", "--root", &root]);
    list.assert_stdout_has("console=ttyS0,115200n8   (not on the running kernel's command line)");
}

#[test]
fn bad_manifests_name_file_and_field() {
    let (w, root) = world(r#"{"kargs": ["quiet", "quiet"]}"#, "ro\n", "[]");
    let out = w.bkt(&["status", "-s", "kargs", "--root", &root]);
    out.assert_code(2);
    out.assert_stdout_has("manifests/kargs.json: kargs[1]: quiet is listed twice");
    w.write_manifest(
        "kargs.json",
        r#"{"kargs": [], "match_architectures": ["x86_64"]}"#,
    );
    let out = w.bkt(&["containerfile", "sync"]);
    out.assert_code(2);
    out.assert_stderr_has("unknown field `match_architectures`");
}
