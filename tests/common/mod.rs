//! A throwaway world for one test: HOME, XDG folders, a repository, and the real tools.
#![allow(dead_code)]

pub mod flatpak;
pub mod probe;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct World {
    pub dir: tempfile::TempDir,
    /// Shared compiled-code cache, so each test does not recompile the plugins. (bkt running
    /// as root ignores it and uses /var/cache/bkt.)
    pub cache: PathBuf,
    pub path_env: String,
    pub extra_env: Vec<(String, String)>,
    /// Runs bkt and the tools as this user (owning the world's files) instead of the test's.
    pub user: Option<u32>,
}

/// The unprivileged user tests run user-scope effects as when the tests run as root: bkt
/// never changes user settings as root.
pub const NOBODY: u32 = 65534;

/// The folders bkt looks programs up in.
pub const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether any user may run `file`: it and every folder above it are open to others.
fn reachable_by_others(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.ancestors()
        .all(|p| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// The user the tests run as.
pub fn test_uid() -> u32 {
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self"))
}

pub const SCHEMA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<schemalist>
  <schema id="org.bkt.test" path="/org/bkt/test/">
    <key name="clock-format" type="s"><default>'24h'</default></key>
    <key name="idle-delay" type="u"><default>300</default></key>
    <key name="hot-corners" type="b"><default>true</default></key>
    <key name="favorites" type="as"><default>[]</default></key>
  </schema>
  <schema id="org.bkt.other" path="/org/bkt/other/">
    <key name="size" type="i"><default>10</default></key>
    <key name="name" type="s"><default>''</default></key>
  </schema>
</schemalist>
"#;

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home/.config", "data", "state", "repo/manifests", "schemas"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bkt-test-cache");
        World {
            dir,
            cache,
            path_env: std::env::var("PATH").unwrap_or_default(),
            extra_env: vec![],
            user: None,
        }
    }

    /// A world whose bkt runs as an unprivileged user when the tests run as root, with its
    /// own compiled-code cache (a cache is used only by the user who owns it).
    pub fn unprivileged() -> World {
        let mut w = World::new();
        if test_uid() == 0 {
            w.user = Some(NOBODY);
            w.cache = w.path("cache");
        }
        w
    }

    /// Gives git an identity in this world, for tests that commit.
    pub fn with_git_identity(&mut self) {
        for (k, v) in [
            ("GIT_AUTHOR_NAME", "Test"),
            ("GIT_AUTHOR_EMAIL", "test@example.com"),
            ("GIT_COMMITTER_NAME", "Test"),
            ("GIT_COMMITTER_EMAIL", "test@example.com"),
        ] {
            self.extra_env.push((k.into(), v.into()));
        }
    }

    /// A world with the test schema compiled and the keyfile backend, as a user.
    pub fn with_schema() -> World {
        let w = World::unprivileged();
        std::fs::write(w.path("schemas/org.bkt.test.gschema.xml"), SCHEMA).expect("schema");
        let st = Command::new("glib-compile-schemas")
            .arg(w.path("schemas"))
            .status()
            .expect("glib-compile-schemas");
        assert!(st.success());
        w
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn repo(&self) -> PathBuf {
        self.path("repo")
    }

    pub fn write_manifest(&self, name: &str, text: &str) {
        std::fs::write(self.repo().join("manifests").join(name), text).expect("write manifest");
    }

    pub fn manifest(&self, name: &str) -> String {
        std::fs::read_to_string(self.repo().join("manifests").join(name)).expect("read manifest")
    }

    fn env(&self, cmd: &mut Command) {
        if let Some(uid) = self.user {
            // Files the test made since the last run are root's: hand the world over.
            chown_all(self.dir.path(), uid);
            std::os::unix::process::CommandExt::uid(cmd, uid);
            std::os::unix::process::CommandExt::gid(cmd, uid);
        }
        self.env_vars(cmd);
    }

    /// `program` in this world's environment, but as the test's own user: to set up (a mount
    /// namespace, say) before it drops to the world's user itself. The world is handed over.
    pub fn command_as_test_user(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        if let Some(uid) = self.user {
            chown_all(self.dir.path(), uid);
        }
        let mut cmd = Command::new(program);
        self.env_vars(&mut cmd);
        cmd
    }

    fn env_vars(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", &self.path_env)
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home/.config"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CACHE_HOME", &self.cache)
            .env("GSETTINGS_SCHEMA_DIR", self.path("schemas"))
            .env("GSETTINGS_BACKEND", "keyfile")
            .env("NO_COLOR", "1")
            .current_dir(self.repo());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    /// The bkt binary this world runs: cargo's, or, when it runs as another user who cannot
    /// reach cargo's target folder (a checkout in a private folder), a copy that user can run.
    pub fn bkt_exe(&self) -> PathBuf {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_bkt"));
        if self.user.is_none() || reachable_by_others(&built) {
            return built;
        }
        static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        COPY.get_or_init(|| {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            // One copy per build of bkt, shared by every test binary and run.
            let meta = std::fs::metadata(&built).expect("bkt");
            let dir = std::env::temp_dir().join("bkt-test-exe");
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            let copy = dir.join(format!("bkt-{}-{}", meta.mtime(), meta.size()));
            if !copy.exists() {
                let tmp = dir.join(format!(".bkt-{}", std::process::id()));
                std::fs::copy(&built, &tmp).expect("copying bkt");
                std::fs::rename(&tmp, &copy).expect("placing the copy of bkt");
                // Copies of earlier builds are of no more use.
                for old in std::fs::read_dir(&dir).expect("read_dir").flatten() {
                    if old.path() != copy && !old.file_name().to_string_lossy().starts_with('.') {
                        let _ = std::fs::remove_file(old.path());
                    }
                }
            }
            copy
        })
        .clone()
    }

    /// bkt with `args` in this world's environment, to adjust before running.
    pub fn bkt_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(self.bkt_exe());
        cmd.args(args);
        cmd
    }

    pub fn bkt(&self, args: &[&str]) -> Out {
        Out(self.bkt_command(args).output().expect("running bkt"))
    }

    /// Starts bkt without waiting for it (output discarded).
    pub fn spawn_bkt(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = self.bkt_command(args);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().expect("starting bkt")
    }

    /// `program` set up to run as this world's user in its environment, not started.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.env(&mut cmd);
        cmd
    }

    /// Runs a real tool in the same environment.
    pub fn tool(&self, program: &str, args: &[&str]) -> Out {
        let mut cmd = Command::new(program);
        cmd.args(args);
        self.env(&mut cmd);
        Out(cmd
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}")))
    }

    /// Runs rpm or dnf the way bkt runs them: with only PATH and the locale. (Debian's rpm
    /// keeps its database under `$HOME`, so a HOME here would make it another database.)
    pub fn system_tool(&self, program: &str, args: &[&str]) -> Out {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", SYSTEM_PATH)
            .env("LC_ALL", "C.UTF-8")
            .current_dir(self.repo())
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        Out(out)
    }

    /// A `BKT_PROGRAM_PATH` with test doubles for programs Debian lacks before the system
    /// folders: an `rpm-ostree` that replays `status` (`recorded`, a file of
    /// tests/fixtures/recorded) and appends the changes bkt makes to `log`. bkt runs programs
    /// with a cleared environment, so the double's settings are written into a wrapper rather
    /// than passed as variables.
    pub fn program_path_with_doubles(&self, recorded: &str, log: &Path) -> String {
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).expect("mkdir bin");
        rpm_ostree_double(&bin, recorded, log);
        format!("{}:{SYSTEM_PATH}", bin.display())
    }

    pub fn gsettings_get(&self, schema: &str, key: &str) -> String {
        let out = self.tool("gsettings", &["get", schema, key]);
        assert!(out.ok(), "gsettings get failed: {}", out.stderr());
        out.stdout().trim().to_string()
    }
}

