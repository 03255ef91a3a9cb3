//! Why a plugin file is not loaded.

crate::os::reason!(
    /// Why a plugin is not loaded: untrusted, changed since it was trusted, declaring other
    /// things, claiming a name another plugin holds, or not loading at all.
    NotLoaded
);
