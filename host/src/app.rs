//! What every command needs: configuration, the runtime with its plugins, the system root,
//! where state lives, and the repository.

use crate::model::{Elevator, HostContext, StateDirs, SystemRoot};
use crate::os::identity::euid;
use crate::plugins::{self, Entry, trust};
use crate::repo::Repo;
use crate::runtime::{CacheFolders, Limits, Loaded, Runtime};
use anyhow::{Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where root's compiled plugin code is cached.
const ROOT_CACHE: &str = "/var/cache/bkt";
/// Root's state on the host (the record of its cached code).
const ROOT_STATE: &str = "/var/lib/bkt";

/// `$XDG_CONFIG_HOME/bkt/config.json`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub repo: Option<PathBuf>,
    pub elevator: Option<Elevator>,
    pub plugin_timeout_secs: Option<f64>,
    pub plugin_memory_mib: Option<usize>,
}

impl Config {
    pub fn load() -> Result<Config> {
        Ok(crate::os::config::read_json("config.json")?.1)
    }
}

/// Global options, as the CLI parsed them.
#[derive(Default)]
pub struct Options {
    pub repo: Option<PathBuf>,
    pub root: Option<PathBuf>,
    pub plugin_timeout: Option<f64>,
    pub plugin_memory: Option<usize>,
    pub elevator: Option<Elevator>,
}

pub struct App {
    pub rt: Runtime,
    pub entries: Vec<Entry>,
    pub elevator: Elevator,
    pub root: SystemRoot,
    pub dirs: StateDirs,
    repo_flag: Option<PathBuf>,
    config_repo: Option<PathBuf>,
}

impl App {
    pub fn new(opts: Options) -> Result<App> {
        let config = Config::load()?;
        let root = SystemRoot::from_flag(opts.root.as_deref())?;
        let timeout = match opts.plugin_timeout {
            Some(secs) => Some((secs, "--plugin-timeout")),
            None => config
                .plugin_timeout_secs
                .map(|secs| (secs, "plugin_timeout_secs in config.json")),
        };
        let memory = match opts.plugin_memory {
            Some(mib) => Some((mib, "--plugin-memory")),
            None => config
                .plugin_memory_mib
                .map(|mib| (mib, "plugin_memory_mib in config.json")),
        };
        let limits = limits(timeout, memory)?;
        let context = HostContext {
            root: root.as_text().to_string(),
            // Empty when there is no home: plugins and `~/` reads then have none.
            home: crate::os::paths::home_dir()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            data_home: crate::os::paths::data_home(),
            arch: std::env::consts::ARCH.to_string(),
            ostree: root.is_ostree(),
        };
        let dirs = StateDirs::new(&root, euid());
        let cache = cache_folders(&dirs);
        let cache_dir = cache.as_ref().map(|c| c.cache.clone());
        let repo_flag = opts.repo;
        let mut rt = Runtime::new(limits, root.clone(), context, cache);
        rt.protect(own_folders(
            &root,
            &dirs,
            cache_dir,
            Repo::locate(repo_flag.as_deref(), config.repo.as_deref()).map(|(path, _)| path),
        ));
        let trusted = trust::Stores::load()?;
        let started = std::time::Instant::now();
        let mut entries = plugins::load_all(&rt, &trusted);
        tracing::debug!(target: "bkt::timing", "plugins loaded in {} µs", started.elapsed().as_micros());
        // Phase order, once: every command lists, plans and applies in it.
        entries.sort_by_key(|e| match &e.plugin {
            Ok(p) => (0, p.info.phase as u8, p.info.id.clone()),
            Err(_) => (1, 0, e.name.clone()),
        });
        for e in &entries {
            if let (plugins::Origin::Builtin, Err(why)) = (&e.origin, &e.plugin) {
                bail!("the builtin plugin {} does not load: {why}", e.name);
            }
        }
        Ok(App {
            rt,
            entries,
            dirs,
            elevator: opts.elevator.or(config.elevator).unwrap_or(Elevator::Sudo),
            root,
            repo_flag,
            config_repo: config.repo,
        })
    }

    pub fn repo(&self) -> Result<Repo> {
        Repo::discover(self.repo_flag.as_deref(), self.config_repo.as_deref())
    }

    /// The repository, for a command that changes it: the image's read-only copy is refused
    /// with how to get a checkout of one's own.
    pub fn repo_to_edit(&self) -> Result<Repo> {
        let repo = self.repo()?;
        if repo.read_only {
            let clone = match crate::boot::deployment::image_source() {
                Some(url) => format!("`bkt init --clone {url}`"),
                None => "`bkt init --clone URL` (your repository's address)".to_string(),
            };
            anyhow::bail!(
                "{} is the read-only copy inside the image: {clone} clones your repository and \
                 makes it the one bkt uses (or pass --repo DIR)",
                repo.path.display()
            );
        }
        Ok(repo)
    }

    /// Every usable plugin, in phase order.
    pub fn loaded(&self) -> Vec<&Loaded> {
        self.entries
            .iter()
            .filter_map(|e| e.plugin.as_ref().ok())
            .collect()
    }