pub struct Out(pub Output);

impl Out {
    pub fn ok(&self) -> bool {
        self.0.status.success()
    }
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.all()))
    }
    #[track_caller]
    pub fn assert_stdout_has(&self, needle: &str) {
        self.assert_has("stdout", self.stdout(), needle);
    }
    #[track_caller]
    pub fn assert_stderr_has(&self, needle: &str) {
        self.assert_has("stderr", self.stderr(), needle);
    }
    #[track_caller]
    pub fn assert_all_has(&self, needle: &str) {
        self.assert_has("output", self.all(), needle);
    }
    #[track_caller]
    fn assert_has(&self, stream: &str, text: String, needle: &str) {
        assert!(
            text.contains(needle),
            "{stream} lacks {needle:?}:\n{}",
            self.all()
        );
    }
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "exit code; output:\n{}", self.all());
        self
    }
}

/// `dir` and everything in it (symlinks themselves, not their targets) owned by `uid`.
pub fn chown_all(dir: &Path, uid: u32) {
    std::os::unix::fs::lchown(dir, Some(uid), Some(uid)).expect("chown");
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            chown_all(&entry.path(), uid);
        }
    }
}

/// Noarch RPMs with empty payloads, one per name, from a single spec (the first name is the
/// main package, the rest subpackages) in one rpmbuild run. Returns the folder holding them.
pub fn build_rpms(dir: &Path, names: &[String]) -> PathBuf {
    let (main, subs) = names.split_first().expect("at least one package name");
    let mut spec = format!(
        "Name: {main}\nVersion: 1.0\nRelease: 1\nSummary: bkt test package\nLicense: MIT\nBuildArch: noarch\n%description\nA package for bkt's tests.\n%files\n"
    );
    for name in subs {
        spec.push_str(&format!("%package -n {name}\nSummary: bkt test package {name}\n%description -n {name}\nA package for bkt's tests.\n%files -n {name}\n"));
    }
    std::fs::create_dir_all(dir).expect("mkdir");
    let spec_path = dir.join("packages.spec");
    std::fs::write(&spec_path, spec).expect("spec");
    let top = dir.join("rpmbuild");
    let out = Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("-bb")
        .arg(&spec_path)
        .output()
        .expect("rpmbuild");
    assert!(
        out.status.success(),
        "rpmbuild: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    top.join("RPMS/noarch")
}

/// `count` package names for a benchmark's rpm database: `bench-base`, then `bench-pkg-1` ….
pub fn bench_packages(count: usize) -> Vec<String> {
    std::iter::once("bench-base".to_string())
        .chain((1..count).map(|i| format!("bench-pkg-{i}")))
        .collect()
}

/// A root whose rpm database holds `names` (empty payloads, built in `dir` by one rpmbuild
/// run, see [`build_rpms`]), installed with `rpm --justdb`: thousands take seconds.
pub fn rpmdb_root(dir: &Path, root: &Path, names: &[String]) {
    let built = build_rpms(dir, names);
    std::fs::create_dir_all(root).expect("mkdir");
    let ok = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .arg("--initdb")
        .status()
        .expect("rpm --initdb")
        .success();
    assert!(ok, "rpm --initdb failed");
    let rpms: Vec<PathBuf> = std::fs::read_dir(&built)
        .expect("read_dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    let ok = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["-i", "--nodeps", "--justdb", "--noscripts"])
        .args(&rpms)
        .output()
        .expect("rpm -i")
        .status
        .success();
    assert!(ok, "rpm --justdb install failed");
}

/// A yum repository of tiny noarch RPMs (alpha, beta, gamma, delta), built once per test
/// binary with the real rpmbuild and createrepo_c.
/// The test repository's package groups: bkt-test-tools (beta and delta), and one named like
/// Fedora's development-tools (alpha), which the original distribution's manifest lists.
const COMPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>bkt-test-tools</id>
    <name>bkt Test Tools</name>
    <description>Two tiny packages</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">beta</packagereq>
      <packagereq type="mandatory">delta</packagereq>
    </packagelist>
  </group>
  <group>
    <id>development-tools</id>
    <name>Development Tools</name>
    <description>One tiny package</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">alpha</packagereq>
    </packagelist>
  </group>
</comps>
"#;

pub fn rpm_repo() -> &'static Path {
    static REPO: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REPO.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("rpm-repo-{}", std::process::id()));
        // fish shares its name with a package layered in a recorded rpm-ostree status
        // (tests/fixtures/recorded/rpm-ostree-status-layered.json).
        let names: Vec<String> = ["alpha", "beta", "gamma", "delta", "fish"]
            .map(String::from)
            .to_vec();
        let repo = build_rpms(&dir, &names);
        let comps = dir.join("comps.xml");
        std::fs::write(&comps, COMPS).expect("write comps.xml");
        let ok = Command::new("createrepo_c")
            .arg("-q")
            .arg("-g")
            .arg(&comps)
            .arg(&repo)
            .status()
            .expect("createrepo_c")
            .success();
        assert!(ok, "createrepo_c failed");
        repo
    })
}

