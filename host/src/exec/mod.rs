//! Running effects: argv without a shell, privilege by scope, files through the root `Dir`.

mod download;
mod stream;

use crate::model::{Effect, Elevator, Fetch, Run, Scope, SystemRoot};
use crate::os::atomic;
use crate::os::identity::euid;
use crate::os::process::{self, Unresolved};
use crate::os::text::{failure_detail, printable, quote};
use anyhow::{Context as _, Result};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// The mode a plugin's file gets: its permission bits without setuid, setgid and sticky, and
/// without group or world write. A plugin configures files; it does not get to make a
/// program that runs as root, or a file any user may change (`mode & 0o755`).
pub fn safe_mode(mode: u32) -> u32 {
    mode & 0o755
}

pub struct Executor {
    pub elevator: Elevator,
    root: PathBuf,
    euid: u32,
    /// Set when bkt runs as root on someone's behalf (sudo, pkexec).
    invoked_by: Option<String>,
}

impl Executor {
    pub fn new(elevator: Elevator, root: &SystemRoot) -> Executor {
        let invoked_by = crate::os::identity::invoking_user();
        Executor {
            elevator,
            root: root.path().to_path_buf(),
            euid: euid(),
            invoked_by,
        }
    }

    /// How an effect reads as a command line.
    pub fn describe(effect: &Effect) -> String {
        match effect {
            Effect::Run(r) => {
                let mut words = vec![quote(&r.program)];
                words.extend(r.args.iter().map(|a| quote(a)));
                let prefix = if r.scope == Scope::System { "# " } else { "$ " };
                format!("{prefix}{}", words.join(" "))
            }
            Effect::WriteFile(w) => format!(
                "write {} ({} bytes, mode {:o})",
                printable(&w.path),
                w.contents.len(),
                safe_mode(w.mode)
            ),
            Effect::RemoveFile(p) => format!("remove {}", printable(p)),
            Effect::Fetch(f) => format!(
                "fetch {} to {} ({})",
                printable(&f.url),
                printable(&f.path),
                match &f.sha256 {
                    Some(sha) => format!("sha256 {}", printable(sha)),
                    None => "over https, unchecked".into(),
                }
            ),
        }
    }

    /// Runs one effect. `Ok` holds what its program said on stderr although it succeeded
    /// (empty for file effects): some tools warn there and change nothing (dconf without a
    /// session bus), and the verification that follows quotes it. `output` is handed each
    /// line a program writes, as it writes it.
    pub fn run(&self, effect: &Effect, output: &dyn Fn(&str)) -> Result<String> {
        let (path, result) = match effect {
            Effect::Run(r) => return self.run_program(r, output),
            Effect::WriteFile(w) => (&w.path, self.write_file(w)),
            Effect::RemoveFile(path) => (path, self.remove_file(path)),
            Effect::Fetch(f) => (&f.path, self.fetch(f)),
        };
        // File effects are not elevated: bkt would have to run itself through the elevator to
        // keep the checks above. Say so instead of a bare "permission denied".
        match result {
            Err(e) if self.euid != 0 && is_permission_denied(&e) => Err(e.context(format!(
                "changing {} needs root: run this bkt command as root (sudo bkt ...); files \
                 are not written through --elevator",
                printable(path)
            ))),
            other => other.map(|()| String::new()),
        }
    }

    fn root_dir(&self) -> Result<Dir> {
        Dir::open_ambient_dir(&self.root, ambient_authority())
            .with_context(|| format!("opening the root {}", self.root.display()))
    }

    /// Writes beneath the root through folders opened without following symlinks; the
    /// rename replaces a symlink at the final name rather than writing through it.
    fn write_file(&self, w: &crate::model::WriteFile) -> Result<()> {
        let (base, path) = self.base_of(&w.path)?;
        let (dir, name) = crate::os::nofollow::parent_of(&base, &path, true)?
            .context("the folder was just created")?;
        atomic::write_in(
            &dir,
            &name,
            &w.contents,
            atomic::Mode::Exactly(safe_mode(w.mode)),
        )
    }

