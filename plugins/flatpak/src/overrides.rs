//! Flatpak overrides as bkt keeps them: the override keyfile's groups and keys as structured
//! JSON (`{"Context": {"filesystems": ["home"]}, "Environment": {"FOO": "bar"}}`), read from
//! and written to the keyfile flatpak keeps, the `flatpak override` flags that set them, and
//! the older manifest form that listed those flags.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One value: the `;`-separated lists of `[Context]` as arrays, everything else as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Value {
    List(Vec<String>),
    Text(String),
}

impl<'de> Deserialize<'de> for Value {
    /// A list or a text; anything else is named as what it is, not as "no variant matched".
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an override value: a text, or a list of texts")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Text(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Value::List)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Group → key → value.
pub type Overrides = BTreeMap<String, BTreeMap<String, Value>>;

pub const CONTEXT: &str = "Context";
pub const ENVIRONMENT: &str = "Environment";
pub const SESSION_BUS: &str = "Session Bus Policy";
pub const SYSTEM_BUS: &str = "System Bus Policy";

/// The `[Context]` keys whose values are `;`-separated lists.
const LIST_KEYS: &[&str] = &[
    "shared",
    "sockets",
    "devices",
    "features",
    "filesystems",
    "persistent",
    "unset-environment",
];

/// Flags of `flatpak override` that add to a `[Context]` list: (flag, negated flag, key).
const LIST_FLAGS: &[(&str, &str, &str)] = &[
    ("--share", "--unshare", "shared"),
    ("--socket", "--nosocket", "sockets"),
    ("--device", "--nodevice", "devices"),
    ("--allow", "--disallow", "features"),
    ("--filesystem", "--nofilesystem", "filesystems"),
    ("--persist", "", "persistent"),
    ("--unset-env", "", "unset-environment"),
];

/// Flags that set a bus policy: (flag, group, policy).
const BUS_FLAGS: &[(&str, &str, &str)] = &[
    ("--talk-name", SESSION_BUS, "talk"),
    ("--own-name", SESSION_BUS, "own"),
    ("--see-name", SESSION_BUS, "see"),
    ("--no-talk-name", SESSION_BUS, "none"),
    ("--system-talk-name", SYSTEM_BUS, "talk"),
    ("--system-own-name", SYSTEM_BUS, "own"),
    ("--system-see-name", SYSTEM_BUS, "see"),
    ("--system-no-talk-name", SYSTEM_BUS, "none"),
];

/// Sorted lists without duplicates, no empty groups: equal overrides are equal values.
pub fn normalize(o: &mut Overrides) {
    for group in o.values_mut() {
        for value in group.values_mut() {
            if let Value::List(items) = value {
                let set: BTreeSet<String> = items.drain(..).filter(|i| !i.is_empty()).collect();
                items.extend(set);
            }
        }
    }
    o.retain(|_, g| !g.is_empty());
}

/// Reads an override keyfile as flatpak writes it.
pub fn parse_keyfile(text: &str) -> Overrides {
    let mut out = Overrides::new();
    let mut group: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            group = Some(name.to_string());
            continue;
        }
        let (Some(g), Some((key, value))) = (&group, line.split_once('=')) else {
            continue;
        };
        let value = if g == CONTEXT && LIST_KEYS.contains(&key) {
            Value::List(value.split(';').map(String::from).collect())
        } else {
            Value::Text(value.to_string())
        };
        out.entry(g.clone())
            .or_default()
            .insert(key.to_string(), value);
    }
    normalize(&mut out);
    out
}

/// The overrides as keyfile text: the canonical value bkt compares and records.
pub fn to_keyfile(o: &Overrides) -> String {
    let mut o = o.clone();
    normalize(&mut o);
    let mut text = String::new();
    for (group, keys) in &o {
        text.push_str(&format!("[{group}]\n"));
        for (key, value) in keys {
            let value = match value {
                Value::List(items) => items.iter().map(|i| format!("{i};")).collect(),
                Value::Text(t) => t.clone(),
            };
            text.push_str(&format!("{key}={value}\n"));
        }
    }
    text
}

/// Every flag [`to_flags`] may give, each as `--NAME` (it is passed as `--NAME=VALUE`).
pub fn flag_names() -> Vec<&'static str> {
    let lists = LIST_FLAGS
        .iter()
        .flat_map(|(on, off, _)| [*on, *off])
        .filter(|f| !f.is_empty());
    let buses = BUS_FLAGS.iter().map(|(flag, _, _)| *flag);
    lists.chain(["--env"]).chain(buses).collect()
}

/// The `flatpak override` flags that set `o` on an app whose overrides were reset.
pub fn to_flags(o: &Overrides) -> Vec<String> {
    let mut flags = Vec::new();
    for (group, keys) in o {
        for (key, value) in keys {
            match (group.as_str(), value) {
                (CONTEXT, Value::List(items)) => {
                    let Some((on, off, _)) = LIST_FLAGS.iter().find(|(_, _, k)| k == key) else {
                        continue;
                    };
                    for item in items {
                        match item.strip_prefix('!') {
                            Some(denied) if !off.is_empty() => {
                                flags.push(format!("{off}={denied}"))
                            }
                            _ => flags.push(format!("{on}={item}")),
                        }
                    }
                }
                (ENVIRONMENT, Value::Text(v)) => flags.push(format!("--env={key}={v}")),
                (SESSION_BUS | SYSTEM_BUS, Value::Text(policy)) => {
                    if let Some((flag, _, _)) =
                        BUS_FLAGS.iter().find(|(_, g, p)| g == group && p == policy)
                    {
                        flags.push(format!("{flag}={key}"));
                    }
                }
                _ => {}
            }
        }
    }
    flags
}

