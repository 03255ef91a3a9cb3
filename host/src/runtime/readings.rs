//! The machine's answers to queries, kept for the rest of one command that changes nothing
//! on it: `bkt capture` plans, then asks the plugins that have something to take for their new
//! manifests, and their capture reads the same state again. Answered from here, it takes what
//! the plan showed and costs no second listing.
//!
//! Only a command that runs no effect between the two may share one: after an effect the
//! machine's answers are new ones (apply verifies by asking again).

use crate::model::Output;
use std::collections::HashMap;
use std::sync::Mutex;

/// What each plugin's queries (by their whole argv) printed, and how they ended. Kept per
/// plugin: two plugins may declare one program name at different places.
#[derive(Default)]
pub struct Readings(Mutex<HashMap<(String, Vec<String>), Output>>);

impl Readings {
    pub fn new() -> std::sync::Arc<Readings> {
        std::sync::Arc::new(Readings::default())
    }

    /// What `argv` printed for `plugin` before in this command, if it ran.
    pub fn recall(&self, plugin: &str, argv: &[String]) -> Option<Output> {
        self.0
            .lock()
            .ok()?
            .get(&(plugin.to_string(), argv.to_vec()))
            .cloned()
    }

    pub fn keep(&self, plugin: &str, argv: &[String], output: &Output) {
        if let Ok(mut known) = self.0.lock() {
            known.insert((plugin.to_string(), argv.to_vec()), output.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn an_answer_is_recalled_for_the_same_argv_only() {
        let readings = Readings::default();
        let out = Output {
            status: 0,
            stdout: "htop\n".into(),
            stderr: String::new(),
        };
        readings.keep("dnf", &argv(&["rpm", "-qa"]), &out);
        assert_eq!(readings.recall("dnf", &argv(&["rpm", "-qa"])), Some(out));
        assert_eq!(
            readings.recall("dnf", &argv(&["rpm", "-qa", "--root", "/mnt"])),
            None
        );
        assert_eq!(readings.recall("other", &argv(&["rpm", "-qa"])), None);
    }
}
