//! What a plugin's store holds, and the host imports it may call.

use super::bindings::bkt::subsystem::{host, types};
use super::bindings::{Capabilities, Context, Level, Output, QueryError};
use super::{caps, query};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct State {
    pub plugin: String,
    pub caps: Capabilities,
    pub context: Context,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub memory: MemoryCap,
    /// Queries the plugin tried without declaring them: reported after the call even if the
    /// plugin swallows the error.
    pub refusals: Vec<String>,
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
    /// Lets a declared query through; records and refuses the rest.
    fn admit(&mut self, argv: &[String]) -> Result<(), QueryError> {
        let grant = caps::Grant {
            caps: &self.caps,
            root: &self.context.root,
        };
        match grant.query(argv) {
            Ok(()) => Ok(()),
            Err(why) => {
                self.refusals.push(argv.join(" "));
                Err(query::refused(&self.plugin, &why))
            }
        }
    }
}

impl types::Host for State {}

impl host::Host for State {
    fn context(&mut self) -> Context {
        self.context.clone()
    }

    fn query(&mut self, argv: Vec<String>) -> Result<Output, QueryError> {
        self.admit(&argv)?;
        query::run(&self.plugin, &argv)
    }

    fn query_all(&mut self, argvs: Vec<Vec<String>>) -> Vec<Result<Output, QueryError>> {
        let queries = argvs
            .into_iter()
            .map(|argv| self.admit(&argv).map(|()| argv))
            .collect();
        query::run_all(&self.plugin, queries)
    }

    fn log(&mut self, level: Level, message: String) {
        let plugin = self.plugin.as_str();
        match level {
            Level::Error => tracing::error!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
        }
    }
}

/// A memory cap that remembers it was hit, so the error can say so instead of "unreachable".
pub struct MemoryCap {
    pub limit: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
