//! What the boot units cost when there is nothing to do: `bkt apply --boot` on a deployment
//! already applied (one `bootc status`, no plugin loaded), next to a bare `bkt --version` for
//! scale. Prints figures; asserts nothing.
//!
//!     cargo bench --bench boot

#[path = "fixture.rs"]
mod fixture;

use fixture::median;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 31;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for sub in ["repo/manifests", "root", "bin", "state"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    // bootc replays a recorded status (bootc cannot be installed here).
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wrapper = root.join("bin/bootc");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nBOOTC_STATUS='{}' exec '{}' \"$@\"\n",
            here.join("tests/fixtures/recorded/bootc-status-staged-booted.json")
                .display(),
            here.join("tests/doubles/bootc").display()
        ),
    )
    .expect("wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let program_path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        root.join("bin").display()
    );
    let run = |args: &[&str]| {
        let started = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_bkt"))
            .args(args)
            .env_clear()
            .env("HOME", root.join("home"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("XDG_CACHE_HOME", root.join("cache"))
            .env("BKT_PROGRAM_PATH", &program_path)
            .current_dir(root.join("repo"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("bkt");
        assert!(status.success(), "bkt {args:?} failed");
        started.elapsed()
    };
    let root_dir = root.join("root");
    let root_arg = root_dir.to_str().expect("UTF-8");
    let boot = ["apply", "--boot", "--scope", "system", "--root", root_arg];
    run(&boot); // applies (nothing to do) and marks the deployment
    let (mut noop, mut version) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        noop.push(run(&boot));
        version.push(run(&["--version"]));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("bkt apply --boot on a deployment already applied ({RUNS} runs, medians)");
    println!(
        "  apply --boot (nothing to do)     {:8.2} ms",
        ms(median(noop))
    );
    println!(
        "  bkt --version                    {:8.2} ms",
        ms(median(version))
    );
}
