//! The SDK packages on its own: the contract it is built against travels inside the crate
//! (`plugins/sdk/wit` is the repository's `wit/`), so a plugin outside this repository can
//! depend on it.

use std::process::Command;

#[test]
fn the_sdk_package_carries_the_contract() {
    let out = Command::new(env!("CARGO"))
        .args([
            "package",
            "-p",
            "bkt-sdk",
            "--list",
            "--allow-dirty",
            "--offline",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo package --list");
    let files = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{files}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        files.lines().any(|l| l == "wit/v1.0.0/plugin.wit"),
        "the contract is not in the package:\n{files}"
    );
    assert!(files.lines().any(|l| l == "src/lib.rs"), "{files}");
}
