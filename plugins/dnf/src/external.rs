//! Packages taken from external repositories. The repos plugin (external-repos.json) writes
//! each repository's file with a first line naming its packages; those are that plugin's,
//! not installed by hand, and this plugin does not count them as extra.

/// The first line of a repo file the repos plugin writes (see plugins/repos/src/repo_file.rs).
const MARK: &str = "# bkt external-repos.json; packages:";

/// The packages the repo files in `texts` name.
pub fn packages<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    texts
        .filter_map(|t| t.lines().next()?.strip_prefix(MARK))
        .flat_map(|p| p.split_whitespace().map(String::from).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_marked_files_name_packages() {
        let texts = [
            "# bkt external-repos.json; packages: code code-insiders\n[code]\n",
            "[fedora]\nname=Fedora\n",
        ];
        assert_eq!(
            super::packages(texts.into_iter()),
            ["code", "code-insiders"]
        );
    }
}
