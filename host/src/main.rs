//! bkt: keeps a personal bootc distribution (a git repository of a Containerfile and JSON
//! manifests) and the machine it runs on in step. The host owns every effect and file; each
//! subsystem is a sandboxed WebAssembly plugin.

// Layers, bottom to top; each module imports only from those listed above it (checked by
// tests/layers.rs).
mod app;
mod boot;
mod cli;
mod containerfile;
mod exec;
mod local;
mod model;
mod ops;
mod os;
mod plan;
mod plugins;
mod repo;
mod runtime;
mod sync;

fn main() {
    restore_sigpipe();
    let exit = cli::main();
    let spawned = runtime::query::SPAWNED.load(std::sync::atomic::Ordering::Relaxed);
    tracing::debug!(target: "bkt::timing", "query processes spawned: {spawned}");
    std::process::exit(exit.code());
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`bkt status | head -1`) would fail
/// every later write; like other command-line tools, bkt ends quietly instead.
fn restore_sigpipe() {
    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: resetting a signal to its default disposition at startup, before any thread
    // exists, has no preconditions.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}
