//! The flatpak subsystem end to end, with the real flatpak: a local repository of a tiny
//! runtime and tiny apps (built once per run, see common/flatpak.rs), `--user` installations
//! in throwaway HOMEs, and bkt running as an unprivileged user.

mod common;
use common::World;
use common::flatpak::{BRANCH, REMOTE, app, repo};
use serde_json::{Value, json};

/// Apps in the test repository.
const APPS: usize = 6;
const FILE: &str = "flatpak-apps.json";

/// A manifest with the test remote (user scope) and `apps`.
fn manifest(apps: Value) -> String {
    let doc = json!({
        "remotes": [{"name": REMOTE, "url": repo(APPS).url(), "scope": "user", "gpg-verify": false}],
        "apps": apps,
    });
    serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
}

/// App `n` from the test remote, user scope.
fn user_app(n: usize) -> Value {
    json!({"id": app(n), "remote": REMOTE, "scope": "user"})
}

/// The system installation is every world's: `flatpak list` and `flatpak remotes` show it
/// to all. Tests of user installations hold this lock shared; the one test that changes the
/// system installation holds it alone (across test processes too).
fn system_lock() -> std::fs::File {
    std::fs::File::create(std::env::temp_dir().join("bkt-test-flatpak-system.lock"))
        .expect("lock file")
}

fn system_unchanged() -> std::fs::File {
    let lock = system_lock();
    lock.lock_shared().expect("locking the system installation");
    lock
}

/// A world (below) while the system installation stays as it is.
struct Fp {
    w: World,
    _system: std::fs::File,
}

impl std::ops::Deref for Fp {
    type Target = World;
    fn deref(&self) -> &World {
        &self.w
    }
}

/// An unprivileged world whose user installation exists and is empty: flatpak has run there
/// once. (A HOME where it never ran is its own test.)
fn fresh_world() -> Fp {
    let _system = system_unchanged();
    let w = common::flatpak::world();
    w.flatpak_ok(&["remotes", "--user"]);
    Fp { w, _system }
}

/// An unprivileged world whose manifest holds `apps` from the test remote, which is added by
/// hand as the manifest declares it (bkt adding it is its own test).
fn world(apps: Value) -> Fp {
    let w = fresh_world();
    w.add_remote(REMOTE, &repo(APPS).url());
    w.write_manifest(FILE, &manifest(apps));
    w
}

/// `status -s flatpak --format json`: the exit code and the plugin's part.
fn status(w: &World) -> (i32, Value) {
    let out = w.bkt(&["status", "-s", "flatpak", "--format", "json"]);
    let doc = out.json();
    assert_eq!(doc["plugins"][0]["id"], "flatpak", "{doc}");
    (out.code(), doc["plugins"][0].clone())
}

/// The change with `id` in a plugin's status.
#[track_caller]
fn change<'a>(plugin: &'a Value, id: &str) -> &'a Value {
    plugin["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no change {id:?} in {plugin:#}"))
}

