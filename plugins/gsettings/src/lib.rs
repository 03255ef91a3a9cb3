//! The gsettings subsystem: GNOME settings the user wants on every machine.
//!
//! Live values come from one `gsettings list-recursively` of every schema (plus one per
//! relocatable schema), never one process per schema or key. It renders no Containerfile section:
//! settings are user state, applied after login by the user unit.

// The entry points are exported only in the wasm build; natively (unit tests) they are unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod gvariant;
pub mod live;
pub mod manifest;
pub mod plan;
pub mod range;

use bkt_sdk::{
    Capabilities, EditResult, Entry, Error, Guest, Phase, Plan, PluginInfo, QueryError, Scope,
    Section, Verbs, change, edited, host, query_all, query_each, run, run_shape, shape, strings,
    usage,
};
use manifest::Manifest;
use plan::{Live, Schema};
use std::collections::BTreeSet;

pub const MANIFEST: &str = "gsettings.json";

struct Gsettings;

// Exported only in the component: a native cdylib cannot carry WIT export names.
#[cfg(target_arch = "wasm32")]
bkt_sdk::export!(Gsettings);

/// Where the keyfile backend keeps what the user set (the default XDG_CONFIG_HOME).
const KEYFILE_DIR: &str = "~/.config/glib-2.0/settings";

/// The keyfile backend's file, read through the preopened folder; empty when absent.
fn read_keyfile() -> String {
    let home = host::context().home;
    let dir = KEYFILE_DIR.replacen('~', home.trim_end_matches('/'), 1);
    std::fs::read_to_string(format!("{dir}/keyfile")).unwrap_or_default()
}

/// Every schema the manifest names, the schema paths and the user's own keys, all at once
/// through `query-all`: one `list-recursively` for every schema at a fixed path (however many
/// the manifest names), and one per relocatable schema (`schema:/path/`), which only a listing
/// of its own shows.
fn read_live(m: &Manifest) -> Result<Live, Error> {
    let schemas: BTreeSet<&str> = m.settings.iter().map(|s| s.schema.as_str()).collect();
    let (relocatable, fixed): (Vec<&str>, Vec<&str>) =
        schemas.iter().partition(|s| s.contains(':'));
    let mut argvs: Vec<Vec<String>> = Vec::new();
    if !fixed.is_empty() {
        argvs.push(strings(&["gsettings", "list-recursively"]));
    }
    argvs.extend(
        relocatable
            .iter()
            .map(|s| strings(&["gsettings", "list-recursively", s])),
    );
    argvs.push(strings(&["gsettings", "list-schemas", "--print-paths"]));
    argvs.push(strings(&["dconf", "dump", "/"]));
    let mut results = query_all(argvs);
    let dump = results.pop();
    let paths = results.pop();
    let mut results = results.into_iter();
    let mut live = Live::default();
    if !fixed.is_empty() {
        let out = results
            .next()
            .ok_or_else(|| Error::Failed("the host returned too few results".into()))??;
        live.schemas.extend(fixed_schemas(&fixed, &out));
    }
    for (schema, result) in relocatable.into_iter().zip(results) {
        let out = result?;
        let state = Schema::from_output(manifest::schema_id(schema), &out);
        live.schemas.insert(schema.to_string(), state);
    }
    live.paths = match paths {
        Some(Ok(out)) if out.status == 0 => out.stdout,
        _ => String::new(),
    };
    // Without dconf (the keyfile backend), the keyfile alone says what the user set.
    if let Some(Ok(out)) = dump
        && out.status == 0
    {
        live::user_set(&out.stdout, &mut live.user_set);
    }
    live::user_set(&read_keyfile(), &mut live.user_set);
    Ok(live)
}

/// Each schema at a fixed path from one listing of them all: its keys, or unknown when the
/// listing does not name it (not installed here).
fn fixed_schemas(fixed: &[&str], out: &bkt_sdk::Output) -> Vec<(String, Schema)> {
    let found = if out.status == 0 {
        Ok(live::parse_many(
            &fixed.iter().copied().collect(),
            &out.stdout,
        ))
    } else {
        Err(out.stderr.trim().to_string())
    };
    fixed
        .iter()
        .map(|schema| {
            let state = match &found {
                Ok(all) => match all.get(*schema) {
                    Some(keys) => Schema::Keys(keys.clone()),
                    None => Schema::Unknown,
                },
                Err(why) => Schema::Failed(why.clone()),
            };
            (schema.to_string(), state)
        })
        .collect()
}

/// Whether the key's live value already equals `value`.
fn live_value_is(schema: &str, key: &str, value: &str) -> bool {
    let argv = strings(&["gsettings", "list-recursively", schema]);
    match host::query(&argv) {
        Ok(out) => match Schema::from_output(manifest::schema_id(schema), &out) {
            Schema::Keys(keys) => keys.get(key).is_some_and(|v| gvariant::same(v, value)),
            _ => false,
        },
        Err(_) => false,
    }
}

