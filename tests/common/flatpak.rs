//! A local flatpak repository for the tests and benchmarks, built with the real flatpak from
//! tiny folders: a runtime `org.bkt.Platform` (branch 1) and apps `org.bkt.App001` … (branch
//! stable, each a shell script). Plus the hands of a user on a world: remotes, installs,
//! uninstalls and overrides done with flatpak directly, in the world's HOME and as its user.

use super::{Out, World, reachable_by_others, test_uid};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const RUNTIME: &str = "org.bkt.Platform";
pub const BRANCH: &str = "stable";
/// The name tests give the repository's remote.
pub const REMOTE: &str = "bkt-test";

/// The id of app `n` (1-based): `org.bkt.App001`.
pub fn app(n: usize) -> String {
    format!("org.bkt.App{n:03}")
}

/// A repository built by [`repo`].
pub struct Repo {
    pub path: PathBuf,
    /// Apps `app(1)` … `app(apps)`.
    pub apps: usize,
    /// How long building it took.
    pub took: Duration,
}

impl Repo {
    pub fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

/// The repository with at least `apps` apps, built once per test binary (the first caller
/// says how many) in a folder of its own.
pub fn repo(apps: usize) -> &'static Repo {
    static REPO: OnceLock<Repo> = OnceLock::new();
    let repo = REPO.get_or_init(|| build(&base_dir_for("flatpak-repo-"), apps));
    assert!(
        repo.apps >= apps,
        "the repository of this binary was built with {} apps, not {apps}",
        repo.apps
    );
    repo
}

/// A folder of this process named `prefix` + its id: under cargo's temp folder, or, when the
/// tests run as root and another user could not reach it there (a checkout in a private
/// folder), under the system's. Folders of earlier processes that are gone are removed.
fn base_dir_for(prefix: &str) -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let base = if test_uid() != 0 || reachable_by_others(&target) {
        target
    } else {
        std::env::temp_dir()
    };
    // Folders of earlier runs whose process is gone are of no more use.
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(prefix)
                && pid.parse::<u32>().is_ok()
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    base.join(format!("{prefix}{}", std::process::id()))
}

/// Runs a flatpak build command as the test's user with a HOME of the build's own, so no
/// installation of the person running the tests is touched.
fn build_step(dir: &Path, args: &[&str]) {
    let out = Command::new("flatpak")
        .args(args)
        .env_clear()
        .env("PATH", super::SYSTEM_PATH)
        .env("HOME", dir.join("home"))
        .env("LC_ALL", "C.UTF-8")
        .current_dir(dir)
        .output()
        .expect("running flatpak");
    assert!(
        out.status.success(),
        "flatpak {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the runtime and `apps` apps into `dir/repo`: every app exported into the one
/// repository without updating its summary, by as many workers as there are cores, then one
/// `build-update-repo`. The repository skips fsync: it lives as long as the test binary.
fn build(dir: &Path, apps: usize) -> Repo {
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("home")).expect("mkdir");
    let repo = dir.join("repo");
    let repo_s = repo.to_str().expect("UTF-8 path").to_string();

    let runtime = dir.join("runtime");
    std::fs::create_dir_all(runtime.join("usr")).expect("mkdir");
    std::fs::create_dir_all(runtime.join("files")).expect("mkdir");
    std::fs::write(
        runtime.join("metadata"),
        format!("[Runtime]\nname={RUNTIME}\nruntime={RUNTIME}/x86_64/1\nsdk={RUNTIME}/x86_64/1\n"),
    )
    .expect("runtime metadata");
    build_step(
        dir,
        &[
            "build-export",
            "--no-update-summary",
            "--runtime",
            &repo_s,
            "runtime",
            "1",
        ],
    );
    let config = repo.join("config");
    let text = std::fs::read_to_string(&config).expect("repo config");
    std::fs::write(
        &config,
        text.replacen("[core]\n", "[core]\nfsync=false\n", 1),
    )
    .expect("repo config");

    for n in 1..=apps {
        let folder = dir.join(format!("app{n:03}"));
        std::fs::create_dir_all(folder.join("files/bin")).expect("mkdir");
        std::fs::write(
            folder.join("metadata"),
            format!(
                "[Application]\nname={}\nruntime={RUNTIME}/x86_64/1\n",
                app(n)
            ),
        )
        .expect("app metadata");
        let x = folder.join("files/bin/x");
        std::fs::write(&x, "#!/bin/sh\necho bkt test app\n").expect("app script");
        std::fs::set_permissions(&x, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let next = AtomicUsize::new(1);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n > apps {
                        break;
                    }
                    let folder = format!("app{n:03}");
                    build_step(dir, &["build-finish", &folder, "--command=x"]);
                    build_step(
                        dir,
                        &[
                            "build-export",
                            "--no-update-summary",
                            &repo_s,
                            &folder,
                            BRANCH,
                        ],
                    );
                }
            });
        }
    });
    build_step(dir, &["build-update-repo", &repo_s]);
    for n in 1..=apps {
        let _ = std::fs::remove_dir_all(dir.join(format!("app{n:03}")));
    }
    // Worlds run flatpak as another user, who reads the repository through its file:// URL.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let took = started.elapsed();
    eprintln!(
        "flatpak test repository: runtime and {apps} apps built in {:.2} s",
        took.as_secs_f64()
    );
    Repo {
        path: repo,
        apps,
        took,
    }
}

