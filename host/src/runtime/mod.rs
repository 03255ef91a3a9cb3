//! The plugin runtime: one wasmtime engine, compiled-code cache, per-call limits, and a
//! sandbox per plugin (WASI with no environment, arguments, network or inherited stdio; only
//! read-only preopens of the plugin's declared read paths; queries checked against its
//! declared prefixes).

pub mod bindings;
mod cache;
pub mod caps;
pub mod query;
mod state;

use anyhow::{Context as _, Result};
use bindings::{
    Context, EditResult, InvalidManifestValue, Plan, Plugin, PluginErrorValue, PluginInfo,
    PluginPre, Section,
};
use state::{MemoryCap, State};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

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

/// A compiled plugin whose `info` has been read.
#[derive(Clone)]
pub struct Loaded {
    pre: PluginPre<State>,
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
        Plugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(&mut linker, |s| s)?;
        let cache = cache::Cache::new(&engine, cache_dir);
        Ok(Runtime {
            engine,
            linker,
            cache,
            limits,
            context,
        })
    }

    /// Compiles (or loads from the cache) a component and reads its `info`.
    pub fn load(&self, name: &str, hash: &str, wasm: &[u8]) -> Result<Loaded> {
        let started = std::time::Instant::now();
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
        let pre = PluginPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("plugin {name} does not export the bkt:subsystem@1.0.0 contract")
            })?;
        let empty = bindings::Capabilities {
            queries: vec![],
            programs: vec![],
            reads: vec![],
            writes: vec![],
        };
        let mut session = Session::new(self, &pre, name, empty)?;
        let info = session
            .call(|p, s| p.bkt_subsystem_subsystem().call_info(s).map(Ok))
            .map_err(|e| anyhow::anyhow!("plugin {name}: info() failed: {e}"))?;
        tracing::debug!(target: "bkt::timing", "plugin {name}: loaded and instantiated in {} µs", started.elapsed().as_micros());
        Ok(Loaded { pre, info })
    }

    /// A fresh sandbox for `plugin`, with its declared read paths preopened.
    pub fn session(&self, plugin: &Loaded) -> Result<Session> {
        Session::new(
            self,
            &plugin.pre,
            &plugin.info.id,
            plugin.info.capabilities.clone(),
        )
    }
}

/// One store and instance: the plugin's calls for one command.
pub struct Session {
    store: Store<State>,
    instance: Plugin,
    stderr: MemoryOutputPipe,
    limits: Limits,
}

struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl Session {
    fn new(
        rt: &Runtime,
        pre: &PluginPre<State>,
        id: &str,
        caps: bindings::Capabilities,
    ) -> Result<Session> {
        let stderr = MemoryOutputPipe::new(64 << 10);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone())
            .stdout(MemoryOutputPipe::new(4 << 10))
            .wall_clock(FixedClock)
            .monotonic_clock(FixedClock)
            .secure_random(wasmtime_wasi::Deterministic::new(vec![4, 2]))
            .insecure_random(wasmtime_wasi::Deterministic::new(vec![4, 2]))
            .insecure_random_seed(42);
        for read in &caps.reads {
            match preopen(&rt.context, read) {
                Ok(Some((host, guest))) => {
                    wasi.preopened_dir(&host, &guest, FsPerms::ReadOnly)
                        .map_err(anyhow::Error::from)
                        .with_context(|| format!("opening {} for plugin {id}", host.display()))?;
                }
                Ok(None) => {}
                Err(reason) => tracing::warn!(plugin = id, "read path {read:?} ignored: {reason}"),
            }
        }
        let state = State {
            plugin: id.to_string(),
            caps,
            context: rt.context.clone(),
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryCap {
                limit: rt.limits.memory_bytes,
                hit: false,
            },
            refusals: Vec::new(),
        };
        let mut store = Store::new(&rt.engine, state);
        store.limiter(|s| &mut s.memory);
        store.set_epoch_deadline(ticks(rt.limits.timeout));
        let instance = pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("starting plugin {id}"))?;
        Ok(Session {
            store,
            instance,
            stderr,
            limits: rt.limits,
        })
    }

    pub fn plan(&mut self, manifest: Option<&str>) -> Result<Plan, CallError> {
        self.call(|p, s| p.bkt_subsystem_subsystem().call_plan(s, manifest))
    }

    pub fn capture(&mut self, manifest: Option<&str>) -> Result<String, CallError> {
        self.call(|p, s| p.bkt_subsystem_subsystem().call_capture(s, manifest))
    }

    pub fn render_section(&mut self, manifest: Option<&str>) -> Result<Vec<Section>, CallError> {
        self.call(|p, s| p.bkt_subsystem_subsystem().call_render_section(s, manifest))
    }

    pub fn edit(
        &mut self,
        manifest: Option<&str>,
        verb: &str,
        args: &[String],
    ) -> Result<EditResult, CallError> {
        self.call(|p, s| {
            p.bkt_subsystem_subsystem()
                .call_edit(s, manifest, verb, args)
        })
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&Plugin, &mut Store<State>) -> wasmtime::Result<Result<T, PluginErrorValue>>,
    ) -> Result<T, CallError> {
        self.store.set_epoch_deadline(ticks(self.limits.timeout));
        let result = f(&self.instance, &mut self.store);
        let state = self.store.data_mut();
        if !state.refusals.is_empty() {
            let tried = std::mem::take(&mut state.refusals);
            return Err(CallError::Refused(format!(
                "plugin {} tried to run `{}`, which it did not declare; the host refused",
                state.plugin,
                tried.join("`, `")
            )));
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(PluginErrorValue::InvalidManifest(e))) => Err(CallError::Invalid(e)),
            Ok(Err(PluginErrorValue::Unavailable(m))) => Err(CallError::Unavailable(m)),
            Ok(Err(PluginErrorValue::Failed(m))) => Err(CallError::Failed(m)),
            Err(trap) => Err(CallError::Crashed(self.crash_message(&trap))),
        }
    }

    fn crash_message(&self, trap: &wasmtime::Error) -> String {
        let state = self.store.data();
        let id = &state.plugin;
        if state.memory.hit {
            return format!(
                "plugin {id} needed more than {} MiB of memory and was stopped (raise it with --plugin-memory)",
                self.limits.memory_bytes >> 20
            );
        }
        if matches!(trap.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            return format!(
                "plugin {id} ran longer than {} s and was stopped (raise it with --plugin-timeout)",
                self.limits.timeout.as_secs_f64()
            );
        }
        let stderr = String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string();
        if let Some(panic) = panic_message(&stderr) {
            return format!("plugin {id} crashed: {panic}");
        }
        if stderr.is_empty() {
            format!("plugin {id} crashed: {trap:#}")
        } else {
            format!("plugin {id} crashed: {stderr}")
        }
    }
}

/// Rust's panic output (`thread '<unnamed>' (1) panicked at src/lib.rs:3:5:\nmessage\nnote: ...`)
/// as one line: `panicked at src/lib.rs:3:5: message`.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")?;
    let rest = &stderr[start..];
    let (location, message) = rest.split_once('\n').unwrap_or((rest, ""));
    let message: Vec<&str> = message
        .lines()
        .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    Some(
        format!("{} {}", location, message.join(" "))
            .trim()
            .to_string(),
    )
}

fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / TICK.as_millis()).max(1) as u64
}

/// Where a declared read path lives on the host, and the name the plugin sees. Absolute paths
/// are under the system root; `~/` paths under the user's home. Missing folders are skipped.
fn preopen(ctx: &Context, read: &str) -> std::result::Result<Option<(PathBuf, String)>, String> {
    let (base, rest, guest_base) = match read.strip_prefix("~/") {
        Some(rest) => (PathBuf::from(&ctx.home), rest, ctx.home.clone()),
        None if caps::is_clean_absolute(read) => (
            PathBuf::from(&ctx.root),
            read.trim_start_matches('/'),
            String::new(),
        ),
        None => return Err("must be absolute or start with ~/".into()),
    };
    if !caps::is_clean_absolute(&format!("/{rest}")) {
        return Err("must not contain `.` or `..`".into());
    }
    let host = base.join(rest);
    let Ok(real) = host.canonicalize() else {
        return Ok(None);
    };
    let real_base = base
        .canonicalize()
        .map_err(|e| format!("{}: {e}", base.display()))?;
    if !real.starts_with(&real_base) {
        return Err(format!(
            "{} leads outside {}",
            host.display(),
            real_base.display()
        ));
    }
    if !real.is_dir() {
        return Err("read paths must be folders".into());
    }
    let guest = format!(
        "{}/{}",
        guest_base.trim_end_matches('/'),
        rest.trim_end_matches('/')
    );
    Ok(Some((real, guest)))
}

/// The home folder of the user bkt acts for.
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Whether `root` is an ostree-based system.
pub fn is_ostree(root: &Path) -> bool {
    root.join("run/ostree-booted").exists() || root.join("ostree").is_dir()
}