/// Checks `VALUE` against the key's type and range, and that the key exists, before
/// anything is written. Without gsettings the value is only checked as GVariant text.
fn check_value(schema: &str, key: &str, value: &str) -> Result<(), Error> {
    let argv = strings(&["gsettings", "range", schema, key]);
    let out = match host::query(&argv) {
        Ok(out) => out,
        Err(QueryError::NotFound(_)) => {
            return gvariant::parse(value).map(|_| ()).map_err(|e| {
                usage(format!(
                    "{value:?} is not GVariant text: {e}. Strings need quotes inside the argument: \"'dark'\""
                ))
            });
        }
        Err(e) => return Err(bkt_sdk::query_error(e)),
    };
    if out.status != 0 {
        let why = out.stderr.trim();
        return Err(usage(if why.contains("No such schema") {
            format!("no such schema {schema:?} here (is the program that provides it installed?)")
        } else if why.contains("No such key") {
            format!(
                "schema {schema} has no key {key:?}; `gsettings list-keys {}` shows its keys",
                manifest::schema_id(schema)
            )
        } else {
            format!("gsettings range {schema} {key}: {why}")
        }));
    }
    range::check(&out.stdout, value).map_err(|e| usage(format!("{schema} {key}: {e}")))
}

impl Guest for Gsettings {
    fn info() -> PluginInfo {
        PluginInfo {
            about: bkt_sdk::about!(),
            requires_bkt: String::new(),
            id: "gsettings".into(),
            command: "gsetting".into(),
            summary: "GNOME settings (gsettings/dconf keys)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            manifest: MANIFEST.into(),
            sections: vec![],
            phase: Phase::Configuration,
            verbs: VERBS.declared(),
            capabilities: Capabilities {
                queries: vec![
                    shape(&["gsettings", "list-recursively"]),
                    shape(&["gsettings", "list-recursively", "{schema}"]),
                    shape(&["gsettings", "list-schemas", "--print-paths"]),
                    shape(&["gsettings", "range", "{schema}", "{word}"]),
                    shape(&["dconf", "dump", "/"]),
                ],
                runs: vec![run_shape(
                    &["gsettings", "set", "{schema}", "{word}", "{value}"],
                    Scope::User,
                )],
                reads: strings(&[KEYFILE_DIR]),
                writes: vec![],
                fetches: vec![],
                fetch_limit: 0,
                programs: vec![],
            },
        }
    }

    fn capture(text: Option<String>, take: Vec<String>) -> Result<String, Error> {
        let m = manifest::parse(text.as_deref())?;
        // Told to take nothing: the manifest as it is, or a new one, without reading the machine.
        if take.is_empty() {
            return Ok(text.unwrap_or_else(|| m.render(None)));
        }
        let live = read_live(&m)?;
        let take: BTreeSet<String> = take.into_iter().collect();
        Ok(plan::capture(m, &live, &take).render(text.as_deref()))
    }

    fn plan(text: Option<String>) -> Result<Plan, Error> {
        let m = manifest::parse(text.as_deref())?;
        let live = read_live(&m)?;
        let (changes, agreed, problems) = plan::compare(&m, &live);
        Ok(Plan {
            items: m.unique().count() as u32,
            changes,
            agreed,
            problems,
        })
    }

    fn render_section(text: Option<String>) -> Result<Vec<Section>, Error> {
        manifest::parse(text.as_deref())?;
        Ok(vec![])
    }

    fn edit(text: Option<String>, verb: String, args: Vec<String>) -> Result<EditResult, Error> {
        VERBS.edit(text.as_deref(), &verb, &args)
    }

    fn complete(text: Option<String>, verb: String, args: Vec<String>) -> Vec<String> {
        VERBS.complete(text.as_deref(), &verb, &args)
    }
}

/// Adds the keys of `schema` that the user has set (those `dconf dump /` lists), with their
/// live values.
fn capture_schema(mut m: Manifest, old: Option<&str>, schema: &str) -> Result<EditResult, Error> {
    manifest::check_name(schema).map_err(usage)?;
    let [list, schemas, dump] = query_each([
        &["gsettings", "list-recursively", schema][..],
        &["gsettings", "list-schemas", "--print-paths"],
        &["dconf", "dump", "/"],
    ])?;
    let (list, schemas) = (list?, schemas?);
    let keys = match Schema::from_output(manifest::schema_id(schema), &list) {
        Schema::Keys(keys) => keys,
        Schema::Unknown => return Err(usage(format!("no such schema {schema:?} here"))),
        Schema::Failed(msg) => return Err(Error::Failed(msg)),
    };
    let folder = live::folder_of(schema, &schemas.stdout).ok_or_else(|| {
        usage(format!(
            "{schema} is relocatable: name it as {schema}:/its/path/"
        ))
    })?;
    let mut user_set = BTreeSet::new();
    if let Ok(dump) = dump {
        live::user_set(&dump.stdout, &mut user_set);
    }
    live::user_set(&read_keyfile(), &mut user_set);
    let mut output = Vec::new();
    let mut changed = false;
    for (key, value) in &keys {
        if user_set.contains(&format!("{folder}{key}")) && m.upsert(schema, key, value) {
            output.push(format!("captured {schema} {key} {value}"));
            changed = true;
        }
    }
    if output.is_empty() {
        output.push(format!(
            "{schema}: no keys set away from their defaults that are not already tracked"
        ));
    }
    Ok(edited(changed.then(|| m.render(old)), output))
}

