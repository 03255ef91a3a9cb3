//! Package groups (`groups` in the manifest) on the machine.
//!
//! The image installs them (SYSTEM_PACKAGES). On a dnf system bkt reads which groups are
//! installed from dnf's own record (`dnf group list --ids installed`, from its cache, so no
//! network) and installs a missing one with `dnf group install`. rpm-ostree cannot layer
//! groups: on an ostree system a group comes only with the image, and status says so.
//! Groups installed here but not in the manifest are not reported: the installer records
//! groups of its own (`core`, ...) that nobody chose.

use crate::manifest::{Manifest, group_id};
use bkt_sdk::{Agreed, Change, Context, Effect, Problem, Scope, agreed, change, strings, warning};
use std::collections::BTreeSet;

/// `dnf group list --ids installed`, from the cache only: `NAME (ID)` lines.
pub const LIST: &[&str] = &["dnf", "-q", "group", "list", "--ids", "installed", "-C"];

/// What bkt knows of the groups installed here.
pub enum Installed {
    /// The ids of the installed groups.
    Known(BTreeSet<String>),
    /// An ostree system: groups come with the image.
    ImageOnly,
    /// dnf could not say (why).
    Unknown(String),
}

/// The argv of [`LIST`] for this context (inside `root` when it is not `/`).
pub fn list_argv(root: Option<&str>) -> Vec<String> {
    let mut argv = strings(LIST);
    if let Some(root) = root {
        argv.push(format!("--installroot={root}"));
    }
    argv
}

/// The group ids in the output of [`LIST`]: each group is `   Name (id)`.
pub fn parse_ids(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let inner = line.trim_end().strip_suffix(')')?;
            let open = inner.rfind(" (")?;
            Some(inner[open + 2..].to_string())
        })
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
        .collect()
}

/// The item id of a group, apart from package names.
pub fn item_id(group: &str) -> String {
    format!("group:{}", group_id(group))
}

/// `dnf group install -y [--installroot=ROOT] ID`.
fn install(root: Option<&str>, id: &str) -> Effect {
    let mut argv = strings(&["dnf", "group", "install", "-y"]);
    if let Some(root) = root {
        argv.push(format!("--installroot={root}"));
    }
    argv.push(id.into());
    bkt_sdk::run_batched(&argv, Scope::System)
}

/// A change for each manifest group dnf does not have installed here.
pub fn missing(ctx: &Context, m: &Manifest, installed: &Installed) -> Vec<Change> {
    let Installed::Known(ids) = installed else {
        return Vec::new();
    };
    let root = (ctx.root != "/").then_some(ctx.root.as_str());
    m.groups
        .iter()
        .filter(|g| !ids.contains(group_id(g)))
        .map(|g| {
            change(
                item_id(g),
                format!("group {} is not installed", group_id(g)),
                Some("installed".into()),
                None,
                Scope::System,
                vec![install(root, group_id(g))],
            )
        })
        .collect()
}

/// The manifest groups this machine has, as agreed.
pub fn agreed_items(m: &Manifest, installed: &Installed) -> Vec<Agreed> {
    let Installed::Known(ids) = installed else {
        return Vec::new();
    };
    m.groups
        .iter()
        .filter(|g| ids.contains(group_id(g)))
        .map(|g| agreed(item_id(g), "installed", Scope::System))
        .collect()
}

/// Where bkt cannot tell or cannot act, one note per group saying why.
pub fn notes(m: &Manifest, installed: &Installed) -> Vec<Problem> {
    let why = match installed {
        Installed::Known(_) => return Vec::new(),
        Installed::ImageOnly => {
            "comes with the image (SYSTEM_PACKAGES): rpm-ostree cannot layer groups".to_string()
        }
        Installed::Unknown(why) => format!("is installed by the image; on this machine {why}"),
    };
    m.groups
        .iter()
        .map(|g| warning(item_id(g), format!("group {} {why}", group_id(g))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_the_installed_list() {
        // dnf 4.14 (`dnf -q group list --ids installed -C`), in a root with one group.
        let out = "Installed Groups:\n   Test Tools (test-tools)\n   Development Tools (development-tools)\n";
        assert_eq!(
            parse_ids(out),
            ["development-tools", "test-tools"]
                .map(String::from)
                .into_iter()
                .collect()
        );
        assert!(parse_ids("Installed Groups:\n").is_empty());
    }
}