/// An unprivileged world for flatpak, its data home where flatpak's is when XDG_DATA_HOME is
/// not set (`~/.local/share`), with a compiled-code cache shared by the worlds of this binary
/// that run as the same user.
pub fn world() -> World {
    let mut w = World::unprivileged();
    let data = w.path("home/.local/share");
    std::fs::create_dir_all(&data).expect("mkdir");
    w.extra_env
        .push(("XDG_DATA_HOME".into(), data.display().to_string()));
    share_cache(&mut w);
    w
}

/// Gives `w` a compiled-code cache shared with the other worlds of this binary (owned by the
/// world's user, 0700, as bkt wants its cache), so each world does not compile the plugins.
pub fn share_cache(w: &mut World) {
    let Some(uid) = w.user else {
        return;
    };
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    w.cache = CACHE
        .get_or_init(|| {
            let dir = base_dir_for("flatpak-cache-");
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .expect("chmod");
            super::chown_all(&dir, uid);
            dir
        })
        .clone();
}

/// Where flatpak looks for the system bus.
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";

/// flatpak run by a user other than root asks accountsservice, over the system bus, for
/// parental controls before it installs anything, and skips the check only when the bus says
/// nobody provides it; without a system bus at all it fails ("Could not connect"). A machine
/// with flatpak has a system bus; a bare container may not. When tests run as root and none
/// answers, one is started: a dbus-daemon with no services, listening where flatpak looks.
/// It stays up for later runs, as a system bus does.
pub fn ensure_system_bus() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if std::os::unix::net::UnixStream::connect(SYSTEM_BUS).is_ok() || test_uid() != 0 {
            return;
        }
        // Two test binaries at once start one bus between them.
        let lock = std::fs::File::create(std::env::temp_dir().join("bkt-test-system-bus.lock"))
            .expect("bus lock");
        lock.lock().expect("locking the bus lock");
        if std::os::unix::net::UnixStream::connect(SYSTEM_BUS).is_ok() {
            return;
        }
        let config = std::env::temp_dir().join("bkt-test-system-bus.conf");
        std::fs::write(&config, BUS_CONFIG).expect("bus config");
        std::fs::create_dir_all("/run/dbus").expect("mkdir /run/dbus");
        let out = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--fork", "--nopidfile"])
            .output()
            .expect("running dbus-daemon");
        assert!(
            out.status.success(),
            "dbus-daemon: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..100 {
            if std::os::unix::net::UnixStream::connect(SYSTEM_BUS).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the system bus did not come up at {SYSTEM_BUS}");
    });
}

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"#;

/// One row of `flatpak list --app --columns=application,origin,branch,installation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub id: String,
    pub origin: String,
    pub branch: String,
    pub installation: String,
}

