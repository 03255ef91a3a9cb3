//! One plugin's sandbox for one command: its store, instance, WASI context and limits, and
//! the calls into it with their errors made readable.

use super::bindings::{
    Capabilities, Context, EditResult, Plan, Plugin, PluginErrorValue, PluginPre, Section,
};
use super::state::{MemoryCap, State};
use super::{CallError, Limits, Runtime, TICK, caps};
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

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
    pub(super) fn new(
        rt: &Runtime,
        pre: &PluginPre<State>,
        id: &str,
        caps: Capabilities,
        context: Context,
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
            match preopen(&context, read) {
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
            context,
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

    pub fn capture(
        &mut self,
        manifest: Option<&str>,
        take: &[String],
    ) -> Result<String, CallError> {
        self.call(|p, s| p.bkt_subsystem_subsystem().call_capture(s, manifest, take))
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

    pub(super) fn call<T>(
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