/// A Containerfile with the dnf plugin's two sections, empty.
pub const DNF_CONTAINERFILE: &str = "FROM quay.io/fedora/fedora-bootc:42\n\n# === COPR_REPOS (managed by bkt) ===\n# === END COPR_REPOS ===\n\n# === SYSTEM_PACKAGES (managed by bkt) ===\n# === END SYSTEM_PACKAGES ===\n\nRUN bootc container lint\n";

/// A world with a dnf manifest, [`DNF_CONTAINERFILE`] and a root with `installed` installed;
/// returns the root as text for `--root`.
pub fn dnf_world(manifest: &str, installed: &[&str]) -> (World, String) {
    let w = World::new();
    w.write_manifest("system-packages.json", manifest);
    w.write_containerfile(DNF_CONTAINERFILE);
    let root = w.rpm_root(installed).display().to_string();
    (w, root)
}

impl World {
    /// A system root whose dnf uses the test repository, with `installed` installed by hand.
    pub fn rpm_root(&self, installed: &[&str]) -> PathBuf {
        let root = self.path("root");
        std::fs::create_dir_all(root.join("etc/yum.repos.d")).unwrap();
        std::fs::create_dir_all(root.join("etc/dnf/vars")).unwrap();
        std::fs::write(
            root.join("etc/yum.repos.d/local.repo"),
            format!(
                "[local]\nname=bkt test packages\nbaseurl=file://{}\ngpgcheck=0\n",
                rpm_repo().display()
            ),
        )
        .unwrap();
        std::fs::write(root.join("etc/dnf/vars/releasever"), "40\n").unwrap();
        if !installed.is_empty() {
            let mut args = vec!["-y", "-q"];
            let installroot = format!("--installroot={}", root.display());
            args.push(&installroot);
            args.push("install");
            args.extend(installed);
            let out = self.system_tool("dnf", &args);
            assert!(out.ok(), "dnf install: {}", out.all());
        }
        root
    }

