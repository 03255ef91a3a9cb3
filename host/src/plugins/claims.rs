//! Names are exclusive: one plugin per id, command word, manifest file and Containerfile
//! section, and none of bkt's own command words.

use super::not_loaded::NotLoaded;
use crate::model::PluginInfo;

/// Words a plugin's command may not take: bkt's own commands.
pub const RESERVED_COMMANDS: &[&str] = &[
    "status",
    "apply",
    "capture",
    "containerfile",
    "plugin",
    "completions",
    "help",
    "local",
    "admin",
    "doctor",
    "pr",
    "upgrade",
    "manpages",
    // Kept for commands bkt is to have, so no plugin takes them first.
    "init",
    "man",
];

/// Who holds which name.
pub struct Claims {
    owners: std::collections::HashMap<(&'static str, String), String>,
}

impl Claims {
    pub fn new() -> Claims {
        let mut owners = std::collections::HashMap::new();
        for word in RESERVED_COMMANDS {
            owners.insert(("command", word.to_string()), String::new());
        }
        Claims { owners }
    }

    /// Takes every name of `info`, or says which one another plugin (or bkt) holds.
    pub fn claim(&mut self, info: &PluginInfo) -> Result<(), NotLoaded> {
        let mut names = vec![
            ("id", info.id.clone()),
            ("command", info.command.clone()),
            ("manifest", info.manifest.clone()),
        ];
        names.extend(info.sections.iter().map(|s| ("section", s.clone())));
        // A plugin's id also works as its command word (`-s` and `bkt ID`).
        if info.id != info.command {
            names.push(("command", info.id.clone()));
        }
        for key in &names {
            if let Some(owner) = self.owners.get(key).filter(|o| **o != info.id) {
                let (kind, name) = key;
                let holder = if owner.is_empty() {
                    "bkt itself".to_string()
                } else {
                    format!("the plugin {owner}")
                };
                return Err(NotLoaded(format!(
                    "{} claims the {kind} {name:?}, which {holder} already has; it is not loaded",
                    info.id
                )));
            }
        }
        for key in names {
            self.owners.insert(key, info.id.clone());
        }
        Ok(())
    }
}
