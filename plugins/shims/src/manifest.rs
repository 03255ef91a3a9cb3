//! `manifests/host-shims.json`, the original bkt's format:
//! `{"$schema": ..., "shims": [{"name": "docker", "host": "podman"}, {"name": "flatpak"}]}`.
//! `name` is the command inside the container, `host` the program it runs on the host
//! (`name` when absent). Shims keep the order they are written in. The text is written back
//! through the SDK's in-place edit: only the entries a command changes are touched.

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// One shim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Shim {
    /// The command inside the container (a file in ~/.local/toolbox/shims/, linked from
    /// ~/.local/bin/).
    #[cfg_attr(test, schemars(with = "schema::Program"))]
    pub name: String,
    /// The program it runs on the host; the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, schemars(with = "schema::Program"))]
    pub host: Option<String>,
}

impl Shim {
    /// The program it runs on the host.
    pub fn host_cmd(&self) -> &str {
        self.host.as_deref().unwrap_or(&self.name)
    }
}

/// Host shims: commands in toolbox and distrobox containers that run a program of the host
/// (bkt's shims plugin; docs/manifests.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The shims, in the order written; each name once.
    #[serde(default)]
    pub shims: Vec<Shim>,
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

/// The manifest in `text`; without a file, an empty one that names its schema.
pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
    };
    let m: Manifest = manifest::parse(text)?;
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

    /// The manifest text: `old` (the text read) edited only where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }
}

/// The JSON Schema's view of a program name, as [`check_program`] accepts it.
#[cfg(test)]
mod schema {
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    pub struct Program;

    impl JsonSchema for Program {
        fn schema_name() -> Cow<'static, str> {
            "Program".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A program name: ASCII letters, digits and ._+-, not starting with - or .",
                "type": "string",
                "maxLength": 255,
                "pattern": "^[A-Za-z0-9_+][A-Za-z0-9_.+-]*$",
            })
        }
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
        assert_eq!(m.render(Some(ORIGINAL)), ORIGINAL);
        let with_newline = format!("{ORIGINAL}\n");
        assert_eq!(
            parse(Some(&with_newline))
                .unwrap()
                .render(Some(&with_newline)),
            with_newline
        );
    }

    /// A host changes where it stands, a new shim goes last, a removed one goes with its
    /// lines; the rest (one-line entries, four spaces, `$schema`) stays.
    #[test]
    fn edits_touch_only_their_entry() {
        let old = "{\n    \"$schema\": \"x\",\n    \"shims\": [\n        {\"name\": \"docker\", \"host\": \"podman\"},\n        {\"name\": \"flatpak\"}\n    ]\n}\n";
        let mut m = parse(Some(old)).unwrap();
        m.set("docker", Some("nerdctl".into()));
        assert_eq!(m.render(Some(old)), old.replace("podman", "nerdctl"));
        let mut m = parse(Some(old)).unwrap();
        m.remove("docker");
        assert_eq!(
            m.render(Some(old)),
            old.replace(
                "        {\"name\": \"docker\", \"host\": \"podman\"},\n",
                ""
            )
        );
    }

    #[test]
    fn a_new_manifest_names_its_schema() {
        let mut m = parse(None).unwrap();
        m.set("docker", Some("podman".into()));
        assert!(
            m.render(None).starts_with(
                "{\n  \"$schema\": \"../schemas/host-shims.schema.json\",\n  \"shims\": [\n"
            ),
            "{}",
            m.render(None)
        );
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
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
