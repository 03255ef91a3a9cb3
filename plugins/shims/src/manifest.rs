//! `manifests/host-shims.json`, the original bkt's format:
//! `{"$schema": ..., "shims": [{"name": "docker", "host": "podman"}, {"name": "flatpak"}]}`.
//! `name` is the command inside the container, `host` the program it runs on the host
//! (`name` when absent). Shims keep the order they are written in, and a file read and
//! written back unchanged keeps every byte, its final newline (or lack of one) included.

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shim {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Shim {
    /// The program it runs on the host.
    pub fn host_cmd(&self) -> &str {
        self.host.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub shims: Vec<Shim>,
    /// Whether the text ended with a newline (a new file does).
    #[serde(skip)]
    pub final_newline: bool,
}

/// A program name that is one plain word in a shell line and an argv: ASCII letters, digits
/// and `._+-`, not starting with `-` or `.`, at most 255 bytes. No `/`: a shim is a file in
/// one folder, and the host program is looked up by name.
pub fn check_program(name: &str) -> Result<(), String> {
    if name.len() <= 255 && manifest::is_plain_word(name, "._+-") {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a program name: letters, digits and ._+-, not starting with - or ."
        ))
    }
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            final_newline: true,
            ..Manifest::default()
        });
    };
    let mut m: Manifest = manifest::parse(text)?;
    m.final_newline = text.ends_with('\n');
    for (i, shim) in m.shims.iter().enumerate() {
        check_program(&shim.name).map_err(|e| invalid(format!("shims[{i}].name"), e))?;
        if let Some(host) = &shim.host {
            check_program(host).map_err(|e| invalid(format!("shims[{i}].host"), e))?;
        }
        if m.shims[..i].iter().any(|s| s.name == shim.name) {
            return Err(invalid(
                format!("shims[{i}].name"),
                format!("{} is listed twice", shim.name),
            ));
        }
    }
    Ok(m)
}

impl Manifest {
    pub fn get(&self, name: &str) -> Option<&Shim> {
        self.shims.iter().find(|s| s.name == name)
    }

    /// Adds a shim, or changes its host where it stands.
    pub fn set(&mut self, name: &str, host: Option<String>) {
        let host = host.filter(|h| h != name);
        match self.shims.iter_mut().find(|s| s.name == name) {
            Some(shim) => shim.host = host,
            None => self.shims.push(Shim {
                name: name.to_string(),
                host,
            }),
        }
    }

    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.shims.len();
        self.shims.retain(|s| s.name != name);
        self.shims.len() != before
    }

    pub fn render(&self) -> String {
        let mut text = manifest::render(self);
        if !self.final_newline {
            text.pop();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original bkt's file as its repository has it: no final newline.
    pub const ORIGINAL: &str = "{\n  \"$schema\": \"https://wycats.github.io/bootc/host-shims.schema.json\",\n  \"shims\": [\n    {\n      \"name\": \"bootc\"\n    },\n    {\n      \"name\": \"docker\",\n      \"host\": \"podman\"\n    },\n    {\n      \"name\": \"flatpak\"\n    }\n  ]\n}";

    #[test]
    fn the_original_file_round_trips_byte_for_byte() {
        let m = parse(Some(ORIGINAL)).unwrap();
        assert_eq!(m.shims[1].host_cmd(), "podman");
        assert_eq!(m.shims[2].host_cmd(), "flatpak");
        assert_eq!(m.render(), ORIGINAL);
        let with_newline = format!("{ORIGINAL}\n");
        assert_eq!(parse(Some(&with_newline)).unwrap().render(), with_newline);
    }

    #[test]
    fn names_are_program_names() {
        for good in [
            "podman",
            "rpm-ostree",
            "python3.12",
            "g++",
            "docker_compose",
        ] {
            assert!(check_program(good).is_ok(), "{good}");
        }
        for bad in [
            "", "-x", ".x", "a b", "a/b", "$(id)", "a'b", "a\"b", "a;b", "..", "x\n",
        ] {
            assert!(check_program(bad).is_err(), "{bad:?}");
        }
        let cases = [
            (r#"{"shims": [{"name": "a b"}]}"#, "shims[0].name"),
            (
                r#"{"shims": [{"name": "a", "host": "-rf"}]}"#,
                "shims[0].host",
            ),
            (
                r#"{"shims": [{"name": "a"}, {"name": "a"}]}"#,
                "shims[1].name",
            ),
            (
                r#"{"shims": [{"name": "a", "hots": "b"}]}"#,
                "shims[0].hots",
            ),
        ];
        for (text, field) in cases {
            match parse(Some(text)) {
                Err(Error::InvalidManifest(e)) => assert_eq!(e.field, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
