//! Keeping the Containerfile's managed sections in step with the manifests.

pub mod sections;

use crate::repo::Repo;
use crate::repo::atomic::FileChange;
use crate::runtime::{CallError, Loaded, Runtime};
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

/// The sections of `plugins`, rendered from the given manifest texts (or from the repository
/// when a plugin has no override). Plugins render in parallel.
pub fn render_sections(
    rt: &Runtime,
    repo: &Repo,
    plugins: &[&Loaded],
    overrides: &BTreeMap<String, Option<String>>,
) -> Result<BTreeMap<String, (String, Vec<String>)>> {
    let results: Vec<Result<Vec<crate::runtime::bindings::Section>>> = std::thread::scope(|s| {
        let handles: Vec<_> = plugins
            .iter()
            .map(|plugin| {
                s.spawn(move || {
                    let manifest = match overrides.get(&plugin.info.id) {
                        Some(text) => text.clone(),
                        None => repo.read_manifest(&plugin.info.manifest)?,
                    };
                    let path = Repo::manifest_path(&plugin.info.manifest);
                    rt.session(plugin)?
                        .render_section(manifest.as_deref())
                        .map_err(|e: CallError| {
                            anyhow!(
                                "{}: {}",
                                plugin.info.id,
                                crate::plan::describe_error(&path, &e)
                            )
                        })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a render thread panicked")))
            })
            .collect()
    });
    let mut out: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (plugin, result) in plugins.iter().zip(results) {
        for section in result? {
            if !plugin.info.sections.contains(&section.name) {
                bail!(
                    "plugin {} rendered section {}, which it does not declare ({})",
                    plugin.info.id,
                    section.name,
                    plugin.info.sections.join(", ")
                );
            }
            if let Some(bad) = section.lines.iter().find(|l| !sections::is_plain_line(l)) {
                bail!(
                    "plugin {} rendered {bad:?} into section {}: section lines may not contain line breaks or bkt's markers",
                    plugin.info.id,
                    section.name
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

/// Re-renders the sections of `plugins` into the repository's Containerfile. `None` when the
/// repository has no Containerfile.
pub fn rerender(
    rt: &Runtime,
    repo: &Repo,
    plugins: &[&Loaded],
    overrides: &BTreeMap<String, Option<String>>,
) -> Result<Option<Rendered>> {
    let Some(old) = repo.read(FILE)? else {
        return Ok(None);
    };
    let doc = sections::parse(&old).map_err(|e| anyhow!("{}:{}: {}", FILE, e.line, e.message))?;
    let present: Vec<&str> = doc.sections().into_iter().map(|(n, _)| n).collect();
    // A subsystem renders when it is tracked (has a manifest) or the file already has one of
    // its sections; an untracked one does not ask for sections the user never wanted.
    let plugins: Vec<&Loaded> = plugins
        .iter()
        .copied()
        .filter(|p| !p.info.sections.is_empty())
        .filter(|p| {
            overrides.get(&p.info.id).is_some_and(Option::is_some)
                || p.info
                    .sections
                    .iter()
                    .any(|s| present.contains(&s.as_str()))
                || repo
                    .read_manifest(&p.info.manifest)
                    .is_ok_and(|m| m.is_some())
        })
        .collect();
    if plugins.is_empty() {
        return Ok(Some(Rendered {
            new: old.clone(),
            old,
            changed: vec![],
            missing: vec![],
        }));
    }
    let rendered = render_sections(rt, repo, &plugins, overrides)?;
    let missing = rendered
        .iter()
        .filter(|(name, _)| !present.contains(&name.as_str()))
        .map(|(name, (plugin, _))| (plugin.clone(), name.clone()))
        .collect();
    let bodies: BTreeMap<String, Vec<String>> = rendered
        .into_iter()
        .map(|(n, (_, lines))| (n, lines))
        .collect();
    let new = doc.render(&bodies);
    let changed = changed_sections(&old, &new);
    Ok(Some(Rendered {
        old,
        new,
        changed,
        missing,
    }))
}

/// Names of the sections whose bodies differ between two versions of the file.
fn changed_sections(old: &str, new: &str) -> Vec<String> {
    let (Ok(a), Ok(b)) = (sections::parse(old), sections::parse(new)) else {
        return vec![];
    };
    let (a, b) = (a.section_bodies(), b.section_bodies());
    b.into_iter()
        .filter(|(name, body)| a.get(name) != Some(body))
        .map(|(name, _)| name)
        .collect()
}
