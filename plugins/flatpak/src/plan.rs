//! Comparing the manifest with what flatpak reports, and capturing the items the host names.
//! Pure: the live state comes in as data.
//!
//! Item ids: `remote:INSTALLATION:NAME` (value: the URL), `INSTALLATION:APP` (value: the
//! origin, and `//BRANCH` when the manifest names a branch), `override:INSTALLATION:APP`
//! (value: the override keyfile) and, for a pinned app, `commit:INSTALLATION:APP` (value: the
//! commit, as many characters as both sides have).

use crate::live::{Installed, Live};
use crate::manifest::{App, Installation, Manifest, Remote};
use crate::overrides::{self, Overrides};
use bkt_sdk::{Agreed, Change, Effect, Problem, agreed, change, problem, run, run_batched};

pub fn remote_id(inst: Installation, name: &str) -> String {
    format!("remote:{}:{name}", inst.name())
}

pub fn app_id(inst: Installation, id: &str) -> String {
    format!("{}:{id}", inst.name())
}

pub fn override_id(inst: Installation, id: &str) -> String {
    format!("override:{}:{id}", inst.name())
}

pub fn commit_id(inst: Installation, id: &str) -> String {
    format!("commit:{}:{id}", inst.name())
}

/// `ID` or `ID//BRANCH`, as flatpak names a ref.
fn reference(id: &str, branch: Option<&str>) -> String {
    match branch {
        Some(b) => format!("{id}//{b}"),
        None => id.to_string(),
    }
}

pub fn add_remote(r: &Remote) -> Effect {
    let mut args = vec!["remote-add", "--if-not-exists", r.scope.flag()];
    if !r.gpg_verify {
        args.push("--no-gpg-verify");
    }
    args.extend([r.name.as_str(), r.url.as_str()]);
    run("flatpak", &args, r.scope.scope())
}

pub fn install(app: &App, reinstall: bool) -> Effect {
    let mut argv = vec!["flatpak".to_string(), "install".into()];
    if reinstall {
        argv.push("--reinstall".into());
    }
    argv.extend(["--noninteractive", "-y", app.scope.flag(), &app.remote].map(String::from));
    argv.push(reference(&app.id, app.branch.as_deref()));
    run_batched(&argv, app.scope.scope())
}

pub fn uninstall(inst: Installation, id: &str, branch: &str) -> Effect {
    let argv = [
        "flatpak",
        "uninstall",
        "--noninteractive",
        "-y",
        inst.flag(),
        &format!("{id}//{branch}"),
    ]
    .map(String::from);
    run_batched(&argv, inst.scope())
}

/// Resets an app's overrides, then sets `wanted` one flag at a time.
pub fn set_overrides(inst: Installation, id: &str, wanted: &Overrides) -> Vec<Effect> {
    let mut effects = vec![run(
        "flatpak",
        &["override", inst.flag(), "--reset", id],
        inst.scope(),
    )];
    for flag in overrides::to_flags(wanted) {
        effects.push(run(
            "flatpak",
            &["override", inst.flag(), &flag, id],
            inst.scope(),
        ));
    }
    effects
}

/// The installed branch that stands for the manifest's app: its branch if it names one,
/// else the first flatpak lists.
fn installed_for<'a>(app: &App, live: &'a Live) -> Option<&'a Installed> {
    let rows = live.apps.get(&(app.scope, app.id.clone()))?;
    match &app.branch {
        Some(b) => rows.iter().find(|i| i.branch == *b),
        None => rows.first(),
    }
}

/// The app's value on each side, in the same form: origin, and `//BRANCH` when the manifest
/// names one.
fn app_values(app: &App, installed: Option<&Installed>) -> (String, Option<String>) {
    let wanted = match &app.branch {
        Some(b) => format!("{}//{b}", app.remote),
        None => app.remote.clone(),
    };
    let live = installed.map(|i| match &app.branch {
        Some(_) => format!("{}//{}", i.origin, i.branch),
        None => i.origin.clone(),
    });
    (wanted, live)
}

pub struct Compared {
    pub changes: Vec<Change>,
    pub agreed: Vec<Agreed>,
    pub problems: Vec<Problem>,
}

