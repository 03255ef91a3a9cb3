//! The one wasmtime configuration. The runtime's engine and the build script, which compiles
//! the builtin plugins ahead of time, both take it from here: an artifact loads only into an
//! engine configured exactly like the one that compiled it.
//!
//! This file imports nothing from the crate: build.rs includes it by path.

/// The engine settings bkt runs plugins with: epoch interruption is how a call's deadline is
/// kept (see `limits::TICK`).
pub fn config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    // Copy-on-write memory images live in a memfd made when code is deserialized from bytes
    // (the builtins'): it fails under a file-size limit (`ulimit -f`), and the plugins'
    // memories are small enough to copy at instantiation.
    config.memory_init_cow(false);
    // Unwind tables only serve outside unwinders (a debugger, a profiler); wasmtime keeps its
    // own backtraces without them. Registering them frame by frame is most of the time it
    // takes to load a plugin's code, on every start.
    config.native_unwind_info(false);
    config
}
