//! Words a plugin verb may take next, for shell completion: asked of the plugin, with its
//! manifest, and filtered to the word being typed. Never fails: no answer is no words.

use crate::app::App;

/// What may follow `bkt COMMAND VERB TYPED...`, starting with `prefix`.
pub fn next_words(
    app: &App,
    command: &str,
    verb: &str,
    typed: &[String],
    prefix: &str,
) -> Vec<String> {
    let Some(plugin) = app.by_command(command) else {
        return Vec::new();
    };
    if !plugin.info.verbs.iter().any(|v| v.name == verb) {
        return Vec::new();
    }
    let manifest = app
        .repo()
        .ok()
        .and_then(|repo| repo.read_manifest(&plugin.info.manifest).ok().flatten());
    let Ok(mut session) = app.rt.session(plugin) else {
        return Vec::new();
    };
    let mut words: Vec<String> = session
        .complete(manifest.as_deref(), verb, typed)
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect();
    words.sort();
    words.dedup();
    words
}
