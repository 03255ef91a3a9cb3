//! The plugin runtime: one wasmtime engine, compiled-code cache, per-call limits, and a
//! sandbox per plugin (WASI with no environment, arguments, network or inherited stdio; only
//! read-only preopens of the plugin's declared read paths; queries checked against its
//! declared prefixes).

mod cache;
pub mod caps;
mod code_memory;
mod engine;
mod fetches;
mod limits;
pub mod query;
mod readings;
mod rendered;
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
    /// The engine, linker and compiled-code cache, made when a command first needs a plugin
    /// run: a command answered from the kept renderings makes none.
    wasm: std::sync::OnceLock<Result<Wasm, String>>,
    folders: Option<CacheFolders>,
    rendered: rendered::Rendered,
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

/// What running plugins takes.
struct Wasm {
    engine: Engine,
    linker: Linker<State>,
    cache: cache::Cache,
}

impl Wasm {
    fn new(folders: Option<&CacheFolders>) -> Result<Wasm> {
        let started = std::time::Instant::now();
        let mut config = engine::config();
        // Publishing code is done by bkt so that it works on builtins mapped from bkt's file.
        config.with_custom_code_memory(Some(std::sync::Arc::new(
            code_memory::PageProtection::new(),
        )));
        let engine = Engine::new(&config)?;
        tracing::debug!(target: "bkt::timing", "engine made in {} µs", started.elapsed().as_micros());
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
        let cache = cache::Cache::new(&engine, folders);
        tracing::debug!(target: "bkt::timing", "engine and linker ready in {} µs", started.elapsed().as_micros());
        Ok(Wasm {
            engine,
            linker,
            cache,
        })
    }
}

impl Runtime {
    pub fn new(
        limits: Limits,
        root: SystemRoot,
        context: HostContext,
        cache: Option<CacheFolders>,
    ) -> Runtime {
        Runtime {
            wasm: std::sync::OnceLock::new(),
            rendered: rendered::Rendered::new(cache.as_ref()),
            folders: cache,
            limits,
            root,
            context,
            protected: Vec::new(),
            protected_real: std::sync::OnceLock::new(),
        }
    }

