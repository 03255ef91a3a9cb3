//! `git` run as the user runs it: their environment carries their identity, keys and agent.
//! bkt's proposals (`bkt pr`, `--pr`, `bkt local commit`) and `bkt init` go through here.

use super::process;
use super::text::failure_detail;
use anyhow::{Context as _, Result, anyhow, bail};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// `git -C DIR ARGS`; `env` adds variables, `input` is written to its stdin. The output,
/// trimmed, or an error with git's own words.
pub fn with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
    input: Option<&[u8]>,
) -> Result<String> {
    untrimmed(dir, args, env, input).map(|out| out.trim().to_string())
}

/// [`with`], its output as git printed it (leading spaces are meaningful in some).
pub fn untrimmed(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
    input: Option<&[u8]>,
) -> Result<String> {
    let path = process::resolve("git").map_err(|_| anyhow!("git is not installed here"))?;
    let mut cmd = Command::new(path);
    cmd.arg("-C").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("running git")?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(bytes).context("writing to git")?;
    }
    let out = child.wait_with_output().context("running git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            failure_detail(&out.stderr, &out.stdout)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `git -C DIR ARGS`, its output trimmed.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    with(dir, args, &[], None)
}
