//! The kargs subsystem: kernel arguments the image sets through bootc's kargs.d.
//!
//! Kernel arguments are image-time: the KERNEL_ARGUMENTS section writes them into the image
//! and bootc applies the difference when that image boots. Status compares the manifest with
//! the running kernel's command line (one `cat /proc/cmdline`); every change waits for the
//! next image unless `bkt apply --now` sets it on the running deployment with `rpm-ostree
//! kargs` (a reboot is still needed).

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod manifest;
pub mod render;

use bkt_sdk::{
    Agreed, Capabilities, Change, Context, EditResult, Effect, Entry, Error, Guest, Phase, Plan,
    PluginInfo, Scope, Section, Verbs, agreed, change, edited, host, run_batched, run_shape, shape,
    strings, usage,
};
use manifest::Manifest;
use std::collections::BTreeSet;

pub const MANIFEST: &str = "kargs.json";
const SECTION: &str = "KERNEL_ARGUMENTS";
const KARGS_DIR: &str = "/usr/lib/bootc/kargs.d";

struct Kargs;

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Kargs);

/// The running kernel's arguments, split as the kernel splits them (double quotes group).
pub fn split_cmdline(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    args.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        args.push(current);
    }
    args
}

/// `/proc/cmdline` of the root bkt operates on.
fn cmdline_path(ctx: &Context) -> String {
    if ctx.root == "/" {
        "/proc/cmdline".into()
    } else {
        format!("{}/proc/cmdline", ctx.root.trim_end_matches('/'))
    }
}

struct Live {
    /// On the running kernel's command line.
    running: BTreeSet<String>,
    /// In the kargs.d file bkt wrote into the running image.
    image: Vec<String>,
}

fn read_live(ctx: &Context) -> Result<Live, Error> {
    let path = cmdline_path(ctx);
    let out = bkt_sdk::query(&["cat", &path])?;
    if out.status != 0 {
        return Err(Error::Unavailable(format!(
            "cannot read {path}: {}",
            out.stderr.trim()
        )));
    }
    let file = render::FILE;
    let image = std::fs::read_to_string(file)
        .map(|t| render::parse_kargs_file(&t))
        .unwrap_or_default();
    Ok(Live {
        running: split_cmdline(&out.stdout).into_iter().collect(),
        image,
    })
}

/// Sets (or drops) one argument on the running deployment; only ostree systems can.
fn live_effect(ctx: &Context, flag: &str, arg: &str) -> Vec<Effect> {
    if !ctx.ostree {
        return vec![];
    }
    vec![run_batched(
        &strings(&["rpm-ostree", "kargs", &format!("{flag}={arg}")]),
        Scope::System,
    )]
}

fn compare(ctx: &Context, m: &Manifest, live: &Live) -> (Vec<Change>, Vec<Agreed>) {
    let mut changes = Vec::new();
    let mut agreed_items = Vec::new();
    let present = Some("present".to_string());
    for k in &m.kargs {
        if live.running.contains(k) {
            agreed_items.push(agreed(k.clone(), "present", Scope::System));
            continue;
        }
        let mut c = change(
            k.clone(),
            format!("{k} is not on the running kernel's command line"),
            present.clone(),
            None,
            Scope::System,
            live_effect(ctx, "--append-if-missing", k),
        );
        c.next_boot = true;
        changes.push(c);
    }
    for k in &live.image {
        if m.kargs.contains(k) || !live.running.contains(k) {
            continue;
        }
        let mut c = change(
            k.clone(),
            format!("{k} is on the kernel command line but no longer in the manifest"),
            None,
            present.clone(),
            Scope::System,
            live_effect(ctx, "--delete-if-present", k),
        );
        c.next_boot = true;
        changes.push(c);
    }
    (changes, agreed_items)
}

