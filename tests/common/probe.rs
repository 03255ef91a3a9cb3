//! The probe test plugin, installed as a third-party plugin and trusted.

use super::World;
use std::path::PathBuf;

pub fn wasm() -> PathBuf {
    PathBuf::from(env!("BKT_TEST_PLUGIN_DIR")).join("bkt_plugin_probe.wasm")
}

/// A world with the probe installed and trusted, and `manifest` as its manifest.
pub fn with_probe(manifest: &str) -> (World, PathBuf) {
    probe_in(World::new(), manifest)
}

/// `w` with the probe installed and trusted.
pub fn probe_in(w: World, manifest: &str) -> (World, PathBuf) {
    let dir = w.path("data/bkt/plugins");
    std::fs::create_dir_all(&dir).expect("mkdir plugins");
    let path = dir.join("probe.wasm");
    std::fs::copy(wasm(), &path).expect("copy the probe");
    w.write_manifest("probe.json", manifest);
    w.bkt(&[
        "plugin",
        "trust",
        path.to_str().expect("UTF-8 path"),
        "--yes",
    ])
    .assert_code(0);
    (w, path)
}
