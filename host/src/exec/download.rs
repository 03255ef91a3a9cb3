//! Fetching a file for a plugin: from a declared https source through curl, or from a file
//! beneath the system root. Bounded in size (the plugin's declared limit) and time; nothing
//! is written anywhere until the bytes are checked against the sha256 the plugin named.

use crate::model::Fetch;
use crate::os::process;
use crate::os::text::{failure_detail, printable};
use anyhow::{Context as _, Result};
use cap_std::fs::{Dir, OpenOptionsExt as _};
use std::io::Read as _;
use std::process::Stdio;

/// How long one https fetch may take, connection and transfer together.
const FETCH_SECONDS: &str = "300";

/// The bytes of `f.url`, if their sha256 is the one named. `root` is the system root, where a
/// `file://` path is read.
pub fn fetch(f: &Fetch, root: &Dir) -> Result<Vec<u8>> {
    let bytes = match f.url.strip_prefix("file://") {
        Some(path) => read_file(root, path, f.max_bytes)?,
        None => over_https(&f.url, f.max_bytes)?,
    };
    let got = crate::os::hash::sha256_hex(&bytes);
    match &f.sha256 {
        Some(want) if *want != got => anyhow::bail!(
            "{} has sha256 {got}, not the {} the manifest names; it was not kept",
            printable(&f.url),
            printable(want)
        ),
        _ => Ok(bytes),
    }
}

/// A file beneath the root, opened without following a symlink anywhere on the way: it must
/// be a regular file (a device or a FIFO would never end) within the limit. Percent-escapes
/// are refused rather than decoded, so the file checked is the file read.
fn read_file(root: &Dir, path: &str, limit: u64) -> Result<Vec<u8>> {
    let shown = || format!("file://{}", printable(path));
    if path.contains('%') {
        anyhow::bail!(
            "{} is not fetched: bkt does not decode %-escapes in file URLs",
            shown()
        );
    }
    let (dir, name) = crate::os::nofollow::parent_of(root, path, false)
        .with_context(shown)?
        .with_context(|| format!("{}: no such file", shown()))?;
    let file = dir
        .open_with(
            &name,
            cap_std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK),
        )
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => anyhow::anyhow!(
                "{} is a symlink, which could lead anywhere; it is not fetched",
                shown()
            ),
            _ => anyhow::Error::from(e).context(shown()),
        })?;
    let meta = file.metadata().with_context(shown)?;
    if !meta.is_file() {
        anyhow::bail!(
            "{} is not a regular file (a device, a FIFO, a folder or a symlink); it is not fetched",
            shown()
        );
    }
    let mut bytes = Vec::new();
    file.into_std()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(shown)?;
    too_large(&format!("file://{path}"), bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// Through curl (resolved like every program, in a cleared environment), straight into
/// memory. Bounded whether or not the server says the size (curl's `--max-filesize` trusts a
/// length it is told); redirects are followed over https only.
fn over_https(url: &str, limit: u64) -> Result<Vec<u8>> {
    let curl = process::resolve("curl").map_err(|_| {
        anyhow::anyhow!(
            "curl is not installed here (looked in {}); bkt fetches with it",
            process::searched()
        )
    })?;
    let mut child = process::cleared("curl", &curl)
        .args(["--fail", "--silent", "--show-error", "--location"])
        .args(["--proto", "=https", "--proto-redir", "=https"])
        .args(["--max-time", FETCH_SECONDS])
        .args(["--max-filesize", &limit.to_string(), "--output", "-"])
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", curl.display()))?;
    let mut bytes = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|out| out.take(limit + 1).read_to_end(&mut bytes));
    if bytes.len() as u64 > limit {
        let _ = child.kill();
        let _ = child.wait();
        too_large(url, bytes.len() as u64, limit)?;
    }
    let out = child.wait_with_output().context("waiting for curl")?;
    if !out.status.success() || !matches!(read, Some(Ok(_))) {
        anyhow::bail!(
            "fetching {} failed: {}",
            printable(url),
            printable(&failure_detail(&out.stderr, &[]))
        );
    }
    Ok(bytes)
}

fn too_large(url: &str, got: u64, limit: u64) -> Result<()> {
    if got > limit {
        anyhow::bail!(
            "{} is larger than {} MiB, the most this plugin may fetch; it was not kept",
            printable(url),
            limit.div_ceil(1 << 20)
        );
    }
    Ok(())
}
