//! The plugin runtime: one wasmtime engine, compiled-code cache, per-call limits, and a
//! sandbox per plugin (WASI with no environment, arguments, network or inherited stdio; only
//! read-only preopens of the plugin's declared read paths; queries checked against its
//! declared prefixes).

mod cache;
pub mod caps;
mod engine;
mod fetches;
mod limits;
pub mod query;
mod readings;
mod requires;
mod session;
mod state;

pub use cache::Folders as CacheFolders;
pub use fetches::limit as fetch_limit;
pub use limits::Limits;
pub use readings::Readings;
use session::Sandbox;
pub use session::Session;

use limits::TICK;

use crate::model::since_v1_0_0::{Plugin, PluginPre, VERSION};
use crate::model::{CallError, Capabilities, HostContext, PluginInfo, SystemRoot};
use anyhow::{Context as _, Result};
use state::State;
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime::component::Linker;

/// A component's code: the WebAssembly, its sha256, and for a builtin what bkt's build made
/// of it.
#[derive(Clone)]
pub struct Code {
    pub hash: String,
    pub wasm: std::borrow::Cow<'static, [u8]>,
    pub builtin: Option<Builtin>,
}

/// What the build made of a builtin (build.rs): its native code, and its `info` as the JSON of
/// [`PluginInfo`], read from the component with the runtime's own conversion.
#[derive(Clone, Copy)]
pub struct Builtin {
    pub native: &'static [u8],
    pub info: &'static str,
}

