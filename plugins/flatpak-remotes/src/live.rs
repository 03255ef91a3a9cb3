//! `flatpak remotes --columns=name,url,options`: every installation's remotes in one call.

use crate::manifest::Installation;
use std::collections::BTreeMap;

pub const REMOTES: &[&str] = &["flatpak", "remotes", "--columns=name,url,options"];

/// A remote on the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub url: String,
    pub verified: bool,
}

/// (installation, name) → the remote. The options say the installation (`user`, `system`)
/// and flags such as `no-gpg-verify`; a `disabled` remote counts as absent.
pub fn parse(stdout: &str) -> BTreeMap<(Installation, String), Live> {
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
        if let Some(inst) = options.iter().find_map(|o| Installation::parse(o)) {
            let verified = !options.contains(&"no-gpg-verify");
            let url = url.to_string();
            remotes.insert((inst, name.to_string()), Live { url, verified });
        }
    }
    remotes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_both_installations() {
        let remotes = parse(
            "flathub\thttps://dl.flathub.org/repo/\tsystem\nlocal\tfile:///r\tuser,no-gpg-verify\noff\thttps://x/\tuser,disabled\n",
        );
        assert_eq!(remotes.len(), 2);
        assert!(!remotes[&(Installation::User, "local".into())].verified);
        assert_eq!(
            remotes[&(Installation::System, "flathub".into())].url,
            "https://dl.flathub.org/repo/"
        );
    }
}
