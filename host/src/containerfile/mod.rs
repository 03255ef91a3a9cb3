//! Keeping the Containerfile's managed sections in step with the manifests.

mod body;
pub mod sections;

use crate::model::CallError;
use crate::os::atomic::FileChange;
use crate::os::text::printable;
use crate::repo::Repo;
use crate::runtime::{Loaded, Runtime};
use anyhow::{Result, anyhow, bail};
use std::collections::BTreeMap;

pub const FILE: &str = "Containerfile";

/// What re-rendering the Containerfile found.
pub struct Rendered {
    pub old: String,
    pub new: String,
    /// Sections whose body changed.
    pub changed: Vec<String>,
    /// Sections a plugin renders that the file has no markers for: (plugin, section).
    pub missing: Vec<(String, String)>,
}

impl Rendered {
    pub fn file_change(&self) -> Option<FileChange> {
        (self.old != self.new).then(|| FileChange {
            name: FILE.to_string(),
            old: Some(self.old.clone().into_bytes()),
            new: self.new.clone().into_bytes(),
        })
    }

    /// How to add the sections the file lacks.
    pub fn missing_advice(&self) -> Vec<String> {
        self.missing
            .iter()
            .map(|(plugin, name)| {
                format!(
                    "{FILE} has no {name} section ({plugin} renders it); add these two lines where it belongs, then run `bkt containerfile sync`:\n    {}\n    {}",
                    sections::begin_marker(name),
                    sections::end_marker(name)
                )
            })
            .collect()
    }
}

/// New manifest texts by plugin id, not yet written: the Containerfile renders from these
/// instead of the files.
pub type Pending = BTreeMap<String, String>;

/// The sections each plugin renders from the manifest text given with it (kept from an
/// earlier rendering of the same text, or rendered now: `Runtime::render_sections`); a section
/// a plugin did not declare, a line that would break the file, or a section two plugins claim
/// is an error.
fn render_sections(
    rt: &Runtime,
    inputs: &[(&Loaded, Option<String>)],
) -> Result<BTreeMap<String, (String, Vec<String>)>> {
    let texts: Vec<(&Loaded, Option<&str>)> =
        inputs.iter().map(|(p, m)| (*p, m.as_deref())).collect();
    let results = rt.render_sections(&texts);
    let mut out: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for ((plugin, _), result) in inputs.iter().zip(results) {
        let path = Repo::manifest_path(&plugin.info.manifest);
        let sections =
            result.map_err(|e: CallError| anyhow!("{}: {}", plugin.info.id, e.describe(&path)))?;
        for section in sections {
            // The name and lines are the plugin's text: shown escaped, like all of it.
            let shown = printable(&section.name);
            if !plugin.info.sections.contains(&section.name) {
                bail!(
                    "plugin {} rendered section {shown}, which it does not declare ({})",
                    plugin.info.id,
                    plugin.info.sections.join(", ")
                );
            }
            if let Some(bad) = section.lines.iter().find(|l| !sections::is_plain_line(l)) {
                bail!(
                    "plugin {} rendered {bad:?} into section {shown}: section lines may not contain line breaks or bkt's markers",
                    plugin.info.id,
                );
            }
            if let Err(why) = body::check(&section.lines) {
                bail!(
                    "plugin {} rendered section {shown}, which cannot go into the {FILE}: {}",
                    plugin.info.id,
                    printable(&why.0)
                );
            }
            if let Some((other, _)) = out.get(&section.name) {
                bail!(
                    "plugins {other} and {} both render section {}",
                    plugin.info.id,
                    section.name
                );
            }
            out.insert(section.name, (plugin.info.id.clone(), section.lines));
        }
    }
    Ok(out)
}

/// Re-renders the sections of `plugins` into the repository's Containerfile, using `pending`
/// manifest texts where given and the files otherwise. `None` when the repository has no
/// Containerfile.
pub fn rerender(
    rt: &Runtime,
    repo: &Repo,
    plugins: &[&Loaded],
    pending: &Pending,
) -> Result<Option<Rendered>> {
    let Some(old) = repo.read(FILE)? else {
        return Ok(None);
    };
    let doc = sections::parse(&old).map_err(|e| anyhow!("{}:{}: {}", FILE, e.line, e.message))?;
    let present: Vec<&str> = doc.sections().into_iter().map(|(n, _)| n).collect();
    // A subsystem renders when it is tracked (has a manifest) or the file already has one of
    // its sections; an untracked one does not ask for sections the user never wanted.
    let mut inputs = Vec::new();
    for plugin in plugins
        .iter()
        .copied()
        .filter(|p| !p.info.sections.is_empty())
    {
        let manifest = match pending.get(&plugin.info.id) {
            Some(text) => Some(text.clone()),
            None => repo.read_manifest(&plugin.info.manifest)?,
        };
        if manifest.is_some()
            || plugin
                .info
                .sections
                .iter()
                .any(|s| present.contains(&s.as_str()))
        {
            inputs.push((plugin, manifest));
        }
    }
    let rendered = render_sections(rt, &inputs)?;
    let missing = rendered
        .iter()
        .filter(|(name, _)| !present.contains(&name.as_str()))
        .map(|(name, (plugin, _))| (plugin.clone(), name.clone()))
        .collect();
    let bodies: BTreeMap<String, Vec<String>> = rendered
        .into_iter()
        .map(|(n, (_, lines))| (n, lines))
        .collect();
    let (new, changed) = doc.render(&bodies);
    Ok(Some(Rendered {
        old,
        new,
        changed,
        missing,
    }))
}

/// A new Containerfile: `head`, then every section `plugins` render, in their order, filled
/// from the manifest texts in `manifests` (a plugin missing there renders from none), then
/// `tail`. Sections are rendered and placed the same way `containerfile sync` does.
pub fn new_file(
    rt: &Runtime,
    plugins: &[&Loaded],
    manifests: &Pending,
    head: &str,
    tail: &str,
) -> Result<String> {
    let mut skeleton = head.to_string();
    for name in plugins.iter().flat_map(|p| &p.info.sections) {
        skeleton.push_str(&format!(
            "\n{}\n{}\n",
            sections::begin_marker(name),
            sections::end_marker(name)
        ));
    }
    skeleton.push('\n');
    skeleton.push_str(tail);
    let doc =
        sections::parse(&skeleton).map_err(|e| anyhow!("{}:{}: {}", FILE, e.line, e.message))?;
    let inputs: Vec<(&Loaded, Option<String>)> = plugins
        .iter()
        .filter(|p| !p.info.sections.is_empty())
        .map(|p| (*p, manifests.get(&p.info.id).cloned()))
        .collect();
    let bodies: BTreeMap<String, Vec<String>> = render_sections(rt, &inputs)?
        .into_iter()
        .map(|(n, (_, lines))| (n, lines))
        .collect();
    Ok(doc.render(&bodies).0)
}
