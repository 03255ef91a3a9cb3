//! The state of 100 units in one `systemctl` call against one call per unit, on a root with
//! 100 unit files; and `bkt status -s systemd` for a manifest of those 100 units, which makes
//! the one call. Prints figures; asserts nothing.
//!
//!     cargo bench --bench systemd

#[path = "fixture.rs"]
mod fixture;

use fixture::{median, unit, write_units};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UNITS: usize = 100;
const RUNS: usize = 11;

fn time(mut run: impl FnMut()) -> Duration {
    let times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    median(times)
}

fn systemctl(root: &Path, args: &[String]) {
    let out = Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("systemctl");
    assert!(!out.stdout.is_empty());
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    write_units(&root, UNITS);
    let names: Vec<String> = (0..UNITS).map(unit).collect();

    let one_call = time(|| {
        let args: Vec<String> = ["list-unit-files", "--no-legend", "--no-pager"]
            .map(String::from)
            .to_vec();
        systemctl(&root, &args);
    });
    let per_unit = time(|| {
        for name in &names {
            systemctl(&root, &["is-enabled".to_string(), name.clone()]);
        }
    });

    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("manifests")).expect("mkdir");
    let services: Vec<String> = names
        .iter()
        .map(|n| format!("\"{n}\": \"enabled\""))
        .collect();
    std::fs::write(
        repo.join("manifests/systemd-services.json"),
        format!("{{\"services\": {{{}}}}}\n", services.join(", ")),
    )
    .expect("manifest");
    let bkt = time(|| {
        let status = Command::new(env!("CARGO_BIN_EXE_bkt"))
            .args(["status", "-s", "systemd", "--root"])
            .arg(&root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path().join("home"))
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .current_dir(&repo)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("bkt");
        assert_eq!(status.code(), Some(1), "half the units drift");
    });

    println!("state of {UNITS} units (median of {RUNS} runs):");
    println!("  one systemctl list-unit-files call:   {one_call:>10.2?}");
    println!("  one systemctl is-enabled per unit:    {per_unit:>10.2?}");
    println!(
        "  one call is {:.0}x faster",
        per_unit.as_secs_f64() / one_call.as_secs_f64()
    );
    println!("  bkt status -s systemd (whole run):    {bkt:>10.2?}");
}
