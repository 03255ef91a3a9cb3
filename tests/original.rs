//! The original bkt's repository (wycats/bootc) loads: every manifest format it wrote, one
//! fixture per variant under tests/fixtures/original/, read by every command and written back
//! with only the entries a command changed.

mod common;
use common::World;

/// A fixture's text.
fn fixture(rel: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/original/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every fixture file of one manifest, with its name.
fn fixtures(folder: &str) -> Vec<(String, String)> {
    let dir = format!(
        "{}/../tests/fixtures/original/{folder}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| (n.clone(), fixture(&format!("{folder}/{n}"))))
        .collect()
}

/// The commands that read a manifest, none of which may refuse it or change it.
fn reads_everywhere(w: &World, subsystem: &str, extra: &[&str], manifest: &str, name: &str) {
    if !w.repo().join("Containerfile").exists() {
        w.write_containerfile("FROM quay.io/fedora/fedora-bootc:42\n");
    }
    let before = w.manifest(manifest);
    for args in [
        &["status", "-s", subsystem][..],
        &["apply", "--dry-run", "-s", subsystem],
        &["containerfile", "check"],
    ] {
        let args: Vec<&str> = args.iter().chain(extra).copied().collect();
        let out = w.bkt(&args);
        assert!(
            out.code() == 0 || out.code() == 1,
            "{name}: bkt {args:?} refused it:\n{}",
            out.all()
        );
    }
    assert_eq!(w.manifest(manifest), before, "{name}: a read changed it");
}

mod dnf {
    use super::*;
    use common::dnf_world;

    const FILE: &str = "system-packages.json";

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("system-packages") {
            let (w, root) = dnf_world(&text, &["alpha", "gamma"]);
            // Its groups installed beforehand, as the image would have them: installing one
            // here would need the COPR repositories it lists, which are out of reach.
            let m: serde_json::Value = serde_json::from_str(&text).unwrap();
            for group in m["groups"].as_array().into_iter().flatten() {
                let id = group.as_str().unwrap().trim_start_matches('@');
                let installroot = format!("--installroot={root}");
                let out = w.system_tool("dnf", &["-y", "-q", &installroot, "group", "install", id]);
                assert!(out.ok(), "{}", out.all());
            }
            let root_args = ["--root", root.as_str()];
            reads_everywhere(&w, "dnf", &root_args, FILE, &name);
            // The COPR repositories it enables, written into the root.
            let out = w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"]);
            out.assert_code(0);
            let out = w.bkt(&["capture", "--root", &root, "-s", "dnf"]);
            out.assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            w.bkt(&["containerfile", "sync"]).assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: sync changed the manifest");
            let out = w.bkt(&["status", "--root", &root, "-s", "dnf"]);
            assert_eq!(out.code(), 0, "{name}: {}", out.all());
        }
    }

    #[test]
    fn verbs_change_only_their_entry() {
        let text = fixture("system-packages/copr-objects.json");
        let (w, root) = dnf_world(&text, &["alpha", "gamma"]);
        let verb = |args: &[&str]| {
            let mut all = vec!["dnf"];
            all.extend(args);
            all.extend(["--no-apply", "--root", &root]);
            w.bkt(&all).assert_code(0);
            w.manifest(FILE)
        };
        // The user's order is kept: a new package goes last, not sorted in.
        let text = text.replace(r#"["gamma", "alpha"]"#, r#"["gamma", "alpha", "beta"]"#);
        assert_eq!(verb(&["install", "beta"]), text);
        let text = text.replace(r#"["gamma", "alpha", "beta"]"#, r#"["gamma", "beta"]"#);
        assert_eq!(verb(&["remove", "alpha"]), text);
        let text = text.replace(",\n        \"@gnome/shell\"", "");
        assert_eq!(verb(&["copr", "disable", "@gnome/shell"]), text);
        // Enabling a listed repository keeps its other settings.
        let text = text.replace(
            r#"{"name": "che/nerd-fonts", "enabled": false, "gpg_check": false}"#,
            r#"{"name": "che/nerd-fonts", "enabled": true, "gpg_check": false}"#,
        );
        assert_eq!(verb(&["copr", "enable", "che/nerd-fonts"]), text);
        let cf = w.containerfile();
        assert!(
            cf.contains("    dnf copr enable -y che/nerd-fonts && \\\n    sed -i 's/^gpgcheck=1/gpgcheck=0/' '/etc/yum.repos.d/_copr:copr.fedorainfracloud.org:che:nerd-fonts.repo'\n"),
            "{cf}"
        );
        assert!(
            cf.contains(
                "RUN dnf install -y \\\n    @development-tools \\\n    beta \\\n    gamma \\\n"
            ),
            "{cf}"
        );
    }

    /// A manifest bkt creates starts with its `$schema`, and is valid against it.
    #[test]
    fn a_created_manifest_names_its_schema() {
        let (w, root) = dnf_world("{}", &["alpha"]);
        std::fs::remove_file(w.repo().join("manifests").join(FILE)).unwrap();
        w.bkt(&["capture", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        let text = w.manifest(FILE);
        assert!(
            text.starts_with("{\n  \"$schema\": \"../schemas/system-packages.schema.json\",\n  \"packages\": [\n    \"alpha\"\n  ]"),
            "{text}"
        );
    }

    #[test]
    fn an_excluded_package_installed_here_is_drift_and_apply_removes_it() {
        let text = fixture("system-packages/first-form.json");
        let (w, root) = dnf_world(&text, &["alpha", "gamma", "delta"]);
        let out = w.bkt(&["status", "--root", &root, "-s", "dnf", "--format", "json"]);
        out.assert_code(1);
        let json = out.json();
        let changes = json["plugins"][0]["changes"].as_array().unwrap().clone();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0]["id"], "excluded:delta");
        assert_eq!(changes[0]["wanted"], "excluded");
        assert_eq!(changes[0]["live"], "installed");
        w.bkt(&["apply", "--yes", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        assert_eq!(w.installed(root.as_ref()), ["alpha", "gamma"]);
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        w.bkt(&["status", "--root", &root, "-s", "dnf"])
            .assert_code(0);
        let cf = w.containerfile();
        assert!(cf.contains("    --exclude=delta \\\n"), "{cf}");
        assert!(
            cf.contains("RUN dnf remove -y delta && dnf clean all\n"),
            "{cf}"
        );
    }

    #[test]
    fn a_bad_entry_names_its_file_and_field_not_serde() {
        let (w, root) = dnf_world(
            "{\n  \"copr_repos\": [\n    {\"name\": \"a/b\", \"enabled\": \"yes\"}\n  ]\n}\n",
            &[],
        );
        let out = w.bkt(&["status", "--root", &root, "-s", "dnf"]);
        out.assert_code(2);
        out.assert_all_has("manifests/system-packages.json:3:36: copr_repos[0].enabled");
        assert!(!out.all().contains("untagged"), "{}", out.all());
        w.write_manifest(FILE, "{\"copr_repos\": [7]}");
        let out = w.bkt(&["status", "--root", &root, "-s", "dnf"]);
        out.assert_code(2);
        out.assert_all_has("copr_repos[0]: invalid type: integer `7`, expected a COPR repository");
    }
}

mod gsettings {
    use super::*;

    const FILE: &str = "gsettings.json";

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("gsettings") {
            let w = World::with_schema();
            w.write_manifest(FILE, &text);
            reads_everywhere(&w, "gsettings", &[], FILE, &name);
            w.bkt(&["apply", "--yes", "-s", "gsettings"]).assert_code(0);
            w.bkt(&["capture", "-s", "gsettings"]).assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            w.bkt(&["status", "-s", "gsettings"]).assert_code(0);
        }
    }

    #[test]
    fn verbs_change_only_their_entry_and_keep_comments() {
        let text = fixture("gsettings/comments.json");
        let w = World::with_schema();
        w.write_manifest(FILE, &text);
        let verb = |args: &[&str]| {
            let mut all = vec!["gsetting"];
            all.extend(args);
            all.push("--no-apply");
            w.bkt(&all).assert_code(0);
            w.manifest(FILE)
        };
        let text = text.replace("\"'12h'\"", "\"'24h'\"");
        assert_eq!(
            verb(&["set", "org.bkt.test", "clock-format", "'24h'"]),
            text
        );
        let text = text.replace(
            "    {\n      \"schema\": \"org.bkt.other\",\n      \"key\": \"size\",\n      \"value\": \"42\"\n    },\n",
            "",
        );
        assert_eq!(verb(&["unset", "org.bkt.other", "size"]), text);
        // The list is sorted now: a new key goes in its sorted place.
        let out = verb(&["set", "org.bkt.test", "hot-corners", "false"]);
        assert_eq!(
            out,
            text.replace(
                "as at home\"\n    },\n",
                "as at home\"\n    },\n    {\n      \"schema\": \"org.bkt.test\",\n      \"key\": \"hot-corners\",\n      \"value\": \"false\"\n    },\n"
            )
        );
    }
}

mod extensions {
    use super::*;
    use std::path::Path;

    const FILE: &str = "gnome-extensions.json";

    /// An extension installed by hand in the user's folder.
    fn install(w: &World, uuid: &str) {
        let folder = w.path("data/gnome-shell/extensions").join(uuid);
        std::fs::create_dir_all(&folder).unwrap();
        let meta = serde_json::json!({"uuid": uuid, "name": uuid, "shell-version": ["45"]});
        std::fs::write(Path::new(&folder).join("metadata.json"), meta.to_string()).unwrap();
    }

    fn world(text: &str) -> World {
        let w = World::unprivileged();
        for uuid in ["a@x", "b@x", "c@x"] {
            install(&w, uuid);
        }
        w.write_manifest(FILE, text);
        w
    }

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("gnome-extensions") {
            let w = world(&text);
            reads_everywhere(&w, "extensions", &[], FILE, &name);
            w.bkt(&["apply", "--yes", "-s", "extensions"])
                .assert_code(0);
            w.bkt(&["capture", "-s", "extensions"]).assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            let out = w.bkt(&["status", "-s", "extensions"]);
            assert_eq!(out.code(), 0, "{name}: {}", out.all());
        }
    }

    #[test]
    fn verbs_change_only_their_entry_in_its_form() {
        let text = fixture("gnome-extensions/strings-and-objects.json");
        let w = world(&text);
        let verb = |args: &[&str]| {
            let mut all = vec!["extension"];
            all.extend(args);
            all.push("--no-apply");
            w.bkt(&all).assert_code(0);
            w.manifest(FILE)
        };
        let text = text.replace("\"enabled\": false", "\"enabled\": true");
        assert_eq!(verb(&["enable", "b@x"]), text);
        let text = text.replace(
            "    \"c@x\"\n",
            "    {\n      \"id\": \"c@x\",\n      \"enabled\": false\n    }\n",
        );
        assert_eq!(verb(&["disable", "c@x"]), text);
        let text = text.replace("    \"a@x\",\n", "");
        assert_eq!(verb(&["remove", "a@x"]), text);
        // Written like the file's first entry (here the original's {"id"} form), in sorted place.
        let out = verb(&["add", "d@x"]);
        let m: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            m["extensions"][2],
            serde_json::json!({"id": "d@x"}),
            "{out}"
        );
        assert!(
            out.starts_with(&text[..text.find("    }\n  ]").unwrap()]),
            "{out}"
        );
    }

    #[test]
    fn a_bad_entry_names_its_file_and_field_not_serde() {
        let w = world("{\n  \"extensions\": [\n    \"a@x\",\n    {\"enabled\": false}\n  ]\n}\n");
        let out = w.bkt(&["status", "-s", "extensions"]);
        out.assert_code(2);
        out.assert_all_has("manifests/gnome-extensions.json:4:");
        out.assert_all_has("extensions[1]: an extension entry needs its \"id\" (or \"uuid\")");
        assert!(!out.all().contains("untagged"), "{}", out.all());
    }
}

mod flatpak {
    use super::*;
    use common::flatpak::{REMOTE, app, repo, world};

    const FILE: &str = "flatpak-apps.json";

    /// The commit `flatpak list` shows for an app (12 characters).
    fn commit_of(w: &World, id: &str) -> String {
        let out = w.flatpak_ok(&["list", "--app", "--columns=application,active"]);
        out.stdout()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{id}\t")).map(str::to_string))
            .unwrap_or_else(|| panic!("{id} is not installed: {}", out.stdout()))
    }

    /// A world with the test remote added by hand, the fixture's apps installed, and the
    /// fixture (its pins set to what is installed) as the manifest.
    fn installed_world(fixture_text: &str) -> (World, String) {
        let w = world();
        let text = fixture_text.replace("file:///bkt-test-repo", &repo(2).url());
        w.add_remote(REMOTE, &repo(2).url());
        w.install_apps(REMOTE, &[&app(1), &app(2)]);
        let text = text
            .replace("000000000001", &commit_of(&w, &app(1)))
            .replace("000000000002", &commit_of(&w, &app(2)));
        w.write_manifest(FILE, &text);
        // Overrides the fixture names are set here too.
        w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
        (w, text)
    }

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("flatpak-apps") {
            let (w, text) = installed_world(&text);
            reads_everywhere(&w, "flatpak", &[], FILE, &name);
            w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
            w.bkt(&["capture", "-s", "flatpak"]).assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            let out = w.bkt(&["status", "-s", "flatpak"]);
            assert_eq!(out.code(), 0, "{name}: {}", out.all());
        }
    }

    /// A pinned app at another commit is drift; apply cannot deploy a 12-character pin and
    /// says why; the pin was edited in the manifest, so capture takes the installed commit
    /// only with --overwrite, and changes nothing else.
    #[test]
    fn a_pin_that_differs_is_drift_that_capture_settles() {
        let (w, text) = installed_world(&fixture("flatpak-apps/pins-and-flags.json"));
        let installed = commit_of(&w, &app(1));
        let pinned = text.replace(&installed, "abcdef012345");
        w.write_manifest(FILE, &pinned);
        let out = w.bkt(&["status", "-s", "flatpak", "--format", "json"]);
        out.assert_code(1);
        let plugin = out.json()["plugins"][0].clone();
        let changes = plugin["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{plugin:#}");
        assert_eq!(changes[0]["id"], format!("commit:user:{}", app(1)));
        assert_eq!(changes[0]["wanted"], "abcdef012345");
        assert_eq!(changes[0]["live"], installed.as_str());
        assert_eq!(changes[0]["side"], "manifest", "{plugin:#}");
        let out = w.bkt(&["apply", "--yes", "-s", "flatpak"]);
        out.assert_all_has("flatpak deploys only a full commit");
        assert_eq!(commit_of(&w, &app(1)), installed, "apply moved nothing");
        w.bkt(&["capture", "-s", "flatpak"]).assert_code(0);
        assert_eq!(
            w.manifest(FILE),
            pinned,
            "a manifest edit is not captured over"
        );
        w.bkt(&["capture", "--overwrite", "-s", "flatpak"])
            .assert_code(0);
        assert_eq!(
            w.manifest(FILE),
            text,
            "capture put the installed commit back"
        );
    }

    #[test]
    fn verbs_change_only_their_entry_in_its_form() {
        let (w, text) = installed_world(&fixture("flatpak-apps/pins-and-flags.json"));
        w.bkt(&["flatpak", "override", &app(2), "--user", "--env=A=b"])
            .assert_code(0);
        let expected = text.replace(
            "        \"--filesystem=home\"\n",
            "        \"--filesystem=home\",\n        \"--env=A=b\"\n",
        );
        let now = w.manifest(FILE);
        let m: serde_json::Value = serde_json::from_str(&now).unwrap();
        let flags: Vec<String> = serde_json::from_value(m["apps"][1]["overrides"].clone()).unwrap();
        assert_eq!(flags.len(), 3, "{now}");
        assert!(flags.contains(&"--env=A=b".to_string()), "{now}");
        // Outside the overrides list, every byte is as it was.
        let cut = |t: &str| t[..t.find("\"overrides\"").unwrap()].to_string();
        assert_eq!(cut(&now), cut(&expected));
        w.bkt(&["flatpak", "remove", &app(1), "--user", "--no-apply"])
            .assert_code(0);
        let after = w.manifest(FILE);
        assert!(!after.contains(&app(1)), "{after}");
        assert!(after.starts_with("{\n  \"$schema\": \"https://wycats.github.io/bootc/flatpak-apps.schema.json\",\n  \"apps\": [\n    {\n      \"id\": \"org.bkt.App002\""), "{after}");
    }
}

/// The original bkt's layout: remotes in flatpak-remotes.json, apps (without a remotes list)
/// in flatpak-apps.json. On a fresh machine one apply adds the remote, then installs from it.
mod flatpak_remotes {
    use super::*;
    use common::flatpak::{app, repo, world};

    #[test]
    fn remotes_in_their_own_file_are_added_before_the_apps_and_kept_there() {
        let w = world();
        let remotes = fixture("flatpak-remotes/original.json")
            .replace("file:///bkt-test-repo", &repo(2).url());
        let apps = fixture("flatpak-apps/pins-and-flags.json");
        // Pins removed: the commits of this run's repository are not known beforehand.
        let apps: String = apps
            .lines()
            .filter(|l| !l.contains("\"commit\""))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .replace(
                "\"branch\": \"stable\",\n    }",
                "\"branch\": \"stable\"\n    }",
            );
        w.write_manifest("flatpak-remotes.json", &remotes);
        w.write_manifest("flatpak-apps.json", &apps);
        reads_everywhere(
            &w,
            "flatpak-remotes",
            &[],
            "flatpak-remotes.json",
            "original.json",
        );
        let out = w.bkt(&["apply", "--yes"]);
        assert_eq!(out.code(), 0, "{}", out.all());
        assert_eq!(w.installed_ids(), [app(1), app(2)]);
        let out = w.bkt(&["status"]);
        assert_eq!(out.code(), 0, "{}", out.all());
        w.bkt(&["capture"]).assert_code(0);
        assert_eq!(w.manifest("flatpak-remotes.json"), remotes);
        assert_eq!(w.manifest("flatpak-apps.json"), apps);
        // A remote added by hand is captured into flatpak-remotes.json, not the apps file.
        w.add_remote("more", &repo(2).url());
        w.bkt(&["capture"]).assert_code(0);
        assert_eq!(w.manifest("flatpak-apps.json"), apps);
        let now = w.manifest("flatpak-remotes.json");
        assert!(
            now.starts_with(&remotes[..remotes.rfind("    }").unwrap()]),
            "{now}"
        );
        assert!(now.contains("\"name\": \"more\""), "{now}");
    }
}

mod kargs {
    use super::*;

    #[test]
    fn the_schema_key_is_kept_through_verbs() {
        let text = fixture("kargs/schema.json");
        let w = World::new();
        w.write_manifest("kargs.json", &text);
        reads_everywhere(&w, "kargs", &[], "kargs.json", "schema.json");
        w.bkt(&["kargs", "add", "mitigations=auto", "--no-apply"])
            .assert_code(0);
        assert_eq!(
            w.manifest("kargs.json"),
            text.replace("\"rhgb\"]", "\"rhgb\", \"mitigations=auto\"]")
        );
    }
}

mod repos {
    use super::*;
    use common::{DNF_CONTAINERFILE, build_rpms, dnf_world};
    use std::path::PathBuf;
    use std::process::Command;

    const FILE: &str = "external-repos.json";

    /// A second yum repository, standing for a vendor's: packages epsilon and zeta.
    fn vendor_repo(w: &World) -> PathBuf {
        let names = ["epsilon", "zeta"].map(String::from).to_vec();
        let repo = build_rpms(&w.path("vendor"), &names);
        let ok = Command::new("createrepo_c")
            .arg("-q")
            .arg(&repo)
            .status()
            .unwrap();
        assert!(ok.success(), "createrepo_c failed");
        // The world's user reads it through dnf as root here; the folder is the test's.
        repo
    }

    /// The dnf sections with EXTERNAL_REPOS before them.
    fn containerfile() -> String {
        DNF_CONTAINERFILE.replace(
            "# === COPR_REPOS",
            "# === EXTERNAL_REPOS (managed by bkt) ===\n# === END EXTERNAL_REPOS ===\n\n# === COPR_REPOS",
        )
    }

    #[test]
    fn the_original_files_load_and_render_before_the_packages() {
        for (name, text) in fixtures("external-repos") {
            let (w, root) = dnf_world("{\"packages\": [\"alpha\"]}", &["alpha"]);
            w.write_containerfile(&containerfile());
            w.write_manifest(FILE, &text);
            reads_everywhere(&w, "repos", &["--root", &root], FILE, &name);
            w.bkt(&["containerfile", "sync"]).assert_code(0);
            let cf = w.containerfile();
            let repos = cf
                .find("RUN printf '%s\\n' \\")
                .expect("repo files rendered");
            assert!(repos < cf.find("# === COPR_REPOS").unwrap(), "{cf}");
            assert!(
                cf.contains("    rpm --import 'https://packages.microsoft.com/keys/microsoft.asc'"),
                "{cf}"
            );
            assert!(
                cf.contains("        'baseurl=https://packages.microsoft.com/yumrepos/"),
                "{cf}"
            );
            assert_eq!(w.manifest(FILE), text, "{name}: sync changed the manifest");
            w.bkt(&["containerfile", "check"]).assert_code(0);
        }
    }

    #[test]
    fn a_repository_is_written_and_its_packages_installed_in_a_dnf_root() {
        let (w, root) = dnf_world("{\"packages\": [\"alpha\"]}", &["alpha"]);
        let vendor = vendor_repo(&w);
        let text = format!(
            "{{\n  \"$schema\": \"../schemas/external-repos.schema.json\",\n  \"repos\": [\n    {{\n      \"name\": \"vendor\",\n      \"display_name\": \"Vendor packages\",\n      \"baseurl\": \"file://{}\",\n      \"packages\": [\"epsilon\"]\n    }}\n  ]\n}}\n",
            vendor.display()
        );
        w.write_manifest(FILE, &text);
        w.write_containerfile(&containerfile());
        let out = w.bkt(&["status", "--root", &root, "-s", "repos", "--format", "json"]);
        out.assert_code(1);
        let ids: Vec<String> = out.json()["plugins"][0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["repo:vendor", "epsilon"]);

        w.bkt(&["apply", "--yes", "--root", &root]).assert_code(0);
        let file = std::fs::read_to_string(format!("{root}/etc/yum.repos.d/vendor.repo")).unwrap();
        assert_eq!(
            file,
            format!(
                "# bkt external-repos.json; packages: epsilon\n[vendor]\nname=Vendor packages\nbaseurl=file://{}\nenabled=1\ngpgcheck=0\n",
                vendor.display()
            )
        );
        assert_eq!(w.installed(root.as_ref()), ["alpha", "epsilon"]);
        // Every subsystem agrees, dnf included: epsilon is the repository's, not extra.
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        let out = w.bkt(&["status", "--root", &root]);
        assert_eq!(out.code(), 0, "{}", out.all());
        w.bkt(&["capture", "--root", &root]).assert_code(0);
        assert_eq!(w.manifest(FILE), text, "capture with nothing to take");

        // The file removed by hand is drift; apply --overwrite writes it back.
        std::fs::remove_file(format!("{root}/etc/yum.repos.d/vendor.repo")).unwrap();
        let out = w.bkt(&["status", "--root", &root, "-s", "repos"]);
        out.assert_code(1);
        out.assert_stdout_has("vendor has no repo file here (changed on this machine)");
        w.bkt(&[
            "apply",
            "--yes",
            "--overwrite",
            "--root",
            &root,
            "-s",
            "repos",
        ])
        .assert_code(0);
        assert_eq!(
            std::fs::read_to_string(format!("{root}/etc/yum.repos.d/vendor.repo")).unwrap(),
            file
        );
        w.bkt(&["status", "--root", &root, "-s", "repos"])
            .assert_code(0);
    }
}

mod systemd {
    use super::*;
    use std::path::PathBuf;

    const FILE: &str = "systemd-services.json";
    const UNIT: &str = "[Unit]\nDescription=bkt test unit\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n";

    /// A root that has the original's units, a.service and the user unit u.service.
    fn root(w: &World) -> PathBuf {
        let root = w.path("root");
        let system = root.join("usr/lib/systemd/system");
        let user = root.join("usr/lib/systemd/user");
        for dir in [&system, &user, &root.join("etc")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        for unit in [
            "tuned.service",
            "tuned-ppd.service",
            "power-profiles-daemon.service",
            "a.service",
        ] {
            std::fs::write(system.join(unit), UNIT).unwrap();
        }
        std::fs::write(user.join("u.service"), UNIT).unwrap();
        root
    }

    fn world(text: &str) -> (World, String) {
        let w = World::new();
        w.write_manifest(FILE, text);
        w.write_containerfile("FROM quay.io/fedora/fedora-bootc:42\n# === SYSTEMD_UNITS (managed by bkt) ===\n# === END SYSTEMD_UNITS ===\n");
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        let root = root(&w).display().to_string();
        (w, root)
    }

    fn is_enabled(root: &str, unit: &str) -> String {
        let out = std::process::Command::new("systemctl")
            .arg(format!("--root={root}"))
            .args(["is-enabled", unit])
            .output()
            .expect("systemctl");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("systemd-services") {
            let (w, root) = world(&text);
            reads_everywhere(&w, "systemd", &["--root", &root], FILE, &name);
            w.bkt(&["apply", "--yes", "--root", &root, "-s", "systemd"])
                .assert_code(0);
            assert_eq!(is_enabled(&root, "power-profiles-daemon.service"), "masked");
            w.bkt(&["capture", "--root", &root, "-s", "systemd"])
                .assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            w.bkt(&["status", "--root", &root, "-s", "systemd"])
                .assert_code(0);
        }
    }

    /// Each verb changes its entry alone: a state where it stands, a new unit after the
    /// last, a removed one with its line, and user units in their own key.
    #[test]
    fn verbs_change_only_their_entry() {
        for (name, original) in fixtures("systemd-services") {
            let (w, root) = world(&original);
            let four = original.contains("\n        \"tuned.service\"");
            let (inner, outer) = if four {
                ("        ", "    ")
            } else {
                ("    ", "  ")
            };
            let verb = |args: &[&str]| {
                let mut all = vec!["systemd"];
                all.extend(args);
                all.extend(["--root", root.as_str()]);
                w.bkt(&all).assert_code(0);
                w.manifest(FILE)
            };
            let disabled = original.replace(
                "\"tuned.service\": \"enabled\"",
                "\"tuned.service\": \"disabled\"",
            );
            assert_eq!(verb(&["disable", "tuned.service"]), disabled, "{name}");
            assert_eq!(is_enabled(&root, "tuned.service"), "disabled");
            let added = disabled.replace(
                "\"masked\"\n",
                &format!("\"masked\",\n{inner}\"a.service\": \"enabled\"\n"),
            );
            assert_eq!(verb(&["enable", "a.service"]), added, "{name}");
            assert_eq!(is_enabled(&root, "a.service"), "enabled");
            let masked = added.replace("\"a.service\": \"enabled\"", "\"a.service\": \"masked\"");
            assert_eq!(verb(&["mask", "a.service"]), masked, "{name}");
            assert_eq!(verb(&["unmask", "a.service"]), disabled, "{name}");
            assert_ne!(is_enabled(&root, "a.service"), "masked");
            let user = verb(&["enable", "u.service", "--user"]);
            assert_eq!(
                user,
                disabled.replace(
                    &format!("\n{outer}}}\n}}"),
                    &format!("\n{outer}}},\n{outer}\"user_services\": {{\n{inner}\"u.service\": \"enabled\"\n{outer}}}\n}}")
                ),
                "{name}"
            );
            assert_eq!(verb(&["remove", "u.service", "--user"]), disabled, "{name}");
            assert_eq!(
                verb(&["remove", "tuned-ppd.service"]),
                disabled.replace(&format!("{inner}\"tuned-ppd.service\": \"enabled\",\n"), ""),
                "{name}"
            );
            w.bkt(&["containerfile", "check"]).assert_code(0);
        }
    }

    /// A manifest bkt creates names its schema.
    #[test]
    fn a_created_manifest_names_its_schema() {
        let (w, root) = world("{}");
        std::fs::remove_file(w.repo().join("manifests").join(FILE)).unwrap();
        let out = w.bkt(&["systemd", "enable", "a.service", "--root", &root]);
        out.assert_code(0);
        assert_eq!(
            w.manifest(FILE),
            "{\n  \"$schema\": \"../schemas/systemd-services.schema.json\",\n  \"services\": {\n    \"a.service\": \"enabled\"\n  }\n}\n"
        );
        assert_eq!(is_enabled(&root, "a.service"), "enabled", "{}", out.all());
    }
}

mod shims {
    use super::*;

    const FILE: &str = "host-shims.json";

    /// Run as an unprivileged user: shims are the user's files.
    fn world(text: &str) -> World {
        let w = World::unprivileged();
        w.write_manifest(FILE, text);
        w.write_containerfile("FROM quay.io/fedora/fedora-bootc:42\n# === HOST_SHIMS (managed by bkt) ===\n# === END HOST_SHIMS ===\n");
        w.bkt(&["containerfile", "sync"]).assert_code(0);
        w
    }

    #[test]
    fn every_form_loads_and_capture_with_nothing_to_take_changes_no_byte() {
        for (name, text) in fixtures("host-shims") {
            let w = world(&text);
            reads_everywhere(&w, "shims", &[], FILE, &name);
            w.bkt(&["apply", "--yes", "-s", "shims"]).assert_code(0);
            assert!(
                w.path("home/.local/toolbox/shims/docker").exists(),
                "{name}"
            );
            w.bkt(&["capture", "-s", "shims"]).assert_code(0);
            assert_eq!(w.manifest(FILE), text, "{name}: capture changed bytes");
            w.bkt(&["status", "-s", "shims"]).assert_code(0);
        }
    }

    /// add, a new host and remove change their entry alone, in the entries' own form.
    #[test]
    fn verbs_change_only_their_entry() {
        let text = fixture("host-shims/four-spaces.json");
        let w = world(&text);
        let verb = |args: &[&str]| {
            let mut all = vec!["shim"];
            all.extend(args);
            w.bkt(&all).assert_code(0);
            w.manifest(FILE)
        };
        let changed = text.replace("\"host\": \"podman\"", "\"host\": \"nerdctl\"");
        assert_eq!(verb(&["add", "docker", "--host", "nerdctl"]), changed);
        let added = verb(&["add", "toolbox"]);
        assert!(
            added.starts_with(&changed[..changed.rfind("\n    ]").unwrap()]),
            "{added}"
        );
        assert!(
            added.ends_with("\"toolbox\"\n        }\n    ]\n}\n")
                || added.ends_with("{\"name\": \"toolbox\"}\n    ]\n}\n"),
            "{added}"
        );
        assert!(w.path("home/.local/toolbox/shims/toolbox").exists());
        assert_eq!(verb(&["remove", "toolbox"]), changed);
        assert!(!w.path("home/.local/toolbox/shims/toolbox").exists());
        assert_eq!(
            verb(&["remove", "flatpak"]),
            changed.replace(",\n        {\"name\": \"flatpak\"}", "")
        );
        w.bkt(&["containerfile", "check"]).assert_code(0);

        // The original's own file, no final newline: a shim added and removed again.
        let original = fixture("host-shims/original.json");
        w.write_manifest(FILE, &original);
        verb(&["add", "toolbox"]);
        assert_eq!(verb(&["remove", "toolbox"]), original);
        assert_eq!(
            verb(&["remove", "journalctl"]),
            original.replace("    {\n      \"name\": \"journalctl\"\n    },\n", "")
        );
    }
}