pub fn compare(m: &Manifest, live: &Live) -> Compared {
    let mut c = Compared {
        changes: vec![],
        agreed: vec![],
        problems: vec![],
    };
    remotes(m, live, &mut c);
    apps(m, live, &mut c);
    for app in &m.apps {
        pin_of(app, live, &mut c);
        overrides_of(app, live, &mut c);
    }
    c
}

/// A full commit, which `flatpak update --commit` can deploy.
const FULL_COMMIT: usize = 64;

/// A pinned app that is installed: its commit against the pin. A full pin is deployed with
/// `flatpak update --commit`; a shorter one (the 12 characters `flatpak list` shows, as the
/// original bkt wrote them) cannot name a commit to flatpak, so the drift is shown with the
/// reason and apply leaves it.
fn pin_of(app: &App, live: &Live, c: &mut Compared) {
    let (Some(pin), Some(installed)) = (&app.commit, installed_for(app, live)) else {
        return;
    };
    let id = commit_id(app.scope, &app.id);
    let scope = app.scope.scope();
    let n = pin.chars().count().min(installed.commit.chars().count());
    let (wanted, now) = (prefix(pin, n), prefix(&installed.commit, n));
    if wanted == now {
        c.agreed.push(agreed(id, wanted, scope));
        return;
    }
    let effects = if pin.len() == FULL_COMMIT {
        vec![update_to(app, pin)]
    } else {
        c.problems.push(bkt_sdk::warning(
            id.clone(),
            format!(
                "{} is pinned to {pin} but {now} is installed; flatpak deploys only a full commit: write the 64 characters `flatpak remote-info --log {} {}` lists for apply to install it, or `bkt capture` to pin what is installed",
                app.id, app.remote, app.id
            ),
        ));
        vec![]
    };
    c.changes.push(change(
        id,
        format!(
            "{} ({}): at commit {now}, pinned to {wanted}",
            app.id,
            app.scope.name()
        ),
        Some(wanted),
        Some(now),
        scope,
        effects,
    ));
}

/// The first `n` characters of a commit, lower case.
fn prefix(commit: &str, n: usize) -> String {
    commit.chars().take(n).collect::<String>().to_lowercase()
}

/// `flatpak update --commit=COMMIT APP//BRANCH`: deploys the pinned commit.
pub fn update_to(app: &App, commit: &str) -> Effect {
    let commit_flag = format!("--commit={commit}");
    let reference = reference(&app.id, app.branch.as_deref());
    run(
        "flatpak",
        &[
            "update",
            "--noninteractive",
            "-y",
            app.scope.flag(),
            &commit_flag,
            &reference,
        ],
        app.scope.scope(),
    )
}

/// Remotes first: apply adds them before it installs from them.
fn remotes(m: &Manifest, live: &Live, c: &mut Compared) {
    for r in &m.remotes {
        let id = remote_id(r.scope, &r.name);
        let scope = r.scope.scope();
        match live.remotes.get(&(r.scope, r.name.clone())) {
            Some(url) if same_url(url, &r.url) => c.agreed.push(agreed(id, r.url.clone(), scope)),
            Some(url) => c.changes.push(change(
                id,
                format!("remote {} ({}): {url} → {}", r.name, r.scope.name(), r.url),
                Some(r.url.clone()),
                Some(url.clone()),
                scope,
                vec![run(
                    "flatpak",
                    &["remote-modify", r.scope.flag(), "--url", &r.url, &r.name],
                    scope,
                )],
            )),
            None => c.changes.push(change(
                id,
                format!("remote {} ({}) is not added", r.name, r.scope.name()),
                Some(r.url.clone()),
                None,
                scope,
                vec![add_remote(r)],
            )),
        }
    }
    for ((inst, name), url) in &live.remotes {
        if m.remote(*inst, name).is_none() && !m.remotes_elsewhere {
            c.changes.push(change(
                remote_id(*inst, name),
                format!("remote {name} ({}) is not in the manifest", inst.name()),
                None,
                Some(url.clone()),
                inst.scope(),
                vec![run(
                    "flatpak",
                    &["remote-delete", inst.flag(), name],
                    inst.scope(),
                )],
            ));
        }
    }
}

