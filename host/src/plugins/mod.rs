//! Where plugins come from: compiled into the binary, or dropped into a plugin folder and
//! trusted by the user. Loading them all happens in parallel.

pub mod claims;
mod not_loaded;
mod source;
pub mod trust;

pub use claims::Claims;
pub use not_loaded::NotLoaded;
pub use source::{Origin, Source, plugin_dirs, read};

use crate::runtime::{Loaded, Runtime};

/// A plugin ready to use, or why it is not.
pub struct Entry {
    pub origin: Origin,
    pub name: String,
    pub sha256: String,
    pub plugin: Result<Loaded, NotLoaded>,
}

/// Loads the builtin plugins and the trusted third-party ones. Untrusted files are returned
/// with an error that says how to trust them; a file that declares other things than it did
/// when trusted, or a name another plugin holds, is refused.
pub fn load_all(rt: &Runtime, trusted: &trust::Stores) -> Vec<Entry> {
    let builtins = source::builtin();
    let files = source::discover();
    // A builtin's info is part of the binary: loading one takes less than starting a thread.
    // A file may have to be compiled, so files load in parallel.
    let loaded: Vec<_> = builtins
        .iter()
        .map(|src| Ok(load_one(rt, trusted, src)))
        .chain(crate::os::parallel::map(&files, |src| {
            load_one(rt, trusted, src)
        }))
        .collect();
    let entries = builtins
        .into_iter()
        .chain(files)
        .zip(loaded)
        .map(|(src, plugin)| Entry {
            origin: src.origin,
            name: src.name,
            sha256: src.sha256,
            plugin: plugin.map_err(|panic| NotLoaded(panic.0)).and_then(|p| p),
        })
        .collect();
    claim_names(entries)
}

/// One plugin, checked against its trust pin (a file must have one).
fn load_one(rt: &Runtime, trusted: &trust::Stores, src: &Source) -> Result<Loaded, NotLoaded> {
    let pinned = match (&src.origin, trusted.check(src)) {
        (Origin::File(_), Err(why)) => return Err(why),
        (_, Ok(pinned)) => pinned,
        (Origin::Builtin, Err(_)) => None,
    };
    let loaded = rt
        .load(&src.name, src.code())
        .map_err(|e| NotLoaded(format!("{e:#}")))?;
    if let Some(pinned) = pinned {
        trust::Store::check_declared(pinned, &loaded.info)?;
    }
    if let Origin::File(_) = src.origin {
        rt.check_own_folders(&loaded)
            .map_err(|e| NotLoaded(format!("{e:#}")))?;
    }
    Ok(loaded)
}

/// Every name a plugin answers to belongs to one plugin: its id, command word, manifest file
/// and each Containerfile section. Builtins come first and so win; a later plugin that claims
/// a taken name is not loaded, and the reason names both.
fn claim_names(mut entries: Vec<Entry>) -> Vec<Entry> {
    let mut claims = Claims::new();
    for e in &mut entries {
        if let Ok(p) = &e.plugin
            && let Err(why) = claims.claim(&p.info)
        {
            e.plugin = Err(why);
        }
    }
    entries
}
