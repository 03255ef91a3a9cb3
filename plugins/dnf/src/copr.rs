//! COPR repositories on the machine: the repo files `dnf copr enable` writes into
//! `/etc/yum.repos.d`, which is also how an enabled one is recognised.

const PREFIX: &str = "_copr:copr.fedorainfracloud.org:";

/// The file `dnf copr enable OWNER/PROJECT` writes (`@group` owners become `group_group`).
pub fn file_name(repo: &str) -> String {
    let (owner, project) = repo.split_once('/').unwrap_or((repo, ""));
    let owner = match owner.strip_prefix('@') {
        Some(group) => format!("group_{group}"),
        None => owner.to_string(),
    };
    format!("{PREFIX}{owner}:{project}.repo")
}

/// The `OWNER/PROJECT` a repo file name belongs to, if it is a COPR one.
pub fn repo_of(file_name: &str) -> Option<String> {
    let rest = file_name.strip_prefix(PREFIX)?.strip_suffix(".repo")?;
    let (owner, project) = rest.split_once(':')?;
    let owner = match owner.strip_prefix("group_") {
        Some(group) => format!("@{group}"),
        None => owner.to_string(),
    };
    Some(format!("{owner}/{project}"))
}

/// Whether a repo file leaves its repository enabled (`enabled=0` turns it off).
pub fn enabled(text: &str) -> bool {
    !has_setting(text, "enabled=0")
}

/// A repo file's `key=value` line, spaces ignored.
fn has_setting(text: &str, setting: &str) -> bool {
    text.lines()
        .map(|l| l.replace(' ', ""))
        .any(|l| l == setting)
}

/// The state a repo file gives its COPR repository, as the manifest writes it.
pub fn state(text: &str) -> &'static str {
    if !enabled(text) {
        crate::manifest::DISABLED
    } else if has_setting(text, "gpgcheck=0") {
        crate::manifest::ENABLED_UNSIGNED
    } else {
        crate::manifest::ENABLED
    }
}

/// What `dnf copr enable` writes for Fedora, for systems where bkt writes it itself (an ostree
/// system, where dnf does not manage packages, or a mounted root).
pub fn repo_file(repo: &str, gpg_check: bool) -> String {
    let (owner, project) = repo.split_once('/').unwrap_or((repo, ""));
    let id = file_name(repo)
        .trim_start_matches('_')
        .trim_end_matches(".repo")
        .to_string();
    let base = format!("https://download.copr.fedorainfracloud.org/results/{owner}/{project}");
    let gpgcheck = u8::from(gpg_check);
    format!(
        "[{id}]\nname=Copr repo for {project} owned by {owner}\nbaseurl={base}/fedora-$releasever-$basearch/\ntype=rpm-md\nskip_if_unavailable=True\ngpgcheck={gpgcheck}\ngpgkey={base}/pubkey.gpg\nrepo_gpgcheck=0\nenabled=1\nenabled_metadata=1\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for repo in ["atim/starship", "@gnome/shell"] {
            assert_eq!(repo_of(&file_name(repo)).as_deref(), Some(repo));
        }
        assert_eq!(
            file_name("atim/starship"),
            "_copr:copr.fedorainfracloud.org:atim:starship.repo"
        );
        assert_eq!(repo_of("fedora.repo"), None);
        assert!(
            repo_file("atim/starship", true)
                .starts_with("[copr:copr.fedorainfracloud.org:atim:starship]\n")
        );
        assert!(enabled(&repo_file("a/b", true)));
        assert!(!enabled("[x]\nenabled = 0\n"));
        assert_eq!(state(&repo_file("a/b", true)), crate::manifest::ENABLED);
        assert_eq!(
            state(&repo_file("a/b", false)),
            crate::manifest::ENABLED_UNSIGNED
        );
        assert_eq!(state("[x]\nenabled=0\n"), crate::manifest::DISABLED);
    }
}
