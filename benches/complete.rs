//! What a shell waits for when it asks bkt to complete a word: `COMPLETE=bash bkt -- …` for a
//! command, a plugin verb, a subsystem id (each loads the plugins to know their commands) and
//! a verb's values (the plugin asked, with a manifest of 300 packages), next to a bare
//! `bkt --version` for scale. Prints both sides; asserts nothing.
//!
//!     cargo bench --bench complete

#[path = "fixture.rs"]
mod fixture;

use fixture::median;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 31;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path();
    // A repository whose dnf manifest tracks 300 packages: what `dnf remove` offers.
    let manifests = home.join("repo/manifests");
    std::fs::create_dir_all(&manifests).expect("mkdir");
    let packages: Vec<String> = (0..300).map(|i| format!("package-{i}")).collect();
    std::fs::write(
        manifests.join("system-packages.json"),
        serde_json::json!({ "packages": packages }).to_string(),
    )
    .expect("manifest");
    let run = |complete: Option<(&str, &[&str])>, args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bkt"));
        cmd.env_clear()
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .current_dir(home.join("repo"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((index, words)) = complete {
            cmd.env("COMPLETE", "bash")
                .env("_CLAP_COMPLETE_INDEX", index)
                .env("_CLAP_IFS", "\u{b}")
                .arg("--")
                .args(words);
        }
        cmd.args(args);
        let started = Instant::now();
        let status = cmd.status().expect("bkt");
        assert!(status.success(), "bkt {args:?} failed");
        started.elapsed()
    };
    let cases: [(&str, &str, &[&str]); 4] = [
        ("a command      bkt dn<TAB>", "1", &["bkt", "dn"]),
        (
            "a verb         bkt dnf ins<TAB>",
            "2",
            &["bkt", "dnf", "ins"],
        ),
        (
            "a subsystem    bkt status -s gs<TAB>",
            "3",
            &["bkt", "status", "-s", "gs"],
        ),
        (
            "a value        bkt dnf remove package-1<TAB>",
            "3",
            &["bkt", "dnf", "remove", "package-1"],
        ),
    ];
    // The first run fills the compiled-code cache (for a build whose builtins are not
    // precompiled): not what a shell waits for afterwards.
    run(Some(("1", &["bkt", "dn"])), &[]);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("bkt completing a word for bash ({RUNS} runs, medians)");
    for (name, index, words) in cases {
        let took: Vec<Duration> = (0..RUNS).map(|_| run(Some((index, words)), &[])).collect();
        println!("  {name:<46} {:8.2} ms", ms(median(took)));
    }
    let version: Vec<Duration> = (0..RUNS).map(|_| run(None, &["--version"])).collect();
    println!("  {:<46} {:8.2} ms", "bkt --version", ms(median(version)));
}