    /// The plugins named with `-s` (all when none), or an error listing the known ids.
    pub fn select(&self, only: &[String]) -> Result<Vec<&Loaded>> {
        let all = self.loaded();
        if only.is_empty() {
            return Ok(all);
        }
        for name in only {
            if !all
                .iter()
                .any(|p| p.info.id == *name || p.info.command == *name)
            {
                let known: Vec<&str> = all.iter().map(|p| p.info.id.as_str()).collect();
                let hint = match crate::os::text::did_you_mean(name, known.iter().copied()) {
                    Some(id) => format!("did you mean {id:?}? (known: {})", known.join(", ")),
                    None => format!("see the known ones: {}", known.join(", ")),
                };
                bail!("no subsystem {name:?}; {hint}");
            }
        }
        Ok(all
            .into_iter()
            .filter(|p| only.iter().any(|n| p.info.id == *n || p.info.command == *n))
            .collect())
    }

    pub fn by_command(&self, word: &str) -> Option<&Loaded> {
        self.loaded()
            .into_iter()
            .find(|p| p.info.command == word || p.info.id == word)
    }

    /// Third-party plugins that are present but not loaded, with the reason.
    pub fn skipped(&self) -> Vec<(&Path, &str)> {
        self.entries
            .iter()
            .filter_map(|e| match (&e.origin, &e.plugin) {
                (plugins::Origin::File(p), Err(why)) => Some((p.as_path(), why.0.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// Where third-party plugins' compiled code is cached, and the record of it. Root's lives in
/// root-owned folders: under `sudo -E` the environment (XDG_CACHE_HOME, HOME) is a user's, and
/// root must not load native code they wrote.
fn cache_folders(dirs: &StateDirs) -> Option<CacheFolders> {
    if euid() == 0 {
        return Some(CacheFolders {
            cache: PathBuf::from(ROOT_CACHE),
            record: PathBuf::from(ROOT_STATE).join("compiled"),
        });
    }
    Some(CacheFolders {
        cache: crate::os::paths::cache_dir()?,
        record: dirs.user_state().ok()?.join("compiled"),
    })
}

/// Every folder that is bkt's own: its state, cache, config and plugin folders, the system's
/// (on the host and in the root), and the repository.
fn own_folders(
    root: &SystemRoot,
    dirs: &StateDirs,
    cache: Option<PathBuf>,
    repo: Option<PathBuf>,
) -> Vec<PathBuf> {
    let mut own: Vec<PathBuf> = [
        cache,
        crate::os::paths::cache_dir(),
        crate::os::paths::config_dir(),
        dirs.user_state().ok(),
        crate::os::paths::user_data_dir().map(|d| d.join("bkt")),
        repo,
    ]
    .into_iter()
    .flatten()
    .collect();
    for system in [
        "/var/cache/bkt",
        "/var/lib/bkt",
        "/etc/bkt",
        "/usr/share/bkt",
    ] {
        own.push(PathBuf::from(system));
        own.push(root.join(system));
    }
    own.extend(plugins::plugin_dirs());
    own.sort();
    own.dedup();
    own
}

/// The longest time limit a plugin call may be given: a day, past any real need, and far
/// inside what the epoch counter can express.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// The most memory a plugin may be given, in MiB (64 GiB).
const MAX_MEMORY_MIB: usize = 64 << 10;

/// The per-call limits from the options (each with where it came from, for the message);
/// a value that is not a usable limit is an error saying what is accepted.
fn limits(timeout: Option<(f64, &str)>, memory_mib: Option<(usize, &str)>) -> Result<Limits> {
    let mut limits = Limits::default();
    if let Some((secs, from)) = timeout {
        if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
            bail!(
                "{from} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS} \
                 (one day), not {secs}"
            );
        }
        // Below one tick of the epoch clock a limit cannot be kept more finely.
        limits.timeout = Duration::from_secs_f64(secs.max(0.01));
    }
    if let Some((mib, from)) = memory_mib {
        if mib == 0 || mib > MAX_MEMORY_MIB {
            bail!("{from} must be a number of MiB from 1 to {MAX_MEMORY_MIB}, not {mib}");
        }
        limits.memory_bytes = mib << 20;
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::limits;
    use std::time::Duration;

    #[test]
    fn usable_limits_are_taken() {
        let l = limits(Some((0.3, "t")), Some((64, "m"))).unwrap();
        assert_eq!(l.timeout, Duration::from_millis(300));
        assert_eq!(l.memory_bytes, 64 << 20);
        let l = limits(Some((0.001, "t")), None).unwrap();
        assert_eq!(l.timeout, Duration::from_millis(10));
        assert!(limits(None, None).is_ok());
    }

    #[test]
    fn unusable_limits_are_errors_naming_the_option() {
        for secs in [f64::INFINITY, f64::NAN, -1.0, 0.0, 1e12] {
            let e = limits(Some((secs, "--plugin-timeout")), None).unwrap_err();
            assert!(e.to_string().contains("--plugin-timeout must be"), "{e}");
        }
        for mib in [0, usize::MAX, 1 << 40] {
            let e = limits(None, Some((mib, "--plugin-memory"))).unwrap_err();
            assert!(e.to_string().contains("--plugin-memory must be"), "{e}");
        }
    }
}
