//! What bounds a plugin call: its time and its memory.

use std::time::Duration;

/// How often the epoch clock ticks: a time limit is kept to within one tick.
pub const TICK: Duration = Duration::from_millis(10);

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

/// `timeout` in ticks of the epoch clock, at least one.
pub fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / TICK.as_millis()).max(1) as u64
}