impl Guest for Kargs {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "kargs".into(),
            command: "kargs".into(),
            summary: "Kernel arguments the image sets (bootc kargs.d)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: strings(&[SECTION]),
            phase: Phase::Configuration,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![shape(&["cat", "{root}/proc/cmdline"])],
                runs: vec![
                    run_shape(
                        &["rpm-ostree", "kargs", "--append-if-missing={word}"],
                        Scope::System,
                    ),
                    run_shape(
                        &["rpm-ostree", "kargs", "--delete-if-present={word}"],
                        Scope::System,
                    ),
                ],
                reads: strings(&[KARGS_DIR]),
                writes: vec![],
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = read_live(&host::context())?;
        for k in &take {
            if live.running.contains(k) {
                if !m.kargs.contains(k) {
                    m.kargs.push(k.clone());
                }
            } else {
                m.kargs.retain(|x| x != k);
            }
        }
        Ok(m.render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let ctx = host::context();
        let live = read_live(&ctx)?;
        let (changes, agreed) = compare(&ctx, &m, &live);
        Ok(Plan {
            items: m.kargs.len() as u32,
            changes,
            agreed,
            problems: vec![],
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        let m = manifest::parse(text.as_deref())?;
        Ok(vec![Section {
            name: SECTION.into(),
            lines: render::section(&m),
        }])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

/// What every edit says: kernel arguments reach a kernel when it boots.
const NEXT_BOOT: &str = "They take effect when the next image boots; `bkt apply --now -s kargs` also sets them on this deployment.";

const VERBS: Verbs<Manifest> = Verbs::new(
    "kargs",
    manifest::parse,
    &[
        Entry::edits(
            "add",
            "ARG...",
            "Add kernel arguments to the manifest and the image (they take effect when it boots)",
            add,
        ),
        Entry::edits(
            "remove",
            "ARG...",
            "Take kernel arguments out of the manifest and the image",
            remove,
        )
        .completing(|m, typed| {
            m.kargs
                .iter()
                .filter(|k| !typed.contains(k))
                .cloned()
                .collect()
        }),
        Entry::reads(
            "list",
            "",
            "Show the manifest's kernel arguments and which the running kernel has",
            |m, _, args| match args {
                [] => Ok(list(&m)),
                _ => Err(VERBS.misused("list")),
            },
        ),
    ],
);

/// `add ARG...`.
fn add(mut m: Manifest, old: Option<&str>, new: &[String]) -> Result<EditResult, Error> {
    if new.is_empty() {
        return Err(VERBS.misused("add"));
    }
    for k in new {
        manifest::check_karg(k).map_err(usage)?;
        if !m.kargs.contains(k) {
            m.kargs.push(k.clone());
        }
    }
    Ok(edited(Some(m.render(old)), vec![NEXT_BOOT.into()]))
}

/// `remove ARG...`.
fn remove(mut m: Manifest, old: Option<&str>, gone: &[String]) -> Result<EditResult, Error> {
    if gone.is_empty() {
        return Err(VERBS.misused("remove"));
    }
    for k in gone {
        if !m.kargs.contains(k) {
            return Err(usage(format!("{k} is not in {MANIFEST}")));
        }
    }
    m.kargs.retain(|k| !gone.contains(k));
    Ok(edited(Some(m.render(old)), vec![NEXT_BOOT.into()]))
}

/// `list`: the manifest's arguments, and which the running kernel lacks.
fn list(m: &Manifest) -> EditResult {
    let running = read_live(&host::context()).ok().map(|l| l.running);
    let mut out = vec![format!("kernel arguments ({}):", m.kargs.len())];
    for k in &m.kargs {
        let note = match &running {
            Some(r) if !r.contains(k) => "   (not on the running kernel's command line)",
            _ => "",
        };
        out.push(format!("  {k}{note}"));
    }
    if !m.match_architectures.is_empty() {
        out.push(format!("only on: {}", m.match_architectures.join(", ")));
    }
    edited(None, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ostree: bool) -> Context {
        Context {
            root: "/".into(),
            home: "/home/u".into(),
            data_home: "/home/u/.local/share".into(),
            arch: "x86_64".into(),
            ostree,
        }
    }

    #[test]
    fn the_command_line_splits_like_the_kernel_s() {
        assert_eq!(
            split_cmdline("BOOT_IMAGE=(hd0)/vmlinuz root=UUID=1 ro quiet dyndbg=\"file x.c +p\"\n"),
            [
                "BOOT_IMAGE=(hd0)/vmlinuz",
                "root=UUID=1",
                "ro",
                "quiet",
                "dyndbg=\"file x.c +p\""
            ]
        );
    }

    #[test]
    fn missing_arguments_wait_for_the_next_image_and_removed_ones_are_named() {
        let m = Manifest {
            kargs: vec!["quiet".into(), "mitigations=auto".into()],
            match_architectures: vec![],
            schema: None,
        };
        let live = Live {
            running: ["quiet", "rhgb", "ro"]
                .map(String::from)
                .into_iter()
                .collect(),
            image: vec!["quiet".into(), "rhgb".into()],
        };
        let (changes, agreed) = compare(&ctx(true), &m, &live);
        assert_eq!(agreed.len(), 1);
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.next_boot));
        assert_eq!(changes[0].id, "mitigations=auto");
        assert_eq!(changes[1].id, "rhgb");
        match &changes[1].effects[..] {
            [Effect::Run(r)] => assert_eq!(r.args, ["kargs", "--delete-if-present=rhgb"]),
            other => panic!("{other:?}"),
        }
        // `ro` is the base image's: not bkt's to report.
        let (changes, _) = compare(&ctx(false), &m, &live);
        assert!(
            changes.iter().all(|c| c.effects.is_empty()),
            "no rpm-ostree off ostree"
        );
    }
}