    /// Removes beneath the root: the folders on the way are not followed if they are
    /// symlinks, and a symlink at the final name is removed itself, not its target.
    fn remove_file(&self, path: &str) -> Result<()> {
        // No folder, no file: already removed.
        let (base, rel) = self.base_of(path)?;
        let Some((dir, name)) = crate::os::nofollow::parent_of(&base, &rel, false)? else {
            return Ok(());
        };
        match dir.remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", printable(path)))
            }
            _ => Ok(()),
        }
    }

    /// Downloads, checks the sha256, then places the file the way every file effect is
    /// placed: folders walked without following symlinks, written atomically.
    fn fetch(&self, f: &Fetch) -> Result<()> {
        let (base, path) = self.base_of(&f.path)?;
        let bytes = download::fetch(f, &self.root_dir()?)?;
        let (dir, name) = crate::os::nofollow::parent_of(&base, &path, true)?
            .context("the folder was just created")?;
        atomic::write_in(&dir, &name, &bytes, atomic::Mode::Exactly(0o644))
    }

    /// The folder a file effect's path is resolved in, and the path beneath it: `~/...` under
    /// the running user's home (a user-scope effect, never done as root), else under the root.
    fn base_of(&self, path: &str) -> Result<(Dir, String)> {
        let Some(rest) = path.strip_prefix("~/") else {
            return Ok((self.root_dir()?, path.to_string()));
        };
        self.refuse_user_scope_as_root()?;
        let home = crate::os::paths::home_dir()
            .context("the user's home is not known (HOME is not set)")?;
        // `~/.local/share/…` is the user's data folder, as for reads.
        let (base, rest) = crate::os::paths::xdg_base(&home.to_string_lossy(), rest);
        let dir = Dir::open_ambient_dir(&base, ambient_authority())
            .with_context(|| format!("opening {}", base.display()))?;
        Ok((dir, format!("/{rest}")))
    }

    /// User settings belong to a user: as root they would land in root's home, or make
    /// root-owned files in the user's.
    fn refuse_user_scope_as_root(&self) -> Result<()> {
        if self.euid != 0 {
            return Ok(());
        }
        match self.invoked_by.as_deref() {
            Some(user) => anyhow::bail!(
                "skipped: user settings are not changed as root; run `bkt apply --scope user` as {user}"
            ),
            None => anyhow::bail!(
                "skipped: user settings are not changed as root, and no invoking user is known \
                 (neither SUDO_USER nor PKEXEC_UID is set); run `bkt apply --scope user` as the \
                 user whose settings these are"
            ),
        }
    }

    fn run_program(&self, r: &Run, output: &dyn Fn(&str)) -> Result<String> {
        if r.scope == Scope::User {
            self.refuse_user_scope_as_root()?;
            refuse_without_session_bus(&r.program)?;
        }
        // A program the plugin declared outside the system folders runs only if it and its
        // folders belong to root or to whoever it runs as (root, for a system run).
        let runs_as = if r.scope == Scope::System {
            0
        } else {
            self.euid
        };
        let program = match &r.declared_path {
            Some(path) => process::declared(path, runs_as)
                .map_err(|why| anyhow::anyhow!("not running {}: {why}", printable(&r.program)))?,
            None => resolve(&r.program)?,
        };
        // The environment is the one a query of this program gets: what the host decided the
        // tool needs, nothing else (under `sudo -E` the rest is a user's: RPM macros in a
        // HOME, LD_PRELOAD ...).
        let mut cmd = if r.scope == Scope::System && self.euid != 0 {
            let (elevator, rest) = self
                .elevator
                .prefix()
                .split_first()
                .context("an elevator names a program")?;
            let path = process::resolve(elevator).map_err(|_| {
                anyhow::anyhow!(
                    "{elevator} is not installed here, and changing the system needs root: run \
                     bkt as root, or choose another way with --elevator (sudo, pkexec, run0)"
                )
            })?;
            // The elevator gets the program's full path: it runs what bkt resolved, not what
            // its own search path finds (pkexec needs one anyway). The program's environment
            // is what the elevator passes on.
            let mut cmd = Command::new(path);
            cmd.arg0(elevator).args(rest).arg(&program);
            process::clear_for(&mut cmd, &r.program);
            cmd
        } else if r.declared_path.is_some() {
            process::cleared_declared(&r.program, &program)
        } else {
            process::cleared(&r.program, &program)
        };
        cmd.args(&r.args);
        let words: Vec<&str> = std::iter::once(r.program.as_str())
            .chain(r.args.iter().map(String::as_str))
            .collect();
        tracing::debug!(target: "bkt::exec", "run: {}", printable(&words.join(" ")));
        tracing::debug!(target: "bkt::exec", "  {} is {}", printable(&r.program), program.display());
        let out = stream::run(cmd.stdin(std::process::Stdio::null()), &|line| {
            tracing::info!(target: "bkt::exec", "  │ {}", printable(line));
            output(line);
        })
        .with_context(|| format!("cannot run {}", program.display()))?;
        if out.status.success() {
            return Ok(printable(&failure_detail(&out.stderr, &[])).into_owned());
        }
        let detail = printable(&failure_detail(&out.stderr, &out.stdout)).into_owned();
        let shown = printable(&r.program);
        match out.status.code() {
            Some(code) => anyhow::bail!(
                "{shown} exited with {code}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ),
            None => anyhow::bail!("{shown} was killed by a signal"),
        }
    }
}

/// A user setting written through dconf with no session bus to reach it would be lost while
/// its program exits 0: refused before anything runs, with what to do instead.
fn refuse_without_session_bus(program: &str) -> Result<()> {
    if crate::os::session_bus::missing_for(program, |v| std::env::var_os(v)) {
        anyhow::bail!(
            "not run: there is no session bus here, so dconf cannot store user settings ({} \
             would exit 0 and change nothing); run bkt inside the desktop session, or as \
             `dbus-run-session bkt ...`",
            printable(program)
        );
    }
    Ok(())
}

/// `program` as the file that runs: looked up by the host in the system folders.
fn resolve(program: &str) -> Result<PathBuf> {
    process::resolve(program).map_err(|why| match why {
        Unresolved::NotBare => anyhow::anyhow!(
            "refusing to run {:?}: a program is named by a bare word, which bkt looks up in the \
             system folders",
            printable(program)
        ),
        Unresolved::NotFound => anyhow::anyhow!(
            "{} is not installed here (looked in {})",
            printable(program),
            process::searched()
        ),
    })
}

fn is_permission_denied(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_lose_special_bits_and_write_for_others() {
        assert_eq!(safe_mode(0o6777), 0o755);
        assert_eq!(safe_mode(0o1666), 0o644);
        assert_eq!(safe_mode(0o640), 0o640);
        assert_eq!(safe_mode(0o600), 0o600);
        assert_eq!(safe_mode(0o4755), 0o755);
    }
}
