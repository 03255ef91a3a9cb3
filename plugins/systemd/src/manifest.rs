//! `manifests/systemd-services.json`, the original bkt's format plus optional fields:
//!
//! ```json
//! {
//!   "$schema": "../schemas/systemd-services.schema.json",
//!   "services": {"tuned.service": "enabled", "power-profiles-daemon.service": "masked"},
//!   "user_services": {"syncthing.service": "enabled"},
//!   "unit_files": ["backup.service", "backup.timer"],
//!   "user_unit_files": ["syncthing-notify.service"]
//! }
//! ```
//!
//! `services` are system units, `user_services` units of every user (`systemctl --global` in
//! the image, `systemctl --user` on the machine). `unit_files` are files the repository ships
//! in `systemd/units/`, installed as system units; `user_unit_files` come from
//! `systemd/units/user/`. Units keep the order they are written in, and a file read and
//! written back unchanged keeps every byte (its final newline, or its lack of one, included).

use bkt_sdk::{Error, invalid, manifest};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the manifest wants of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Enabled,
    Disabled,
    Masked,
}

impl State {
    /// The word `systemctl is-enabled` and `list-unit-files` print for it.
    pub fn word(self) -> &'static str {
        match self {
            State::Enabled => "enabled",
            State::Disabled => "disabled",
            State::Masked => "masked",
        }
    }

    /// The `systemctl` verb that sets it.
    pub fn verb(self) -> &'static str {
        match self {
            State::Enabled => "enable",
            State::Disabled => "disable",
            State::Masked => "mask",
        }
    }

    pub fn from_word(word: &str) -> Option<State> {
        match word {
            "enabled" => Some(State::Enabled),
            "disabled" => Some(State::Disabled),
            "masked" => Some(State::Masked),
            _ => None,
        }
    }
}

/// Units and their states, in the order the file lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Units(pub Vec<(String, State)>);

impl Units {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, unit: &str) -> Option<State> {
        self.0.iter().find(|(u, _)| u == unit).map(|(_, s)| *s)
    }

    /// Sets a unit's state where it stands, or appends it.
    pub fn set(&mut self, unit: &str, state: State) {
        match self.0.iter_mut().find(|(u, _)| u == unit) {
            Some(entry) => entry.1 = state,
            None => self.0.push((unit.to_string(), state)),
        }
    }

    /// Takes a unit out; whether it was there.
    pub fn remove(&mut self, unit: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|(u, _)| u != unit);
        self.0.len() != before
    }
}

impl Serialize for Units {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (unit, state) in &self.0 {
            map.serialize_entry(unit, state)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Units {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Units, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Units;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of unit names and \"enabled\", \"disabled\" or \"masked\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Units, A::Error> {
                let mut units = Units::default();
                while let Some(unit) = map.next_key::<String>()? {
                    let state = map.next_value::<State>()?;
                    if units.get(&unit).is_some() {
                        return Err(serde::de::Error::custom(format!("{unit} is listed twice")));
                    }
                    units.0.push((unit, state));
                }
                Ok(units)
            }
        }
        d.deserialize_map(InOrder)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub services: Units,
    #[serde(default, skip_serializing_if = "Units::is_empty")]
    pub user_services: Units,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unit_files: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_unit_files: Vec<String>,
    /// Whether the text ended with a newline (a new file does).
    #[serde(skip)]
    pub final_newline: bool,
}

/// Unit types bkt manages.
pub const TYPES: &[&str] = &["service", "socket", "timer", "path", "mount", "target"];

/// A unit name as systemd spells it and as it may stand unquoted in a shell line and an
/// argv: `NAME.TYPE` (TYPE one of [`TYPES`]), NAME of ASCII letters, digits and `-_.@`, not
/// starting with `-` or `.`, at most 255 bytes.
pub fn check_unit(unit: &str) -> Result<(), String> {
    let kinds = TYPES.join("|");
    let Some((stem, kind)) = unit.rsplit_once('.') else {
        return Err(format!("{unit:?} is not a unit name (NAME.{kinds})"));
    };
    if !TYPES.contains(&kind) {
        return Err(format!("{unit:?} is not a unit bkt manages (NAME.{kinds})"));
    }
    if unit.len() > 255 || !manifest::is_plain_word(stem, "-_.@") {
        return Err(format!(
            "{unit:?} is not a unit name: letters, digits and -_.@ before .{kind}, not starting with - or ."
        ));
    }
    Ok(())
}

