//! bkt on one machine at scale: 3,000 installed packages, 400 GNOME settings in 40 schemas,
//! 150 flatpak apps, 30 GNOME extensions and 50 systemd units, all in the manifests. Each
//! command is timed next to the bare listing calls it cannot avoid: the queries bkt itself
//! logged for that command, run by hand as the same user in the same environment, one after
//! another and all at once. `containerfile check` queries nothing and is timed next to
//! `bkt --version`. Prints a table and the release binary's size; asserts only that the
//! commands ran.
//!
//!     cargo bench --bench scale
//!
//! The world is built with the real tools (rpmbuild and rpm --justdb, glib-compile-schemas,
//! flatpak, systemctl --root; see tests/common and fixture.rs); `rpm-ostree`, which Debian
//! lacks, is the recorded double, so the root is an ostree one and dnf's query is `rpm -qa`.
//! Cold runs start with an empty cache: no compiled code, no rendered sections kept.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "fixture.rs"]
mod fixture;

use common::flatpak::{BRANCH, REMOTE, app};
use common::{World, bench_packages};
use fixture::{median, unit, write_extensions, write_manifest, write_schemas, write_units};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PACKAGES: usize = 3000;
const SCHEMAS: usize = 40;
const KEYS: usize = 10;
const APPS: usize = 150;
const EXTENSIONS: usize = 30;
const UNITS: usize = 50;
const RUNS: usize = 11;

fn main() {
    let started = Instant::now();
    let (w, root) = world();
    let built = started.elapsed();
    let bench = Bench { w: &w, root: &root };

    // Warm the page cache and check that every command runs.
    let commands: [(&str, Vec<&str>); 4] = [
        ("status, warm", vec!["status"]),
        ("apply --dry-run", vec!["apply", "--dry-run"]),
        ("capture --dry-run", vec!["capture", "--dry-run"]),
        ("containerfile check", vec!["containerfile", "check"]),
    ];
    for (_, args) in &commands {
        bench.bkt(args, None);
    }
    // Each command's queries, from its own log.
    let queries: Vec<Vec<Vec<String>>> = commands
        .iter()
        .map(|(_, args)| bench.queries(args))
        .collect();

    let mut rows = Vec::new();
    let mut version = Vec::new();
    let mut check = Vec::new();
    let mut check_cold = Vec::new();
    for run in 0..RUNS {
        version.push(bench.bkt(&["--version"], None));
        check.push(bench.bkt(&["containerfile", "check"], None));
        let fresh = w.path(&format!("cold-check-{run}"));
        check_cold.push(bench.bkt(&["containerfile", "check"], Some(&fresh)));
    }
    let (version, check, check_cold) = (median(version), median(check), median(check_cold));
    let mut cold = Vec::new();
    for (i, ((name, args), queries)) in commands.iter().zip(&queries).enumerate() {
        if queries.is_empty() {
            continue;
        }
        let (mut bkt, mut seq, mut par) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..RUNS {
            bkt.push(bench.bkt(args, None));
            if i == 0 {
                let fresh = w.path(&format!("cold-cache-{run}"));
                cold.push(bench.bkt(args, Some(&fresh)));
            }
            seq.push(bench.bare(queries, false));
            par.push(bench.bare(queries, true));
        }
        rows.push(Row {
            name,
            bkt: median(bkt),
            seq: median(seq),
            par: median(par),
            calls: queries.len(),
        });
    }
    let warm = rows[0].bkt;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_bkt"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "bkt at scale: {PACKAGES} packages, {} settings in {SCHEMAS} schemas, {APPS} flatpak \
         apps, {EXTENSIONS} extensions, {UNITS} units (medians of {RUNS} runs; world built in \
         {:.0} s)",
        SCHEMAS * KEYS,
        built.as_secs_f64()
    );
    println!(
        "bkt binary: {:.1} MiB ({})",
        size as f64 / (1 << 20) as f64,
        env!("CARGO_BIN_EXE_bkt")
    );
    println!();
    println!(
        "| command | bkt ms | bare calls | bare, one at a time ms | bare, all at once ms | bkt / all at once |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.1} | {} | {:.1} | {:.1} | {:.2}x |",
            r.name,
            ms(r.bkt),
            r.calls,
            ms(r.seq),
            ms(r.par),
            ms(r.bkt) / ms(r.par)
        );
    }
    let cold = median(cold);
    println!(
        "| status, cold (empty cache) | {:.1} | | | | {:.2}x of warm ({:.1} ms) |",
        ms(cold),
        ms(cold) / ms(warm),
        ms(warm)
    );
    println!(
        "| containerfile check | {:.1} | 0 | | | {:.2}x of `bkt --version` ({:.1} ms) |",
        ms(check),
        ms(check) / ms(version),
        ms(version)
    );
    println!(
        "| containerfile check, cold (nothing rendered kept) | {:.1} | 0 | | | {:.2}x of `bkt --version` |",
        ms(check_cold),
        ms(check_cold) / ms(version),
    );
    println!();
    for ((name, _), queries) in commands.iter().zip(&queries) {
        println!("{name}: {} queries", queries.len());
        for q in queries {
            println!("    {}", q.join(" "));
        }
    }
}

struct Row<'a> {
    name: &'a str,
    bkt: Duration,
    seq: Duration,
    par: Duration,
    calls: usize,
}

struct Bench<'a> {
    w: &'a World,
    root: &'a str,
}

