//! Comparing the manifest with live values. Pure: the live values come in as text.

use crate::gvariant;
use crate::live;
use crate::manifest::{Manifest, Setting};
use bkt_sdk::{Change, ChangeKind, Output, Problem, Scope, change, run};
use std::collections::BTreeMap;

/// What one `gsettings list-recursively SCHEMA` said.
pub enum Schema {
    Keys(BTreeMap<String, String>),
    Unknown,
    Failed(String),
}

impl Schema {
    pub fn from_output(schema_id: &str, out: &Output) -> Schema {
        if out.status == 0 {
            Schema::Keys(live::parse_list(schema_id, &out.stdout))
        } else if out.stderr.contains("No such schema") {
            Schema::Unknown
        } else {
            Schema::Failed(out.stderr.trim().to_string())
        }
    }
}

/// The live value of one setting, or why there is none.
pub fn live_value<'a>(s: &Setting, live: &'a BTreeMap<String, Schema>) -> Result<&'a str, String> {
    match live.get(&s.schema) {
        Some(Schema::Keys(keys)) => keys.get(&s.key).map(String::as_str).ok_or_else(|| {
            format!(
                "schema {} has no key {:?}; `gsettings list-keys {}` shows its keys",
                s.schema,
                s.key,
                s.schema_id()
            )
        }),
        Some(Schema::Unknown) => Err(format!(
            "no such schema {:?} here (is the program that provides it installed?)",
            s.schema_id()
        )),
        Some(Schema::Failed(msg)) => Err(format!("gsettings failed for {}: {msg}", s.schema)),
        None => Err(format!("schema {} was not queried", s.schema)),
    }
}

pub fn compare(m: &Manifest, live: &BTreeMap<String, Schema>) -> (Vec<Change>, Vec<Problem>) {
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    for s in &m.settings {
        match live_value(s, live) {
            Err(message) => problems.push(Problem {
                id: s.id(),
                message,
            }),
            Ok(value) if gvariant::same(value, &s.value) => {}
            Ok(value) => changes.push(change(
                s.id(),
                ChangeKind::Differs,
                format!("{} {}: {} → {}", s.schema, s.key, value, s.value),
                vec![run(
                    "gsettings",
                    &["set", &s.schema, &s.key, &s.value],
                    Scope::User,
                )],
            )),
        }
    }
    (changes, problems)
}

/// The manifest with every tracked key that differs taking its live value. Keys that cannot be
/// read (unknown schema) are kept as written: nothing is lost.
pub fn capture(mut m: Manifest, live: &BTreeMap<String, Schema>) -> Manifest {
    for s in &mut m.settings {
        if let Ok(value) = live_value(s, live)
            && !gvariant::same(value, &s.value)
        {
            s.value = value.to_string();
        }
    }
    m.sort();
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    fn live() -> BTreeMap<String, Schema> {
        let mut keys = BTreeMap::new();
        keys.insert("clock-format".to_string(), "'12h'".to_string());
        keys.insert("idle-delay".to_string(), "uint32 300".to_string());
        let mut live = BTreeMap::new();
        live.insert("org.a".to_string(), Schema::Keys(keys));
        live.insert("org.gone".to_string(), Schema::Unknown);
        live
    }

    #[test]
    fn differs_unknown_and_equal() {
        let m = parse(Some(
            r#"{"settings":[
            {"schema":"org.a","key":"clock-format","value":"\"24h\""},
            {"schema":"org.a","key":"idle-delay","value":"300"},
            {"schema":"org.a","key":"nope","value":"1"},
            {"schema":"org.gone","key":"k","value":"1"}]}"#,
        ))
        .unwrap();
        let (changes, problems) = compare(&m, &live());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].id, "org.a clock-format");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("no key"));
        assert!(problems[1].message.contains("no such schema"));
    }

    #[test]
    fn capture_takes_live_values_and_keeps_the_rest() {
        let m = parse(Some(
            r#"{"settings":[
            {"schema":"org.gone","key":"k","value":"1"},
            {"schema":"org.a","key":"clock-format","value":"'24h'","comment":"c"}]}"#,
        ))
        .unwrap();
        let m = capture(m, &live());
        assert_eq!(m.settings[0].value, "'12h'");
        assert_eq!(m.settings[0].comment.as_deref(), Some("c"));
        assert_eq!(m.settings[1].value, "1");
    }
}
