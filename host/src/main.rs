//! bkt: keeps a personal bootc distribution (a git repository of a Containerfile and JSON
//! manifests) and the machine it runs on in step. The host owns every effect and file; each
//! subsystem is a sandboxed WebAssembly plugin.

mod app;
mod cli;
mod containerfile;
mod exec;
mod logging;
mod parallel;
mod plan;
mod plugins;
mod repo;
mod runtime;
mod style;

fn main() {
    let code = match cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bkt: {e:#}");
            2
        }
    };
    let spawned = runtime::query::SPAWNED.load(std::sync::atomic::Ordering::Relaxed);
    tracing::debug!(target: "bkt::timing", "query processes spawned: {spawned}");
    std::process::exit(code);
}
