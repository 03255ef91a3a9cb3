//! `bkt status -s flatpak` with 150 installed apps and a 150-entry manifest, side by side with
//! the two bare listing calls it needs, in one run:
//!
//!     cargo bench --bench flatpak
//!
//! The apps come from a local repository built with the real flatpak (see
//! tests/common/flatpak.rs), installed into a throwaway HOME with one `flatpak install`; every
//! tenth app has an override, in the manifest too, so status has nothing to report. Figures:
//! building the repository, installing, warm status against `flatpak list` and `flatpak
//! remotes` run one after the other and at once (medians of interleaved runs), and the
//! query processes bkt spawned. Prints figures; asserts only that status ran.

#[path = "../tests/common/mod.rs"]
mod common;

use common::flatpak::{BRANCH, REMOTE, app, repo};
use std::process::Stdio;
use std::time::{Duration, Instant};

const APPS: usize = 150;
const RUNS: usize = 15;
const STATUS: &[&str] = &["status", "-s", "flatpak", "--format", "json"];
const LIST: &[&str] = &[
    "list",
    "--app",
    "--columns=application,origin,branch,installation",
];
const REMOTES: &[&str] = &["remotes", "--columns=name,url,options"];

fn main() {
    let r = repo(APPS);
    let w = common::flatpak::world();
    w.add_remote(REMOTE, &r.url());
    let ids: Vec<String> = (1..=APPS).map(app).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let started = Instant::now();
    w.install_apps(REMOTE, &id_refs);
    let install = started.elapsed();
    assert_eq!(w.installed_apps().len(), APPS);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("flatpak fixture");
    println!(
        "  test repository, runtime + {APPS} apps     {:8.1} ms   (built once per run)",
        ms(r.took)
    );
    println!(
        "  one flatpak install of {APPS} apps        {:8.1} ms",
        ms(install)
    );

    let mut entries = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let mut entry =
            serde_json::json!({"id": id, "remote": REMOTE, "scope": "user", "branch": BRANCH});
        if n % 10 == 0 {
            w.override_app(id, &["--filesystem=home", "--env=FOO=bar"]);
            entry["overrides"] = serde_json::json!({
                "Context": {"filesystems": ["home"]},
                "Environment": {"FOO": "bar"},
            });
        }
        entries.push(entry);
    }
    let manifest = serde_json::json!({
        "remotes": [{"name": REMOTE, "url": r.url(), "scope": "user"}],
        "apps": entries,
    });
    w.write_manifest(
        "flatpak-apps.json",
        &(serde_json::to_string_pretty(&manifest).expect("JSON") + "\n"),
    );

    // Warm the compiled-code cache; the fixture is in step, so status should say 0.
    let first = w.bkt(STATUS);
    assert!(
        matches!(first.code(), 0 | 1),
        "bkt status -s flatpak failed:\n{}",
        first.all()
    );
    let drift = first.code() == 1;
    let mut logged = w.command(w.bkt_exe());
    logged
        .args(STATUS)
        .env("RUST_LOG", "bkt::query=debug,bkt::timing=debug");
    let log = logged.output().expect("running bkt");
    let log = String::from_utf8_lossy(&log.stderr);
    let queries: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("query: "))
        .map(|l| {
            let query = l.split("query: ").nth(1).unwrap_or(l);
            query.split(" plugin=").next().unwrap_or(query).trim()
        })
        .collect();

    let timings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("bkt::timing") || l.contains("loaded in"))
        .map(|l| l.split("plugin ").nth(1).unwrap_or(l).trim())
        .collect();

    let status = || {
        let mut cmd = w.command(w.bkt_exe());
        cmd.args(STATUS).stdout(Stdio::null()).stderr(Stdio::null());
        let started = Instant::now();
        let st = cmd.status().expect("running bkt");
        let took = started.elapsed();
        assert!(matches!(st.code(), Some(0 | 1)), "bkt status: {st}");
        took
    };
    // flatpak as bkt runs it: the system folders, the locale, HOME and XDG_DATA_HOME.
    let flatpak = |args: &[&str]| {
        let mut cmd = w.command("flatpak");
        cmd.env_clear()
            .env("PATH", common::SYSTEM_PATH)
            .env("LC_ALL", "C.UTF-8")
            .env("HOME", w.path("home"))
            .env(
                "XDG_DATA_HOME",
                w.flatpak_user_dir().parent().expect("the data home"),
            )
            .args(args)
            .stdout(Stdio::null());
        cmd
    };
    let bare = |parallel: bool| {
        let (mut list, mut remotes) = (flatpak(LIST), flatpak(REMOTES));
        let started = Instant::now();
        if parallel {
            let a = list.spawn().expect("flatpak list");
            let b = remotes.spawn().expect("flatpak remotes");
            for mut c in [a, b] {
                assert!(c.wait().expect("flatpak").success());
            }
        } else {
            assert!(list.status().expect("flatpak list").success());
            assert!(remotes.status().expect("flatpak remotes").success());
        }
        started.elapsed()
    };
    // Interleave the measurements so all see the same machine.
    let (mut warm, mut seq, mut par) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        warm.push(status());
        seq.push(bare(false));
        par.push(bare(true));
    }

    let (warm, seq, par) = (median(warm), median(seq), median(par));
    println!(
        "bkt status -s flatpak, {APPS} apps installed and in the manifest ({RUNS} runs, medians)"
    );
    println!(
        "  warm bkt status -s flatpak             {:8.1} ms{}",
        ms(warm),
        if drift { "   (reports drift)" } else { "" }
    );
    println!(
        "  bare list + remotes, one at a time     {:8.1} ms   (bkt: {:.2}x)",
        ms(seq),
        ms(warm) / ms(seq)
    );
    println!(
        "  bare list + remotes, both at once      {:8.1} ms   (bkt: {:.2}x)",
        ms(par),
        ms(warm) / ms(par)
    );
    println!(
        "  query processes spawned by bkt         {:8}      (target: 2)",
        queries.len()
    );
    for q in &queries {
        println!("    {q}");
    }
    for t in &timings {
        println!("  {t}");
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
