//! `bkt status -s extensions` for 30 extensions (half in the user's folder, half in the
//! system's) next to the bare queries it needs, run one after the other and at once.
//! Prints figures; asserts nothing.
//!
//!     cargo bench --bench extensions

#[path = "fixture.rs"]
mod fixture;

use fixture::{median, write_extensions};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXTENSIONS: usize = 30;
const RUNS: usize = 21;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let user = root.join("home/.local/share/gnome-shell/extensions");
    let system = root.join("root/usr/share/gnome-shell/extensions");
    let uuids = write_extensions(&user, &system, EXTENSIONS);
    std::fs::create_dir_all(root.join("repo/manifests")).expect("mkdir");
    std::fs::create_dir_all(root.join("home/.config")).expect("mkdir");
    let manifest: Vec<String> = uuids.iter().map(|u| format!("\"{u}\"")).collect();
    std::fs::write(
        root.join("repo/manifests/gnome-extensions.json"),
        format!("{{\"extensions\": [{}]}}\n", manifest.join(", ")),
    )
    .expect("manifest");
    let env = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("home/.config"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("XDG_CACHE_HOME", root.join("cache"))
            .env("GSETTINGS_BACKEND", "keyfile")
            .env("NO_COLOR", "1")
            .current_dir(root.join("repo"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    };
    let bkt_root = root.join("root");
    let bkt = |log: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bkt"));
        cmd.args(["status", "-s", "extensions", "--root"])
            .arg(&bkt_root);
        env(&mut cmd);
        if log {
            cmd.env("RUST_LOG", "bkt::query=debug")
                .stderr(Stdio::piped());
        }
        let started = Instant::now();
        let out = cmd.output().expect("bkt");
        (
            started.elapsed(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let bare_commands = || -> Vec<Command> {
        let mut gsettings = Command::new("gsettings");
        gsettings.args(["list-recursively", "org.gnome.shell"]);
        env(&mut gsettings);
        let mut rpm = Command::new("rpm");
        rpm.args(["-q", "--qf", "%{VERSION}", "gnome-shell", "--root"])
            .arg(&bkt_root);
        env(&mut rpm);
        vec![gsettings, rpm]
    };
    let bare = |parallel: bool| {
        let started = Instant::now();
        let mut children = Vec::new();
        for mut cmd in bare_commands() {
            let mut child = cmd.spawn().expect("spawn");
            if parallel {
                children.push(child);
            } else {
                child.wait().expect("wait");
            }
        }
        for mut c in children {
            c.wait().expect("wait");
        }
        // The folders, as bkt reads them.
        for base in [&user, &system] {
            for e in std::fs::read_dir(base).expect("read_dir").flatten() {
                let _ = std::fs::read_to_string(e.path().join("metadata.json"));
            }
        }
        started.elapsed()
    };
    bkt(false);
    let (_, log) = bkt(true);
    let queries: Vec<&str> = log.lines().filter(|l| l.contains("query: ")).collect();
    let (mut warm, mut seq, mut par) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        warm.push(bkt(false).0);
        seq.push(bare(false));
        par.push(bare(true));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (warm, seq, par) = (median(warm), median(seq), median(par));
    println!("bkt status -s extensions, {EXTENSIONS} extensions ({RUNS} runs, medians)");
    println!("  warm start                       {:8.1} ms", ms(warm));
    println!(
        "  bare queries, one at a time      {:8.1} ms   (bkt: {:.2}x)",
        ms(seq),
        ms(warm) / ms(seq)
    );
    println!(
        "  bare queries, at once            {:8.1} ms   (bkt: {:.2}x)",
        ms(par),
        ms(warm) / ms(par)
    );
    println!(
        "  processes spawned by bkt         {:8}   ({} gsettings)",
        queries.len(),
        queries.iter().filter(|q| q.contains("gsettings")).count()
    );
}
