//! `bkt init [DIR] [--from IMAGE] [--capture]`.

use super::printer::Printer;
use crate::app::{App, Options};
use crate::ops::{self, Exit, Report};
use anyhow::{Context as _, Result, bail};
use std::path::PathBuf;

pub fn run(
    mut opts: Options,
    out: &Printer,
    dir: Option<PathBuf>,
    image: String,
    bkt_image: Option<String>,
    capture: bool,
) -> Result<Exit> {
    if opts.repo.is_some() {
        bail!("bkt init takes the new repository's folder as DIR, not --repo");
    }
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let dir = match dir {
        Some(d) => std::path::absolute(cwd.join(d)).context("making DIR absolute")?,
        None => cwd,
    };
    // Every later step (capture, the plugins' protected folders) works on the new repository.
    opts.repo = Some(dir.clone());
    let app = App::new(opts)?;
    let done = ops::init::run(
        &app,
        out,
        &ops::init::Args {
            dir,
            image,
            bkt_image: bkt_image.unwrap_or_else(ops::init::default_bkt_image),
            capture,
        },
    )?;
    out.emit(&done);
    Ok(done.exit())
}

/// `bkt init --clone URL [DIR]`.
pub fn clone(out: &Printer, url: &str, dir: Option<PathBuf>) -> Result<Exit> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let dir = match dir {
        Some(d) => cwd.join(d),
        None => cwd.join(ops::init::clone_folder(url).with_context(|| {
            format!("{url:?} names no folder to clone into; give one: bkt init --clone URL DIR")
        })?),
    };
    let dir = std::path::absolute(&dir).context("making DIR absolute")?;
    let done = ops::init::clone(out, url, &dir)?;
    out.emit(&done);
    Ok(done.exit())
}