const VERBS: Verbs<Manifest> = Verbs::new(
    "gsetting",
    manifest::parse,
    &[
        Entry::edits(
            "set",
            "SCHEMA KEY VALUE",
            "Track a setting (VALUE is GVariant text: \"'dark'\", 5, true) and apply it",
            |m, old, args| match args {
                [schema, key, value] => set_verb(m, old, schema, key, value),
                _ => Err(VERBS.misused("set")),
            },
        )
        .completing(|_, typed| match typed {
            [] => installed_schemas(),
            [schema] => schema_keys(schema),
            _ => Vec::new(),
        }),
        Entry::edits(
            "unset",
            "SCHEMA KEY",
            "Stop tracking a setting (the live value stays)",
            |m, old, args| match args {
                [schema, key] => unset_verb(m, old, schema, key),
                _ => Err(VERBS.misused("unset")),
            },
        )
        .completing(|m, typed| match typed {
            [] => m.settings.iter().map(|s| s.schema.clone()).collect(),
            [schema] => m
                .settings
                .iter()
                .filter(|s| s.schema == *schema)
                .map(|s| s.key.clone())
                .collect(),
            _ => Vec::new(),
        }),
        Entry::reads(
            "list",
            "",
            "Show tracked settings and which ones differ from the machine",
            |m, _, args| match args {
                [] => Ok(list_verb(&m)),
                _ => Err(VERBS.misused("list")),
            },
        ),
        Entry::edits(
            "capture",
            "SCHEMA",
            "Track every key of SCHEMA you have changed from its default (reads dconf)",
            |m, old, args| match args {
                [schema] => capture_schema(m, old, schema),
                _ => Err(VERBS.misused("capture")),
            },
        )
        .completing(|_, typed| match typed {
            [] => installed_schemas(),
            _ => Vec::new(),
        }),
    ],
);

/// The schemas installed here (those at a fixed path), for completion.
fn installed_schemas() -> Vec<String> {
    bkt_sdk::query(&["gsettings", "list-schemas", "--print-paths"])
        .ok()
        .filter(|out| out.status == 0)
        .map(|out| {
            out.stdout
                .lines()
                .filter_map(|l| l.split_whitespace().next().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The keys of `schema`, for completion: read as a plan reads them.
fn schema_keys(schema: &str) -> Vec<String> {
    if manifest::check_name(schema).is_err() {
        return Vec::new();
    }
    let Ok(out) = bkt_sdk::query(&["gsettings", "list-recursively", schema]) else {
        return Vec::new();
    };
    match Schema::from_output(manifest::schema_id(schema), &out) {
        Schema::Keys(keys) => keys.into_keys().collect(),
        _ => Vec::new(),
    }
}

/// `set SCHEMA KEY VALUE`: tracked, and set here now.
fn set_verb(
    mut m: Manifest,
    old: Option<&str>,
    schema: &str,
    key: &str,
    value: &str,
) -> Result<EditResult, Error> {
    for name in [schema, key] {
        manifest::check_name(name).map_err(usage)?;
    }
    check_value(schema, key, value)?;
    let changed = m.upsert(schema, key, value);
    // Already tracked with this value and already live: nothing to do.
    if !changed && live_value_is(schema, key, value) {
        return Ok(edited(None, vec![]));
    }
    // Set it live too, even when the manifest already had this value.
    let set = change(
        format!("{schema} {key}"),
        format!("{schema} {key} → {value}"),
        Some(gvariant::canonical(value)),
        None,
        Scope::User,
        vec![run("gsettings", &["set", schema, key, value], Scope::User)],
    );
    Ok(EditResult {
        manifest: changed.then(|| m.render(old)),
        output: vec![],
        changes: vec![set],
    })
}

/// `unset SCHEMA KEY`: no longer tracked; the live value stays.
fn unset_verb(
    mut m: Manifest,
    old: Option<&str>,
    schema: &str,
    key: &str,
) -> Result<EditResult, Error> {
    let before = m.settings.len();
    m.settings.retain(|s| !(s.schema == schema && s.key == key));
    if m.settings.len() == before {
        return Err(usage(format!("{schema} {key} is not in {MANIFEST}")));
    }
    Ok(edited(Some(m.render(old)), vec![]))
}

/// `list`: each tracked setting, and its live value where that differs.
fn list_verb(m: &Manifest) -> EditResult {
    let live = read_live(m).unwrap_or_default();
    let unread = live.schemas.is_empty();
    let output = m
        .settings
        .iter()
        .map(|s| {
            let note = match plan::live_value(s, &live) {
                Ok(v) if gvariant::same(v, &s.value) => String::new(),
                Ok(v) => format!("   (live: {v})"),
                Err(_) if unread => String::new(),
                Err(p) => format!("   ({})", p.message),
            };
            format!("{} {} {}{}", s.schema, s.key, s.value, note)
        })
        .collect();
    edited(None, output)
}