/// The user's hands: flatpak run directly, as the world's user and in its environment.
impl World {
    /// Runs flatpak exactly as [`World::tool`] runs a tool.
    pub fn flatpak(&self, args: &[&str]) -> Out {
        if self.user.is_some() {
            ensure_system_bus();
        }
        self.tool("flatpak", args)
    }

    /// Runs flatpak and insists that it succeeded.
    #[track_caller]
    pub fn flatpak_ok(&self, args: &[&str]) -> Out {
        let out = self.flatpak(args);
        assert!(out.ok(), "flatpak {args:?} failed:\n{}", out.all());
        out
    }

    /// `flatpak remote-add --user --no-gpg-verify NAME URL`.
    pub fn add_remote(&self, name: &str, url: &str) {
        self.flatpak_ok(&["remote-add", "--user", "--no-gpg-verify", name, url]);
    }

    /// `flatpak install --user -y --noninteractive REMOTE ID…`.
    pub fn install_apps(&self, remote: &str, ids: &[&str]) {
        let mut args = vec!["install", "--user", "-y", "--noninteractive", remote];
        args.extend(ids);
        self.flatpak_ok(&args);
    }

    pub fn install_app(&self, remote: &str, id: &str) {
        self.install_apps(remote, &[id]);
    }

    /// `flatpak uninstall --user -y --noninteractive ID`.
    pub fn uninstall_app(&self, id: &str) {
        self.flatpak_ok(&["uninstall", "--user", "-y", "--noninteractive", id]);
    }

    /// `flatpak override --user FLAGS… ID`, e.g. `&["--filesystem=home", "--env=FOO=bar"]`.
    pub fn override_app(&self, id: &str, flags: &[&str]) {
        let mut args = vec!["override", "--user"];
        args.extend(flags);
        args.push(id);
        self.flatpak_ok(&args);
    }

    /// `flatpak override --user --reset ID`.
    pub fn reset_override(&self, id: &str) {
        self.flatpak_ok(&["override", "--user", "--reset", id]);
    }

    /// The folder flatpak keeps the user's installation in: `$XDG_DATA_HOME/flatpak`.
    pub fn flatpak_user_dir(&self) -> PathBuf {
        self.extra_env
            .iter()
            .rev()
            .find(|(k, _)| k == "XDG_DATA_HOME")
            .map_or_else(|| self.path("data"), |(_, v)| PathBuf::from(v))
            .join("flatpak")
    }

    /// The user's override keyfile of `id`, if there is one.
    pub fn override_file(&self, id: &str) -> Option<String> {
        std::fs::read_to_string(self.flatpak_user_dir().join("overrides").join(id)).ok()
    }

    /// Installed apps of every installation, sorted by id.
    pub fn installed_apps(&self) -> Vec<Installed> {
        let out = self.flatpak_ok(&[
            "list",
            "--app",
            "--columns=application,origin,branch,installation",
        ]);
        let mut apps: Vec<Installed> = out
            .stdout()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                assert_eq!(cols.len(), 4, "flatpak list row: {l:?}");
                Installed {
                    id: cols[0].to_string(),
                    origin: cols[1].to_string(),
                    branch: cols[2].to_string(),
                    installation: cols[3].to_string(),
                }
            })
            .collect();
        apps.sort_by(|a, b| a.id.cmp(&b.id));
        apps
    }

    /// The ids of the installed apps, sorted.
    pub fn installed_ids(&self) -> Vec<String> {
        self.installed_apps().into_iter().map(|a| a.id).collect()
    }

    /// Remotes of every installation: (name, url, options).
    pub fn remotes(&self) -> Vec<(String, String, String)> {
        let out = self.flatpak_ok(&["remotes", "--columns=name,url,options"]);
        out.stdout()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut cols = l.split('\t').map(String::from);
                (
                    cols.next().unwrap_or_default(),
                    cols.next().unwrap_or_default(),
                    cols.next().unwrap_or_default(),
                )
            })
            .collect()
    }
}
