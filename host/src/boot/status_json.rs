//! The parts of `bkt status --format=json` and `rpm-ostree status --json` bkt reads: one set
//! of shapes for the booted deployment (deployment.rs) and the next one (pending.rs).

use anyhow::{Context as _, Result};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct BootcHost {
    pub status: BootcStatus,
}

#[derive(Deserialize)]
pub struct BootcStatus {
    pub staged: Option<BootEntry>,
    pub booted: Option<BootEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootEntry {
    pub image: Option<ImageStatus>,
    /// An update a check found and did not fetch.
    pub cached_update: Option<ImageStatus>,
    pub ostree: Option<OstreeStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    pub version: Option<String>,
    pub image_digest: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OstreeStatus {
    pub checksum: String,
    pub deploy_serial: i64,
    /// Needed to find a deployment's tree, not to name it.
    #[serde(default)]
    pub stateroot: String,
}

#[derive(Deserialize)]
pub struct RpmOstree {
    pub deployments: Vec<RpmOstreeDeployment>,
}

#[derive(Deserialize)]
pub struct RpmOstreeDeployment {
    #[serde(default)]
    pub booted: bool,
    #[serde(default)]
    pub staged: bool,
    pub checksum: String,
    #[serde(default)]
    pub serial: i64,
    #[serde(default)]
    pub osname: String,
    pub version: Option<String>,
    #[serde(rename = "container-image-reference-digest", default)]
    pub digest: Option<String>,
}

pub fn bootc(json: &str) -> Result<BootcHost> {
    serde_json::from_str(json).context("bootc status --format=json is not what bkt reads")
}

pub fn rpm_ostree(json: &str) -> Result<RpmOstree> {
    serde_json::from_str(json).context("rpm-ostree status --json is not what bkt reads")
}
