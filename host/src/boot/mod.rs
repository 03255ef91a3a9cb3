//! Boot-time apply: once per deployment, a system half (root, at boot) and a user half (each
//! user, at login). A marker names the deployment last applied in full; a record of the last
//! run, successful or not, is what `bkt status` shows.

pub mod deployment;
pub mod pending;
mod status_json;

use crate::model::{ScopeFilter, StateDirs};
use crate::os::atomic::Mode;
use anyhow::Result;
use deployment::Deployment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const MARKER: &str = "last-applied-deployment";
const LAST_RUN: &str = "last-boot-apply.json";

/// One half's files: `/var/lib/bkt` (under the root) for the system, the user's state folder
/// for the user.
pub struct Half {
    pub scope: ScopeFilter,
    dir: PathBuf,
    dirs: StateDirs,
}

/// A failed change of the last run, for the journal and `bkt status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub plugin: String,
    pub item: String,
    pub effect: String,
    pub error: String,
}

/// What the last boot-time run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastRun {
    /// Seconds since the epoch.
    pub at: u64,
    pub deployment: String,
    pub short: String,
    pub ok: bool,
    pub applied: usize,
    pub failures: Vec<Failure>,
}

impl Half {
    pub fn new(scope: ScopeFilter, dirs: &StateDirs) -> Result<Half> {
        let dir = match scope {
            ScopeFilter::User => dirs.user_state()?,
            _ => dirs.system(),
        };
        Ok(Half {
            scope,
            dir,
            dirs: dirs.clone(),
        })
    }

    pub fn name(&self) -> &'static str {
        match self.scope {
            ScopeFilter::User => "user",
            _ => "system",
        }
    }

    /// The deployment last applied in full, if any.
    pub fn marker(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(MARKER))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Written only after every change of the run succeeded, so a failed boot retries.
    pub fn mark(&self, d: &Deployment) -> Result<()> {
        self.dirs.write(
            &self.dir.join(MARKER),
            format!("{}\n", d.id()).as_bytes(),
            Mode::Exactly(0o644),
        )
    }

    pub fn last_run(&self) -> Option<LastRun> {
        let text = std::fs::read_to_string(self.dir.join(LAST_RUN)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn record(&self, run: &LastRun) -> Result<()> {
        let text = serde_json::to_string_pretty(run)? + "\n";
        self.dirs.write(
            &self.dir.join(LAST_RUN),
            text.as_bytes(),
            Mode::Exactly(0o644),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_moves_only_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::model::SystemRoot::from_flag(Some(dir.path())).unwrap();
        let half = Half::new(ScopeFilter::System, &StateDirs::new(&root, 0)).unwrap();
        assert_eq!(half.marker(), None);
        let d = Deployment {
            digest: Some("sha256:abc".into()),
            checksum: "c".into(),
            serial: 1,
        };
        half.mark(&d).unwrap();
        assert_eq!(half.marker(), Some(d.id()));
        assert!(
            dir.path()
                .join("var/lib/bkt/last-applied-deployment")
                .exists()
        );
    }
}
