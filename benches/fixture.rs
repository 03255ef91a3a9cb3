//! What the gsettings benchmarks share: a compiled schema of many `u` keys (default: the key's
//! number), a manifest for it, and medians.
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
