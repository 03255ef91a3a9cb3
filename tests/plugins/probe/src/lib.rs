//! A plugin for testing the host: its manifest says what to try, and the host must allow or
//! refuse it. It declares the queries `echo WORD`, `sleep WORD` and `yes`, the runs `true`
//! (as root) and `echo WORD` (as the user), reads of `/etc/probe`, writes under
//! `/etc/probe/`, and fetches of at most 1 MiB from `/etc/probe-src/` and
//! `https://probe.invalid/`.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use bkt_sdk::{
    Capabilities, EditResult, Effect, Error, Fetch, Guest, Phase, Plan, PluginInfo, Run, Scope,
    Section, WriteFile, change, manifest, problem, run_shape, shape, strings,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Probe {
    /// argv lists to run as queries; their stdout becomes a change summary.
    #[serde(default)]
    queries: Vec<Vec<String>>,
    /// programs to return as `run` effects (as system scope when prefixed with `sudo:`).
    #[serde(default)]
    effects: Vec<Vec<String>>,
    /// paths to return as `write-file` effects.
    #[serde(default)]
    writes: Vec<String>,
    /// files to read through WASI; their contents become change summaries.
    #[serde(default)]
    reads: Vec<String>,
    #[serde(default)]
    spin: bool,
    #[serde(default)]
    allocate_mib: u32,
    #[serde(default)]
    panic: Option<String>,
    /// Lines of the PROBE Containerfile section.
    #[serde(default)]
    section: Vec<String>,
    /// paths to return as `remove-file` effects.
    #[serde(default)]
    removes: Vec<String>,
    /// the mode of the `writes` files (0644 when absent).
    #[serde(default)]
    write_mode: Option<u32>,
    /// seconds to sleep (WASI's clock) at the start of plan.
    #[serde(default)]
    sleep_secs: u64,
    /// messages to log at warn level in plan.
    #[serde(default)]
    log: Vec<String>,
    /// how many numbered lines to log at warn level in plan.
    #[serde(default)]
    log_lines: u32,
    /// the summary of one extra change.
    #[serde(default)]
    summary: Option<String>,
    /// ids of items only the machine has (so that capture has something to take).
    #[serde(default)]
    extra: Vec<String>,
    /// text capture returns instead of the manifest.
    #[serde(default)]
    capture_text: Option<String>,
    /// `fetch` effects to return: (url, sha256 or "" for none, path).
    #[serde(default)]
    fetches: Vec<(String, String, String)>,
    /// capture returns a JSON string this many MiB long.
    #[serde(default)]
    capture_mib: u32,
    /// executes `unreachable` in plan: a trap without a panic message.
    #[serde(default)]
    trap: bool,
    /// how many numbered changes plan returns.
    #[serde(default)]
    changes: u32,
    /// render-section also tries `reads` and `queries` and says what it got, and the home
    /// it was told of, as comment lines: what a render that is not pure would depend on.
    #[serde(default)]
    render_tries: bool,
}

struct ProbePlugin;

/// An item only the manifest has.
fn wanted(id: String, summary: &str, effects: Vec<Effect>) -> bkt_sdk::Change {
    change(
        id,
        summary,
        Some("wanted".into()),
        None,
        Scope::System,
        effects,
    )
}

#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(ProbePlugin);

