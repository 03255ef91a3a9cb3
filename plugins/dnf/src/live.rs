//! What rpm, dnf and rpm-ostree report.

use serde::Deserialize;
use std::collections::BTreeSet;

/// `rpm -qa --qf '%{NAME}\n'`: one name a line.
pub fn names(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("warning:"))
        .map(String::from)
        .collect()
}

#[derive(Deserialize)]
struct Status {
    deployments: Vec<Deployment>,
}

#[derive(Deserialize)]
struct Deployment {
    #[serde(default)]
    booted: bool,
    #[serde(rename = "requested-packages", default)]
    requested_packages: Vec<String>,
}

/// The packages layered on the booted deployment of `rpm-ostree status --json`. The booted
/// entry is the one with `"booted": true`, not the first: a staged deployment is listed first.
pub fn layered(status_json: &str) -> Result<BTreeSet<String>, String> {
    let status: Status =
        serde_json::from_str(status_json).map_err(|e| format!("rpm-ostree status --json: {e}"))?;
    let booted = status
        .deployments
        .into_iter()
        .find(|d| d.booted)
        .ok_or("rpm-ostree status --json lists no booted deployment")?;
    Ok(booted.requested_packages.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booted_entry_not_first_entry() {
        let json = r#"{"deployments": [
            {"booted": false, "staged": true, "requested-packages": ["htop", "new-one"]},
            {"booted": true, "requested-packages": ["htop"]}
        ], "transaction": null}"#;
        assert_eq!(
            layered(json).unwrap(),
            ["htop".to_string()].into_iter().collect()
        );
    }
}
