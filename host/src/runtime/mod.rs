//! The plugin runtime: one wasmtime engine, compiled-code cache, per-call limits, and a
//! sandbox per plugin (WASI with no environment, arguments, network or inherited stdio; only
//! read-only preopens of the plugin's declared read paths; queries checked against its
//! declared prefixes).

mod cache;
pub mod caps;
mod limits;
pub mod query;
mod session;
mod state;

pub use limits::Limits;
use session::Sandbox;
pub use session::Session;

use limits::TICK;

use crate::model::since_v1_0_0::{Plugin, PluginPre, VERSION};
use crate::model::{Capabilities, HostContext, PluginInfo, SystemRoot};
use anyhow::{Context as _, Result};
use state::State;
use std::path::PathBuf;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

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
    /// The system the plugins' queries and effects act on.
    pub root: SystemRoot,
    pub context: HostContext,
    /// bkt's own folders: no third-party plugin may declare a folder that reaches them.
    protected: Vec<PathBuf>,
    /// The same, each with its symlinks resolved: worked out when a third-party plugin is
    /// first checked, so a run with only builtins pays nothing for it.
    protected_real: std::sync::OnceLock<Vec<(PathBuf, PathBuf)>>,
}

impl Runtime {
    pub fn new(
        limits: Limits,
        root: SystemRoot,
        context: HostContext,
        cache_dir: Option<PathBuf>,
    ) -> Result<Runtime> {
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
            root,
            context,
            protected: Vec::new(),
            protected_real: std::sync::OnceLock::new(),
        })
    }

    /// Refuses a third-party plugin whose declared folders reach bkt's own (see
    /// [`Runtime::protect`]). Builtins are bkt's own code and not held to it: a repository
    /// kept in a home folder must not make the builtins' `~/` folders unusable.
    pub fn check_own_folders(&self, plugin: &Loaded) -> Result<()> {
        caps::check_folders(
            &plugin.info.capabilities,
            &self.root,
            &self.context.home,
            self.protected_real.get_or_init(|| {
                self.protected
                    .iter()
                    .map(|f| (f.clone(), caps::real_path(f)))
                    .collect()
            }),
        )
        .map_err(|e| anyhow::anyhow!("plugin {} declares unusable capabilities: {e}", plugin.name))
    }

    /// Keeps every third-party plugin's declared folders away from `folders` (bkt's own).
    pub fn protect(&mut self, folders: Vec<PathBuf>) {
        self.protected = folders;
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
            .with_context(|| format!("plugin {name} does not fit the {VERSION} contract"))?;
        PluginPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("plugin {name} does not export the {VERSION} contract"))
    }

    /// Calls info() with no capabilities and a fixed context, so what a plugin declares
    /// cannot depend on the machine, the user or --root: what `plugin trust` showed is what
    /// loads at boot.
    fn read_info(&self, name: &str, pre: &PluginPre<State>) -> Result<PluginInfo> {
        let empty = Capabilities::default();
        let fixed = HostContext {
            root: "/".into(),
            home: "/home/user".into(),
            data_home: "/home/user/.local/share".into(),
            arch: std::env::consts::ARCH.into(),
            ostree: false,
        };
        let sandbox = Sandbox {
            id: name,
            caps: empty,
            root: &SystemRoot::host(),
            context: fixed,
        };
        let mut session = Session::new(&self.engine, self.limits, pre, sandbox)?;
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
        let sandbox = Sandbox {
            id: &plugin.info.id,
            caps: plugin.info.capabilities.clone(),
            root: &self.root,
            context: self.context.clone(),
        };
        Session::new(&self.engine, self.limits, pre, sandbox)
    }
}
