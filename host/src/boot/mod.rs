//! Boot-time apply: once per deployment, a system half (root, at boot) and a user half (each
//! user, at login). A marker names the deployment last applied in full; a record of the last
//! run, successful or not, is what `bkt status` shows.

pub mod deployment;

use crate::exec::ScopeFilter;
use crate::repo::atomic::{self, Mode};
use anyhow::{Context as _, Result};
use deployment::Deployment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MARKER: &str = "last-applied-deployment";
const LAST_RUN: &str = "last-boot-apply.json";

/// One half's files: `/var/lib/bkt` (under the root) for the system, the user's state folder
/// for the user.
pub struct Half {
    pub scope: ScopeFilter,
    dir: PathBuf,
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
    pub fn new(scope: ScopeFilter, root: &Path) -> Result<Half> {
        let dir = match scope {
            ScopeFilter::User => directories::BaseDirs::new()
                .and_then(|b| b.state_dir().map(|d| d.join("bkt")))
                .context("no state folder for the user (is HOME set?)")?,
            _ => root.join("var/lib/bkt"),
        };
        Ok(Half { scope, dir })
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
        atomic::write(
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
        atomic::write(
            &self.dir.join(LAST_RUN),
            text.as_bytes(),
            Mode::Exactly(0o644),
        )
    }
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-11-27 14:02 UTC` from seconds since the epoch (days to civil date, Howard
/// Hinnant's algorithm).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_795_788_120), "2026-11-27 14:02 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn the_marker_moves_only_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let half = Half::new(ScopeFilter::System, dir.path()).unwrap();
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
