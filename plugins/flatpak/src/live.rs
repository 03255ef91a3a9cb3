//! What flatpak reports: one `flatpak list` for the apps and one `flatpak remotes` for the
//! remotes of every installation, and the override files, read through preopened folders.

use crate::manifest::Installation;
use crate::overrides::{self, Overrides};
use std::collections::BTreeMap;

pub const LIST: &[&str] = &[
    "flatpak",
    "list",
    "--app",
    "--columns=application,origin,branch,installation,active",
];
pub const REMOTES: &[&str] = &["flatpak", "remotes", "--columns=name,url,options"];

/// Where each installation keeps its overrides; read-only preopens of these folders.
pub const USER_OVERRIDES: &str = "~/.local/share/flatpak/overrides";
pub const SYSTEM_OVERRIDES: &str = "/var/lib/flatpak/overrides";

/// An installed app.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    pub origin: String,
    pub branch: String,
    /// The deployed commit, as flatpak lists it (its first 12 characters).
    pub commit: String,
}

#[derive(Debug, Default)]
pub struct Live {
    /// (installation, app id) → the installed branches, in flatpak's order.
    pub apps: BTreeMap<(Installation, String), Vec<Installed>>,
    /// (installation, remote name) → URL.
    pub remotes: BTreeMap<(Installation, String), String>,
    /// The remotes added with `--no-gpg-verify`.
    pub unverified: std::collections::BTreeSet<(Installation, String)>,
    /// (installation, app id) → overrides, for the apps that have an override file.
    pub overrides: BTreeMap<(Installation, String), Overrides>,
}

/// `flatpak list --app --columns=application,origin,branch,installation,active`: tab-separated rows
/// without a header (flatpak prints none when not on a terminal). Rows of other, custom
/// installations are left out: bkt manages `--user` and `--system`.
pub fn parse_list(stdout: &str) -> BTreeMap<(Installation, String), Vec<Installed>> {
    let mut apps: BTreeMap<_, Vec<Installed>> = BTreeMap::new();
    for line in stdout.lines() {
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [id, origin, branch, installation, commit] = cols[..] else {
            continue;
        };
        let Some(inst) = Installation::parse(installation) else {
            continue;
        };
        apps.entry((inst, id.to_string()))
            .or_default()
            .push(Installed {
                origin: origin.to_string(),
                branch: branch.to_string(),
                commit: commit.to_string(),
            });
    }
    apps
}

/// Which remotes `flatpak remotes` marks `no-gpg-verify`.
pub fn parse_unverified(stdout: &str) -> std::collections::BTreeSet<(Installation, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
            let [name, _, options] = cols[..] else {
                return None;
            };
            let options: Vec<&str> = options.split(',').map(str::trim).collect();
            let inst = options.iter().find_map(|o| Installation::parse(o))?;
            options
                .contains(&"no-gpg-verify")
                .then(|| (inst, name.to_string()))
        })
        .collect()
}

/// `flatpak remotes --columns=name,url,options`: the options say the installation (`user`,
/// `system`) and flags such as `disabled`. A disabled remote counts as absent.
pub fn parse_remotes(stdout: &str) -> BTreeMap<(Installation, String), String> {
    let mut remotes = BTreeMap::new();
    for line in stdout.lines() {
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [name, url, options] = cols[..] else {
            continue;
        };
        let options: Vec<&str> = options.split(',').map(str::trim).collect();
        if options.contains(&"disabled") {
            continue;
        }
        let inst = options.iter().find_map(|o| Installation::parse(o));
        if let Some(inst) = inst {
            remotes.insert((inst, name.to_string()), url.to_string());
        }
    }
    remotes
}

/// The override files of both installations (missing folders are simply empty).
pub fn read_overrides(home: &str) -> BTreeMap<(Installation, String), Overrides> {
    let mut out = BTreeMap::new();
    let user = USER_OVERRIDES.replacen('~', home.trim_end_matches('/'), 1);
    for (inst, dir) in [
        (Installation::User, user.as_str()),
        (Installation::System, SYSTEM_OVERRIDES),
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            // `global` holds overrides for every app; bkt tracks per-app ones.
            if id == "global" || crate::manifest::check_app_id(&id).is_err() {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                let o = overrides::parse_keyfile(&text);
                if !o.is_empty() {
                    out.insert((inst, id), o);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_both_installations() {
        let list = "org.a.App\tflathub\tstable\tsystem\t0123456789ab\norg.a.App\tlocal\tbeta\tuser\tba9876543210\norg.b.C\tx\tstable\tcustom-inst\t111111111111\nbroken line\n";
        let apps = parse_list(list);
        assert_eq!(apps.len(), 2);
        assert_eq!(
            apps[&(Installation::User, "org.a.App".into())][0].branch,
            "beta"
        );
        assert_eq!(
            apps[&(Installation::System, "org.a.App".into())][0].commit,
            "0123456789ab"
        );
        let remotes = parse_remotes(
            "flathub\thttps://dl.flathub.org/repo/\tsystem\nlocal\tfile:///r\tuser,no-gpg-verify\noff\thttps://x/\tuser,disabled\n",
        );
        assert_eq!(remotes.len(), 2);
        assert_eq!(remotes[&(Installation::User, "local".into())], "file:///r");
    }
}