/// The ids of a plugin's changes, in order.
fn change_ids(plugin: &Value) -> Vec<String> {
    plugin["changes"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn assert_in_step(w: &World) {
    let (code, plugin) = status(w);
    assert_eq!(code, 0, "expected no drift: {plugin:#}");
}

/// The manifest as JSON.
fn manifest_doc(w: &World) -> Value {
    serde_json::from_str(&w.manifest(FILE)).expect("the manifest is JSON")
}

/// The manifest's entry for `id` (any scope).
fn manifest_app(w: &World, id: &str) -> Option<Value> {
    manifest_doc(w)["apps"]
        .as_array()
        .and_then(|apps| apps.iter().find(|a| a["id"] == id).cloned())
}

/// The ids of the manifest's apps, in order.
fn manifest_ids(w: &World) -> Vec<String> {
    manifest_doc(w)["apps"]
        .as_array()
        .map(|apps| {
            apps.iter()
                .map(|a| a["id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(ns: &[usize]) -> Vec<String> {
    ns.iter().map(|&n| app(n)).collect()
}

/// The keys of an override keyfile, as `group/key=value` lines (order kept).
fn keyfile_entries(text: &str) -> Vec<String> {
    let mut group = String::new();
    let mut entries = vec![];
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            group = name.to_string();
        } else if !line.is_empty() && !line.starts_with('#') {
            entries.push(format!("{group}/{line}"));
        }
    }
    entries
}

/// The overrides `--filesystem=home --env=FOO=bar` give, in the manifest's form.
fn home_and_foo() -> Value {
    json!({"Context": {"filesystems": ["home"]}, "Environment": {"FOO": "bar"}})
}

#[test]
fn the_fixture_repository_installs_into_a_world_home() {
    let r = repo(APPS);
    assert!(
        r.path.join("summary").is_file(),
        "no summary in {:?}",
        r.path
    );
    let _system = system_unchanged();
    let w = World::unprivileged();
    assert!(w.installed_apps().is_empty());
    w.add_remote(REMOTE, &r.url());
    let remotes = w.remotes();
    assert_eq!(remotes.len(), 1, "{remotes:?}");
    assert_eq!(remotes[0].0, REMOTE);
    assert_eq!(remotes[0].1, r.url());
    assert!(remotes[0].2.contains("user"), "{remotes:?}");
    assert!(remotes[0].2.contains("no-gpg-verify"), "{remotes:?}");

    w.install_apps(REMOTE, &[&app(1), &app(APPS)]);
    let installed = w.installed_apps();
    assert_eq!(installed.len(), 2, "{installed:?}");
    assert_eq!(installed[0].id, app(1));
    assert_eq!(installed[0].origin, REMOTE);
    assert_eq!(installed[0].branch, BRANCH);
    assert_eq!(installed[0].installation, "user");
    assert_eq!(installed[1].id, app(APPS));
    // The installation is the world's, not the user's running the tests.
    assert!(w.flatpak_user_dir().join("app").join(app(1)).is_dir());

    w.override_app(&app(1), &["--filesystem=home", "--env=FOO=bar"]);
    let file = w.override_file(&app(1)).expect("an override file");
    assert_eq!(
        keyfile_entries(&file),
        ["Context/filesystems=home;", "Environment/FOO=bar"]
    );
    w.reset_override(&app(1));
    assert!(
        w.override_file(&app(1))
            .is_none_or(|f| keyfile_entries(&f).is_empty()),
        "reset leaves no keys"
    );

    w.uninstall_app(&app(1));
    assert_eq!(w.installed_ids(), [app(APPS)]);
}

/// The flatpak commands a `-v` run ran, in order.
fn ran(out: &common::Out) -> Vec<String> {
    out.stderr()
        .lines()
        .filter_map(|l| l.split_once("run: ").map(|(_, run)| run.trim().to_string()))
        .collect()
}

#[test]
fn apply_installs_the_missing_apps_in_one_call() {
    let mut two = user_app(2);
    two["branch"] = json!(BRANCH);
    let w = world(json!([user_app(1), two]));
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(
        change_ids(&plugin),
        [format!("user:{}", app(1)), format!("user:{}", app(2))]
    );
    for id in change_ids(&plugin) {
        let c = change(&plugin, &id);
        assert_eq!(c["kind"], "missing", "{c:#}");
        assert_eq!(c["side"], "first-contact", "{c:#}");
        assert_eq!(c["live"], Value::Null, "{c:#}");
    }

    let out = w.bkt(&["apply", "--yes", "-s", "flatpak", "-v"]);
    out.assert_code(0);
    let runs = ran(&out);
    assert_eq!(
        runs,
        [format!(
            "flatpak install --noninteractive -y --user {REMOTE} {} {}//{BRANCH}",
            app(1),
            app(2)
        )],
        "one flatpak install for both"
    );
    assert_eq!(w.installed_ids(), ids(&[1, 2]));
    assert_in_step(&w);
    // In step: applying again runs nothing.
    let again = w.bkt(&["apply", "--yes", "-s", "flatpak", "-v"]);
    again.assert_code(0);
    assert_eq!(ran(&again), Vec::<String>::new());
}

#[test]
fn apply_adds_the_missing_remote_before_it_installs_from_it() {
    let w = fresh_world();
    w.write_manifest(FILE, &manifest(json!([user_app(1)])));
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(
        change_ids(&plugin),
        [format!("remote:user:{REMOTE}"), format!("user:{}", app(1))]
    );
    let c = change(&plugin, &format!("remote:user:{REMOTE}"));
    assert_eq!(c["kind"], "missing", "{c:#}");
    assert_eq!(c["wanted"], repo(APPS).url(), "{c:#}");

    let out = w.bkt(&["apply", "--yes", "-s", "flatpak", "-v"]);
    out.assert_code(0);
    let runs = ran(&out);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[0].starts_with("flatpak remote-add "), "{runs:?}");
    assert!(runs[1].starts_with("flatpak install "), "{runs:?}");
    let remotes = w.remotes();
    assert_eq!(remotes.len(), 1, "{remotes:?}");
    assert_eq!(
        (remotes[0].0.as_str(), remotes[0].1.as_str()),
        (REMOTE, repo(APPS).url().as_str())
    );
    assert!(remotes[0].2.contains("user"), "{remotes:?}");
    assert_eq!(w.installed_ids(), ids(&[1]));
    assert_in_step(&w);
}

#[test]
fn an_app_installed_by_hand_is_extra_and_first_contact_capture_takes_it_whole() {
    let w = world(json!([user_app(1)]));
    w.install_apps(REMOTE, &[&app(1), &app(3)]);
    w.override_app(&app(3), &["--filesystem=home", "--env=FOO=bar"]);

    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    let c = change(&plugin, &format!("user:{}", app(3)));
    assert_eq!(c["kind"], "extra", "{c:#}");
    assert_eq!(c["side"], "first-contact", "{c:#}");
    assert_eq!(c["wanted"], Value::Null, "{c:#}");
    assert!(
        c["live"].as_str().is_some_and(|l| l.contains(BRANCH)),
        "the branch is part of the value: {c:#}"
    );
    assert!(
        !change_ids(&plugin).contains(&format!("user:{}", app(1))),
        "{plugin:#}"
    );

    // apply follows the manifest: an extra stays without --prune.
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[1, 3]));

    let out = w.bkt(&["capture", "-s", "flatpak"]);
    out.assert_code(0);
    assert_eq!(manifest_ids(&w), ids(&[1, 3]), "sorted");
    assert_eq!(
        manifest_app(&w, &app(3)),
        Some(json!({
            "id": app(3),
            "remote": REMOTE,
            "scope": "user",
            "branch": BRANCH,
            "overrides": home_and_foo(),
        })),
        "{}",
        w.manifest(FILE)
    );
    assert_in_step(&w);
}

#[test]
fn an_app_uninstalled_by_hand_is_a_change_on_the_machine_that_capture_drops() {
    let w = world(json!([user_app(1), user_app(2)]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[1, 2]));
    w.uninstall_app(&app(2));

    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(change_ids(&plugin), [format!("user:{}", app(2))]);
    let c = change(&plugin, &format!("user:{}", app(2)));
    assert_eq!(c["kind"], "missing", "{c:#}");
    assert_eq!(c["side"], "machine", "{c:#}");

    let out = w.bkt(&["apply", "--yes", "-s", "flatpak"]);
    out.assert_code(0);
    out.assert_stdout_has("Changed on this machine since the last sync (1 item)");
    assert_eq!(w.installed_ids(), ids(&[1]), "not reinstalled");

    w.bkt(&["capture", "-s", "flatpak"]).assert_code(0);
    assert_eq!(manifest_ids(&w), ids(&[1]));
    assert_in_step(&w);
}

#[test]
fn an_override_set_by_hand_is_captured_and_reapplied_after_a_reset() {
    let w = world(json!([user_app(1)]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    assert_in_step(&w);
    let id = format!("override:user:{}", app(1));

    w.override_app(&app(1), &["--filesystem=home", "--env=FOO=bar"]);
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(change_ids(&plugin), std::slice::from_ref(&id));
    let c = change(&plugin, &id);
    // Made on the machine after a sync that had no override: new there, capture's to take.
    assert_eq!(c["kind"], "extra", "{c:#}");
    assert_eq!(c["side"], "new-on-machine", "{c:#}");
    assert_eq!(c["wanted"], Value::Null, "{c:#}");
    w.bkt(&["capture", "-s", "flatpak"]).assert_code(0);
    assert_eq!(
        manifest_app(&w, &app(1)).map(|a| a["overrides"].clone()),
        Some(home_and_foo()),
        "{}",
        w.manifest(FILE)
    );
    assert_in_step(&w);

    // Reset by hand after both sides agreed: a change on the machine, which apply leaves
    // unless told to overwrite it.
    w.reset_override(&app(1));
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    let c = change(&plugin, &id);
    assert_eq!(c["side"], "machine", "{c:#}");
    assert_eq!(c["kind"], "missing", "{c:#}");
    assert_eq!(c["live"], Value::Null, "{c:#}");
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    assert!(
        w.override_file(&app(1))
            .is_none_or(|f| keyfile_entries(&f).is_empty()),
        "apply --yes left the hand change"
    );
    w.bkt(&["apply", "--yes", "--overwrite", "-s", "flatpak"])
        .assert_code(0);
    let file = w.override_file(&app(1)).expect("the override file again");
    let mut entries = keyfile_entries(&file);
    entries.sort();
    assert_eq!(
        entries,
        ["Context/filesystems=home;", "Environment/FOO=bar"],
        "{file}"
    );
    assert_in_step(&w);
}

#[test]
fn overrides_written_as_flags_are_read_and_kept_as_flags() {
    let mut one = user_app(1);
    one["overrides"] = json!(["--filesystem=home", "--env=FOO=bar"]);
    let w = world(json!([one]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    let file = w.override_file(&app(1)).expect("an override file");
    let mut entries = keyfile_entries(&file);
    entries.sort();
    assert_eq!(
        entries,
        ["Context/filesystems=home;", "Environment/FOO=bar"],
        "{file}"
    );
    assert_in_step(&w);

    // Another entry's write leaves them as the original bkt wrote them.
    w.bkt(&["flatpak", "add", &app(2), "--remote", REMOTE, "--user"])
        .assert_code(0);
    assert_eq!(
        manifest_app(&w, &app(1)).map(|a| a["overrides"].clone()),
        Some(json!(["--filesystem=home", "--env=FOO=bar"])),
        "{}",
        w.manifest(FILE)
    );
    assert_in_step(&w);
    // A new override of that app is written in the same form.
    w.bkt(&["flatpak", "override", &app(1), "--user", "--share=network"])
        .assert_code(0);
    let flags = manifest_app(&w, &app(1)).map(|a| a["overrides"].clone());
    let flags: Vec<String> = serde_json::from_value(flags.unwrap_or_default()).unwrap_or_default();
    for flag in ["--filesystem=home", "--env=FOO=bar", "--share=network"] {
        assert!(flags.iter().any(|f| f == flag), "{flags:?}");
    }
    assert_in_step(&w);
}

#[test]
fn apply_prune_removes_an_untracked_app() {
    let w = world(json!([user_app(1)]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    w.install_app(REMOTE, &app(4));
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    let c = change(&plugin, &format!("user:{}", app(4)));
    assert_eq!(c["kind"], "extra", "{c:#}");
    assert_eq!(c["side"], "new-on-machine", "{c:#}");

    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[1, 4]), "kept without --prune");
    w.bkt(&["apply", "--yes", "--prune", "-s", "flatpak"])
        .assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[1]));
    assert_eq!(manifest_ids(&w), ids(&[1]));
    assert_in_step(&w);
}

#[test]
fn an_app_from_a_remote_that_does_not_exist_is_a_clear_error_and_nothing_comes_from_it() {
    let w = fresh_world();
    w.write_manifest(
        FILE,
        &serde_json::to_string_pretty(&json!({
            "remotes": [],
            "apps": [{"id": app(1), "remote": "nowhere", "scope": "user"}],
        }))
        .expect("JSON"),
    );
    // A problem of that entry, not a failed install.
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(change_ids(&plugin), Vec::<String>::new(), "{plugin:#}");
    let problem = &plugin["problems"][0];
    assert_eq!(problem["id"], format!("user:{}", app(1)), "{plugin:#}");
    let message = problem["message"].as_str().unwrap_or("");
    assert!(
        message.contains("\"nowhere\"") && message.contains("remotes"),
        "says which remote and where to add it: {message}"
    );

    let out = w.bkt(&["apply", "--yes", "-s", "flatpak", "-v"]);
    out.assert_code(1);
    out.assert_stderr_has("\"nowhere\"");
    assert!(!out.stderr().contains("run: flatpak"), "{}", out.all());
    assert!(w.installed_apps().is_empty());
    assert!(w.remotes().is_empty());
}

/// `text` as the manifest: status, apply and capture refuse it with exit 2, name the file and
/// every word of `names`, and change nothing. (status reports it in its table, on stdout.)
#[track_caller]
fn refused(text: &str, names: &[&str]) {
    let w = fresh_world();
    w.write_manifest(FILE, text);
    for args in [
        &["status", "-s", "flatpak"][..],
        &["apply", "--yes", "-s", "flatpak"][..],
        &["capture", "-s", "flatpak"][..],
    ] {
        let out = w.bkt(args);
        out.assert_code(2);
        out.assert_all_has("manifests/flatpak-apps.json");
        for name in names {
            out.assert_all_has(name);
        }
    }
    assert_eq!(w.manifest(FILE), text);
    assert!(w.installed_apps().is_empty());
    assert!(w.remotes().is_empty());
}

#[test]
fn a_malformed_manifest_is_refused_with_its_file_and_field() {
    refused("{\"apps\": [", &[]);
    let url = repo(APPS).url();
    refused(
        &format!(
            r#"{{"remotes": [{{"name": "bkt-test", "url": "{url}", "scope": "user"}}], "apps": [{{"id": "org.bkt.App001", "remote": "bkt-test", "scope": "user", "colour": "red"}}]}}"#
        ),
        &["apps[0]", "colour"],
    );
    refused(r#"{"remotez": [], "apps": []}"#, &["remotez"]);
    refused(
        &format!(
            r#"{{"remotes": [{{"name": "bkt-test", "url": "{url}", "scope": "user"}}], "apps": [{{"id": "org.bkt.App001", "remote": "bkt-test", "scope": "everyone"}}]}}"#
        ),
        &["apps[0]", "scope"],
    );
    refused(
        &format!(
            r#"{{"remotes": [{{"name": "bkt-test", "url": "{url}", "scope": "user"}}], "apps": [{{"id": "org.bkt.App001", "remote": "bkt-test", "scope": "user", "overrides": {{"Context": {{"filesystems": "home"}}}}}}]}}"#
        ),
        &["apps[0]", "filesystems"],
    );
}

#[test]
fn invalid_app_ids_are_refused_before_anything_runs() {
    let url = repo(APPS).url();
    for bad in ["-oops", "org..x", "1org.x"] {
        refused(
            &format!(
                r#"{{"remotes": [{{"name": "bkt-test", "url": "{url}", "scope": "user"}}], "apps": [{{"id": "{bad}", "remote": "bkt-test", "scope": "user"}}]}}"#
            ),
            &["apps[0]", bad],
        );
    }
    let w = world(json!([user_app(1)]));
    let before = w.manifest(FILE);
    for bad in ["org..x", "1org.x"] {
        let out = w.bkt(&["flatpak", "add", bad, "--remote", REMOTE, "--user"]);
        out.assert_code(2);
        out.assert_stderr_has(bad);
    }
    // A word that looks like an option but is none is named, never taken as the id.
    for bad in ["-oops", "--bogus"] {
        let out = w.bkt(&["flatpak", "add", "--remote", REMOTE, "--user", "--", bad]);
        out.assert_code(2);
        out.assert_stderr_has(&format!("{bad:?}"));
    }
    assert_eq!(w.manifest(FILE), before);
    assert!(w.installed_apps().is_empty());
}

#[test]
fn add_override_list_and_remove_edit_the_manifest_and_the_machine_together() {
    let w = world(json!([user_app(1)]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);

    let out = w.bkt(&["flatpak", "add", &app(2), "--remote", REMOTE, "--user"]);
    out.assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[1, 2]));
    let two = manifest_app(&w, &app(2)).expect("app 2 in the manifest");
    assert_eq!(
        (&two["remote"], &two["scope"]),
        (&json!(REMOTE), &json!("user"))
    );
    w.bkt(&[
        "flatpak",
        "add",
        &app(3),
        "--remote",
        REMOTE,
        "--user",
        "--branch",
        BRANCH,
    ])
    .assert_code(0);
    assert_eq!(
        manifest_app(&w, &app(3)).map(|a| a["branch"].clone()),
        Some(json!(BRANCH))
    );
    assert_eq!(manifest_ids(&w), ids(&[1, 2, 3]), "sorted");
    assert_eq!(w.installed_ids(), ids(&[1, 2, 3]));

    let list = w.bkt(&["flatpak", "list"]);
    list.assert_code(0);
    for n in 1..=3 {
        list.assert_stdout_has(&app(n));
    }

    w.bkt(&[
        "flatpak",
        "override",
        &app(2),
        "--filesystem=home",
        "--env=FOO=bar",
    ])
    .assert_code(0);
    assert_eq!(
        manifest_app(&w, &app(2)).map(|a| a["overrides"].clone()),
        Some(home_and_foo()),
        "{}",
        w.manifest(FILE)
    );
    let file = w.override_file(&app(2)).expect("an override file");
    let mut entries = keyfile_entries(&file);
    entries.sort();
    assert_eq!(
        entries,
        ["Context/filesystems=home;", "Environment/FOO=bar"],
        "{file}"
    );

    w.bkt(&["flatpak", "remove", &app(2)]).assert_code(0);
    assert_eq!(manifest_ids(&w), ids(&[1, 3]));
    assert_eq!(w.installed_ids(), ids(&[1, 3]));
    assert_in_step(&w);
}

#[test]
fn adding_an_app_the_remote_lacks_leaves_the_manifest_as_it_was() {
    let w = world(json!([user_app(1)]));
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    let before = w.manifest(FILE);
    let out = w.bkt(&[
        "flatpak",
        "add",
        "org.bkt.Nope",
        "--remote",
        REMOTE,
        "--user",
    ]);
    out.assert_code(1);
    out.assert_stdout_has("Nothing matches org.bkt.Nope in remote bkt-test");
    out.assert_all_has("was put back as it was");
    assert_eq!(w.manifest(FILE), before, "byte for byte");
    assert_eq!(w.installed_ids(), ids(&[1]));
    assert_in_step(&w);
    // The report for scripts says what is true after the rollback: nothing stayed written.
    let out = w.bkt(&[
        "flatpak",
        "add",
        "org.bkt.Nope",
        "--remote",
        REMOTE,
        "--user",
        "--format",
        "json",
    ]);
    out.assert_code(1);
    assert_eq!(out.json()["written"], false, "{}", out.stdout());
    assert_eq!(w.manifest(FILE), before);
}

#[test]
fn status_works_in_a_home_where_flatpak_never_ran() {
    // flatpak makes the user installation on first use: bkt's two queries are the first.
    let _system = system_unchanged();
    for _ in 0..10 {
        let mut w = World::unprivileged();
        common::flatpak::share_cache(&mut w);
        w.write_manifest(FILE, "{\n  \"remotes\": [],\n  \"apps\": []\n}\n");
        w.bkt(&["status", "-s", "flatpak"]).assert_code(0);
    }
}

#[test]
fn overrides_are_read_where_flatpak_keeps_them_under_xdg_data_home() {
    // bkt hands flatpak XDG_DATA_HOME, so flatpak keeps the user installation and its
    // overrides in $XDG_DATA_HOME/flatpak, here not ~/.local/share: status reads them there.
    let _system = system_unchanged();
    let mut w = World::unprivileged();
    common::flatpak::share_cache(&mut w);
    w.add_remote(REMOTE, &repo(APPS).url());
    w.install_app(REMOTE, &app(1));
    assert!(w.path("data/flatpak/app").join(app(1)).is_dir());
    w.write_manifest(FILE, &manifest(json!([user_app(1)])));
    assert_in_step(&w);
    w.override_app(&app(1), &["--filesystem=home"]);
    assert!(w.path("data/flatpak/overrides").join(app(1)).is_file());
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "the override is seen: {plugin:#}");
    change(&plugin, &format!("override:user:{}", app(1)));
}

/// The system installation, which only root changes: a remote of the test's own, emptied
/// before and after (also when the test fails), one test at a time across processes.
struct SystemInstallation {
    _lock: std::fs::File,
    remote: &'static str,
}

impl SystemInstallation {
    fn take() -> SystemInstallation {
        let lock = system_lock();
        lock.lock().expect("locking the system installation");
        let s = SystemInstallation {
            _lock: lock,
            remote: "bkt-test-system",
        };
        s.clean();
        s
    }

    /// Uninstalls whatever came from the test's remote, then removes the remote.
    fn clean(&self) {
        let run = |args: &[&str]| {
            std::process::Command::new("flatpak")
                .args(args)
                .env_clear()
                .env("PATH", common::SYSTEM_PATH)
                .output()
                .expect("running flatpak")
        };
        let list = run(&["list", "--system", "--columns=ref,origin"]);
        for line in String::from_utf8_lossy(&list.stdout).lines() {
            if let Some((reference, origin)) = line.split_once('\t')
                && origin.trim() == self.remote
            {
                run(&[
                    "uninstall",
                    "--system",
                    "-y",
                    "--noninteractive",
                    reference.trim(),
                ]);
            }
        }
        for n in 1..=APPS {
            run(&["override", "--system", "--reset", &app(n)]);
        }
        run(&["remote-delete", "--system", "--force", self.remote]);
    }
}

impl Drop for SystemInstallation {
    fn drop(&mut self) {
        self.clean();
    }
}

#[test]
fn as_root_the_system_installation_is_applied_and_captured() {
    if common::test_uid() != 0 {
        eprintln!("skipped: only root changes the system installation");
        return;
    }
    let system = SystemInstallation::take();
    let w = World::new();
    w.flatpak_ok(&[
        "remote-add",
        "--system",
        "--no-gpg-verify",
        system.remote,
        &repo(APPS).url(),
    ]);
    let entry = |n: usize| json!({"id": app(n), "remote": system.remote, "scope": "system"});
    let text = serde_json::to_string_pretty(&json!({
        "remotes": [{"name": system.remote, "url": repo(APPS).url(), "scope": "system"}],
        "apps": [entry(5)],
    }))
    .expect("JSON")
        + "\n";
    w.write_manifest(FILE, &text);

    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(change_ids(&plugin), [format!("system:{}", app(5))]);
    w.bkt(&["apply", "--yes", "-s", "flatpak"]).assert_code(0);
    let installed = w.installed_apps();
    assert_eq!(installed.len(), 1, "{installed:?}");
    assert_eq!(
        (installed[0].id.as_str(), installed[0].installation.as_str()),
        (app(5).as_str(), "system")
    );
    assert_in_step(&w);

    // By hand: an override and another app, both system-wide.
    w.flatpak_ok(&["override", "--system", "--filesystem=home", &app(5)]);
    w.flatpak_ok(&[
        "install",
        "--system",
        "-y",
        "--noninteractive",
        system.remote,
        &app(6),
    ]);
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(
        change(&plugin, &format!("override:system:{}", app(5)))["side"],
        "new-on-machine"
    );
    assert_eq!(
        change(&plugin, &format!("system:{}", app(6)))["side"],
        "new-on-machine"
    );
    w.bkt(&["capture", "-s", "flatpak"]).assert_code(0);
    assert_eq!(
        manifest_app(&w, &app(5)).map(|a| a["overrides"].clone()),
        Some(json!({"Context": {"filesystems": ["home"]}})),
        "{}",
        w.manifest(FILE)
    );
    assert_eq!(
        manifest_app(&w, &app(6)),
        Some(json!({"id": app(6), "remote": system.remote, "scope": "system", "branch": BRANCH})),
        "{}",
        w.manifest(FILE)
    );
    assert_in_step(&w);

    w.bkt(&["flatpak", "remove", &app(6), "--system"])
        .assert_code(0);
    assert_eq!(w.installed_ids(), ids(&[5]));
    assert_eq!(manifest_ids(&w), ids(&[5]));
    assert_in_step(&w);
}

#[test]
fn capture_takes_a_remote_added_by_hand_with_the_app_installed_from_it() {
    let w = fresh_world();
    w.write_manifest(FILE, "{\n  \"remotes\": [],\n  \"apps\": []\n}\n");
    w.add_remote(REMOTE, &repo(APPS).url());
    w.install_app(REMOTE, &app(5));
    let (code, plugin) = status(&w);
    assert_eq!(code, 1, "{plugin:#}");
    assert_eq!(
        change(&plugin, &format!("remote:user:{REMOTE}"))["kind"],
        "extra"
    );
    let out = w.bkt(&["capture", "-s", "flatpak"]);
    out.assert_code(0);
    assert_eq!(
        manifest_doc(&w),
        json!({
            "remotes": [{"name": REMOTE, "url": repo(APPS).url(), "scope": "user", "gpg-verify": false}],
            "apps": [{"id": app(5), "remote": REMOTE, "scope": "user", "branch": BRANCH}],
        }),
        "{}",
        out.all()
    );
    assert_in_step(&w);
}

/// `--local` installs on this machine only: the manifest stays as it was, and the app is a
/// known local change, not drift.
#[test]
fn a_local_add_changes_this_machine_only() {
    let w = world(json!([]));
    let before = w.manifest(FILE);
    let out = w.bkt(&[
        "flatpak",
        "add",
        &app(1),
        "--remote",
        REMOTE,
        "--user",
        "--local",
    ]);
    out.assert_code(0);
    out.assert_stdout_has("Changed this machine only");
    assert_eq!(w.manifest(FILE), before, "byte for byte");
    assert_eq!(w.installed_ids(), ids(&[1]));
    let (code, plugin) = status(&w);
    assert_eq!(code, 0, "a local change is not drift: {plugin:#}");
    let id = format!("user:{}", app(1));
    assert_eq!(change(&plugin, &id)["side"], "local", "{plugin:#}");
}

/// An app from a remote its installation does not have is refused before anything is
/// written, with how to add the remote (the README's `--remote flathub --user` on a machine
/// whose flathub is the system's).
#[test]
fn add_refuses_a_remote_its_installation_lacks() {
    let w = world(json!([]));
    let before = w.manifest(FILE);
    let out = w.bkt(&["flatpak", "add", &app(1), "--remote", "nowhere", "--user"]);
    out.assert_code(2);
    out.assert_stderr_has("nowhere is not a remote of the user installation");
    out.assert_stderr_has("flatpak remote-add --user nowhere URL");
    let out = w.bkt(&["flatpak", "add", &app(1), "--remote", REMOTE, "--system"]);
    out.assert_code(2);
    out.assert_stderr_has("(the user installation has it: pass --user)");
    assert_eq!(w.manifest(FILE), before, "byte for byte");
    assert!(w.installed_ids().is_empty());
}

/// A remote is tracked and added in one step; one that apps of the manifest come from is not
/// dropped from under them.
#[test]
fn remote_add_and_remove() {
    let w = fresh_world();
    w.write_manifest(FILE, "{\n  \"apps\": []\n}\n");
    let url = repo(APPS).url();
    let out = w.bkt(&[
        "flatpak",
        "remote",
        "add",
        REMOTE,
        &url,
        "--user",
        "--no-gpg-verify",
    ]);
    out.assert_code(0);
    let doc = manifest_doc(&w);
    assert_eq!(doc["remotes"][0]["name"], REMOTE, "{doc}");
    assert_eq!(doc["remotes"][0]["gpg-verify"], false, "{doc}");
    assert!(
        w.flatpak_ok(&["remotes", "--user"])
            .stdout()
            .contains(REMOTE)
    );
    w.bkt(&["flatpak", "add", &app(1), "--remote", REMOTE, "--user"])
        .assert_code(0);
    let out = w.bkt(&["flatpak", "remote", "remove", REMOTE, "--user"]);
    out.assert_code(2);
    out.assert_stderr_has("remove them first");
    w.bkt(&["flatpak", "remove", &app(1), "--user"])
        .assert_code(0);
    w.bkt(&["flatpak", "remote", "remove", REMOTE, "--user"])
        .assert_code(0);
    assert!(
        manifest_doc(&w)["remotes"]
            .as_array()
            .is_none_or(|r| r.is_empty())
    );
    let out = w.bkt(&["flatpak", "remote", "add", "x", "ftp://nope", "--user"]);
    out.assert_code(2);
}