impl Bench<'_> {
    /// One run of bkt on the world's root; `cache` replaces bkt's cache folder.
    fn bkt(&self, args: &[&str], cache: Option<&std::path::Path>) -> Duration {
        let mut cmd = self.command(args);
        if let Some(cache) = cache {
            cmd.env("XDG_CACHE_HOME", cache);
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let started = Instant::now();
        let out = cmd.output().expect("running bkt");
        let took = started.elapsed();
        // 0 in step, 1 drift (the world drifts on purpose); anything else is a failure.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "bkt {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.w.command(self.w.bkt_exe());
        cmd.args(args);
        if args.first() != Some(&"--version") {
            cmd.args(["--root", self.root]);
        }
        cmd
    }

    /// The argv of every query bkt ran for `args`, from its log.
    fn queries(&self, args: &[&str]) -> Vec<Vec<String>> {
        let mut cmd = self.command(args);
        cmd.env("RUST_LOG", "bkt::query=debug")
            .stdout(Stdio::null());
        let out = cmd.output().expect("running bkt");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.split("query: ").nth(1))
            .map(|q| {
                let q = q.split(" plugin=").next().unwrap_or(q).trim();
                q.split(' ').map(String::from).collect()
            })
            .collect()
    }

    /// The queries run by hand as bkt runs them (its program folders, the locale), one after
    /// another or all at once.
    fn bare(&self, queries: &[Vec<String>], parallel: bool) -> Duration {
        let mut commands: Vec<Command> = queries
            .iter()
            .map(|argv| {
                let mut cmd = self.w.command(&argv[0]);
                cmd.args(&argv[1..])
                    .env("PATH", self.program_path())
                    .env("LC_ALL", "C.UTF-8")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                cmd
            })
            .collect();
        let started = Instant::now();
        if parallel {
            let children: Vec<_> = commands
                .iter_mut()
                .map(|c| c.spawn().expect("a bare query"))
                .collect();
            for mut c in children {
                c.wait().expect("a bare query");
            }
        } else {
            for c in &mut commands {
                c.status().expect("a bare query");
            }
        }
        started.elapsed()
    }

    fn program_path(&self) -> String {
        self.w
            .extra_env
            .iter()
            .find(|(k, _)| k == "BKT_PROGRAM_PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| common::SYSTEM_PATH.into())
    }
}

/// The machine and its manifests; returns the world and its root (for `--root`).
fn world() -> (World, String) {
    let r = common::flatpak::repo(APPS);
    let mut w = common::flatpak::world();
    let root = w.path("root");

    // Packages: an ostree root (rpm-ostree is the recorded double) with every package
    // installed and in the manifest.
    let names = bench_packages(PACKAGES);
    common::rpmdb_root(&w.path("rpms"), &root, &names);
    std::fs::create_dir_all(root.join("run")).expect("mkdir");
    std::fs::write(root.join("run/ostree-booted"), "").expect("ostree marker");
    let program_path =
        w.program_path_with_doubles("rpm-ostree-status-layered.json", &w.path("rpm-ostree.log"));
    w.extra_env.push(("BKT_PROGRAM_PATH".into(), program_path));
    let manifest = serde_json::json!({ "packages": names });
    w.write_manifest("system-packages.json", &pretty(&manifest));

    // Settings: every third differs from the machine.
    write_schemas(&w.path("schemas"), SCHEMAS, KEYS);
    write_manifest(
        &w.repo().join("manifests/gsettings.json"),
        SCHEMAS,
        KEYS,
        |k| if k % 3 == 0 { k + 1 } else { k },
    );

    // Flatpak apps, installed and in the manifest.
    w.add_remote(REMOTE, &r.url());
    let ids: Vec<String> = (1..=APPS).map(app).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    w.install_apps(REMOTE, &id_refs);
    let apps: Vec<serde_json::Value> = ids
        .iter()
        .map(
            |id| serde_json::json!({"id": id, "remote": REMOTE, "scope": "user", "branch": BRANCH}),
        )
        .collect();
    let manifest = serde_json::json!({
        "remotes": [{"name": REMOTE, "url": r.url(), "scope": "user"}],
        "apps": apps,
    });
    w.write_manifest("flatpak-apps.json", &pretty(&manifest));

    // Extensions: half the user's, half the system's, all enabled and in the manifest.
    let uuids = write_extensions(
        &w.path("home/.local/share/gnome-shell/extensions"),
        &root.join("usr/share/gnome-shell/extensions"),
        EXTENSIONS,
    );
    let quoted: Vec<String> = uuids.iter().map(|u| format!("'{u}'")).collect();
    let set = w.tool(
        "gsettings",
        &[
            "set",
            "org.gnome.shell",
            "enabled-extensions",
            &format!("[{}]", quoted.join(", ")),
        ],
    );
    assert!(set.ok(), "gsettings set: {}", set.all());
    w.write_manifest(
        "gnome-extensions.json",
        &pretty(&serde_json::json!({ "extensions": uuids })),
    );

    // Units: half enabled, all enabled in the manifest.
    write_units(&root, UNITS);
    let services: serde_json::Map<String, serde_json::Value> = (0..UNITS)
        .map(|i| (unit(i), serde_json::json!("enabled")))
        .collect();
    w.write_manifest(
        "systemd-services.json",
        &pretty(&serde_json::json!({ "services": services })),
    );

    // A Containerfile whose managed sections are in step.
    let mut containerfile = String::from("FROM quay.io/fedora/fedora-bootc:42\n");
    for section in ["COPR_REPOS", "SYSTEM_PACKAGES", "SYSTEMD_UNITS"] {
        containerfile.push_str(&format!(
            "# === {section} (managed by bkt) ===\n# === END {section} ===\n"
        ));
    }
    w.write_containerfile(&containerfile);
    let root = root.display().to_string();
    let synced = w.bkt(&["containerfile", "sync", "--root", &root]);
    assert!(synced.ok(), "containerfile sync: {}", synced.all());
    (w, root)
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON") + "\n"
}
