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
/// of `upper` inside the real `folder`, from a working directory outside any repository; as
/// the world's user when it has one (the namespace is made as root, then bkt runs as them).
fn bkt_over(w: &World, overlays: &[(&str, PathBuf)], args: &[&str]) -> Out {
    let drop = match w.user {
        Some(uid) => format!("setpriv --reuid={uid} --regid={uid} --clear-groups "),
        None => String::new(),
    };
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
    script.push_str(&format!(" exec {drop}\"$0\" \"$@\""));
    let mut cmd = w.command_as_test_user("unshare");
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

/// An upper folder for an overlay of a system folder: root's, readable by all, outside any
/// world (whose files are handed to the world's user).
fn system_upper() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// A plugin the image pins (`bkt plugin trust --image`, as the image build runs it) loads for
/// a user whose own store is empty, and for root; a user who trusts a changed file in its
/// place cannot override the image's pin.
#[test]
fn a_plugin_the_image_trusts_loads_for_everyone_and_a_user_cannot_widen_it() {
    if !can_mount() {
        return;
    }
    let share = system_upper();
    let plugins = share.path().join("bkt/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(test_plugin("probe"), plugins.join("probe.wasm")).unwrap();
    let overlay = [("/usr/share", share.path().to_path_buf())];
    let root = World::new();
    std::fs::create_dir_all(root.path("home")).unwrap();
    let repo = root.repo().display().to_string();
    bkt_over(
        &root,
        &overlay,
        &[
            "plugin",
            "trust",
            "/usr/share/bkt/plugins/probe.wasm",
            "--image",
            "--yes",
        ],
    )
    .assert_code(0);
    assert!(share.path().join("bkt/trusted-plugins.json").is_file());
    root.write_manifest("probe.json", "{}");
    bkt_over(&root, &overlay, &["--repo", &repo, "status", "-s", "probe"]).assert_code(0);

    // A user with no store of their own.
    let user = World::unprivileged();
    std::fs::create_dir_all(user.path("home")).unwrap();
    user.write_manifest("probe.json", "{}");
    let user_repo = user.repo().display().to_string();
    let out = bkt_over(
        &user,
        &overlay,
        &["--repo", &user_repo, "status", "-s", "probe"],
    );
    out.assert_code(0);

    // The file changes (a custom section more: other bytes, the same plugin); the user trusts
    // the new one in their own store: still refused.
    let mut bytes = std::fs::read(test_plugin("probe")).unwrap();
    let name = b"changed";
    bytes.extend([0, (1 + name.len() + 1) as u8, name.len() as u8]);
    bytes.extend(name);
    bytes.push(1);
    std::fs::write(plugins.join("probe.wasm"), bytes).unwrap();
    bkt_over(
        &user,
        &overlay,
        &[
            "plugin",
            "trust",
            "/usr/share/bkt/plugins/probe.wasm",
            "--yes",
        ],
    )
    .assert_code(0);
    let out = bkt_over(&user, &overlay, &["plugin", "list", "--format", "json"]);
    out.assert_code(0);
    let listed = out.json()["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["source"] == "/usr/share/bkt/plugins/probe.wasm")
        .cloned()
        .unwrap_or_else(|| panic!("{}", out.stdout()));
    let why = listed["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("pinned by the image's trust store, which yours cannot override"),
        "{listed}"
    );
}
