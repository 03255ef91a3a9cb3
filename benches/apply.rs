//! `bkt apply` of 100 changed settings (of 300), and what checking the machine afterwards
//! costs: one more plan of the plugin, the same work as a `status` of it. Prints both figures
//! and their ratio; asserts nothing.
//!
//!     cargo bench --bench apply

#[path = "fixture.rs"]
mod fixture;

use fixture::{median, write_manifest, write_schemas};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SCHEMAS: usize = 10;
const KEYS: usize = 30;
const RUNS: usize = 9;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for sub in ["repo/manifests", "schemas", "config", "home", "cache"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    write_schemas(&root.join("schemas"), SCHEMAS, KEYS);
    // Every third key differs from its default: 100 changes to apply.
    write_manifest(
        &root.join("repo/manifests/gsettings.json"),
        SCHEMAS,
        KEYS,
        |k| if k % 3 == 0 { k + 1 } else { k },
    );
    // bkt never changes user settings as root: as root, everything runs as nobody, from a
    // copy of bkt that nobody can reach.
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    let bkt = if as_root {
        let copy = root.join("bkt");
        std::fs::copy(env!("CARGO_BIN_EXE_bkt"), &copy).expect("copying bkt");
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(root)
            .status()
            .expect("chown")
            .success();
        assert!(ok, "chown failed");
        copy
    } else {
        env!("CARGO_BIN_EXE_bkt").into()
    };
    let run = |args: &[&str]| {
        let mut cmd = Command::new(&bkt);
        if as_root {
            use std::os::unix::process::CommandExt;
            cmd.uid(65534).gid(65534);
        }
        cmd.args(args)
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("XDG_CACHE_HOME", root.join("cache"))
            .env("GSETTINGS_SCHEMA_DIR", root.join("schemas"))
            .env("GSETTINGS_BACKEND", "keyfile")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .current_dir(root.join("repo"));
        let started = Instant::now();
        let out = cmd.output().expect("running bkt");
        (started.elapsed(), out.status.code())
    };
    // Back to the defaults, and no record of an earlier sync: every run applies the same 100.
    let reset = |root: &Path| {
        let _ = std::fs::remove_dir_all(root.join("config/glib-2.0"));
        let _ = std::fs::remove_dir_all(root.join("state"));
    };
    run(&["status"]);
    let (mut apply, mut status, mut version) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        reset(root);
        status.push(run(&["status", "-s", "gsettings"]).0);
        let (took, code) = run(&["apply", "--yes", "-s", "gsettings"]);
        assert_eq!(code, Some(0), "apply failed");
        assert_eq!(
            run(&["status", "-s", "gsettings"]).1,
            Some(0),
            "apply left drift"
        );
        apply.push(took);
        version.push(run(&["--version"]).0);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (apply, status, version) = (median(apply), median(status), median(version));
    let check = status.saturating_sub(version);
    println!("bkt apply, 100 of 300 settings changed ({RUNS} runs, medians)");
    println!(
        "  apply --yes (100 gsettings set, then the check)  {:8.1} ms",
        ms(apply)
    );
    println!(
        "  status -s gsettings (one plan)                   {:8.1} ms",
        ms(status)
    );
    println!(
        "  bkt --version (process start)                    {:8.1} ms",
        ms(version)
    );
    println!(
        "  the check: one plan, status less start          {:8.1} ms   ({:.1} % of apply)",
        ms(check),
        100.0 * check.as_secs_f64() / apply.as_secs_f64()
    );
}