fn check_units(field: &str, units: &Units) -> Result<(), Error> {
    for (unit, _) in &units.0 {
        check_unit(unit).map_err(|e| invalid(format!("{field}.{unit}"), e))?;
    }
    Ok(())
}

fn check_files(field: &str, files: &[String]) -> Result<(), Error> {
    for (i, file) in files.iter().enumerate() {
        check_unit(file).map_err(|e| invalid(format!("{field}[{i}]"), e))?;
        if files[..i].contains(file) {
            return Err(invalid(
                format!("{field}[{i}]"),
                format!("{file} is listed twice"),
            ));
        }
    }
    Ok(())
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::verbs::MANIFEST)),
            final_newline: true,
            ..Manifest::default()
        });
    };
    let mut m: Manifest = manifest::parse(text)?;
    m.final_newline = text.ends_with('\n');
    check_units("services", &m.services)?;
    check_units("user_services", &m.user_services)?;
    check_files("unit_files", &m.unit_files)?;
    check_files("user_unit_files", &m.user_unit_files)?;
    Ok(m)
}

impl Manifest {
    /// The units of one scope.
    pub fn units(&self, user: bool) -> &Units {
        if user {
            &self.user_services
        } else {
            &self.services
        }
    }

    pub fn units_mut(&mut self, user: bool) -> &mut Units {
        if user {
            &mut self.user_services
        } else {
            &mut self.services
        }
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

    /// The original bkt's file, as its repository has it.
    const ORIGINAL: &str = "{\n  \"$schema\": \"../schemas/systemd-services.schema.json\",\n  \"services\": {\n    \"tuned.service\": \"enabled\",\n    \"tuned-ppd.service\": \"enabled\",\n    \"power-profiles-daemon.service\": \"masked\"\n  }\n}\n";

    #[test]
    fn the_original_file_round_trips_byte_for_byte() {
        let m = parse(Some(ORIGINAL)).unwrap();
        assert_eq!(m.services.0[2].0, "power-profiles-daemon.service");
        assert_eq!(m.render(), ORIGINAL);
        let bare = ORIGINAL.trim_end();
        assert_eq!(parse(Some(bare)).unwrap().render(), bare);
    }

    #[test]
    fn unit_names_are_checked() {
        for good in [
            "tuned.service",
            "getty@tty1.service",
            "a_b-c.timer",
            "home.mount",
        ] {
            assert!(check_unit(good).is_ok(), "{good}");
        }
        for bad in [
            "tuned",
            "x.device",
            "-x.service",
            ".x.service",
            "a b.service",
            "$(id).service",
            "a;b.service",
            "a/b.service",
            "a'b.service",
            ".service",
        ] {
            assert!(check_unit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_entries_name_their_field() {
        let cases = [
            (r#"{"services": {"x.service": "on"}}"#, "services.x.service"),
            (
                r#"{"services": {"x y.service": "enabled"}}"#,
                "services.x y.service",
            ),
            (r#"{"unit_files": ["a.timer", "a.timer"]}"#, "unit_files[1]"),
            (r#"{"services": {}, "extra": 1}"#, "extra"),
        ];
        for (text, field) in cases {
            match parse(Some(text)) {
                Err(Error::InvalidManifest(e)) => assert_eq!(e.field, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        match parse(Some(
            r#"{"services": {"a.service": "enabled", "a.service": "masked"}}"#,
        )) {
            Err(Error::InvalidManifest(e)) => assert!(e.message.contains("listed twice")),
            other => panic!("{other:?}"),
        }
    }
}
