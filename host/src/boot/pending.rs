//! What the next boot brings: a staged deployment (with where its tree is), or an update
//! bootc knows of but has not fetched. Read from `bootc status --format=json`, or
//! `rpm-ostree status --json` where bootc is missing.

use super::status_json;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

/// A deployment staged for the next boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub version: Option<String>,
    pub digest: Option<String>,
    pub checksum: String,
    pub serial: i64,
    /// The ostree stateroot (rpm-ostree's `osname`).
    pub stateroot: String,
}

impl Staged {
    /// The deployment's tree beneath the system root: where ostree checks it out.
    pub fn tree(&self, root: &Path) -> PathBuf {
        root.join("ostree/deploy")
            .join(&self.stateroot)
            .join("deploy")
            .join(format!("{}.{}", self.checksum, self.serial))
    }

    /// For people: the version, else the digest's or the commit's first 12 digits.
    pub fn name(&self) -> String {
        self.version.clone().unwrap_or_else(|| {
            let hex = self.digest.as_deref().unwrap_or(&self.checksum);
            hex.trim_start_matches("sha256:").chars().take(12).collect()
        })
    }
}

/// What bootc or rpm-ostree says is coming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Staged(Staged),
    /// An update found by a check, not fetched yet: its version and digest.
    Available {
        version: Option<String>,
        digest: Option<String>,
    },
    Nothing,
}

/// What `bootc status --format=json` says is coming.
pub fn from_bootc(json: &str) -> Result<Pending> {
    let host = status_json::bootc(json)?;
    if let Some(staged) = host.status.staged {
        let ostree = staged
            .ostree
            .context("bootc status: the staged deployment has no ostree commit")?;
        return Ok(Pending::Staged(Staged {
            version: staged.image.as_ref().and_then(|i| i.version.clone()),
            digest: staged.image.and_then(|i| i.image_digest),
            checksum: ostree.checksum,
            serial: ostree.deploy_serial,
            stateroot: ostree.stateroot,
        }));
    }
    Ok(match host.status.booted.and_then(|b| b.cached_update) {
        Some(update) => Pending::Available {
            version: update.version,
            digest: update.image_digest,
        },
        None => Pending::Nothing,
    })
}

/// What `rpm-ostree status --json` says is coming: only a staged deployment (rpm-ostree
/// keeps what a check finds out of its status).
pub fn from_rpm_ostree(json: &str) -> Result<Pending> {
    let status = status_json::rpm_ostree(json)?;
    Ok(match status.deployments.into_iter().find(|d| d.staged) {
        Some(d) => Pending::Staged(Staged {
            version: d.version,
            digest: d.digest,
            checksum: d.checksum,
            serial: d.serial,
            stateroot: d.osname,
        }),
        None => Pending::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/recorded")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn a_staged_deployment_and_its_tree() {
        let Pending::Staged(s) = from_bootc(&recorded("bootc-status-staged-booted.json")).unwrap()
        else {
            panic!("staged expected");
        };
        assert_eq!(s.name(), "nightly");
        assert_eq!(
            s.tree(Path::new("/")),
            Path::new(
                "/ostree/deploy/default/deploy/3c6dad657109522e0b2e49bf44b5420f16f0b438b5b9357e5132211cfbad135d.0"
            )
        );
        let Pending::Staged(r) =
            from_rpm_ostree(&recorded("rpm-ostree-status-staged.json")).unwrap()
        else {
            panic!("staged expected");
        };
        assert_eq!(r.stateroot, "fedora-coreos");
        assert_eq!(r.name(), "31.20200517.3.0");
    }

    #[test]
    fn an_update_found_by_a_check_or_nothing() {
        assert_eq!(
            from_bootc(&recorded("bootc-status-update-available.json")).unwrap(),
            Pending::Available {
                version: Some("stream9.20240901.0".into()),
                digest: Some(
                    "sha256:a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
                        .into()
                ),
            }
        );
        assert_eq!(
            from_bootc(&recorded("bootc-status-only-booted.json")).unwrap(),
            Pending::Nothing
        );
        assert_eq!(
            from_rpm_ostree(&recorded("rpm-ostree-status-layered.json")).unwrap(),
            Pending::Nothing
        );
    }
}
