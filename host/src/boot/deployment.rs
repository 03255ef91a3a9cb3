//! Which deployment is booted: `bootc status --format=json` (`status.booted`), or, where bootc
//! is missing, `rpm-ostree status --json` (the entry with `"booted": true`, never the first
//! one, which can be a staged deployment).

use super::status_json;
use crate::os::process;
use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

/// The booted deployment, as both tools name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The image's digest (`sha256:…`), when it came from a container image.
    pub digest: Option<String>,
    /// The ostree commit.
    pub checksum: String,
    /// Tells apart deployments of the same commit (a redeploy with other kernel arguments).
    pub serial: i64,
}

impl Deployment {
    /// The marker's text: one line naming the deployment.
    pub fn id(&self) -> String {
        format!(
            "{} {}.{}",
            self.digest.as_deref().unwrap_or("-"),
            self.checksum,
            self.serial
        )
    }

    /// Short, for people: the digest's first 12 hex digits (or the commit's).
    pub fn short(&self) -> String {
        let hex = self
            .digest
            .as_deref()
            .map(|d| d.trim_start_matches("sha256:"))
            .unwrap_or(&self.checksum);
        hex.chars().take(12).collect()
    }
}

/// The booted deployment of `bootc status --format=json`; `None` when bootc booted nothing
/// here (`"booted": null`: bootc is installed on a system it does not manage).
pub fn from_bootc(json: &str) -> Result<Option<Deployment>> {
    let Some(booted) = status_json::bootc(json)?.status.booted else {
        return Ok(None);
    };
    let ostree = booted
        .ostree
        .context("bootc status: the booted deployment has no ostree commit")?;
    Ok(Some(Deployment {
        digest: booted.image.and_then(|i| i.image_digest),
        checksum: ostree.checksum,
        serial: ostree.deploy_serial,
    }))
}

/// The booted deployment of `rpm-ostree status --json`.
pub fn from_rpm_ostree(json: &str) -> Result<Deployment> {
    let booted = status_json::rpm_ostree(json)?
        .deployments
        .into_iter()
        .find(|d| d.booted)
        .context("rpm-ostree status lists no booted deployment")?;
    Ok(Deployment {
        digest: booted.digest,
        checksum: booted.checksum,
        serial: booted.serial,
    })
}

/// Runs a status command the way bkt runs every program: resolved from the system folders,
/// in a cleared environment. `None` when the program is not installed.
pub(crate) fn status_of(program_name: &str, args: &[&str]) -> Result<Option<String>> {
    let Ok(path) = process::resolve(program_name) else {
        return Ok(None);
    };
    let out = process::cleared(program_name, &path)
        .args(args)
        .output()
        .with_context(|| format!("running {}", path.display()))?;
    if !out.status.success() {
        bail!(
            "{program_name} {} failed: {}",
            args.join(" "),
            crate::os::text::failure_detail(&out.stderr, &out.stdout)
        );
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The booted deployment, from bootc, else (bootc missing, or booting nothing here)
/// rpm-ostree.
pub fn booted() -> Result<Deployment> {
    let mut bootc_booted_nothing = false;
    if let Some(json) = status_of("bootc", &["status", "--format=json"])? {
        match from_bootc(&json)? {
            Some(deployment) => return Ok(deployment),
            None => bootc_booted_nothing = true,
        }
    }
    if let Some(json) = status_of("rpm-ostree", &["status", "--json"])? {
        return from_rpm_ostree(&json);
    }
    if bootc_booted_nothing {
        bail!(
            "bootc status lists no booted deployment: this system was not booted from an image \
             bootc manages, so `apply --boot` has nothing to mark; use `bkt apply`"
        );
    }
    bail!(
        "neither bootc nor rpm-ostree is installed here: `apply --boot` runs on an image-based \
         (bootc) system; use `bkt apply` elsewhere"
    )
}

/// Where the booted image says it was built from: its `org.opencontainers.image.source`
/// label, which rpm-ostree reports in the booted deployment's image config. `None` when
/// rpm-ostree is missing or the image carries no such label.
pub fn image_source() -> Option<String> {
    let json = status_of("rpm-ostree", &["status", "--json"]).ok()??;
    source_label(&json)
}

fn source_label(status_json: &str) -> Option<String> {
    let status: serde_json::Value = serde_json::from_str(status_json).ok()?;
    let booted = status["deployments"]
        .as_array()?
        .iter()
        .find(|d| d["booted"] == true)?;
    let config = booted["base-commit-meta"]["ostree.container.image-config"].as_str()?;
    let config: serde_json::Value = serde_json::from_str(config).ok()?;
    let source = config["config"]["Labels"]["org.opencontainers.image.source"].as_str()?;
    // Only an address git can clone from is offered.
    (source.starts_with("https://") && !source.contains(char::is_whitespace))
        .then(|| source.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status document recorded from the real program (tests/fixtures/recorded).
    fn recorded(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/recorded")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn bootc_names_the_booted_deployment_not_the_staged_one() {
        let d = from_bootc(&recorded("bootc-status-staged-booted.json"))
            .unwrap()
            .expect("booted");
        assert_eq!(
            d.digest.as_deref(),
            Some("sha256:736b359467c9437c1ac915acaae952aad854e07eb4a16a94999a48af08c83c34")
        );
        assert_eq!(d.serial, 0);
        assert_eq!(d.short(), "736b359467c9");
    }

    #[test]
    fn rpm_ostree_names_the_booted_entry_not_the_first() {
        let r = from_rpm_ostree(&recorded("rpm-ostree-status-staged.json")).unwrap();
        assert_eq!(r.digest, None);
        assert_eq!(
            r.checksum,
            "01f074cc6cd88d8d2b43f821da692f2367c101eb4377802cb35092bde0ef02f7"
        );
        assert_eq!(r.short(), "01f074cc6cd8");
    }

    #[test]
    fn bootc_on_a_system_it_did_not_boot_names_nothing() {
        assert_eq!(
            from_bootc(&recorded("bootc-status-not-booted.json")).unwrap(),
            None
        );
    }

    #[test]
    fn the_image_names_where_it_was_built_from() {
        assert_eq!(
            source_label(&recorded("rpm-ostree-status-oci.json")).as_deref(),
            Some("https://github.com/coreos/fedora-coreos-config")
        );
        // A deployment from an ostree remote has no image config.
        assert_eq!(
            source_label(&recorded("rpm-ostree-status-staged.json")),
            None
        );
    }

    #[test]
    fn a_redeploy_with_other_kernel_arguments_is_another_deployment() {
        let recorded = recorded("bootc-status-staged-booted.json");
        let before = from_bootc(&recorded).unwrap().expect("booted");
        // The same commit deployed again: ostree gives it the next serial.
        let mut doc: serde_json::Value = serde_json::from_str(&recorded).unwrap();
        doc["status"]["booted"]["ostree"]["deploySerial"] = 1.into();
        let after = from_bootc(&doc.to_string()).unwrap().expect("booted");
        assert_eq!(before.digest, after.digest);
        assert_ne!(before.id(), after.id());
    }
}
