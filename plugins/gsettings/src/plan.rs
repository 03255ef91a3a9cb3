//! Comparing the manifest with live values. Pure: the live values come in as text.

use crate::gvariant;
use crate::live;
use crate::manifest::{Manifest, Setting};
use bkt_sdk::{Agreed, Change, Output, Problem, Scope, change, problem, run, warning};
use std::collections::{BTreeMap, BTreeSet};

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

/// Everything read from the machine for one plan.
#[derive(Default)]
pub struct Live {
    /// `gsettings list-recursively` per schema the manifest names.
    pub schemas: BTreeMap<String, Schema>,
    /// The full paths of the keys a user set (`dconf dump /` and the keyfile backend's file).
    pub user_set: BTreeSet<String>,
    /// `gsettings list-schemas --print-paths`.
    pub paths: String,
}

impl Live {
    /// Whether the live value of `s` is only the schema's default: nobody set the key. A key
    /// whose folder cannot be found counts as a default, so it is never captured by accident.
    pub fn is_default(&self, s: &Setting) -> bool {
        match live::folder_of(&s.schema, &self.paths) {
            Some(folder) => !self.user_set.contains(&format!("{folder}{}", s.key)),
            None => true,
        }
    }
}

/// The live value of one setting, or why there is none (and whether that is only a warning).
pub fn live_value<'a>(s: &Setting, live: &'a Live) -> Result<&'a str, Problem> {
    match live.schemas.get(&s.schema) {
        Some(Schema::Keys(keys)) => keys.get(&s.key).map(String::as_str).ok_or_else(|| {
            problem(
                s.id(),
                format!(
                    "schema {} has no key {:?}; `gsettings list-keys {}` shows its keys",
                    s.schema,
                    s.key,
                    s.schema_id()
                ),
            )
        }),
        Some(Schema::Unknown) => Err(warning(
            s.id(),
            format!(
                "no such schema {:?} here (is the program that provides it installed?)",
                s.schema_id()
            ),
        )),
        Some(Schema::Failed(msg)) => Err(problem(
            s.id(),
            format!("gsettings failed for {}: {msg}", s.schema),
        )),
        None => Err(problem(
            s.id(),
            format!("schema {} was not queried", s.schema),
        )),
    }
}

/// The drifting settings, the agreeing ones, and the ones that cannot be read.
pub fn compare(m: &Manifest, live: &Live) -> (Vec<Change>, Vec<Agreed>, Vec<Problem>) {
    let mut changes = Vec::new();
    let mut agreed = Vec::new();
    let mut problems = Vec::new();
    for s in m.unique() {
        match live_value(s, live) {
            Err(p) => problems.push(p),
            Ok(value) if gvariant::same(value, &s.value) => {
                agreed.push(bkt_sdk::agreed(
                    s.id(),
                    gvariant::canonical(value),
                    Scope::User,
                ));
            }
            Ok(value) => {
                let mut c = change(
                    s.id(),
                    format!("{} {}: {} → {}", s.schema, s.key, value, s.value),
                    Some(gvariant::canonical(&s.value)),
                    Some(gvariant::canonical(value)),
                    Scope::User,
                    vec![run(
                        "gsettings",
                        &["set", &s.schema, &s.key, &s.value],
                        Scope::User,
                    )],
                );
                c.live_is_default = live.is_default(s);
                changes.push(c);
            }
        }
    }
    (changes, agreed, problems)
}

/// The manifest with the settings `take` names taking their live values. Keys that cannot be
/// read (unknown schema) are kept as written: nothing is lost.
pub fn capture(mut m: Manifest, live: &Live, take: &BTreeSet<String>) -> Manifest {
    for s in &mut m.settings {
        if !take.contains(&s.id()) {
            continue;
        }
        if let Ok(value) = live_value(s, live)
            && !gvariant::same(value, &s.value)
        {
            s.value = value.to_string();
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    fn live() -> Live {
        let mut keys = BTreeMap::new();
        keys.insert("clock-format".to_string(), "'12h'".to_string());
        keys.insert("idle-delay".to_string(), "uint32 300".to_string());
        let mut live = Live {
            paths: "org.a /org/a/\n".into(),
            ..Live::default()
        };
        live.schemas.insert("org.a".to_string(), Schema::Keys(keys));
        live.schemas.insert("org.gone".to_string(), Schema::Unknown);
        live.user_set.insert("/org/a/clock-format".into());
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
        let (changes, agreed, problems) = compare(&m, &live());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].id, "org.a clock-format");
        assert_eq!(changes[0].wanted.as_deref(), Some("'24h'"));
        assert_eq!(changes[0].live.as_deref(), Some("'12h'"));
        assert!(!changes[0].live_is_default, "the user set clock-format");
        assert_eq!(agreed.len(), 1);
        assert_eq!(agreed[0].value, "300");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("no key"));
        assert_eq!(problems[0].severity, bkt_sdk::Severity::Error);
        assert!(problems[1].message.contains("no such schema"));
        assert_eq!(problems[1].severity, bkt_sdk::Severity::Warning);
    }

    #[test]
    fn capture_takes_live_values_and_keeps_the_rest() {
        let m = parse(Some(
            r#"{"settings":[
            {"schema":"org.gone","key":"k","value":"1"},
            {"schema":"org.a","key":"clock-format","value":"'24h'","comment":"c"}]}"#,
        ))
        .unwrap();
        // Nothing taken: the manifest as it was, in the user's order.
        let untouched = capture(m.clone(), &live(), &BTreeSet::new());
        assert_eq!(untouched, m);
        let take = ["org.a clock-format".to_string()].into_iter().collect();
        let m = capture(m, &live(), &take);
        assert_eq!(m.settings[1].value, "'12h'");
        assert_eq!(m.settings[1].comment.as_deref(), Some("c"));
        assert_eq!(m.settings[0].value, "1");
    }
}
