//! The gsettings subsystem: GNOME settings the user wants on every machine.
//!
//! Live values come from one `gsettings list-recursively SCHEMA` per schema (all of them at
//! once through `query-all`), never one process per key. It renders no Containerfile section:
//! settings are user state, applied after login by the user unit.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod gvariant;
pub mod live;
pub mod manifest;
pub mod plan;

use bkt_sdk::{
    Capabilities, ChangeKind, EditResult, Error, Guest, Phase, Plan, PluginInfo, Scope, Section,
    change, edited, query_all, run, strings, usage, verb,
};
use manifest::Manifest;
use plan::Schema;
use std::collections::BTreeMap;

pub const MANIFEST: &str = "gsettings.json";

struct Gsettings;

// Exported only in the component: a native cdylib cannot carry WIT export names.
#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Gsettings);

/// Queries every schema the manifest names, concurrently.
fn read_live(m: &Manifest) -> Result<BTreeMap<String, Schema>, Error> {
    let schemas: Vec<String> = {
        let mut s: Vec<String> = m.settings.iter().map(|s| s.schema.clone()).collect();
        s.sort();
        s.dedup();
        s
    };
    let argvs = schemas
        .iter()
        .map(|s| strings(&["gsettings", "list-recursively", s]))
        .collect();
    let mut live = BTreeMap::new();
    for (schema, result) in schemas.into_iter().zip(query_all(argvs)) {
        let out = result?;
        let state = Schema::from_output(manifest::schema_id(&schema), &out);
        live.insert(schema, state);
    }
    Ok(live)
}

impl Guest for Gsettings {
    fn info() -> PluginInfo {
        PluginInfo {
            id: "gsettings".into(),
            command: "gsetting".into(),
            summary: "GNOME settings (gsettings/dconf keys)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Configuration,
            verbs: vec![
                verb(
                    "set",
                    "SCHEMA KEY VALUE",
                    "Track a setting (VALUE is GVariant text: \"'dark'\", 5, true) and apply it",
                    true,
                ),
                verb(
                    "unset",
                    "SCHEMA KEY",
                    "Stop tracking a setting (the live value stays)",
                    true,
                ),
                verb(
                    "list",
                    "",
                    "Show tracked settings and which ones differ from the machine",
                    false,
                ),
                verb(
                    "capture",
                    "SCHEMA",
                    "Track every key of SCHEMA you have changed from its default (reads dconf)",
                    true,
                ),
            ],
            capabilities: Capabilities {
                queries: vec![
                    strings(&["gsettings", "list-recursively"]),
                    strings(&["gsettings", "list-schemas"]),
                    strings(&["dconf", "dump", "/"]),
                ],
                programs: strings(&["gsettings"]),
                reads: vec![],
                writes: vec![],
            },
        }
    }

    fn capture(text: Option<String>) -> Result<String, Error> {
        let m = manifest::parse(text.as_deref())?;
        let live = read_live(&m)?;
        Ok(plan::capture(m, &live).render())
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let live = read_live(&m)?;
        let (changes, problems) = plan::compare(&m, &live);
        Ok(Plan {
            items: m.settings.len() as u32,
            changes,
            problems,
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        manifest::parse(text.as_deref())?;
        Ok(vec![])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        let mut m = manifest::parse(text.as_deref())?;
        match (verb.as_str(), args.as_slice()) {
            ("set", [schema, key, value]) => {
                for name in [schema, key] {
                    manifest::check_name(name).map_err(usage)?;
                }
                if let Err(e) = gvariant::parse(value) {
                    return Err(usage(format!(
                        "{value:?} is not GVariant text: {e}. Strings need quotes inside the argument: \"'dark'\""
                    )));
                }
                let changed = m.upsert(schema, key, value);
                // Set it live too, even when the manifest already had this value.
                let set = change(
                    format!("{schema} {key}"),
                    ChangeKind::Differs,
                    format!("{schema} {key} → {value}"),
                    vec![run("gsettings", &["set", schema, key, value], Scope::User)],
                );
                Ok(EditResult {
                    manifest: changed.then(|| m.render()),
                    output: vec![],
                    changes: vec![set],
                })
            }
            ("unset", [schema, key]) => {
                let before = m.settings.len();
                m.settings
                    .retain(|s| !(s.schema == *schema && s.key == *key));
                if m.settings.len() == before {
                    return Err(usage(format!("{schema} {key} is not in {MANIFEST}")));
                }
                Ok(edited(Some(m.render()), vec![]))
            }
            ("list", []) => {
                let live = read_live(&m).unwrap_or_default();
                let output = m
                    .settings
                    .iter()
                    .map(|s| {
                        let note = match plan::live_value(s, &live) {
                            Ok(v) if gvariant::same(v, &s.value) => String::new(),
                            Ok(v) => format!("   (live: {v})"),
                            Err(_) if live.is_empty() => String::new(),
                            Err(e) => format!("   ({e})"),
                        };
                        format!("{} {} {}{}", s.schema, s.key, s.value, note)
                    })
                    .collect();
                Ok(edited(None, output))
            }
            ("capture", [schema]) => capture_schema(m, schema),
            (verb, _) => Err(usage(format!(
                "`gsetting {verb}` takes other arguments; see `bkt gsetting --help`"
            ))),
        }
    }
}

/// Adds the keys of `schema` that the user has set (those `dconf dump /` lists), with their
/// live values.
fn capture_schema(mut m: Manifest, schema: &str) -> Result<EditResult, Error> {
    manifest::check_name(schema).map_err(usage)?;
    let mut results = query_all(vec![
        strings(&["gsettings", "list-recursively", schema]),
        strings(&["gsettings", "list-schemas", "--print-paths"]),
        strings(&["dconf", "dump", "/"]),
    ])
    .into_iter();
    let (Some(list), Some(schemas), Some(dump)) = (results.next(), results.next(), results.next())
    else {
        return Err(Error::Failed("the host returned too few results".into()));
    };
    let (list, schemas, dump) = (list?, schemas?, dump?);
    let keys = match Schema::from_output(manifest::schema_id(schema), &list) {
        Schema::Keys(keys) => keys,
        Schema::Unknown => return Err(usage(format!("no such schema {schema:?} here"))),
        Schema::Failed(msg) => return Err(Error::Failed(msg)),
    };
    let path = match schema.split_once(':') {
        Some((_, path)) => path.to_string(),
        None => live::schema_path(schema, &schemas.stdout).ok_or_else(|| {
            usage(format!(
                "{schema} is relocatable: name it as {schema}:/its/path/"
            ))
        })?,
    };
    let mut output = Vec::new();
    let mut changed = false;
    for key in live::dconf_keys(&path, &dump.stdout) {
        if let Some(value) = keys.get(&key)
            && m.upsert(schema, &key, value)
        {
            output.push(format!("captured {schema} {key} {value}"));
            changed = true;
        }
    }
    if output.is_empty() {
        output.push(format!(
            "{schema}: no keys set away from their defaults that are not already tracked"
        ));
    }
    Ok(edited(changed.then(|| m.render()), output))
}
