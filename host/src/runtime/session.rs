//! One plugin's sandbox for one command: its store, instance, WASI context and limits, and
//! the calls into it with their errors made readable.

use super::caps;
use super::limits::{Limits, ticks};
use super::readings::Readings;
use super::state::{InstanceLimits, LogBudget, State};
use crate::model::since_v1_0_0::{Plugin, PluginPre, wit};
use crate::model::{
    CallError, Capabilities, EditResult, HostContext, Plan, PluginInfo, Section, SystemRoot,
};
use crate::os::text::printable;
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

/// More items than any manifest a person keeps: a plan this large is a runaway plugin.
const MAX_PLAN_ITEMS: usize = 200_000;

/// Who a sandbox is for and what it may reach.
pub struct Sandbox<'a> {
    pub id: &'a str,
    pub caps: Capabilities,
    /// The system its queries and effects act on.
    pub root: &'a SystemRoot,
    /// What the plugin is told about it.
    pub context: HostContext,
    /// Answers to queries shared with the command's other sessions (see [`Readings`]).
    pub readings: Option<std::sync::Arc<Readings>>,
    /// The call a sandbox with no capabilities is made for (see [`State::pure`]).
    pub pure: Option<&'static str>,
}

/// One store and instance: the plugin's calls for one command.
pub struct Session {
    store: Store<State>,
    instance: Plugin,
    stderr: MemoryOutputPipe,
    limits: Limits,
    /// The time limit of the call under way (shorter for `info`), for its error message.
    timeout: Duration,
}

/// How long `info` may take: it only describes the plugin, and it runs for every plugin on
/// every command, so a spinning `info` must not cost the full call limit each time.
pub const INFO_TIMEOUT: Duration = Duration::from_secs(2);

/// The most text `capture` may return: a manifest is a hand-edited JSON file, far smaller.
pub const CAPTURE_CAP: usize = 16 << 20;