    pub fn installed(&self, root: &Path) -> Vec<String> {
        let out = self.system_tool(
            "rpm",
            &["-qa", "--root", root.to_str().unwrap(), "--qf", "%{NAME}\n"],
        );
        let mut names: Vec<String> = out.stdout().lines().map(String::from).collect();
        names.sort();
        names
    }

    pub fn containerfile(&self) -> String {
        std::fs::read_to_string(self.repo().join("Containerfile")).expect("read Containerfile")
    }

    pub fn write_containerfile(&self, text: &str) {
        std::fs::write(self.repo().join("Containerfile"), text).expect("write Containerfile");
    }
}

/// Writes `bin/rpm-ostree`: the double in tests/doubles with its fixture and `log` set.
/// A status document recorded from the real bootc or rpm-ostree (tests/fixtures/recorded,
/// whose README says where each came from).
pub fn recorded_status(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/recorded")
        .join(name)
}

/// Installs the bootc double in `bin`, replaying `status`. The double's script is copied
/// into the world, beside the document, so an unprivileged bkt can run it.
pub fn bootc_double(bin: &Path, status: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/doubles/bootc");
    let copy = bin.join("bootc-double");
    std::fs::copy(&script, &copy).unwrap();
    let wrapper = bin.join("bootc");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nBOOTC_STATUS='{}' exec '{}' \"$@\"\n",
            status.display(),
            copy.display()
        ),
    )
    .unwrap();
    for file in [&copy, &wrapper] {
        std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

pub fn rpm_ostree_double(bin: &Path, recorded: &str, log: &Path) {
    let doubles = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/doubles");
    let fixture = recorded_status(recorded);
    let wrapper = bin.join("rpm-ostree");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nRPM_OSTREE_STATUS='{}' RPM_OSTREE_LOG='{}' exec '{doubles}/rpm-ostree' \"$@\"\n",
            fixture.display(),
            log.display()
        ),
    )
    .expect("write the rpm-ostree wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod the rpm-ostree wrapper");
}
