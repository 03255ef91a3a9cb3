//! The plugin runtime: one wasmtime engine, compiled-code cache, per-call limits, and a
//! sandbox per plugin (WASI with no environment, arguments, network or inherited stdio; only
//! read-only preopens of the plugin's declared read paths; queries checked against its
//! declared prefixes).

pub mod bindings;
mod cache;
pub mod caps;
pub mod program;
pub mod query;
mod session;
mod shown;
mod state;

pub use session::{Session, xdg_base};

use anyhow::{Context as _, Result};
use bindings::{Context, InvalidManifestValue, Plugin, PluginInfo, PluginPre};
use state::State;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

const TICK: Duration = Duration::from_millis(10);

/// Per-call limits; both end in a clear error naming the plugin.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            memory_bytes: 512 << 20,
        }
    }
}

/// Why a plugin call did not produce a result.
#[derive(Debug, Clone)]
pub enum CallError {
    /// The manifest cannot be used: the field and position inside it.
    Invalid(InvalidManifestValue),
    /// The tool the plugin drives is not installed.
    Unavailable(String),
    /// The plugin reported a failure.
    Failed(String),
    /// The plugin did something it did not declare.
    Refused(String),
    /// The plugin trapped: a panic, the time limit, the memory cap.
    Crashed(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Invalid(e) if e.field.is_empty() => write!(f, "{}", e.message),
            CallError::Invalid(e) => write!(f, "{}: {}", e.field, e.message),
            CallError::Unavailable(m) => write!(f, "unavailable: {m}"),
            CallError::Failed(m) | CallError::Refused(m) | CallError::Crashed(m) => f.write_str(m),
        }
    }
}

/// A plugin whose `info` has been read. Its code is compiled (or loaded from the cache) the
/// first time a session needs it, so a command that uses one plugin prepares one.
#[derive(Clone)]
pub struct Loaded {
    name: String,
    hash: String,
    wasm: std::borrow::Cow<'static, [u8]>,
    pre: std::sync::Arc<std::sync::OnceLock<Result<PluginPre<State>, String>>>,
    pub info: PluginInfo,
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    cache: cache::Cache,
    pub limits: Limits,
    pub context: Context,
}

impl Runtime {
    pub fn new(limits: Limits, context: Context, cache_dir: Option<PathBuf>) -> Result<Runtime> {
        let started = std::time::Instant::now();
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("bkt-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    ticker.increment_epoch();
                }
            })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // WASI's monotonic clock again, replaced by the host's: its sleeps and polls return
        // at once (see `State`), so no plugin can wait where the epoch deadline cannot reach.
        linker.allow_shadowing(true);
        wasmtime_wasi::p2::bindings::clocks::monotonic_clock::add_to_linker::<
            State,
            wasmtime::component::HasSelf<State>,
        >(&mut linker, |s| s)?;
        linker.allow_shadowing(false);
        Plugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(&mut linker, |s| s)?;
        let cache = cache::Cache::new(&engine, cache_dir);
        tracing::debug!(target: "bkt::timing", "engine and linker ready in {} µs", started.elapsed().as_micros());
        Ok(Runtime {
            engine,
            linker,
            cache,
            limits,
            context,
        })
    }

    /// Reads a component's `info`: from the cache when it was read before, else by compiling
    /// and instantiating it.
    pub fn load(
        &self,
        name: &str,
        hash: &str,
        wasm: std::borrow::Cow<'static, [u8]>,
    ) -> Result<Loaded> {
        let started = std::time::Instant::now();
        let cell = std::sync::Arc::new(std::sync::OnceLock::new());
        let info = match self.cache.info(hash) {
            Some(info) => info,
            None => {
                let pre = self.prepare(name, hash, &wasm)?;
                let info = self.read_info(name, &pre)?;
                self.cache.store_info(hash, &info);
                let _ = cell.set(Ok(pre));
                info
            }
        };
        caps::check_declared(&info.capabilities)
            .map_err(|e| anyhow::anyhow!("plugin {name} declares unusable capabilities: {e}"))?;
        tracing::debug!(target: "bkt::timing", "plugin {name}: loaded in {} µs", started.elapsed().as_micros());
        Ok(Loaded {
            name: name.to_string(),
            hash: hash.to_string(),
            wasm,
            pre: cell,
            info,
        })
    }

    /// The component compiled (or loaded from the cache) and linked.
    fn prepare(&self, name: &str, hash: &str, wasm: &[u8]) -> Result<PluginPre<State>> {
        let component = self
            .cache
            .load(&self.engine, hash, wasm)
            .with_context(|| format!("loading plugin {name}"))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("plugin {name} does not fit the bkt:subsystem@1.0.0 contract")
            })?;
        PluginPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("plugin {name} does not export the bkt:subsystem@1.0.0 contract")
            })
    }

    /// Calls info() with no capabilities and a fixed context, so what a plugin declares
    /// cannot depend on the machine, the user or --root: what `plugin trust` showed is what
    /// loads at boot.
    fn read_info(&self, name: &str, pre: &PluginPre<State>) -> Result<PluginInfo> {
        let empty = bindings::Capabilities {
            queries: vec![],
            runs: vec![],
            reads: vec![],
            writes: vec![],
        };
        let fixed = Context {
            root: "/".into(),
            home: "/home/user".into(),
            data_home: "/home/user/.local/share".into(),
            arch: std::env::consts::ARCH.into(),
            ostree: false,
        };
        let mut session = Session::new(self, pre, name, empty, fixed)?;
        session
            .info()
            .map_err(|e| anyhow::anyhow!("plugin {name}: info() failed: {e}"))
    }

    /// A fresh sandbox for `plugin`, with its declared read paths preopened.
    pub fn session(&self, plugin: &Loaded) -> Result<Session> {
        let pre = plugin
            .pre
            .get_or_init(|| {
                self.prepare(&plugin.name, &plugin.hash, &plugin.wasm)
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Session::new(
            self,
            pre,
            &plugin.info.id,
            plugin.info.capabilities.clone(),
            self.context.clone(),
        )
    }
}

/// The home folder of the user bkt acts for; `None` without an absolute HOME (a system
/// service), never `/` in its place: `~/` paths then mean nothing.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
}

/// Whether `root` is an ostree-based system.
pub fn is_ostree(root: &Path) -> bool {
    root.join("run/ostree-booted").exists() || root.join("ostree").is_dir()
}
