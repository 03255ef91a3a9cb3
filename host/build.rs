//! Builds every plugin crate under `plugins/` (except the sdk) for wasm32-wasip2 and embeds the
//! components in the `bkt` binary. Test plugins under `tests/plugins/` are built the same way
//! and their folder is handed to the tests as `BKT_TEST_PLUGIN_DIR`; they are not embedded.
//!
//! Each builtin is also compiled to native code here, with the runtime's own engine settings
//! (`src/runtime/engine.rs`), and embedded beside its component: bkt deserializes it at start
//! instead of compiling at run time, and the code it runs for a builtin never comes from a
//! folder anyone can write. It is compiled for the target's baseline CPU, not this machine's,
//! so a binary built on one machine loads its builtins on another.
//!
//! Each builtin's `info` is read here too, by starting the component once with the conversion
//! the runtime uses (`src/model`), and embedded as the JSON of the host's `PluginInfo`: bkt
//! knows its builtins without starting them, and starts one only when a command calls it.
//! What a builtin declares never comes from a file anyone can write.
//!
//! The nested cargo gets its own target directory (sharing ours would deadlock on its lock)
//! and none of the flags meant for the host build.

use sha2::{Digest, Sha256};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/runtime/engine.rs"]
mod engine;

// The host's model of a plugin's info and its conversion from the contract's bindings, the
// very files the runtime compiles (only the info part is used here).
#[allow(dead_code, unused_imports)]
#[path = "src/model"]
mod model {
    mod call_error;
    pub mod contract;
    pub mod since_v1_0_0;
}
#[allow(dead_code)]
#[path = "src/os"]
mod os {
    pub mod text;
}

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    let builtin = plugin_crates(&root.join("plugins"));
    let test = plugin_crates(&root.join("tests/plugins"));
    for dir in builtin.iter().chain(&test) {
        watch(dir);
    }
    watch(&root.join("plugins/sdk"));
    watch(&root.join("wit"));
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.toml").display()
    );

    check_target();
    let target_dir = plugin_target_dir(&out_dir);
    let all: Vec<&PathBuf> = builtin.iter().chain(&test).collect();
    build(&root, &target_dir, &all);

    let wasm_dir = target_dir.join(TARGET).join(PROFILE);
    let compiler = ahead_of_time_engine();
    let describer = Describer::new();
    let mut code = String::from(
        "/// A plugin compiled into this binary.\n\
         pub struct Embedded {\n\
         \x20   pub crate_name: &'static str,\n\
         \x20   pub wasm: &'static [u8],\n\
         \x20   pub sha256: &'static str,\n\
         \x20   /// Its native code, compiled for the target's baseline CPU.\n\
         \x20   pub native: &'static [u8],\n\
         \x20   /// Its info, as the JSON of the host's PluginInfo.\n\
         \x20   pub info: &'static str,\n\
         }\n\n\
         pub const BUILTIN: &[Embedded] = &[\n",
    );
    // Native code starts on a page of its own in the binary, so bkt can map it from its
    // executable file instead of copying it (os/own_image.rs).
    let mut natives = String::from(
        "/// Bytes that start on a page boundary.\n\
         #[repr(C, align(4096))]\n\
         pub struct Page<T>(pub T);\n\n",
    );
    for dir in &builtin {
        let name = crate_name(dir);
        let file = wasm_dir.join(format!("{}.wasm", name.replace('-', "_")));
        let bytes = fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let native = out_dir.join(format!("{name}.cwasm"));
        let compiled = compiler
            .precompile_component(&bytes)
            .unwrap_or_else(|e| panic!("compiling {} ahead of time: {e:#}", file.display()));
        let info = out_dir.join(format!("{name}.info.json"));
        fs::write(&info, describer.describe(&file, &bytes, &compiled))
            .unwrap_or_else(|e| panic!("writing {}: {e}", info.display()));
        fs::write(&native, &compiled)
            .unwrap_or_else(|e| panic!("writing {}: {e}", native.display()));
        let hash = Sha256::digest(&bytes)
            .iter()
            .fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            });
        let page = format!("NATIVE_{}", name.replace('-', "_").to_uppercase());
        let _ = writeln!(
            natives,
            "static {page}: Page<[u8; {}]> = Page(*include_bytes!({:?}));",
            compiled.len(),
            native.display().to_string()
        );
        let _ = writeln!(
            code,
            "    Embedded {{ crate_name: {name:?}, wasm: include_bytes!({:?}), sha256: {hash:?}, \
             native: &{page}.0, info: include_str!({:?}) }},",
            file.display().to_string(),
            info.display().to_string()
        );
    }
    code.push_str("];\n\n");
    code.push_str(&natives);
    fs::write(out_dir.join("builtin_plugins.rs"), code).expect("writing builtin_plugins.rs");
    embed_schemas(&root.join("schemas"), &out_dir);
    println!("cargo:rustc-env=BKT_TEST_PLUGIN_DIR={}", wasm_dir.display());
}

/// Every manifest schema in `schemas/` (`NAME.schema.json`), embedded so that `bkt init` can
/// give a new repository the schemas its manifests' `$schema` names.
fn embed_schemas(dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a schemas/ entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".schema.json"))
        .collect();
    files.sort();
    let mut code = String::from("/// Manifest schemas: (file name, text).\n");
    code.push_str("pub const SCHEMAS: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.file_name().expect("a file name").to_string_lossy();
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            file.display().to_string()
        );
    }
    code.push_str("];\n");
    fs::write(out_dir.join("manifest_schemas.rs"), code).expect("writing manifest_schemas.rs");
}