/// A plugin whose `info` is known. Its code is deserialized (or compiled) the first time a
/// session needs it, so a command that uses one plugin prepares one.
#[derive(Clone)]
pub struct Loaded {
    name: String,
    code: Code,
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
        cache: Option<CacheFolders>,
    ) -> Result<Runtime> {
        let started = std::time::Instant::now();
        let engine = Engine::new(&engine::config())?;
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
        let cache = cache::Cache::new(&engine, cache);
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

    /// A component's `info`. A builtin's was read when bkt was built and is part of the
    /// binary, so a builtin is not started until a command calls it; a third-party plugin's
    /// comes from the cache when it was read before, else from compiling and starting it.
    pub fn load(&self, name: &str, code: Code) -> Result<Loaded> {
        let started = std::time::Instant::now();
        let cell = std::sync::Arc::new(std::sync::OnceLock::new());
        let info = match code.builtin {
            Some(builtin) => serde_json::from_str(builtin.info)
                .with_context(|| format!("the info built into bkt for plugin {name}"))?,
            None => match self.cache.info(&code.hash) {
                Some(info) => info,
                None => {
                    let pre = self.prepare(name, &code)?;
                    let info = self.read_info(name, &pre)?;
                    self.cache.store_info(&code.hash, &info);
                    let _ = cell.set(Ok(pre));
                    info
                }
            },
        };
        caps::check_declared(&info.capabilities)
            .map_err(|e| anyhow::anyhow!("plugin {name} declares unusable capabilities: {e}"))?;
        requires::check(&info.requires_bkt, env!("CARGO_PKG_VERSION"))
            .map_err(|e| anyhow::anyhow!("plugin {name} cannot run here: {e}"))?;
        tracing::debug!(target: "bkt::timing", "plugin {name}: loaded in {} µs", started.elapsed().as_micros());
        Ok(Loaded {
            name: name.to_string(),
            code,
            pre: cell,
            info,
        })
    }

    /// The component deserialized (a builtin) or compiled (or loaded from the cache), and
    /// linked.
    fn prepare(&self, name: &str, code: &Code) -> Result<PluginPre<State>> {
        let started = std::time::Instant::now();
        let component = match self.embedded(name, code) {
            Some(component) => component,
            None => self
                .cache
                .load(&self.engine, &code.hash, &code.wasm)
                .with_context(|| format!("loading plugin {name}"))?,
        };
        let loaded = started.elapsed().as_micros();
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("plugin {name} does not fit the {VERSION} contract"))?;
        let pre = PluginPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("plugin {name} does not export the {VERSION} contract"))?;
        tracing::debug!(target: "bkt::timing", "plugin {name}: prepared in {} µs (code {loaded} µs)", started.elapsed().as_micros());
        Ok(pre)
    }

    /// A builtin's code as compiled when bkt was built. `None` for a third-party plugin, or
    /// when this engine refuses the code (built by another wasmtime or for a CPU this one is
    /// not): the plugin is then compiled and cached like a third-party one, and `-v` says so.
    fn embedded(&self, name: &str, code: &Code) -> Option<wasmtime::component::Component> {
        let native = code.builtin?.native;
        // SAFETY: the bytes are part of this binary, written by its build script with the
        // engine configuration this runtime uses (`engine::config`); wasmtime checks the
        // header and refuses code from another engine or for features this CPU lacks.
        match unsafe { wasmtime::component::Component::deserialize(&self.engine, native) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::info!(
                    "the builtin plugin {name} was compiled for another engine or CPU ({e:#}); \
                     compiling it here"
                );
                None
            }
        }
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
            readings: None,
        };
        let mut session = Session::new(&self.engine, self.limits, pre, sandbox)?;
        session
            .info()
            .map_err(|e| anyhow::anyhow!("plugin {name}: info() failed: {e}"))
    }

    /// A fresh sandbox for `plugin`, with its declared read paths preopened.
    pub fn session(&self, plugin: &Loaded) -> Result<Session> {
        self.open(plugin, None)
    }

    /// `plugin`'s Containerfile sections for `manifest`: what it rendered before from the
    /// same text when that is cached, else rendered now (and cached).
    pub fn render_section(
        &self,
        plugin: &Loaded,
        manifest: Option<&str>,
    ) -> Result<Vec<crate::model::Section>, CallError> {
        let hash = &plugin.code.hash;
        if let Some(sections) = self.cache.rendered(hash, manifest) {
            return Ok(sections);
        }
        let sections = self
            .session(plugin)
            .map_err(|e| CallError::Crashed(format!("{e:#}")))?
            .render_section(manifest)?;
        self.cache.store_rendered(hash, manifest, sections.clone());
        Ok(sections)
    }

    /// The same, answering a query from `readings` when this command already ran it, and
    /// keeping what it runs there: for a command that changes nothing in between.
    pub fn session_reading(
        &self,
        plugin: &Loaded,
        readings: &std::sync::Arc<Readings>,
    ) -> Result<Session> {
        self.open(plugin, Some(readings.clone()))
    }

    fn open(&self, plugin: &Loaded, readings: Option<std::sync::Arc<Readings>>) -> Result<Session> {
        let pre = plugin
            .pre
            .get_or_init(|| {
                self.prepare(&plugin.name, &plugin.code)
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let sandbox = Sandbox {
            id: &plugin.info.id,
            caps: plugin.info.capabilities.clone(),
            root: &self.root,
            context: self.context.clone(),
            readings,
        };
        Session::new(&self.engine, self.limits, pre, sandbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod built {
        include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
    }

    /// The info bkt's build embedded for each builtin is what the builtin says when started,
    /// and loading a builtin does not start it.
    #[test]
    fn each_builtin_s_embedded_info_is_what_it_says() {
        let context = HostContext {
            root: "/".into(),
            home: "/home/user".into(),
            data_home: "/home/user/.local/share".into(),
            arch: std::env::consts::ARCH.into(),
            ostree: false,
        };
        let rt =
            Runtime::new(Limits::default(), SystemRoot::host(), context, None).expect("a runtime");
        for b in built::BUILTIN {
            let name = b.crate_name;
            let code = Code {
                hash: b.sha256.to_string(),
                wasm: std::borrow::Cow::Borrowed(b.wasm),
                builtin: Some(Builtin {
                    native: b.native,
                    info: b.info,
                }),
            };
            let loaded = rt.load(name, code.clone()).expect("loading a builtin");
            assert!(loaded.pre.get().is_none(), "{name} was started to load it");
            let pre = rt.prepare(name, &code).expect("preparing a builtin");
            let said = rt.read_info(name, &pre).expect("a builtin's info");
            assert_eq!(said, loaded.info, "{name}");
        }
    }
}
