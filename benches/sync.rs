//! What the sync record costs `bkt status`: 1,000 GNOME settings, half of them changed in the
//! manifest since the last sync, measured with the record and without it, interleaved on the
//! same machine state. Prints figures; asserts nothing.
//!
//!     cargo bench --bench sync

#[path = "fixture.rs"]
mod fixture;

use fixture::{median, write_manifest, write_schemas};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SCHEMAS: usize = 20;
const KEYS: usize = 50;
const RUNS: usize = 21;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for sub in [
        "repo/manifests",
        "schemas",
        "home/.config",
        "state",
        "no-state",
    ] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    write_schemas(&root.join("schemas"), SCHEMAS, KEYS);
    let manifest = root.join("repo/manifests/gsettings.json");
    write_manifest(&manifest, SCHEMAS, KEYS, |k| k + 1000);
    let bkt = env!("CARGO_BIN_EXE_bkt");
    let cache = root.join("cache");
    let run = |args: &[&str], state: &Path| {
        let started = Instant::now();
        let out = Command::new(bkt)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("home/.config"))
            .env("XDG_STATE_HOME", state)
            .env("XDG_CACHE_HOME", &cache)
            .env("GSETTINGS_SCHEMA_DIR", root.join("schemas"))
            .env("GSETTINGS_BACKEND", "keyfile")
            .env("NO_COLOR", "1")
            .current_dir(root.join("repo"))
            .output()
            .expect("running bkt");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "bkt {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    };
    // Sync once (the record now holds 1,000 items), then change half of them in the manifest.
    run(&["apply", "--yes"], &root.join("state"));
    write_manifest(&manifest, SCHEMAS, KEYS, |k| {
        if k % 2 == 0 { k + 2000 } else { k + 1000 }
    });
    let status = ["status", "--format", "json"];
    run(&status, &root.join("state"));
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        with.push(run(&status, &root.join("state")));
        without.push(run(&status, &root.join("no-state")));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (with, without) = (median(with), median(without));
    println!(
        "bkt status, {} settings, {} changed in the manifest ({RUNS} runs, medians)",
        SCHEMAS * KEYS,
        SCHEMAS * KEYS / 2
    );
    println!("  without a sync record            {:8.2} ms", ms(without));
    println!("  with a sync record               {:8.2} ms", ms(with));
    println!(
        "  the record adds                  {:8.2} ms",
        ms(with) - ms(without)
    );
}
