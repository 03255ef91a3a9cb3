//! The folders bkt reads from the system itself: the repository copy an image ships in
//! `/usr/share/bkt`, and plugins dropped into `/etc/bkt/plugins` or `/usr/share/bkt/plugins`.
//! Each test runs bkt in a private mount namespace where an overlay puts those folders over
//! the real `/etc` and `/usr/share`, so the machine's own folders are never touched. Mount
//! namespaces need root, as CI runs the tests.

mod common;
use common::{Out, World};
use std::path::{Path, PathBuf};

/// Whether this process may make a mount namespace. Off root the tests say so and end.
fn can_mount() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: overlaying /etc and /usr/share needs root");
    }
    root
}

/// bkt with `args`, in a mount namespace where each `(folder, upper)` overlay shows the files
/// of `upper` inside the real `folder`, from a working directory outside any repository.
fn bkt_over(w: &World, overlays: &[(&str, PathBuf)], args: &[&str]) -> Out {
    let mut script = String::from("mount --make-rprivate / &&");
    for (i, (folder, upper)) in overlays.iter().enumerate() {
        let work = w.path(&format!("overlay-work-{i}"));
        std::fs::create_dir_all(&work).unwrap();
        script.push_str(&format!(
            " mount -t overlay overlay -o lowerdir={folder},upperdir={},workdir={} {folder} &&",
            upper.display(),
            work.display()
        ));
    }
    script.push_str(" exec \"$0\" \"$@\"");
    let mut cmd = w.command("unshare");
    cmd.args(["--mount", "sh", "-c", &script])
        .arg(w.bkt_exe())
        .args(args)
        .current_dir(w.path("home"));
    Out(cmd.output().expect("unshare"))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn test_plugin(name: &str) -> PathBuf {
    PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join(format!("bkt_plugin_{name}.wasm"))
}

#[test]
fn the_image_copy_in_usr_share_bkt_is_found_last_and_never_written() {
    if !can_mount() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.path("home")).unwrap();
    let share = w.path("usr-share");
    let copy = share.join("bkt");
    let manifest = "{\"kargs\": [\"bkt-image-copy-karg\"]}\n";
    write(&copy.join("manifests/kargs.json"), manifest);
    write(
        &copy.join("Containerfile"),
        "FROM quay.io/fedora/fedora-bootc:42\n",
    );
    let overlay = [("/usr/share", share.clone())];

    // Nothing else names a repository: the image copy is the one shown.
    let out = bkt_over(&w, &overlay, &["status", "-s", "kargs"]);
    out.assert_stdout_has("bkt-image-copy-karg");

    // It is read-only: a verb says so, offers a clone of the repository the image was built
    // from (its source label, read through rpm-ostree), and writes nothing.
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    common::rpm_ostree_double(
        &bin,
        "rpm-ostree-status-oci.json",
        &w.path("rpm-ostree.log"),
    );
    let mut w = w;
    w.extra_env.push((
        "BKT_PROGRAM_PATH".into(),
        format!("{}:{}", bin.display(), common::SYSTEM_PATH),
    ));
    let out = bkt_over(&w, &overlay, &["kargs", "add", "quiet", "--no-apply"]);
    out.assert_code(2);
    out.assert_stderr_has(
        "error: /usr/share/bkt is the read-only copy inside the image\nhint: `bkt init --clone https://github.com/coreos/fedora-coreos-config` clones your repository",
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("manifests/kargs.json")).unwrap(),
        manifest
    );

    // Any other way of naming a repository wins over it.
    let out = bkt_over(
        &w,
        &overlay,
        &[
            "--repo",
            w.repo().to_str().unwrap(),
            "status",
            "-s",
            "gsettings",
        ],
    );
    assert!(!out.stdout().contains("clock-format"), "{}", out.all());
}

#[test]
fn plugins_in_the_system_folders_are_found_and_wait_for_trust() {
    if !can_mount() {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(w.path("home")).unwrap();
    let etc = w.path("etc");
    let share = w.path("usr-share");
    std::fs::create_dir_all(etc.join("bkt/plugins")).unwrap();
    std::fs::create_dir_all(share.join("bkt/plugins")).unwrap();
    std::fs::copy(test_plugin("probe"), etc.join("bkt/plugins/probe.wasm")).unwrap();
    std::fs::copy(
        test_plugin("spinner"),
        share.join("bkt/plugins/spinner.wasm"),
    )
    .unwrap();
    let overlays = [("/etc", etc), ("/usr/share", share)];
    let repo = w.repo().display().to_string();

    let out = bkt_over(
        &w,
        &overlays,
        &["--repo", &repo, "plugin", "list", "--format", "json"],
    );
    out.assert_code(0);
    let plugins = out.json()["plugins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for path in [
        "/etc/bkt/plugins/probe.wasm",
        "/usr/share/bkt/plugins/spinner.wasm",
    ] {
        let entry = plugins
            .iter()
            .find(|p| p["source"] == path)
            .unwrap_or_else(|| panic!("{path} not listed: {}", out.stdout()));
        let why = entry["error"].as_str().unwrap_or_default();
        assert!(why.contains("not trusted"), "{entry}");
    }

    // Trusted, the one in /etc loads like any plugin.
    w.write_manifest("probe.json", "{}");
    bkt_over(
        &w,
        &overlays,
        &[
            "--repo",
            &repo,
            "plugin",
            "trust",
            "/etc/bkt/plugins/probe.wasm",
            "--yes",
        ],
    )
    .assert_code(0);
    bkt_over(&w, &overlays, &["--repo", &repo, "status", "-s", "probe"]).assert_code(0);
}