/// The live URL against the manifest's. A `.flatpakrepo` file names the repository inside
/// it, which only flatpak reads: any URL of an existing remote of that name agrees with it.
fn same_url(live: &str, wanted: &str) -> bool {
    wanted.ends_with(".flatpakrepo") || live.trim_end_matches('/') == wanted.trim_end_matches('/')
}

fn apps(m: &Manifest, live: &Live, c: &mut Compared) {
    for app in &m.apps {
        let id = app_id(app.scope, &app.id);
        let scope = app.scope.scope();
        let installed = installed_for(app, live);
        let (wanted, now) = app_values(app, installed);
        // With remotes kept elsewhere (flatpak-remotes.json, added in the repositories
        // phase, before apps are installed) any remote may come from there.
        let declared = m.remotes_elsewhere
            || m.remote(app.scope, &app.remote).is_some()
            || live.remotes.contains_key(&(app.scope, app.remote.clone()));
        match (&now, declared) {
            (Some(v), _) if *v == wanted => c.agreed.push(agreed(id, wanted, scope)),
            (None, false) => c.problems.push(problem(
                id,
                format!(
                    "{} names the remote {:?}, which neither the manifest nor this machine has ({}); add it under remotes",
                    app.id,
                    app.remote,
                    app.scope.name()
                ),
            )),
            (None, true) => c.changes.push(change(
                id,
                format!("{} ({}) is not installed", app.id, app.scope.name()),
                Some(wanted),
                None,
                scope,
                vec![install(app, false)],
            )),
            (Some(v), _) => c.changes.push(change(
                id,
                format!("{} ({}): from {v}, wanted from {wanted}", app.id, app.scope.name()),
                Some(wanted),
                now.clone(),
                scope,
                vec![install(app, true)],
            )),
        }
    }
    for ((inst, id), rows) in &live.apps {
        if m.app(*inst, id).is_some() {
            continue;
        }
        for row in rows.iter().take(1) {
            c.changes.push(change(
                app_id(*inst, id),
                format!(
                    "{id} ({}) is installed but not in the manifest",
                    inst.name()
                ),
                None,
                Some(format!("{}//{}", row.origin, row.branch)),
                inst.scope(),
                vec![uninstall(*inst, id, &row.branch)],
            ));
        }
    }
}

fn overrides_of(app: &App, live: &Live, c: &mut Compared) {
    let key = (app.scope, app.id.clone());
    let now = live.overrides.get(&key);
    if app.overrides.is_empty() && now.is_none() {
        return;
    }
    let id = override_id(app.scope, &app.id);
    let scope = app.scope.scope();
    let wanted = (!app.overrides.is_empty()).then(|| overrides::to_keyfile(&app.overrides));
    let live_text = now.map(overrides::to_keyfile);
    if wanted == live_text {
        if let Some(v) = wanted {
            c.agreed.push(agreed(id, v, scope));
        }
        return;
    }
    let summary = match (&wanted, &live_text) {
        (Some(_), None) => format!("{} ({}): overrides not set", app.id, app.scope.name()),
        (None, _) => format!("{} ({}): overrides set by hand", app.id, app.scope.name()),
        _ => format!("{} ({}): overrides differ", app.id, app.scope.name()),
    };
    c.changes.push(change(
        id,
        summary,
        wanted,
        live_text,
        scope,
        set_overrides(app.scope, &app.id, &app.overrides),
    ));
}

