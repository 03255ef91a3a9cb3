//! `-v` / RUST_LOG through tracing, to stderr.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, color: super::style::ColorChoice) {
    // -v: what bkt runs (queries and effects); -vv: also timings and plugin debug logs;
    // -vvv: everything, from every library.
    let default = match verbose {
        0 => "warn",
        1 => "warn,bkt=info,bkt::query=debug,bkt::exec=debug",
        2 => "info,bkt=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color.colours(std::io::stderr().is_terminal()))
        .with_target(false);
    // With timings, each line says when it happened (seconds since bkt started logging).
    let _ = if verbose >= 2 {
        builder
            .with_timer(tracing_subscriber::fmt::time::Uptime::default())
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}