/// The most host-side resources (open files, streams, pollables) a plugin may hold at once.
/// They live in bkt's memory, outside the plugin's memory cap; a plugin needs a few dozen.
const RESOURCES: usize = 10_000;

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
        engine: &wasmtime::Engine,
        limits: Limits,
        pre: &PluginPre<State>,
        sandbox: Sandbox,
    ) -> Result<Session> {
        let Sandbox {
            id,
            caps,
            root,
            context,
            readings,
            pure,
        } = sandbox;
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
            match preopen(root, &context.home, read) {
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
            root: root.clone(),
            context,
            wasi: wasi.build(),
            table: {
                let mut table = ResourceTable::new();
                table.set_max_capacity(RESOURCES);
                table
            },
            limits: InstanceLimits::new(limits.memory_bytes),
            refusals: Vec::new(),
            refused: 0,
            query_output: Default::default(),
            deadline: query_deadline(Instant::now(), limits.timeout),
            log: LogBudget::default(),
            readings,
            pure,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(ticks(limits.timeout));
        let started = Instant::now();
        let instance = pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("starting plugin {id}"))?;
        tracing::debug!(target: "bkt::timing", "plugin {id}: instantiated in {} µs", started.elapsed().as_micros());
        Ok(Session {
            store,
            instance,
            stderr,
            limits,
            timeout: limits.timeout,
        })
    }

    /// The plugin's description, with its own short time limit.
    pub(super) fn info(&mut self) -> Result<PluginInfo, CallError> {
        self.call_within(INFO_TIMEOUT.min(self.limits.timeout), |p, s| {
            p.bkt_subsystem_subsystem().call_info(s).map(Ok)
        })
        .map(PluginInfo::from)
    }

    pub fn plan(&mut self, manifest: Option<&str>) -> Result<Plan, CallError> {
        let plan = self.call(|p, s| p.bkt_subsystem_subsystem().call_plan(s, manifest))?;
        let items = plan.changes.len() + plan.agreed.len() + plan.problems.len();
        if items > MAX_PLAN_ITEMS {
            return Err(CallError::Refused(format!(
                "plugin {} returned a plan of {items} items; bkt takes at most {MAX_PLAN_ITEMS}",
                self.store.data().plugin
            )));
        }
        Ok(plan.into())
    }

    pub fn capture(
        &mut self,
        manifest: Option<&str>,
        take: &[String],
    ) -> Result<String, CallError> {
        let text = self.call(|p, s| p.bkt_subsystem_subsystem().call_capture(s, manifest, take))?;
        self.check_manifest("capture", text)
    }

    /// A manifest a plugin returned: bounded, and JSON (every manifest is), so that what is
    /// written to the repository is never a plugin's arbitrary bytes.
    fn check_manifest(&self, call: &str, text: String) -> Result<String, CallError> {
        let id = &self.store.data().plugin;
        if text.len() > CAPTURE_CAP {
            return Err(CallError::Failed(format!(
                "plugin {id}: {call} returned {} MiB, more than the {} MiB a manifest may be",
                text.len() >> 20,
                CAPTURE_CAP >> 20
            )));
        }
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            return Err(CallError::Failed(format!(
                "plugin {id}: {call} returned a manifest that is not valid JSON ({e}); nothing \
                 was written"
            )));
        }
        Ok(text)
    }

    pub fn render_section(&mut self, manifest: Option<&str>) -> Result<Vec<Section>, CallError> {
        self.call(|p, s| p.bkt_subsystem_subsystem().call_render_section(s, manifest))
            .map(|sections| sections.into_iter().map(Section::from).collect())
    }

    pub fn edit(
        &mut self,
        manifest: Option<&str>,
        verb: &str,
        args: &[String],
    ) -> Result<EditResult, CallError> {
        let mut result = self
            .call(|p, s| {
                p.bkt_subsystem_subsystem()
                    .call_edit(s, manifest, verb, args)
            })
            .map(EditResult::from)?;
        if let Some(text) = result.manifest.take() {
            result.manifest = Some(self.check_manifest("edit", text)?);
        }
        Ok(result)
    }

    /// Words that may come next after `verb ARGS` (shell completion). A plugin that fails
    /// or takes too long offers nothing: completion never prints an error.
    pub fn complete(&mut self, manifest: Option<&str>, verb: &str, args: &[String]) -> Vec<String> {
        self.call(|p, s| {
            p.bkt_subsystem_subsystem()
                .call_complete(s, manifest, verb, args)
                .map(Ok)
        })
        .map(|words| {
            words
                .into_iter()
                .filter(|w| !w.is_empty() && !w.chars().any(char::is_control))
                .take(MAX_COMPLETIONS)
                .collect()
        })
        .unwrap_or_default()
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&Plugin, &mut Store<State>) -> wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, CallError> {
        self.call_within(self.limits.timeout, f)
    }

    /// One call under `timeout`: the epoch deadline stops running code, and the queries it
    /// starts end a little earlier (see [`query_deadline`]). Every error comes back printable.
    fn call_within<T>(
        &mut self,
        timeout: Duration,
        f: impl FnOnce(&Plugin, &mut Store<State>) -> wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, CallError> {
        self.timeout = timeout;
        self.store.set_epoch_deadline(ticks(timeout));
        let state = self.store.data_mut();
        state.deadline = query_deadline(Instant::now(), timeout);
        state.log = LogBudget::default();
        state.query_output = Default::default();
        state.refused = 0;
        state.limits.hit = false;
        let result = f(&self.instance, &mut self.store);
        self.outcome(result)
    }

    fn outcome<T>(
        &mut self,
        result: wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, CallError> {
        let state = self.store.data_mut();
        if !state.refusals.is_empty() {
            let tried = std::mem::take(&mut state.refusals);
            let more = std::mem::take(&mut state.refused).saturating_sub(tried.len());
            let more = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            let why = match state.pure {
                Some(call) => format!("from {call}, which runs with no capabilities"),
                None => "which it did not declare".into(),
            };
            let message = format!(
                "plugin {} tried to run `{}`{more}, {why}; the host refused",
                state.plugin,
                tried.join("`, `")
            );
            return Err(CallError::Refused(printable(&message).into_owned()));
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            // The plugin's own error, its text made printable by the conversion.
            Ok(Err(e)) => Err(CallError::from(e)),
            Err(trap) => Err(CallError::Crashed(
                printable(&self.crash_message(&trap)).into_owned(),
            )),
        }
    }

    fn crash_message(&self, trap: &wasmtime::Error) -> String {
        let state = self.store.data();
        let id = &state.plugin;
        if state.limits.hit {
            return format!(
                "plugin {id} needed more than {} MiB of memory and was stopped (raise it with --plugin-memory)",
                self.limits.memory_bytes >> 20
            );
        }
        if matches!(trap.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            if self.timeout < self.limits.timeout {
                return format!(
                    "plugin {id}: info() ran longer than {} s and was stopped; describing a \
                     plugin must not take longer",
                    self.timeout.as_secs_f64()
                );
            }
            return format!(
                "plugin {id} ran longer than {} s and was stopped (raise it with --plugin-timeout)",
                self.timeout.as_secs_f64()
            );
        }
        // wasmtime bounds what one call may copy out of a plugin (its hostcall fuel).
        if format!("{trap:#}").contains("fuel allocated for hostcalls") {
            return format!(
                "plugin {id} returned more data in one call than bkt takes from a plugin, and was stopped"
            );
        }
        // Made printable with the rest of the error, after the panic is found in its lines.
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

/// The most words one completion offers: a shell shows them all.
const MAX_COMPLETIONS: usize = 1000;

/// When the queries of a call that started at `start` are killed: a tenth of the call's
/// time (at most a second) before the call itself is stopped, so that the plugin still has
/// time to report the query that did not finish, instead of being stopped with it.
fn query_deadline(start: Instant, timeout: Duration) -> Instant {
    start + timeout - (timeout / 10).min(Duration::from_secs(1))
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

/// Where a declared read path lives on the host, and the name the plugin sees. Absolute paths
/// are under the system root; `~/` paths under the user's home. Missing folders are skipped.
fn preopen(
    root: &SystemRoot,
    home: &str,
    read: &str,
) -> std::result::Result<Option<(PathBuf, String)>, String> {
    let (base, rest, guest) = match read.strip_prefix("~/") {
        // Without a home (a system service has no HOME) `~/` means nothing; joined to an
        // empty base it would mean `/`. Not opened, quietly: the boot unit runs this way.
        Some(_) if home.is_empty() || !home.starts_with('/') => {
            tracing::debug!("read path {read:?} not opened: there is no home folder");
            return Ok(None);
        }
        Some(rest) => {
            let guest = format!("{}/{}", home.trim_end_matches('/'), rest);
            let (base, rest) = crate::os::paths::xdg_base(home, rest);
            (base, rest, guest)
        }
        None if caps::is_clean_absolute(read) => (
            root.path().to_path_buf(),
            read.trim_start_matches('/'),
            read.to_string(),
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
    Ok(Some((real, guest.trim_end_matches('/').to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_reads_need_a_home() {
        let t = tempfile::tempdir().unwrap();
        let root = SystemRoot::at(t.path().to_path_buf());
        let home = t.path().join("home");
        std::fs::create_dir_all(home.join(".config/x")).unwrap();
        let (host, guest) = preopen(&root, home.to_str().unwrap(), "~/.config/x")
            .unwrap()
            .unwrap();
        assert_eq!(host, home.join(".config/x").canonicalize().unwrap());
        assert_eq!(guest, format!("{}/.config/x", home.display()));
        // No HOME: nothing is opened, least of all `/.config/x` or `/`.
        assert_eq!(preopen(&root, "", "~/.config/x"), Ok(None));
        assert_eq!(preopen(&root, "relative", "~/.config/x"), Ok(None));
    }
}
