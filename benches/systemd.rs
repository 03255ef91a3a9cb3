//! The state of 100 units in one `systemctl` call against one call per unit, on a root with
//! 100 unit files; and `bkt status -s systemd` for a manifest of those 100 units, which makes
//! the one call. Prints figures; asserts nothing.
//!
//!     cargo bench --bench systemd

#[path = "fixture.rs"]
mod fixture;

use fixture::median;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UNITS: usize = 100;
const RUNS: usize = 11;

fn unit(i: usize) -> String {
    format!("bench{i}.service")
}

/// A root with the units, half of them enabled.
fn make_root(dir: &Path) {
    let system = dir.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&system).expect("mkdir");
    std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
    for i in 0..UNITS {
        std::fs::write(
            system.join(unit(i)),
            "[Unit]\nDescription=bench\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        )
        .expect("unit");
    }
    let mut enable = Command::new("systemctl");
    enable
        .arg(format!("--root={}", dir.display()))
        .arg("enable");
    enable.args((0..UNITS).step_by(2).map(unit));
    let ok = enable
        .stderr(Stdio::null())
        .status()
        .expect("systemctl")
        .success();
    assert!(ok, "systemctl enable failed");
}

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
    make_root(&root);
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
