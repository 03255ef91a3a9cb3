//! The Containerfile sections: COPR_REPOS, then SYSTEM_PACKAGES. An empty list renders a
//! comment, never a broken RUN. Lists are rendered sorted, whatever order the manifest keeps.

use crate::copr;
use crate::manifest::{Copr, Manifest, group_id};

pub fn copr_repos(m: &Manifest) -> Vec<String> {
    let mut repos: Vec<&Copr> = m.copr_repos.iter().filter(|c| c.enabled()).collect();
    repos.sort_by(|a, b| a.name().cmp(b.name()));
    if repos.is_empty() {
        return vec![
            "# No COPR repositories (`bkt dnf copr enable OWNER/PROJECT` adds one)".into(),
        ];
    }
    let mut commands = Vec::new();
    for c in repos {
        commands.push(format!("dnf copr enable -y {}", c.name()));
        // `dnf copr enable` always checks signatures; an entry with `"gpg_check": false`
        // turns that off in the file it wrote.
        if !c.gpg_check() {
            commands.push(format!(
                "sed -i 's/^gpgcheck=1/gpgcheck=0/' '/etc/yum.repos.d/{}'",
                copr::file_name(c.name())
            ));
        }
    }
    let last = commands.len() - 1;
    commands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let lead = if i == 0 { "RUN " } else { "    " };
            let tail = if i == last { "" } else { " && \\" };
            format!("{lead}{c}{tail}")
        })
        .collect()
}

/// `    WORD \`: one word of a continued `RUN`, built without `format!` (there can be
/// thousands).
fn continued(word: &str) -> String {
    let mut line = String::with_capacity(word.len() + 6);
    line.push_str("    ");
    line.push_str(word);
    line.push_str(" \\");
    line
}

/// One `dnf install` for packages and groups (`@group`), with the excluded packages kept
/// out of it; then one `dnf remove` for excluded packages the base image brings.
pub fn system_packages(m: &Manifest) -> Vec<String> {
    let mut groups: Vec<String> = m
        .groups
        .iter()
        .map(|g| format!("@{}", group_id(g)))
        .collect();
    groups.sort();
    // Sorted by reference: a manifest can list thousands of packages (usually in order).
    let mut packages: Vec<&str> = m.packages.iter().map(String::as_str).collect();
    packages.sort_unstable();
    let mut excluded: Vec<&str> = m.excluded.iter().map(String::as_str).collect();
    excluded.sort_unstable();
    let words = groups.iter().map(String::as_str).chain(packages);
    let mut lines = Vec::with_capacity(m.groups.len() + m.packages.len() + m.excluded.len() + 3);
    if m.groups.is_empty() && m.packages.is_empty() {
        lines.push("# No extra packages (`bkt dnf install NAME` adds one)".to_string());
    } else {
        lines.push("RUN dnf install -y \\".to_string());
        lines.extend(excluded.iter().map(|p| format!("    --exclude={p} \\")));
        lines.extend(words.map(continued));
        lines.push("    && dnf clean all".into());
    }
    if !excluded.is_empty() {
        lines.push(format!(
            "RUN dnf remove -y {} && dnf clean all",
            excluded.join(" ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Copr, CoprEntry};

    #[test]
    fn one_run_each_and_comments_when_empty() {
        let m = Manifest {
            packages: vec!["vim".into(), "htop".into()],
            copr_repos: vec![Copr::new("b/x"), Copr::new("a/y")],
            ..Manifest::default()
        };
        assert_eq!(
            copr_repos(&m),
            vec![
                "RUN dnf copr enable -y a/y && \\",
                "    dnf copr enable -y b/x"
            ]
        );
        assert_eq!(
            system_packages(&m),
            vec![
                "RUN dnf install -y \\",
                "    htop \\",
                "    vim \\",
                "    && dnf clean all"
            ]
        );
        let empty = Manifest::default();
        assert!(copr_repos(&empty)[0].starts_with('#'));
        assert!(system_packages(&empty)[0].starts_with('#'));
    }

    #[test]
    fn groups_excluded_and_copr_settings_render() {
        let m = Manifest {
            packages: vec!["htop".into()],
            groups: vec!["@dev".into(), "base-x".into()],
            excluded: vec!["nano".into()],
            copr_repos: vec![
                Copr::Entry(CoprEntry {
                    name: "c/off".into(),
                    enabled: Some(false),
                    gpg_check: None,
                }),
                Copr::Entry(CoprEntry {
                    name: "a/unsigned".into(),
                    enabled: Some(true),
                    gpg_check: Some(false),
                }),
            ],
            ..Manifest::default()
        };
        assert_eq!(
            copr_repos(&m),
            vec![
                "RUN dnf copr enable -y a/unsigned && \\",
                "    sed -i 's/^gpgcheck=1/gpgcheck=0/' '/etc/yum.repos.d/_copr:copr.fedorainfracloud.org:a:unsigned.repo'"
            ]
        );
        assert_eq!(
            system_packages(&m),
            vec![
                "RUN dnf install -y \\",
                "    --exclude=nano \\",
                "    @base-x \\",
                "    @dev \\",
                "    htop \\",
                "    && dnf clean all",
                "RUN dnf remove -y nano && dnf clean all",
            ]
        );
    }
}