/// What [`to_flags`] cannot express (flatpak has no flag for it), so it would be lost.
pub fn unsupported(o: &Overrides) -> Option<String> {
    for (group, keys) in o {
        for (key, value) in keys {
            let ok = match (group.as_str(), value) {
                (CONTEXT, Value::List(_)) => LIST_FLAGS.iter().any(|(_, _, k)| k == key),
                (ENVIRONMENT, Value::Text(_)) => true,
                (SESSION_BUS | SYSTEM_BUS, Value::Text(p)) => {
                    BUS_FLAGS.iter().any(|(_, g, pol)| g == group && pol == p)
                }
                _ => false,
            };
            if !ok {
                return Some(format!("{group}.{key}"));
            }
        }
    }
    None
}

/// Reads `flatpak override` flags (the older manifest form, and `bkt flatpak override`'s
/// arguments) into `o`. A flag flatpak would not take is an error naming it.
pub fn apply_flags(o: &mut Overrides, flags: &[String]) -> Result<(), String> {
    for flag in flags {
        let (name, value) = flag.split_once('=').ok_or_else(|| {
            format!("{flag:?} is not a flatpak override flag of the form --NAME=VALUE")
        })?;
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(format!("{flag:?} has no usable value"));
        }
        if name == "--env" {
            let (k, v) = value
                .split_once('=')
                .ok_or_else(|| format!("{flag:?}: --env takes VAR=VALUE"))?;
            o.entry(ENVIRONMENT.into())
                .or_default()
                .insert(k.to_string(), Value::Text(v.to_string()));
        } else if let Some((on, _, key)) = LIST_FLAGS
            .iter()
            .find(|(on, off, _)| *on == name || *off == name)
        {
            let item = if name == *on {
                value.to_string()
            } else {
                format!("!{value}")
            };
            let list = o
                .entry(CONTEXT.into())
                .or_default()
                .entry(key.to_string())
                .or_insert_with(|| Value::List(vec![]));
            if let Value::List(items) = list {
                // The opposite entry is replaced, as flatpak does.
                let opposite = item
                    .strip_prefix('!')
                    .map_or_else(|| format!("!{item}"), String::from);
                items.retain(|i| *i != opposite);
                items.push(item);
            }
        } else if let Some((_, group, policy)) = BUS_FLAGS.iter().find(|(f, _, _)| *f == name) {
            o.entry(group.to_string())
                .or_default()
                .insert(value.to_string(), Value::Text(policy.to_string()));
        } else {
            return Err(format!(
                "{name} is not a flatpak override option bkt knows (filesystem, socket, device, share, allow, persist, env, unset-env, talk-name, own-name, see-name and their no-/system- forms)"
            ));
        }
    }
    normalize(o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_keyfile_and_back() {
        let mut o = Overrides::new();
        apply_flags(
            &mut o,
            &strings(&[
                "--filesystem=home",
                "--nosocket=x11",
                "--env=FOO=bar=baz",
                "--talk-name=org.x.Y",
                "--system-own-name=org.z",
            ]),
        )
        .unwrap();
        let text = to_keyfile(&o);
        assert_eq!(
            text,
            "[Context]\nfilesystems=home;\nsockets=!x11;\n[Environment]\nFOO=bar=baz\n[Session Bus Policy]\norg.x.Y=talk\n[System Bus Policy]\norg.z=own\n"
        );
        assert_eq!(parse_keyfile(&text), o);
        let mut again = Overrides::new();
        apply_flags(&mut again, &to_flags(&o)).unwrap();
        assert_eq!(again, o);
        assert!(unsupported(&o).is_none());
    }

    #[test]
    fn reads_what_flatpak_writes() {
        let flatpak = "[Context]\nsockets=!x11;wayland;\nfilesystems=home;~/Music:ro;\n\n[Session Bus Policy]\norg.x.Y=talk\n\n[Environment]\nFOO=bar\n";
        let o = parse_keyfile(flatpak);
        assert_eq!(
            o[CONTEXT]["sockets"],
            Value::List(strings(&["!x11", "wayland"]))
        );
        assert_eq!(o[ENVIRONMENT]["FOO"], Value::Text("bar".into()));
    }

    #[test]
    fn unknown_flags_are_named() {
        let mut o = Overrides::new();
        let e = apply_flags(&mut o, &strings(&["--bogus=1"])).unwrap_err();
        assert!(e.contains("--bogus"), "{e}");
        assert!(apply_flags(&mut o, &strings(&["--filesystem"])).is_err());
        // Denying what was allowed replaces it.
        apply_flags(
            &mut o,
            &strings(&["--filesystem=home", "--nofilesystem=home"]),
        )
        .unwrap();
        assert_eq!(o[CONTEXT]["filesystems"], Value::List(strings(&["!home"])));
    }
}
