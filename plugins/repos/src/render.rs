//! The EXTERNAL_REPOS section: each repository's file written (and its key imported), then
//! one `dnf install` of their packages. It belongs before SYSTEM_PACKAGES in the
//! Containerfile, as the repositories must exist before anything is installed from them.

use crate::manifest::Manifest;
use crate::repo_file;

pub fn external_repos(m: &Manifest) -> Vec<String> {
    if m.repos.is_empty() {
        return vec!["# No external repositories (manifests/external-repos.json)".into()];
    }
    let mut lines = Vec::new();
    for r in &m.repos {
        lines.push("RUN printf '%s\\n' \\".to_string());
        lines.extend(
            repo_file::lines(r)
                .iter()
                .map(|l| format!("        '{l}' \\")),
        );
        match &r.gpg_key {
            Some(key) => {
                lines.push(format!("        > {} && \\", repo_file::path(&r.name)));
                lines.push(format!("    rpm --import '{key}'"));
            }
            None => lines.push(format!("        > {}", repo_file::path(&r.name))),
        }
    }
    let mut packages: Vec<&String> = m.repos.iter().flat_map(|r| &r.packages).collect();
    packages.sort();
    if !packages.is_empty() {
        lines.push("RUN dnf install -y \\".into());
        lines.extend(packages.iter().map(|p| format!("    {p} \\")));
        lines.push("    && dnf clean all".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    #[test]
    fn files_and_keys_first_then_one_install() {
        let m = parse(Some(
            r#"{"repos": [
                {"name": "code", "display_name": "Visual Studio Code",
                 "baseurl": "https://packages.microsoft.com/yumrepos/vscode",
                 "gpg_key": "https://packages.microsoft.com/keys/microsoft.asc",
                 "packages": ["code"]},
                {"name": "local", "display_name": "Local", "baseurl": "file:///srv/rpms/$basearch",
                 "packages": ["alpha"]}
            ]}"#,
        ))
        .unwrap();
        assert_eq!(
            external_repos(&m),
            [
                "RUN printf '%s\\n' \\",
                "        '# bkt external-repos.json; packages: code' \\",
                "        '[code]' \\",
                "        'name=Visual Studio Code' \\",
                "        'baseurl=https://packages.microsoft.com/yumrepos/vscode' \\",
                "        'enabled=1' \\",
                "        'gpgcheck=1' \\",
                "        'gpgkey=https://packages.microsoft.com/keys/microsoft.asc' \\",
                "        > /etc/yum.repos.d/code.repo && \\",
                "    rpm --import 'https://packages.microsoft.com/keys/microsoft.asc'",
                "RUN printf '%s\\n' \\",
                "        '# bkt external-repos.json; packages: alpha' \\",
                "        '[local]' \\",
                "        'name=Local' \\",
                "        'baseurl=file:///srv/rpms/$basearch' \\",
                "        'enabled=1' \\",
                "        'gpgcheck=0' \\",
                "        > /etc/yum.repos.d/local.repo",
                "RUN dnf install -y \\",
                "    alpha \\",
                "    code \\",
                "    && dnf clean all",
            ]
        );
        assert!(external_repos(&parse(None).unwrap())[0].starts_with('#'));
    }
}