/// The manifest with the items `take` names taking their live state, and warnings for apps
/// whose origin the manifest does not declare. One pass per kind of item (remotes, apps,
/// overrides), in the order the manifest keeps them.
pub fn capture(mut m: Manifest, live: &Live, take: &[String]) -> (Manifest, Vec<String>) {
    let mut warnings = Vec::new();
    for ((inst, name), url) in &live.remotes {
        if take.contains(&remote_id(*inst, name)) && !m.remotes_elsewhere {
            let gpg_verify = !live.unverified.contains(&(*inst, name.clone()));
            match m
                .remotes
                .iter_mut()
                .find(|r| r.scope == *inst && r.name == *name)
            {
                Some(r) => {
                    r.url = url.clone();
                    r.gpg_verify = gpg_verify;
                }
                None => m.add_remote(Remote {
                    name: name.clone(),
                    url: url.clone(),
                    scope: *inst,
                    gpg_verify,
                    filtered: None,
                }),
            }
        }
    }
    m.remotes.retain(|r| {
        !take.contains(&remote_id(r.scope, &r.name))
            || live.remotes.contains_key(&(r.scope, r.name.clone()))
    });
    for ((inst, id), rows) in &live.apps {
        if !take.contains(&app_id(*inst, id)) {
            continue;
        }
        let Some(row) = rows.first() else { continue };
        match m.app_mut(*inst, id) {
            Some(app) => {
                let keep_branch = app
                    .branch
                    .as_ref()
                    .filter(|b| rows.iter().any(|r| r.branch == **b));
                let row = keep_branch
                    .and_then(|b| rows.iter().find(|r| r.branch == *b))
                    .unwrap_or(row);
                app.remote = row.origin.clone();
                if app.branch.is_some() {
                    app.branch = Some(row.branch.clone());
                }
            }
            None => {
                let mut app = App::new(id, &row.origin, *inst);
                app.branch = Some(row.branch.clone());
                app.overrides = live
                    .overrides
                    .get(&(*inst, id.clone()))
                    .cloned()
                    .unwrap_or_default();
                m.add_app(app);
            }
        }
    }
    m.apps.retain(|a| {
        !take.contains(&app_id(a.scope, &a.id)) || live.apps.contains_key(&(a.scope, a.id.clone()))
    });
    for app in &mut m.apps {
        if take.contains(&commit_id(app.scope, &app.id))
            && let (Some(pin), Some(installed)) = (&app.commit, installed_for(app, live))
        {
            // As many characters as the pin had, as far as flatpak shows them.
            let n = pin.chars().count().min(installed.commit.chars().count());
            app.commit = Some(prefix(&installed.commit, n));
        }
        if take.contains(&override_id(app.scope, &app.id)) {
            app.overrides = live
                .overrides
                .get(&(app.scope, app.id.clone()))
                .cloned()
                .unwrap_or_default();
        }
    }
    for app in &m.apps {
        let declared = m.remote(app.scope, &app.remote).is_some();
        if declared || !take.contains(&app_id(app.scope, &app.id)) {
            continue;
        }
        warnings.push(match live.remotes.get(&(app.scope, app.remote.clone())) {
            Some(url) => format!(
                "{} comes from the remote {:?} ({}), which the manifest does not declare: add {{\"name\": {:?}, \"url\": {url:?}, \"scope\": {:?}}} under remotes (or capture the remote too)",
                app.id, app.remote, app.scope.name(), app.remote, app.scope.name()
            ),
            None => format!(
                "{} was installed from {:?}, which is not a remote here (a bundle?); add the remote it comes from under remotes so that other machines can install it",
                app.id, app.remote
            ),
        });
    }
    (m, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{parse_list, parse_remotes};
    use crate::manifest::parse;
    use bkt_sdk::ChangeKind;

    fn live() -> Live {
        let mut l = Live {
            apps: parse_list(
                "org.a.One\tlocal\tstable\tuser\t0123456789ab\norg.a.Extra\tlocal\tstable\tuser\t0123456789ab\norg.a.Bundle\torg.a.Bundle-origin\tstable\tuser\t0123456789ab\n",
            ),
            remotes: parse_remotes("local\tfile:///repo\tuser,no-gpg-verify\n"),
            ..Live::default()
        };
        l.overrides.insert(
            (Installation::User, "org.a.One".into()),
            overrides::parse_keyfile("[Context]\nfilesystems=home;\n"),
        );
        l
    }

    const MANIFEST: &str = r#"{
        "remotes": [{"name": "local", "url": "file:///repo/", "scope": "user"}],
        "apps": [
            {"id": "org.a.One", "remote": "local", "scope": "user"},
            {"id": "org.a.Two", "remote": "local", "scope": "user", "branch": "stable"},
            {"id": "org.a.Lost", "remote": "gone", "scope": "user"}
        ]}"#;

    #[test]
    fn each_kind_of_drift() {
        let m = parse(Some(MANIFEST)).unwrap();
        let c = compare(&m, &live());
        let ids: Vec<(&str, ChangeKind)> =
            c.changes.iter().map(|c| (c.id.as_str(), c.kind)).collect();
        assert_eq!(
            ids,
            [
                ("user:org.a.Two", ChangeKind::Missing),
                ("user:org.a.Bundle", ChangeKind::Extra),
                ("user:org.a.Extra", ChangeKind::Extra),
                ("override:user:org.a.One", ChangeKind::Extra),
            ]
        );
        assert_eq!(c.problems.len(), 1);
        assert!(c.problems[0].message.contains("\"gone\""));
        let agreed: Vec<&str> = c.agreed.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(agreed, ["remote:user:local", "user:org.a.One"]);
        match &c.changes[0].effects[0] {
            bkt_sdk::Effect::Run(r) => assert_eq!(
                r.args,
                [
                    "install",
                    "--noninteractive",
                    "-y",
                    "--user",
                    "local",
                    "org.a.Two//stable"
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pin_is_compared_on_the_characters_both_sides_have() {
        let text = r#"{"apps": [
            {"id": "org.a.One", "remote": "local", "scope": "user", "commit": "0123456789abcdef"},
            {"id": "org.a.Extra", "remote": "local", "scope": "user", "commit": "fedcba987654"}
        ]}"#;
        let m = parse(Some(text)).unwrap();
        let c = compare(&m, &live());
        assert!(
            c.agreed
                .iter()
                .any(|a| a.id == "commit:user:org.a.One" && a.value == "0123456789ab")
        );
        let pin = c
            .changes
            .iter()
            .find(|c| c.id == "commit:user:org.a.Extra")
            .unwrap();
        assert_eq!(
            (pin.wanted.as_deref(), pin.live.as_deref()),
            (Some("fedcba987654"), Some("0123456789ab"))
        );
        // A short pin cannot be deployed: no effect, and a warning says why.
        assert!(pin.effects.is_empty());
        assert!(c.problems.iter().any(|p| p.id == "commit:user:org.a.Extra"));
        let full = "a".repeat(64);
        let m = parse(Some(&text.replace("fedcba987654", &full))).unwrap();
        let c = compare(&m, &live());
        let pin = c
            .changes
            .iter()
            .find(|c| c.id == "commit:user:org.a.Extra")
            .unwrap();
        match &pin.effects[..] {
            [bkt_sdk::Effect::Run(r)] => assert_eq!(
                r.args,
                [
                    "update",
                    "--noninteractive",
                    "-y",
                    "--user",
                    &format!("--commit={full}"),
                    "org.a.Extra"
                ]
            ),
            other => panic!("{other:?}"),
        }
        let (m, _) = capture(m, &live(), &["commit:user:org.a.Extra".to_string()]);
        assert_eq!(m.apps[1].commit.as_deref(), Some("0123456789ab"));
    }

    #[test]
    fn capture_takes_only_what_it_is_told() {
        let m = parse(Some(MANIFEST)).unwrap();
        let take = [
            "user:org.a.Extra".to_string(),
            "user:org.a.Bundle".to_string(),
            "user:org.a.Two".to_string(),
            "override:user:org.a.One".to_string(),
        ];
        let (m, warnings) = capture(m, &live(), &take);
        let ids: Vec<&str> = m.apps.iter().map(|a| a.id.as_str()).collect();
        // The manifest's own order (not sorted) is kept; new apps go last.
        assert_eq!(
            ids,
            ["org.a.One", "org.a.Lost", "org.a.Bundle", "org.a.Extra"]
        );
        assert_eq!(m.apps[3].branch.as_deref(), Some("stable"));
        assert!(!m.apps[0].overrides.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("org.a.Bundle-origin"), "{warnings:?}");
    }
}
