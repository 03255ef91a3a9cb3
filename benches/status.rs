//! `bkt status` on a manifest of 300 GNOME settings, against the bare `gsettings` calls it
//! needs, side by side in one run. Prints figures; asserts nothing.
//!
//!     cargo bench --bench status
//!
//! Figures: cold start (empty compiled-code cache), warm start, plugin load + instantiate
//! (from bkt's own timing log), the time the capability checks of the plan's effects took
//! (also from that log; each query's check is a match of a dozen words), the number of
//! processes bkt spawned, and the bare calls run one after another (what a shell script would do) and all
//! at once.

#[path = "fixture.rs"]
mod fixture;

use fixture::{median, write_manifest, write_schemas};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SCHEMAS: usize = 10;
const KEYS: usize = 30;
const RUNS: usize = 15;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for sub in ["repo/manifests", "schemas", "config", "home"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    write_schemas(&root.join("schemas"), SCHEMAS, KEYS);
    write_manifest(
        &root.join("repo/manifests/gsettings.json"),
        SCHEMAS,
        KEYS,
        |k| if k % 3 == 0 { k + 1 } else { k },
    );
    let bkt = env!("CARGO_BIN_EXE_bkt");

    let env = |cmd: &mut Command, cache: &Path| {
        cmd.env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_CACHE_HOME", cache)
            .env("GSETTINGS_SCHEMA_DIR", root.join("schemas"))
            .env("GSETTINGS_BACKEND", "keyfile")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .current_dir(root.join("repo"));
    };
    let status = |cache: &Path, log: bool| {
        let mut cmd = Command::new(bkt);
        cmd.args(["status", "--format", "json"]);
        env(&mut cmd, cache);
        if log {
            cmd.env("RUST_LOG", "bkt::timing=debug,bkt::query=debug");
        }
        let started = Instant::now();
        let out = cmd.output().expect("running bkt");
        let took = started.elapsed();
        // 0 in step, 1 drift (the fixture drifts on purpose); anything else is a failure.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "bkt status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (took, String::from_utf8_lossy(&out.stderr).into_owned())
    };

    // Cold: a fresh cache every time. Root always caches in /var/cache/bkt (never in a folder
    // the environment names), so as root that folder is emptied before each cold run.
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    let cold: Vec<Duration> = (0..3)
        .map(|i| {
            if as_root {
                let _ = std::fs::remove_dir_all("/var/cache/bkt/components");
            }
            status(&root.join(format!("cold-cache-{i}")), false).0
        })
        .collect();
    let warm_cache = root.join("warm-cache");
    status(&warm_cache, false);
    let (_, log) = status(&warm_cache, true);
    let load_us: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("loaded in"))
        .map(|l| l.trim())
        .collect();
    let spawned = log.lines().filter(|l| l.contains("query: ")).count();
    let checks: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("capability checks of"))
        .map(|l| l.trim())
        .collect();

    let schemas: Vec<String> = (0..SCHEMAS)
        .map(|s| format!("org.bkt.bench.s{s}"))
        .collect();
    let bare = |parallel: bool| {
        let started = Instant::now();
        let mut children = Vec::new();
        for schema in &schemas {
            let mut cmd = Command::new("gsettings");
            cmd.args(["list-recursively", schema])
                .stdout(std::process::Stdio::null());
            env(&mut cmd, &warm_cache);
            let child = cmd.spawn().expect("gsettings");
            if parallel {
                children.push(child);
            } else {
                let mut child = child;
                child.wait().expect("gsettings");
            }
        }
        for mut c in children {
            c.wait().expect("gsettings");
        }
        started.elapsed()
    };
    // Interleave the measurements so both see the same machine.
    let (mut warm, mut seq, mut par) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        warm.push(status(&warm_cache, false).0);
        seq.push(bare(false));
        par.push(bare(true));
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bkt status, {} settings in {SCHEMAS} schemas ({RUNS} runs, medians)",
        SCHEMAS * KEYS
    );
    println!(
        "  cold start (empty cache)         {:8.1} ms",
        ms(median(cold))
    );
    let warm = median(warm);
    let seq = median(seq);
    let par = median(par);
    println!("  warm start                       {:8.1} ms", ms(warm));
    println!(
        "  bare gsettings, one at a time    {:8.1} ms   (bkt: {:.2}x)",
        ms(seq),
        ms(warm) / ms(seq)
    );
    println!(
        "  bare gsettings, all at once      {:8.1} ms   (bkt: {:.2}x)",
        ms(par),
        ms(warm) / ms(par)
    );
    println!("  processes spawned by bkt         {spawned:8}   ({SCHEMAS} schemas)");
    for line in load_us.iter().chain(&checks) {
        println!("  {}", line.split("plugin ").nth(1).unwrap_or(line));
    }
}
