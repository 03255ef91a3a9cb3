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

/// Contract 1.0.0 is released: plugins built against it must keep loading, so its text never
/// changes. A new version gets its own folder (`wit/v1.1.0`) and the host converts each
/// version to its own model (host/src/model/since_v*.rs).
#[test]
fn contract_1_0_0_is_frozen() {
    let out = Command::new("sha256sum")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../wit/v1.0.0/plugin.wit"
        ))
        .output()
        .expect("sha256sum");
    let sum = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        sum.split_whitespace().next(),
        Some("6964e39fadb59e135ab753d5ffd4566e53bddf4199e0768dd9ae196e40a29db4"),
        "wit/v1.0.0 was edited; add a new contract version instead"
    );
}