/// The runtime's engine settings, compiling for the target's baseline CPU: with an explicit
/// target wasmtime assumes no optional CPU feature, so the code runs wherever the binary does.
fn ahead_of_time_engine() -> wasmtime::Engine {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let mut config = engine::config();
    config
        .target(&target)
        .unwrap_or_else(|e| panic!("wasmtime cannot compile for {target}: {e:#}"));
    wasmtime::Engine::new(&config)
        .unwrap_or_else(|e| panic!("the ahead-of-time engine does not start: {e:#}"))
}

/// Reads builtins' `info` on this machine's engine. Every import of the component is a trap:
/// describing itself needs nothing from the machine (the runtime too calls `info` with no
/// capabilities and a fixed context), and a builtin that reaches out fails the build here.
struct Describer {
    engine: wasmtime::Engine,
    /// Whether the ahead-of-time code runs here (not a cross build): then it is loaded
    /// rather than compiled a second time.
    native: bool,
}

/// How long a builtin's `info` may run here, in epoch ticks of [`TICK`].
const INFO_TICKS: u64 = 100;
const TICK: std::time::Duration = std::time::Duration::from_millis(100);

impl Describer {
    fn new() -> Describer {
        let engine = wasmtime::Engine::new(&engine::config())
            .unwrap_or_else(|e| panic!("the engine does not start: {e:#}"));
        // The runtime's settings keep time by epochs: without a ticker a spinning `info`
        // would hang the build.
        let ticker = engine.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(TICK);
                ticker.increment_epoch();
            }
        });
        let native = env::var("TARGET").ok() == env::var("HOST").ok();
        Describer { engine, native }
    }

    /// The builtin's info as the runtime would read it, as JSON.
    fn describe(&self, file: &Path, wasm: &[u8], compiled: &[u8]) -> String {
        use model::since_v1_0_0::Plugin;
        use wasmtime::component::{Component, Linker};
        let fail = |what: &str, e: wasmtime::Error| -> ! {
            panic!("reading the info of {}: {what}: {e:#}", file.display())
        };
        let component = if self.native {
            // SAFETY: `compiled` was just made by `precompile_component` with the runtime's
            // engine settings for this very machine's architecture.
            unsafe { Component::deserialize(&self.engine, compiled) }
        } else {
            Component::new(&self.engine, wasm)
        }
        .unwrap_or_else(|e| fail("loading", e));
        let mut linker = Linker::<()>::new(&self.engine);
        linker
            .define_unknown_imports_as_traps(&component)
            .unwrap_or_else(|e| fail("linking", e));
        let mut store = wasmtime::Store::new(&self.engine, ());
        store.set_epoch_deadline(INFO_TICKS);
        let plugin = Plugin::instantiate(&mut store, &component, &linker)
            .unwrap_or_else(|e| fail("starting", e));
        let info = plugin
            .bkt_subsystem_subsystem()
            .call_info(&mut store)
            .unwrap_or_else(|e| fail("info()", e));
        let info = model::contract::PluginInfo::from(info);
        serde_json::to_string(&info).expect("a PluginInfo serializes")
    }
}

/// Crate folders directly under `dir` (those with a Cargo.toml), except the sdk.
fn plugin_crates(dir: &Path) -> Vec<PathBuf> {
    let mut crates: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    crates.retain(|p| p.join("Cargo.toml").is_file() && p.file_name().is_some_and(|n| n != "sdk"));
    crates.sort();
    crates
}

fn crate_name(dir: &Path) -> String {
    let toml = fs::read_to_string(dir.join("Cargo.toml")).expect("reading a plugin's Cargo.toml");
    toml.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("name = ")
                .map(|n| n.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("{} has no package name", dir.display()))
}

/// rerun-if-changed for every file, so editing one plugin source reruns the build.
fn watch(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn check_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let installed = sysroot
        .map(|s| Path::new(&s).join("lib/rustlib").join(TARGET).is_dir())
        .unwrap_or(false);
    if !installed {
        panic!(
            "\n\nbkt's plugins are WebAssembly components and need the {TARGET} target.\n\
             Install it once with:\n\n    rustup target add {TARGET}\n\nthen build again.\n"
        );
    }
}

/// `<target>/bkt-plugins`, next to the host's own build output: the folder holding
/// CACHEDIR.TAG is the root of the target directory.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").is_file())
        .map(|t| t.join("bkt-plugins"))
        .unwrap_or_else(|| out_dir.join("bkt-plugins"))
}

fn build(root: &Path, target_dir: &Path, crates: &[&PathBuf]) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(target_dir);
    for dir in crates {
        cmd.args(["-p", &crate_name(dir)]);
    }
    // Flags meant for the host must not leak into the wasm build.
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_ENCODED_RUSTFLAGS")
            || key == "RUSTFLAGS"
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key == "CARGO_TARGET_DIR"
            || key.starts_with("CARGO_FEATURE_")
        {
            cmd.env_remove(&key);
        }
    }
    let status = cmd.status().expect("running cargo for the plugins");
    if !status.success() {
        panic!("building the plugins for {TARGET} failed (see the errors above)");
    }
}
