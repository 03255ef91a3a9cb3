//! Running a plugin's queries: argv only, no shell, no stdin, a stable locale.

use super::bindings::{Output, QueryError};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Processes spawned for queries in this run (shown by `-v`, read by the benchmark).
pub static SPAWNED: AtomicUsize = AtomicUsize::new(0);

pub fn run(plugin: &str, argv: &[String]) -> Result<Output, QueryError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(QueryError::Refused("an empty argv".into()));
    };
    SPAWNED.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(target: "bkt::query", plugin, "query: {}", argv.join(" "));
    let result = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        // Tools translate their messages; plugins parse them.
        .env("LC_ALL", "C.UTF-8")
        .output();
    match result {
        Ok(out) => Ok(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(QueryError::NotFound(format!(
            "{program} is not installed here"
        ))),
        Err(e) => Err(QueryError::Failed(format!("cannot run {program}: {e}"))),
    }
}

/// Runs the admitted queries at once, one thread each; results are in the order given and a
/// refused query keeps its refusal.
pub fn run_all(
    plugin: &str,
    queries: Vec<Result<Vec<String>, QueryError>>,
) -> Vec<Result<Output, QueryError>> {
    crate::parallel::map(&queries, |query| match query {
        Ok(argv) => run(plugin, argv),
        Err(refused) => Err(refused.clone()),
    })
    .into_iter()
    .map(|r| r.unwrap_or_else(|panic| Err(QueryError::Failed(panic))))
    .collect()
}

pub fn refused(plugin: &str, why: &str) -> QueryError {
    tracing::warn!("plugin {plugin} tried a query it did not declare: {why}");
    QueryError::Refused(format!("plugin {plugin} may not run it: {why}"))
}
