//! The dnf subsystem's hot paths, side by side with the bare tools, in one run:
//!
//!     cargo bench --bench dnf
//!
//! - `bkt containerfile sync` with a 5,000-package manifest and a 2,000-line Containerfile;
//! - `bkt dnf install PKG --no-apply` (manifest and Containerfile written together);
//! - `bkt status -s dnf` on a root with 3,000 installed RPMs, against the bare `rpm -qa` it
//!   needs (ostree root, rpm-ostree double), and on a plain dnf root (adds
//!   `dnf repoquery --userinstalled`, shown for reference).
//!
//! The 3,000 RPMs are subpackages of one generated spec (one rpmbuild run), installed with
//! `rpm --justdb`. Prints figures; asserts nothing.

#[path = "../tests/common/mod.rs"]
mod common;

use common::bench_packages;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;
const INSTALLED: usize = 3000;
const MANIFEST_PACKAGES: usize = 5000;
const CONTAINERFILE_LINES: usize = 2000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path();
    let repo = base.join("repo");
    std::fs::create_dir_all(repo.join("manifests")).expect("mkdir");
    let cache = base.join("cache");
    let bkt = env!("CARGO_BIN_EXE_bkt");
    // bkt finds programs itself, with a cleared environment: the rpm-ostree double comes
    // from BKT_PROGRAM_PATH with its settings in a wrapper.
    let doubles = base.join("bin");
    std::fs::create_dir_all(&doubles).expect("mkdir");
    common::rpm_ostree_double(
        &doubles,
        "rpm-ostree-status-layered.json",
        &base.join("rpm-ostree.log"),
    );

    let run = |args: &[&str]| -> Duration {
        let started = Instant::now();
        let out = Command::new(bkt)
            .args(args)
            .current_dir(&repo)
            .env("XDG_CACHE_HOME", &cache)
            .env("XDG_CONFIG_HOME", base.join("config"))
            .env(
                "BKT_PROGRAM_PATH",
                format!("{}:{}", doubles.display(), common::SYSTEM_PATH),
            )
            .output()
            .expect("running bkt");
        let took = started.elapsed();
        assert!(
            out.status.code().unwrap_or(2) < 2,
            "bkt {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };

    // A 5,000-package manifest and a 2,000-line Containerfile.
    let names: Vec<String> = (0..MANIFEST_PACKAGES)
        .map(|i| format!("pkg-{i:05}"))
        .collect();
    let manifest = serde_json::json!({"packages": names, "copr_repos": ["atim/starship"]});
    std::fs::write(
        repo.join("manifests/system-packages.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
    let mut stale = String::from(
        "FROM quay.io/fedora/fedora-bootc:42\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n# === SYSTEM_PACKAGES (managed by bkt) ===\nRUN dnf install -y old && dnf clean all\n# === END SYSTEM_PACKAGES ===\n",
    );
    for i in 0..CONTAINERFILE_LINES - 7 {
        stale.push_str(&format!("RUN echo line {i}\n"));
    }
    stale.push_str("RUN bootc container lint\n");
    let containerfile = repo.join("Containerfile");
    run(&["plugin", "list"]); // compile once: everything below is warm

    let mut sync_write = Vec::new();
    let mut sync_clean = Vec::new();
    for _ in 0..RUNS {
        std::fs::write(&containerfile, &stale).unwrap();
        sync_write.push(run(&["containerfile", "sync"]));
        sync_clean.push(run(&["containerfile", "sync"]));
    }
    let lines = std::fs::read_to_string(&containerfile)
        .unwrap()
        .lines()
        .count();
    let mut install = Vec::new();
    for i in 0..RUNS {
        install.push(run(&["dnf", "install", &format!("new-{i}"), "--no-apply"]));
    }

    // 3,000 installed RPMs in a root.
    let root = base.join("root");
    common::rpmdb_root(&base.join("rpms"), &root, &bench_packages(INSTALLED));
    std::fs::create_dir_all(root.join("run")).unwrap();
    let installed: Vec<String> = bench_packages(INSTALLED).split_off(1);
    let manifest = serde_json::json!({"packages": installed});
    std::fs::write(
        repo.join("manifests/system-packages.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
    let root_s = root.to_str().unwrap();
    let bare = || {
        let started = Instant::now();
        let out = Command::new("rpm")
            .args(["-qa", "--root", root_s, "--qf", "%{NAME}\\n"])
            .output()
            .expect("rpm");
        assert!(out.status.success());
        started.elapsed()
    };
    let mut status_plain = Vec::new();
    for _ in 0..5 {
        status_plain.push(run(&[
            "status", "-s", "dnf", "--root", root_s, "--format", "json",
        ]));
    }
    std::fs::write(root.join("run/ostree-booted"), "").unwrap();
    let (mut status, mut rpm) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        status.push(run(&[
            "status", "-s", "dnf", "--root", root_s, "--format", "json",
        ]));
        rpm.push(bare());
    }

    let ms = |v: Vec<Duration>| median(v).as_secs_f64() * 1000.0;
    println!("dnf subsystem ({RUNS} runs, medians)");
    println!(
        "  containerfile sync, {MANIFEST_PACKAGES} packages, {lines}-line file, rewrite   {:7.1} ms",
        ms(sync_write)
    );
    println!(
        "  containerfile sync, same, already in step               {:7.1} ms",
        ms(sync_clean)
    );
    println!(
        "  bkt dnf install PKG --no-apply (manifest + Containerfile) {:5.1} ms",
        ms(install)
    );
    let (status, rpm) = (ms(status), ms(rpm));
    println!("  status -s dnf, {INSTALLED} RPMs installed (ostree root)       {status:7.1} ms");
    println!(
        "  bare rpm -qa on the same root                          {rpm:7.1} ms   (bkt: {:.2}x)",
        status / rpm
    );
    println!(
        "  status -s dnf, plain dnf root (+ dnf repoquery)        {:7.1} ms",
        ms(status_plain)
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