    fn wasm(&self) -> Result<&Wasm> {
        self.wasm
            .get_or_init(|| Wasm::new(self.folders.as_ref()).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the WebAssembly engine: {e}"))
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
            None => match self.wasm()?.cache.info(&code.hash) {
                Some(info) => info,
                None => {
                    let pre = self.prepare(name, &code)?;
                    let info = self.read_info(name, &pre)?;
                    self.wasm()?.cache.store_info(&code.hash, &info);
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
        let wasm = self.wasm()?;
        let started = std::time::Instant::now();
        let component = match self.embedded(wasm, name, code) {
            Some(component) => component,
            None => wasm
                .cache
                .load(&wasm.engine, &code.hash, &code.wasm)
                .with_context(|| format!("loading plugin {name}"))?,
        };
        let loaded = started.elapsed().as_micros();
        let pre = wasm
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
    fn embedded(
        &self,
        wasm: &Wasm,
        name: &str,
        code: &Code,
    ) -> Option<wasmtime::component::Component> {
        let native = code.builtin?.native;
        // SAFETY: the bytes are part of this binary, written by its build script with the
        // engine configuration this runtime uses (`engine::config`); wasmtime checks the
        // header and refuses code from another engine or for features this CPU lacks. The
        // mapping of them from bkt's file is never removed nor written.
        let deserialized = unsafe {
            match crate::os::own_image::map(native) {
                Some(mapped) => {
                    wasmtime::component::Component::deserialize_raw(&wasm.engine, mapped)
                }
                None => {
                    tracing::debug!(
                        "plugin {name}: its code is copied, not mapped from bkt's file"
                    );
                    wasmtime::component::Component::deserialize(&wasm.engine, native)
                }
            }
        };
        match deserialized {
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

    /// Calls info() in a sandbox that sees nothing of the machine ([`pure_sandbox`]), so
    /// what a plugin declares cannot depend on the machine, the user or --root: what `plugin
    /// trust` showed is what loads at boot.
    fn read_info(&self, name: &str, pre: &PluginPre<State>) -> Result<PluginInfo> {
        let mut session = Session::new(
            &self.wasm()?.engine,
            self.limits,
            pre,
            pure_sandbox(name, &self.root, "info"),
        )?;
        session
            .info()
            .map_err(|e| anyhow::anyhow!("plugin {name}: info() failed: {e}"))
    }

    /// A fresh sandbox for `plugin`, with its declared read paths preopened.
    pub fn session(&self, plugin: &Loaded) -> Result<Session> {
        self.open(plugin, None)
    }

    /// Each plugin's Containerfile sections for the manifest text given with it, in order:
    /// what it rendered before from the same text when that was kept, else rendered now,
    /// on one thread per core. What was rendered is kept for the next command.
    pub fn render_sections(
        &self,
        inputs: &[(&Loaded, Option<&str>)],
    ) -> Vec<Result<Vec<crate::model::Section>, CallError>> {
        let mut kept = self.rendered.load();
        let mut results: Vec<_> = inputs
            .iter()
            .map(
                |(plugin, manifest)| match kept.take(&plugin.code.hash, *manifest) {
                    Some(sections) => Ok(sections),
                    // Every one of these is replaced by its rendering below.
                    None => Err(CallError::Crashed("not rendered".into())),
                },
            )
            .collect();
        let missing: Vec<usize> = (0..inputs.len()).filter(|&i| results[i].is_err()).collect();
        if missing.is_empty() {
            return results;
        }
        // Deserializing and starting a builtin is CPU work: one thread per core does it
        // sooner than one per plugin.
        let fresh = crate::os::parallel::map_on_cores(&missing, |&i| {
            let (plugin, manifest) = inputs[i];
            self.render(plugin, manifest)
        });
        for (&i, result) in missing.iter().zip(fresh) {
            results[i] = result.unwrap_or_else(|panic| Err(CallError::Crashed(panic.0)));
        }
        let mut keep = rendered::Renderings::fresh();
        for ((plugin, manifest), result) in inputs.iter().zip(&results) {
            if let Ok(sections) = result {
                keep.insert(&plugin.code.hash, *manifest, sections.clone());
            }
        }
        let t = std::time::Instant::now();
        self.rendered.store(&keep);
        tracing::debug!(target: "bkt::timing", "renderings kept in {} µs", t.elapsed().as_micros());
        results
    }

    /// `plugin`'s sections for `manifest`, rendered now in a sandbox that sees nothing of the
    /// machine ([`pure_sandbox`]), so that they depend on the manifest alone, as the contract
    /// says and as keeping them by the manifest's hash needs.
    pub fn render(
        &self,
        plugin: &Loaded,
        manifest: Option<&str>,
    ) -> Result<Vec<crate::model::Section>, CallError> {
        let session = self.pre(plugin).and_then(|pre| {
            Session::new(
                &self.wasm()?.engine,
                self.limits,
                pre,
                pure_sandbox(&plugin.info.id, &self.root, "render-section"),
            )
        });
        session
            .map_err(|e| CallError::Crashed(format!("{e:#}")))?
            .render_section(manifest)
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
        let pre = self.pre(plugin)?;
        let sandbox = Sandbox {
            id: &plugin.info.id,
            caps: plugin.info.capabilities.clone(),
            root: &self.root,
            context: self.context.clone(),
            readings,
            pure: None,
        };
        Session::new(&self.wasm()?.engine, self.limits, pre, sandbox)
    }

    /// `plugin`'s code, prepared the first time a session needs it.
    fn pre<'a>(&self, plugin: &'a Loaded) -> Result<&'a PluginPre<State>> {
        plugin
            .pre
            .get_or_init(|| {
                self.prepare(&plugin.name, &plugin.code)
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// A sandbox with no capabilities (no reads, no queries) and a fixed context: the host's
/// architecture, but no real root, home or deployment kind. `root` is never acted on, as
/// without capabilities there is nothing to act with; `call` is named in what is refused.
fn pure_sandbox<'a>(id: &'a str, root: &'a SystemRoot, call: &'static str) -> Sandbox<'a> {
    Sandbox {
        id,
        caps: Capabilities::default(),
        root,
        context: HostContext {
            root: "/".into(),
            home: "/home/user".into(),
            data_home: "/home/user/.local/share".into(),
            arch: std::env::consts::ARCH.into(),
            ostree: false,
        },
        readings: None,
        pure: Some(call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod built {
        include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
    }

    /// Every builtin's native code starts on a page of bkt's file, so it runs from there
    /// instead of a copy.
    #[test]
    fn each_builtin_s_code_maps_from_the_executable() {
        for b in built::BUILTIN {
            let mapped = crate::os::own_image::map(b.native)
                .unwrap_or_else(|| panic!("{} is not mapped", b.crate_name));
            // SAFETY: the mapping is never removed.
            assert_eq!(unsafe { mapped.as_ref() }, b.native, "{}", b.crate_name);
        }
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
        let rt = Runtime::new(Limits::default(), SystemRoot::host(), context, None);
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
