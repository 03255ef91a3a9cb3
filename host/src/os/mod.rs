//! The bottom layer: what bkt needs from the operating system, with no knowledge of plugins
//! or manifests. Paths and XDG folders, identity and who may change a file, hashing, text for
//! people, time, atomic and no-follow writes, child processes with a cleared environment,
//! bkt's config files, running work on every item at once, and parts of bkt's own executable
//! mapped from its file.

/// Declares an error type that is a sentence for people: why something is refused or
/// failed. A type of its own per kind of refusal, so a caller cannot pass one off as another.
macro_rules! reason {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::error::Error for $name {}
    };
}
pub(crate) use reason;

pub mod atomic;
pub mod config;
pub mod diff;
pub mod git;
pub mod hash;
pub mod identity;
pub mod nofollow;
pub mod own_image;
pub mod parallel;
pub mod paths;
pub mod process;
pub mod session_bus;
pub mod staging;
pub mod text;
pub mod time;
