//! What a plugin's store holds, and the host imports it may call.

use super::readings::Readings;
use super::{caps, query};
use crate::model::since_v1_0_0::{host, wit};
use crate::model::{Capabilities, HostContext, Level, Output, QueryError, SystemRoot};
use crate::os::text::printable;
use std::time::Instant;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How many refused queries one call's error names; the others are counted.
pub const NAMED_REFUSALS: usize = 5;

/// The most of a plugin's text one refusal quotes.
const QUOTED: usize = 300;

/// `text` cut to [`QUOTED`] characters, marked when cut.
fn shorten(text: &str) -> String {
    if text.chars().count() <= QUOTED {
        return text.to_string();
    }
    text.chars().take(QUOTED).collect::<String>() + " …"
}

/// What one call may log: past it, one line says so and the rest is dropped, so a plugin
/// cannot flood the terminal or a journal.
pub const LOG_LINES: usize = 200;
pub const LOG_BYTES: usize = 64 << 10;

pub struct State {
    pub plugin: String,
    pub caps: Capabilities,
    pub root: SystemRoot,
    pub context: HostContext,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: InstanceLimits,
    /// Queries the plugin tried without declaring them (the first few): reported after the
    /// call even if the plugin swallows the error.
    pub refusals: Vec<String>,
    /// How many it tried in all.
    pub refused: usize,
    /// When the current call's time is up: queries are killed then.
    pub deadline: Instant,
    /// What the current call's queries printed so far, bounded together.
    pub query_output: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub log: LogBudget,
    /// Answers to queries this command already asked, when it changes nothing in between.
    pub readings: Option<std::sync::Arc<Readings>>,
    /// The call this session is for when it is one that runs with no capabilities (`info`,
    /// `render-section`): named in what is refused.
    pub pure: Option<&'static str>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl State {
    /// Lets a declared query through, with the file of its program when the plugin
    /// declared where that is; records and refuses the rest.
    fn admit(&mut self, argv: Vec<String>) -> Result<query::Admitted, QueryError> {
        let grant = caps::Grant {
            caps: &self.caps,
            root: &self.root,
            home: &self.context.home,
        };
        match grant.query(&argv) {
            Ok(()) => {
                let program = argv.first().and_then(|name| grant.program_path(name));
                Ok(query::Admitted { argv, program })
            }
            // Declared, but not safe on this root: refused, not held against the plugin.
            Err(why @ caps::Refusal::OutsideRoot(_)) => Err(QueryError::Refused(
                printable(&format!("plugin {} may not run it: {why}", self.plugin)).into_owned(),
            )),
            Err(why) => {
                // A few are kept to name; the rest are counted, so a plugin that tries a
                // million queries costs a number, not a million lines.
                self.refused += 1;
                if self.refusals.len() < NAMED_REFUSALS {
                    self.refusals.push(shorten(&argv.join(" ")));
                }
                let why = match self.pure {
                    Some(call) => format!("`{}`: {call} runs with no capabilities", argv.join(" ")),
                    None => why.to_string(),
                };
                Err(query::refused(
                    &self.plugin,
                    &shorten(&why),
                    self.refused == 1,
                ))
            }
        }
    }

    /// What `argv` printed earlier in this command (see [`Readings`]).
    fn recall(&self, argv: &[String]) -> Option<Output> {
        self.readings.as_ref()?.recall(&self.plugin, argv)
    }

    fn keep(&self, argv: &[String], out: &Output) {
        if let Some(readings) = &self.readings {
            readings.keep(&self.plugin, argv, out);
        }
    }