impl Guest for ProbePlugin {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "probe".into(),
            command: "probe".into(),
            summary: "test plugin".into(),
            version: "0.0.1".into(),
            manifest: "probe.json".into(),
            sections: strings(&["PROBE"]),
            phase: Phase::Configuration,
            verbs: vec![],
            capabilities: Capabilities {
                queries: vec![
                    shape(&["echo", "{word}"]),
                    shape(&["sleep", "{word}"]),
                    shape(&["yes"]),
                ],
                runs: vec![
                    run_shape(&["true"], Scope::System),
                    run_shape(&["echo", "{word}"], Scope::User),
                ],
                reads: strings(&["/etc/probe"]),
                writes: strings(&["/etc/probe/"]),
                fetches: strings(&["file:///etc/probe-src/", "https://probe.invalid/"]),
                fetch_limit: 1 << 20,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, _take: Vec<String>) -> Result<String, Error> {
        let p: Probe = manifest::parse(text.as_deref().unwrap_or("{}"))?;
        if let Some(returned) = p.capture_text {
            return Ok(returned);
        }
        if p.capture_mib > 0 {
            return Ok(format!(
                "\"{}\"",
                "a".repeat((p.capture_mib as usize) << 20)
            ));
        }
        Ok(text.unwrap_or_else(|| "{}\n".into()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let p: Probe = manifest::parse(text.as_deref().unwrap_or("{}"))?;
        if let Some(message) = p.panic {
            panic!("{message}");
        }
        if p.sleep_secs > 0 {
            std::thread::sleep(std::time::Duration::from_secs(p.sleep_secs));
        }
        for message in &p.log {
            bkt_sdk::host::log(bkt_sdk::Level::Warn, message);
        }
        for i in 0..p.log_lines {
            bkt_sdk::host::log(bkt_sdk::Level::Warn, &format!("probe log line {i}"));
        }
        if p.allocate_mib > 0 {
            let mut hold = Vec::new();
            for _ in 0..p.allocate_mib {
                hold.push(vec![1u8; 1 << 20]);
            }
            std::hint::black_box(&hold);
        }
        let mut spins = 0u64;
        while std::hint::black_box(p.spin) {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        if p.trap {
            #[cfg(target_arch = "wasm32")]
            core::arch::wasm32::unreachable();
        }
        let mut changes: Vec<_> = (0..p.changes)
            .map(|i| wanted(i.to_string(), "x", vec![]))
            .collect();
        let mut problems = Vec::new();
        if let Some(summary) = &p.summary {
            changes.push(wanted("summary".into(), summary, vec![]));
        }
        for argv in &p.queries {
            match bkt_sdk::host::query(argv) {
                Ok(out) => changes.push(wanted(argv.join(" "), out.stdout.trim(), vec![])),
                Err(e) => problems.push(problem(argv.join(" "), format!("{e:?}"))),
            }
        }
        for path in &p.reads {
            match std::fs::read_to_string(path) {
                Ok(text) => changes.push(wanted(path.clone(), text.trim(), vec![])),
                Err(e) => problems.push(problem(path.clone(), e.to_string())),
            }
        }
        for argv in &p.effects {
            let (scope, program) = match argv[0].strip_prefix("sudo:") {
                Some(program) => (Scope::System, program.to_string()),
                None => (Scope::User, argv[0].clone()),
            };
            let effect = Effect::Run(Run {
                program,
                args: argv[1..].to_vec(),
                scope,
                batch: false,
            });
            changes.push(wanted(argv.join(" "), &argv.join(" "), vec![effect]));
        }
        for path in &p.writes {
            // What the machine shows, like a real plugin: a file already written is in step.
            if std::fs::read(path).is_ok_and(|bytes| bytes == b"probe\n") {
                continue;
            }
            let effect = Effect::WriteFile(WriteFile {
                path: path.clone(),
                contents: b"probe\n".to_vec(),
                mode: p.write_mode.unwrap_or(0o644),
            });
            changes.push(wanted(path.clone(), &format!("write {path}"), vec![effect]));
        }
        for (url, sha, path) in &p.fetches {
            // What the machine shows: a file already fetched is in step.
            if std::fs::metadata(path).is_ok() {
                continue;
            }
            let effect = Effect::Fetch(Fetch {
                url: url.clone(),
                sha256: (!sha.is_empty()).then(|| sha.clone()),
                path: path.clone(),
            });
            changes.push(wanted(path.clone(), &format!("fetch {url}"), vec![effect]));
        }
        for id in &p.extra {
            changes.push(change(
                id.clone(),
                format!("{id} is only on the machine"),
                None,
                Some("live".into()),
                Scope::System,
                vec![],
            ));
        }
        for path in &p.removes {
            if std::fs::symlink_metadata(path).is_err() {
                continue;
            }
            let effect = Effect::RemoveFile(path.clone());
            changes.push(wanted(
                path.clone(),
                &format!("remove {path}"),
                vec![effect],
            ));
        }
        Ok(Plan {
            items: changes.len() as u32,
            changes,
            agreed: vec![],
            problems,
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        let p: Probe = manifest::parse(text.as_deref().unwrap_or("{}"))?;
        let mut lines = p.section;
        if p.render_tries {
            lines.push(format!("# home {}", bkt_sdk::host::context().home));
            for path in &p.reads {
                let got = std::fs::read_to_string(path).map_or("not readable".into(), |t| t);
                lines.push(format!("# read {path}: {}", got.trim()));
            }
            for argv in &p.queries {
                let got = bkt_sdk::host::query(argv).map_or("refused".into(), |o| o.stdout);
                lines.push(format!("# query {}: {}", argv.join(" "), got.trim()));
            }
        }
        Ok(vec![Section {
            name: "PROBE".into(),
            lines,
        }])
    }

    fn complete(_text: Option<String>, _verb: String, _args: Vec<String>) -> Vec<String> {
        Vec::new()
    }

    fn edit(_text: Option<String>, verb: String, _args: Vec<String>) -> Result<EditResult, Error> {
        Err(Error::Failed(format!("probe has no verb {verb}")))
    }
}
