//! The flatpak remotes subsystem: the original bkt's `flatpak-remotes.json`, remotes kept
//! apart from the apps. It runs in the repositories phase, so remotes are added before the
//! flatpak subsystem installs from them. A flatpak-apps.json without its own `remotes` list
//! leaves remotes to this file; keep remotes in one of the two.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod live;
pub mod manifest;

use bkt_sdk::{
    Capabilities, Change, EditResult, Effect, Entry, Error, Guest, Phase, Plan, PluginInfo,
    RunShape, Section, Verbs, agreed, change, edited, query, run, run_shape, shape,
};
use manifest::{Installation, Manifest, Remote};
use std::collections::BTreeMap;

pub const MANIFEST: &str = "flatpak-remotes.json";

struct FlatpakRemotes;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(FlatpakRemotes);

type LiveRemotes = BTreeMap<(Installation, String), live::Live>;

fn read_live() -> Result<LiveRemotes, Error> {
    let out = query(live::REMOTES)?;
    if out.status != 0 {
        return Err(Error::Failed(format!(
            "flatpak remotes failed: {}",
            out.stderr.trim()
        )));
    }
    Ok(live::parse(&out.stdout))
}

/// The change id, the same as the flatpak subsystem's: `remote:INSTALLATION:NAME`.
fn remote_id(inst: Installation, name: &str) -> String {
    format!("remote:{}:{name}", inst.name())
}

fn add(r: &Remote) -> Effect {
    let mut args = vec!["remote-add", "--if-not-exists", r.scope.flag()];
    if !r.verified() {
        args.push("--no-gpg-verify");
    }
    args.extend([r.name.as_str(), r.url.as_str()]);
    run("flatpak", &args, r.scope.scope())
}

/// A `.flatpakrepo` file names the repository inside it, which only flatpak reads: any URL of
/// an existing remote of that name agrees with it.
fn same_url(live: &str, wanted: &str) -> bool {
    wanted.ends_with(".flatpakrepo") || live.trim_end_matches('/') == wanted.trim_end_matches('/')
}

fn compare(m: &Manifest, live: &LiveRemotes) -> Plan {
    let mut plan = Plan {
        items: m.remotes.len() as u32,
        changes: vec![],
        agreed: vec![],
        problems: vec![],
    };
    for r in &m.remotes {
        let id = remote_id(r.scope, &r.name);
        let scope = r.scope.scope();
        match live.get(&(r.scope, r.name.clone())) {
            Some(l) if same_url(&l.url, &r.url) => {
                plan.agreed.push(agreed(id, r.url.clone(), scope))
            }
            Some(l) => plan.changes.push(change(
                id,
                format!(
                    "remote {} ({}): {} → {}",
                    r.name,
                    r.scope.name(),
                    l.url,
                    r.url
                ),
                Some(r.url.clone()),
                Some(l.url.clone()),
                scope,
                vec![run(
                    "flatpak",
                    &["remote-modify", r.scope.flag(), "--url", &r.url, &r.name],
                    scope,
                )],
            )),
            None => plan.changes.push(change(
                id,
                format!("remote {} ({}) is not added", r.name, r.scope.name()),
                Some(r.url.clone()),
                None,
                scope,
                vec![add(r)],
            )),
        }
    }
    plan.changes.extend(extras(m, live));
    plan
}

fn extras(m: &Manifest, live: &LiveRemotes) -> Vec<Change> {
    live.iter()
        .filter(|((inst, name), _)| m.remote(*inst, name).is_none())
        .map(|((inst, name), l)| {
            change(
                remote_id(*inst, name),
                format!("remote {name} ({}) is not in the manifest", inst.name()),
                None,
                Some(l.url.clone()),
                inst.scope(),
                vec![run(
                    "flatpak",
                    &["remote-delete", inst.flag(), name],
                    inst.scope(),
                )],
            )
        })
        .collect()
}

