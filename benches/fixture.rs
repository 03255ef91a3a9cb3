//! What the benchmarks share: a compiled schema of many `u` keys (default: the key's number)
//! and a manifest for it, a root with systemd units, GNOME extension folders, and medians.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Schemas `org.bkt.bench.sN`, each with `key-0` … `key-{keys-1}`, compiled into `dir`.
pub fn write_schemas(dir: &Path, schemas: usize, keys: usize) {
    let mut xml = String::from("<schemalist>\n");
    for s in 0..schemas {
        xml.push_str(&format!(
            "  <schema id=\"org.bkt.bench.s{s}\" path=\"/org/bkt/bench/s{s}/\">\n"
        ));
        for k in 0..keys {
            xml.push_str(&format!(
                "    <key name=\"key-{k}\" type=\"u\"><default>{k}</default></key>\n"
            ));
        }
        xml.push_str("  </schema>\n");
    }
    xml.push_str("</schemalist>\n");
    std::fs::write(dir.join("org.bkt.bench.gschema.xml"), xml).expect("schema");
    let ok = Command::new("glib-compile-schemas")
        .arg(dir)
        .status()
        .expect("glib-compile-schemas")
        .success();
    assert!(ok, "glib-compile-schemas failed");
}

/// A manifest tracking every key, key `k` at `value(k)`.
pub fn write_manifest(path: &Path, schemas: usize, keys: usize, value: impl Fn(usize) -> usize) {
    let mut settings = Vec::new();
    for s in 0..schemas {
        for k in 0..keys {
            settings.push(format!(
                "{{\"schema\": \"org.bkt.bench.s{s}\", \"key\": \"key-{k}\", \"value\": \"uint32 {}\"}}",
                value(k)
            ));
        }
    }
    std::fs::write(
        path,
        format!("{{\"settings\": [\n{}\n]}}\n", settings.join(",\n")),
    )
    .expect("manifest");
}

/// The name of unit `i`.
pub fn unit(i: usize) -> String {
    format!("bench{i}.service")
}

/// `units` unit files in the root `dir`, the even ones enabled (with the real `systemctl`).
pub fn write_units(dir: &Path, units: usize) {
    let system = dir.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&system).expect("mkdir");
    std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
    for i in 0..units {
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
    enable.args((0..units).step_by(2).map(unit));
    let ok = enable
        .stderr(std::process::Stdio::null())
        .status()
        .expect("systemctl")
        .success();
    assert!(ok, "systemctl enable failed");
}

/// `count` GNOME extensions `benchN@bkt.example`, the even ones in `user` and the odd ones in
/// `system` (each a folder with its metadata.json); returns their uuids.
pub fn write_extensions(user: &Path, system: &Path, count: usize) -> Vec<String> {
    let mut uuids = Vec::new();
    for i in 0..count {
        let uuid = format!("bench{i}@bkt.example");
        let base = if i % 2 == 0 { user } else { system };
        std::fs::create_dir_all(base.join(&uuid)).expect("mkdir");
        std::fs::write(
            base.join(&uuid).join("metadata.json"),
            format!(
                r#"{{"uuid": "{uuid}", "name": "{uuid}", "shell-version": ["45", "46", "47"]}}"#
            ),
        )
        .expect("metadata");
        uuids.push(uuid);
    }
    uuids
}