    /// The admitted queries' results, in their order: each one this command already ran is
    /// answered from what it printed then (see [`Readings`]), the others run together and
    /// are kept; a refusal stays a refusal.
    fn answer(
        &self,
        admitted: Vec<Result<query::Admitted, QueryError>>,
    ) -> Vec<Result<Output, QueryError>> {
        let mut results: Vec<Option<Result<Output, QueryError>>> = admitted
            .iter()
            .map(|q| match q {
                Ok(q) => self.recall(&q.argv).map(Ok),
                Err(refused) => Some(Err(refused.clone())),
            })
            .collect();
        let to_run: Vec<(usize, query::Admitted)> = admitted
            .into_iter()
            .enumerate()
            .filter(|(i, _)| results[*i].is_none())
            .filter_map(|(i, q)| q.ok().map(|q| (i, q)))
            .collect();
        let queries = to_run.iter().map(|(_, q)| Ok(q.clone())).collect();
        for ((i, q), result) in
            to_run
                .iter()
                .zip(query::run_all(&self.plugin, queries, &self.bounds()))
        {
            if let Ok(out) = &result {
                self.keep(&q.argv, out);
            }
            results[*i] = Some(result);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(QueryError::Failed(format!(
                        "plugin {}: a query's result went missing",
                        self.plugin
                    )))
                })
            })
            .collect()
    }

    fn bounds(&self) -> query::Bounds {
        query::Bounds {
            spent: self.query_output.clone(),
            deadline: self.deadline,
            output_cap: query::OUTPUT_CAP,
        }
    }
}

impl wit::Host for State {}

/// The host imports of the contract: each converts at its edge, and works in host types.
impl host::Host for State {
    fn context(&mut self) -> wit::HostContext {
        self.context.clone().into()
    }

    fn query(&mut self, argv: Vec<String>) -> Result<wit::Output, wit::QueryError> {
        let admitted = vec![self.admit(argv)];
        self.answer(admitted)
            .pop()
            .unwrap_or_else(|| Err(QueryError::Failed("a query went unanswered".into())))
            .map(Into::into)
            .map_err(Into::into)
    }

    fn query_all(&mut self, argvs: Vec<Vec<String>>) -> Vec<Result<wit::Output, wit::QueryError>> {
        let admitted = argvs.into_iter().map(|argv| self.admit(argv)).collect();
        self.answer(admitted)
            .into_iter()
            .map(|r| r.map(Into::into).map_err(Into::into))
            .collect()
    }

    fn log(&mut self, level: host::Level, message: String) {
        let level = Level::from(level);
        let plugin = self.plugin.as_str();
        match self.log.admit(message.len()) {
            Admit::Yes => {}
            Admit::LastWord => {
                tracing::warn!(
                    "plugin {plugin}: further log lines dropped (at most {LOG_LINES} lines or \
                     {} KiB per call)",
                    LOG_BYTES >> 10
                );
                return;
            }
            Admit::No => return,
        }
        let message = printable(&message);
        match level {
            Level::Error => tracing::error!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
        }
    }
}

/// Lines and bytes logged in the current call.
#[derive(Default)]
pub struct LogBudget {
    lines: usize,
    bytes: usize,
    dropped: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Yes,
    /// The first line over budget: say that the rest is dropped.
    LastWord,
    No,
}

impl LogBudget {
    fn admit(&mut self, len: usize) -> Admit {
        if self.dropped {
            return Admit::No;
        }
        if self.lines < LOG_LINES && self.bytes + len <= LOG_BYTES {
            self.lines += 1;
            self.bytes += len;
            return Admit::Yes;
        }
        self.dropped = true;
        Admit::LastWord
    }
}