/// The remotes `take` names take their live URL (or go); new ones go in sorted place.
fn capture(mut m: Manifest, live: &LiveRemotes, take: &[String]) -> Manifest {
    m.remotes.retain(|r| {
        !take.contains(&remote_id(r.scope, &r.name))
            || live.contains_key(&(r.scope, r.name.clone()))
    });
    for ((inst, name), l) in live {
        if !take.contains(&remote_id(*inst, name)) {
            continue;
        }
        let verified = l.verified;
        match m
            .remotes
            .iter_mut()
            .find(|r| r.scope == *inst && r.name == *name)
        {
            Some(r) => {
                if !same_url(&l.url, &r.url) {
                    r.url = l.url.clone();
                }
                if r.verified() != verified {
                    r.gpg_verify = Some(verified);
                }
            }
            None => {
                let remote = Remote {
                    name: name.clone(),
                    url: l.url.clone(),
                    scope: *inst,
                    filtered: None,
                    gpg_verify: (!verified).then_some(false),
                };
                bkt_sdk::manifest::insert_sorted(&mut m.remotes, remote, |r| {
                    (r.scope, r.name.clone())
                });
            }
        }
    }
    m
}

fn run_shapes() -> Vec<RunShape> {
    let mut shapes = Vec::new();
    for inst in [Installation::User, Installation::System] {
        let (flag, scope) = (inst.flag(), inst.scope());
        for words in [
            &[
                "flatpak",
                "remote-add",
                "--if-not-exists",
                flag,
                "{word}",
                "{word}",
            ][..],
            &[
                "flatpak",
                "remote-add",
                "--if-not-exists",
                flag,
                "--no-gpg-verify",
                "{word}",
                "{word}",
            ],
            &[
                "flatpak",
                "remote-modify",
                flag,
                "--url",
                "{word}",
                "{word}",
            ],
            &["flatpak", "remote-delete", flag, "{word}"],
        ] {
            shapes.push(run_shape(words, scope));
        }
    }
    shapes
}

impl Guest for FlatpakRemotes {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "flatpak-remotes".into(),
            command: "flatpak-remote".into(),
            summary: "Flatpak remotes kept in their own file (flatpak-remotes.json)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Repositories,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![shape(live::REMOTES)],
                runs: run_shapes(),
                reads: vec![],
                writes: vec![],
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        Ok(capture(m, &read_live()?, &take).render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        Ok(compare(&m, &read_live()?))
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        manifest::parse(text.as_deref())?;
        Ok(vec![])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "flatpak-remote",
    manifest::parse,
    &[Entry::reads(
        "list",
        "",
        "Show the remotes and which are not added here",
        |m, _, args| match args {
            [] => Ok(list(&m)),
            _ => Err(VERBS.misused("list")),
        },
    )],
);

/// `list`: each remote, and whether it is added here.
fn list(m: &Manifest) -> EditResult {
    let live = read_live().ok();
    let mut out = vec![format!("remotes ({}):", m.remotes.len())];
    for r in &m.remotes {
        let note = match &live {
            Some(l) if !l.contains_key(&(r.scope, r.name.clone())) => "   (not added here)",
            _ => "",
        };
        out.push(format!("  {} {} ({}){note}", r.name, r.url, r.scope.name()));
    }
    edited(None, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_differing_and_extra_remotes_and_capture() {
        let m = manifest::parse(Some(
            r#"{"remotes": [
                {"name": "flathub", "url": "https://dl.flathub.org/repo/flathub.flatpakrepo", "scope": "system", "filtered": true},
                {"name": "local", "url": "file:///new", "scope": "user"},
                {"name": "gone", "url": "https://x/", "scope": "user"}
            ]}"#,
        ))
        .unwrap();
        let live = live::parse(
            "flathub\thttps://dl.flathub.org/repo/\tsystem\nlocal\tfile:///old\tuser,no-gpg-verify\nother\thttps://o/\tuser\n",
        );
        let plan = compare(&m, &live);
        let ids: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["remote:user:local", "remote:user:gone", "remote:user:other"]
        );
        assert_eq!(plan.agreed[0].id, "remote:system:flathub");
        let take: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        let m = capture(m, &live, &take);
        let names: Vec<(&str, &str)> = m
            .remotes
            .iter()
            .map(|r| (r.name.as_str(), r.url.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("flathub", "https://dl.flathub.org/repo/flathub.flatpakrepo"),
                ("local", "file:///old"),
                ("other", "https://o/")
            ]
        );
        assert_eq!(m.remotes[1].gpg_verify, Some(false));
        assert_eq!(m.remotes[0].filtered, Some(true));
    }
}
