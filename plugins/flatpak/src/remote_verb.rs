//! `bkt flatpak remote add NAME URL [--user|--system] [--no-gpg-verify]` and `remote remove
//! NAME`: the
//! manifest's remotes, edited like its apps.

use crate::manifest::{self, Installation, Manifest, Remote};
use crate::{MANIFEST, plan};
use bkt_sdk::{EditResult, Error, change, edited, usage};

pub fn run(mut m: Manifest, old: Option<&str>, args: &[String]) -> Result<EditResult, Error> {
    let mut inst = None;
    let mut gpg_verify = true;
    let mut words = Vec::new();
    for w in args {
        match w.as_str() {
            "--user" => inst = Some(Installation::User),
            // A local or test repository without signatures.
            "--no-gpg-verify" => gpg_verify = false,
            "--system" => inst = Some(Installation::System),
            w if w.starts_with('-') => {
                return Err(usage(format!("{w:?} is not an option of `flatpak remote`")));
            }
            w => words.push(w),
        }
    }
    let inst = inst.unwrap_or_default();
    match words.as_slice() {
        ["add", name, url] => {
            manifest::check_word("remote name", name).map_err(usage)?;
            manifest::check_url(url).map_err(usage)?;
            if m.remote(inst, name).is_some() {
                return Err(usage(format!(
                    "{name} is already a remote of the {} installation in {MANIFEST}",
                    inst.name()
                )));
            }
            let remote = Remote {
                name: name.to_string(),
                url: url.to_string(),
                scope: inst,
                gpg_verify,
                filtered: None,
            };
            let changes = vec![change(
                plan::remote_id(inst, name),
                format!("add the remote {name}"),
                Some(url.to_string()),
                None,
                inst.scope(),
                vec![plan::add_remote(&remote)],
            )];
            m.remotes.push(remote);
            Ok(EditResult {
                manifest: Some(m.render(old)),
                output: vec![],
                changes,
            })
        }
        ["remove", name] => {
            if m.remote(inst, name).is_none() {
                return Err(usage(format!(
                    "{name} is not a remote of the {} installation in {MANIFEST}",
                    inst.name()
                )));
            }
            let users: Vec<&str> = m
                .apps
                .iter()
                .filter(|a| a.scope == inst && a.remote == *name)
                .map(|a| a.id.as_str())
                .collect();
            if !users.is_empty() {
                return Err(usage(format!(
                    "apps in {MANIFEST} come from {name} ({}): remove them first",
                    users.join(", ")
                )));
            }
            m.remotes.retain(|r| !(r.scope == inst && r.name == *name));
            // The remote stays on this machine, like an app `remove` stops tracking.
            Ok(edited(Some(m.render(old)), vec![]))
        }
        _ => Err(usage(
            "`flatpak remote` takes `add NAME URL` or `remove NAME`, with --user or --system",
        )),
    }
}
