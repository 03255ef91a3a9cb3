//! The Containerfile sections: COPR_REPOS, then SYSTEM_PACKAGES. An empty list renders a
//! comment, never a broken RUN.

use crate::manifest::Manifest;

pub fn copr_repos(m: &Manifest) -> Vec<String> {
    let mut repos = m.copr_repos.clone();
    repos.sort();
    repos.dedup();
    if repos.is_empty() {
        return vec![
            "# No COPR repositories (`bkt dnf copr enable OWNER/PROJECT` adds one)".into(),
        ];
    }
    let last = repos.len() - 1;
    repos
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let lead = if i == 0 { "RUN " } else { "    " };
            let tail = if i == last { "" } else { " && \\" };
            format!("{lead}dnf copr enable -y {r}{tail}")
        })
        .collect()
}

pub fn system_packages(m: &Manifest) -> Vec<String> {
    let mut packages = m.packages.clone();
    packages.sort();
    packages.dedup();
    if packages.is_empty() {
        return vec!["# No extra packages (`bkt dnf install NAME` adds one)".into()];
    }
    let mut lines = vec!["RUN dnf install -y \\".to_string()];
    lines.extend(packages.iter().map(|p| format!("    {p} \\")));
    lines.push("    && dnf clean all".into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_each_and_comments_when_empty() {
        let m = Manifest {
            packages: vec!["vim".into(), "htop".into()],
            copr_repos: vec!["b/x".into(), "a/y".into()],
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
}
