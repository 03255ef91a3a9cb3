//! The `.repo` file of an external repository, and reading one back. The first line marks it
//! as bkt's and names the packages taken from it, so that the dnf plugin does not count them
//! as installed by hand.

use crate::manifest::Repo;

/// Where repo files live.
pub const DIR: &str = "/etc/yum.repos.d";

/// The first line of every repo file bkt writes for an external repository.
pub const MARK: &str = "# bkt external-repos.json; packages:";

pub fn path(name: &str) -> String {
    format!("{DIR}/{name}.repo")
}

/// The file's lines: the mark with the packages, then the repository.
pub fn lines(r: &Repo) -> Vec<String> {
    let mut lines = vec![
        format!("{MARK} {}", r.packages.join(" "))
            .trim_end()
            .to_string(),
        format!("[{}]", r.name),
        format!("name={}", r.display_name),
        format!("baseurl={}", r.baseurl),
        "enabled=1".to_string(),
    ];
    match &r.gpg_key {
        Some(key) => {
            lines.push("gpgcheck=1".into());
            lines.push(format!("gpgkey={key}"));
        }
        None => lines.push("gpgcheck=0".into()),
    }
    lines
}

pub fn text(r: &Repo) -> String {
    let mut text = lines(r).join("\n");
    text.push('\n');
    text
}

/// A repo file bkt wrote, read back into its entry (`None`: not one of bkt's).
pub fn read(text: &str) -> Option<Repo> {
    let mut lines = text.lines();
    let packages = lines.next()?.strip_prefix(MARK)?;
    let mut repo = Repo {
        name: String::new(),
        display_name: String::new(),
        baseurl: String::new(),
        gpg_key: None,
        packages: packages.split_whitespace().map(String::from).collect(),
        opt_path: None,
        layer_group: None,
    };
    for line in lines {
        let line = line.trim();
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            repo.name = id.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_string();
            match key.trim() {
                "name" => repo.display_name = value,
                "baseurl" => repo.baseurl = value,
                "gpgkey" => repo.gpg_key = Some(value),
                _ => {}
            }
        }
    }
    (!repo.name.is_empty()).then_some(repo)
}

/// The packages every bkt repo file in `texts` names.
pub fn packages_of<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    texts
        .filter_map(|t| t.lines().next()?.strip_prefix(MARK))
        .flat_map(|p| p.split_whitespace().map(String::from).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_to_its_entry() {
        let r = Repo {
            name: "code".into(),
            display_name: "Visual Studio Code".into(),
            baseurl: "https://packages.microsoft.com/yumrepos/vscode".into(),
            gpg_key: Some("https://packages.microsoft.com/keys/microsoft.asc".into()),
            packages: vec!["code".into(), "code-insiders".into()],
            opt_path: None,
            layer_group: None,
        };
        let text = text(&r);
        assert!(text.starts_with("# bkt external-repos.json; packages: code code-insiders\n[code]\nname=Visual Studio Code\n"), "{text}");
        assert_eq!(read(&text), Some(r));
        assert_eq!(
            packages_of([text.as_str(), "[fedora]\n"].into_iter()),
            ["code", "code-insiders"]
        );
        assert_eq!(read("[fedora]\nname=Fedora\n"), None);
    }
}
