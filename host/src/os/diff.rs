//! Unified diffs of files bkt is about to change.

use super::atomic::FileChange;
use similar::TextDiff;

pub fn unified(name: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// The diff of a file bkt is about to write (a new file diffs against nothing).
pub fn of_change(c: &FileChange) -> String {
    let old = c
        .old
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    unified(&c.name, &old, &String::from_utf8_lossy(&c.new))
}