/// Sleeps and polls on the plugin's clock return at once. The plugin's clock is fixed (it
/// reads 0 always), so waiting could never end any sooner on it, and a plugin waiting inside
/// a host call is out of reach of the epoch deadline: `std::thread::sleep(3600 s)` would
/// hang bkt for an hour. Registered over WASI's own monotonic clock.
impl monotonic_clock::Host for State {
    fn now(&mut self) -> Result<monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> Result<monotonic_clock::Duration> {
        Ok(1_000_000_000)
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> Result<Resource<DynPollable>> {
        self.ready_now()
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> Result<Resource<DynPollable>> {
        self.ready_now()
    }
}

impl State {
    fn ready_now(&mut self) -> Result<Resource<DynPollable>> {
        let ready = self.table.push(ReadyNow)?;
        wasmtime_wasi::p2::subscribe(&mut self.table, ready)
    }
}

/// A pollable that is always ready.
struct ReadyNow;

#[wasmtime_wasi::async_trait]
impl Pollable for ReadyNow {
    async fn ready(&mut self) {}
}

/// Caps on everything an instance holds: the sum of all its linear memories, the sum of its
/// table elements, and how many instances, tables and memories it may create. Remembers
/// that the memory cap was hit, so the error can say so instead of "unreachable".
pub struct InstanceLimits {
    pub memory_limit: usize,
    pub hit: bool,
    /// Bytes of all memories together. Memories only grow, and one store grows them one at a
    /// time, so the sum of granted growths is the current total.
    memory_total: usize,
    /// The last growth granted, taken back if wasmtime then fails to grow.
    memory_pending: usize,
    table_total: usize,
    table_pending: usize,
}

/// Most table elements of all tables together; a plugin needs a few thousand.
const TABLE_ELEMENTS: usize = 1_000_000;
/// Most core instances, tables and memories: a component compiled from Rust has about ten
/// instances, a few tables and one or two memories.
const INSTANCES: usize = 100;
const TABLES: usize = 100;
const MEMORIES: usize = 16;

impl InstanceLimits {
    pub fn new(memory_limit: usize) -> InstanceLimits {
        InstanceLimits {
            memory_limit,
            hit: false,
            memory_total: 0,
            memory_pending: 0,
            table_total: 0,
            table_pending: 0,
        }
    }
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.memory_total.saturating_add(growth);
        if total > self.memory_limit {
            self.hit = true;
            return Ok(false);
        }
        self.memory_total = total;
        self.memory_pending = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> Result<()> {
        self.memory_total -= std::mem::take(&mut self.memory_pending);
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.table_total.saturating_add(growth);
        if total > TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_total = total;
        self.table_pending = growth;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> Result<()> {
        self.table_total -= std::mem::take(&mut self.table_pending);
        Ok(())
    }

    fn instances(&self) -> usize {
        INSTANCES
    }

    fn tables(&self) -> usize {
        TABLES
    }

    fn memories(&self) -> usize {
        MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_counts_every_memory_together() {
        let mut l = InstanceLimits::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        // A second memory: 60 + 50 is over 100, although each alone is under.
        assert!(!l.memory_growing(0, 50, None).unwrap());
        assert!(l.hit);
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert!(!l.memory_growing(60, 61, None).unwrap());
        // A growth that wasmtime could not make is not counted.
        let mut l = InstanceLimits::new(100);
        assert!(l.memory_growing(0, 90, None).unwrap());
        l.memory_grow_failed(wasmtime::Error::msg("no")).unwrap();
        assert!(l.memory_growing(0, 90, None).unwrap());
    }

    #[test]
    fn table_elements_are_capped_across_tables() {
        let mut l = InstanceLimits::new(100);
        assert!(l.table_growing(0, TABLE_ELEMENTS / 2, None).unwrap());
        assert!(l.table_growing(0, TABLE_ELEMENTS / 2, None).unwrap());
        assert!(!l.table_growing(0, 1, None).unwrap());
        assert!(l.instances() < 10_000 && l.tables() < 10_000 && l.memories() < 10_000);
    }

    #[test]
    fn the_log_budget_says_once_that_lines_are_dropped() {
        let mut b = LogBudget::default();
        for _ in 0..LOG_LINES {
            assert_eq!(b.admit(10), Admit::Yes);
        }
        assert_eq!(b.admit(10), Admit::LastWord);
        assert_eq!(b.admit(10), Admit::No);
        let mut b = LogBudget::default();
        assert_eq!(b.admit(LOG_BYTES), Admit::Yes);
        assert_eq!(b.admit(1), Admit::LastWord);
    }
}
