//! What the user's home holds: the shim files in `~/.local/toolbox/shims/` and, for each, the
//! entry of the same name in `~/.local/bin/`. Read through the folders bkt opens read-only
//! for the plugin; a folder that does not exist holds nothing.

use crate::script;
use std::collections::BTreeMap;
use std::path::Path;

/// `~/.local/bin/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Missing,
    Symlink(String),
    File(String),
}

impl Link {
    /// Whether it is the link bkt makes for the shim (a symlink from skel, or the small
    /// script a file effect writes).
    pub fn is_ours(&self, name: &str) -> bool {
        match self {
            Link::Missing => false,
            Link::Symlink(target) => *target == script::link_target(name),
            Link::File(text) => *text == script::link_text(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shim {
    pub text: String,
    pub link: Link,
}

pub type Shims = BTreeMap<String, Shim>;

/// A `~/` folder as the plugin sees it.
pub fn folder(home: &str, dir: &str) -> String {
    dir.replacen('~', home.trim_end_matches('/'), 1)
}

fn link(bin: &Path, name: &str) -> Link {
    let path = bin.join(name);
    match std::fs::symlink_metadata(&path) {
        Err(_) => Link::Missing,
        Ok(meta) if meta.file_type().is_symlink() => Link::Symlink(
            std::fs::read_link(&path)
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        Ok(_) => Link::File(
            std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
        ),
    }
}

/// Every file in the shims folder, with its link.
pub fn read(home: &str) -> Shims {
    let dir = folder(home, script::SHIMS_DIR);
    let bin = folder(home, script::BIN_DIR);
    let mut shims = Shims::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return shims;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let link = link(Path::new(&bin), &name);
        shims.insert(
            name,
            Shim {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                link,
            },
        );
    }
    shims
}

/// The link of a name that has no shim file (it may still have one).
pub fn link_of(home: &str, name: &str) -> Link {
    link(Path::new(&folder(home, script::BIN_DIR)), name)
}
