//! Writing a manifest back without touching what did not change.
//!
//! A plugin parses the manifest into its own types, changes them, and hands the new value to
//! [`update`] together with the text it read. The old text is edited in place through
//! dprint's concrete syntax tree (`jsonc-parser`): values equal on both sides keep their bytes
//! (key order, indentation, inline arrays, unknown fields, the final newline), and only the
//! entries that differ are replaced, inserted or removed.

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::Value;

/// The manifest text for the JSON `new` (as serde_json writes a plugin's value, keys in the
/// order of its fields): `old` edited where it differs. `None` when either text is not JSON.
pub fn update(old: &str, new: &str) -> Option<String> {
    let new_root = CstRootNode::parse(new, &ParseOptions::default()).ok()?;
    let new = Json::of(&new_root.value()?);
    let root = CstRootNode::parse(old, &ParseOptions::default()).ok()?;
    match root.value() {
        Some(value) => edit_node(value, &new),
        None => root.set_value(new.input()),
    }
    Some(root.to_string())
}

/// A JSON value whose objects keep their keys in the order written: new objects and keys
/// are inserted in the order of the plugin's fields, not sorted.
#[derive(Debug)]
enum Json {
    Leaf(Value),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn of(node: &CstNode) -> Json {
        if let Some(object) = node.as_object() {
            let fields = object
                .properties()
                .into_iter()
                .filter_map(|p| {
                    let name = p.name()?.decoded_value().ok()?;
                    Some((name, Json::of(&p.value()?)))
                })
                .collect();
            Json::Object(fields)
        } else if let Some(array) = node.as_array() {
            Json::Array(array.elements().iter().map(Json::of).collect())
        } else {
            Json::Leaf(node.to_serde_value().unwrap_or(Value::Null))
        }
    }

    /// The value, for comparing (key order does not count).
    fn value(&self) -> Value {
        match self {
            Json::Leaf(v) => v.clone(),
            Json::Array(items) => Value::Array(items.iter().map(Json::value).collect()),
            Json::Object(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.value())).collect())
            }
        }
    }

    /// The value as the syntax tree's input, keys in order.
    fn input(&self) -> CstInputValue {
        match self {
            Json::Leaf(v) => leaf_input(v),
            Json::Array(items) => CstInputValue::Array(items.iter().map(Json::input).collect()),
            Json::Object(fields) => {
                CstInputValue::Object(fields.iter().map(|(k, v)| (k.clone(), v.input())).collect())
            }
        }
    }

    fn field(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Makes `node` hold `new`, changing as little text as possible.
fn edit_node(node: CstNode, new: &Json) {
    if node
        .to_serde_value()
        .as_ref()
        .is_some_and(|old| same(old, &new.value()))
    {
        return;
    }
    match (node.as_object(), node.as_array(), new) {
        (Some(object), _, Json::Object(_)) => edit_object(&object, new),
        (_, Some(array), Json::Array(items)) => edit_array(&array, items),
        _ => replace(node, new),
    }
}

/// Replaces a node by a new value. Every value node kind can be replaced; others are left.
fn replace(node: CstNode, new: &Json) {
    let value = new.input();
    if let Some(n) = node.as_object() {
        n.replace_with(value);
    } else if let Some(n) = node.as_array() {
        n.replace_with(value);
    } else if let Some(n) = node.as_string_lit() {
        n.replace_with(value);
    } else if let Some(n) = node.as_number_lit() {
        n.replace_with(value);
    } else if let Some(n) = node.as_boolean_lit() {
        n.replace_with(value);
    } else if let Some(n) = node.as_null_keyword() {
        n.replace_with(value);
    } else if let Some(n) = node.as_word_lit() {
        n.replace_with(value);
    }
}

/// Keys only in the old object go, keys in both are edited in place, new keys are appended.
/// An empty list, empty object or null means the same as no key at all (every manifest
/// field defaults to empty), so `"groups": []` is neither removed nor added when only that
/// differs.
fn edit_object(object: &CstObject, new: &Json) {
    let Json::Object(fields) = new else { return };
    for prop in object.properties() {
        let name = prop.name().and_then(|n| n.decoded_value().ok());
        let kept = name.as_ref().is_some_and(|n| new.field(n).is_some());
        let empty = prop
            .value()
            .and_then(|v| v.to_serde_value())
            .is_some_and(|v| is_empty(&v));
        if !kept && !empty {
            prop.remove();
        }
    }
    for (key, value) in fields {
        match object.get(key) {
            Some(prop) => match prop.value() {
                Some(node) => edit_node(node, value),
                None => prop.set_value(value.input()),
            },
            None if is_empty(&value.value()) => {}
            None => {
                object.append(key, value.input());
            }
        }
    }
}

/// Equal, counting a key that is empty on one side and absent on the other as equal.
fn same(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let missing_is_empty =
                |x: &serde_json::Map<String, Value>, y: &serde_json::Map<String, Value>| {
                    x.iter().all(|(k, v)| y.contains_key(k) || is_empty(v))
                };
            missing_is_empty(a, b)
                && missing_is_empty(b, a)
                && a.iter().all(|(k, v)| b.get(k).is_none_or(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same(v, w))
        }
        _ => old == new,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

/// One step of turning the old elements into the new ones.
#[derive(Debug, PartialEq)]
enum Step {
    /// The old element stays as it is.
    Keep,
    /// The old element becomes new element `j` (edited in place).
    Edit(usize),
    /// The old element goes.
    Drop,
    /// New element `j` is inserted here.
    Insert(usize),
}

/// Elements equal on both sides stay (a longest common subsequence); between them, old and
/// new elements are paired in order and edited in place, and the rest dropped or inserted.
fn edit_array(array: &CstArray, new: &[Json]) {
    let new_values: Vec<Value> = new.iter().map(Json::value).collect();
    let old: Vec<Value> = array
        .elements()
        .iter()
        .map(|e| e.to_serde_value().unwrap_or(Value::Null))
        .collect();
    let mut at = 0;
    for step in steps(&old, &new_values) {
        match step {
            Step::Keep => at += 1,
            Step::Edit(j) => {
                if let Some(node) = array.elements().into_iter().nth(at) {
                    edit_element(array, at, node, &new[j]);
                }
                at += 1;
            }
            Step::Drop => {
                if let Some(node) = array.elements().into_iter().nth(at) {
                    let spaced = opens_with_space(array);
                    node.remove();
                    if !spaced
                        && opens_with_space(array)
                        && let Some(space) = array.children().into_iter().nth(1)
                    {
                        space.remove();
                    }
                }
            }
            Step::Insert(j) => {
                let node = array.insert(at, new[j].input());
                drop_doubled_space(node);
                at += 1;
            }
        }
    }
}

/// Makes element `at` hold `new`. A value that becomes an object or array of another kind
/// is removed and inserted anew: jsonc-parser 0.34 indents a replacement by the array's
/// indentation, an insertion by its elements'.
fn edit_element(array: &CstArray, at: usize, node: CstNode, new: &Json) {
    let same_kind = match new {
        Json::Leaf(_) => true,
        Json::Object(_) => node.as_object().is_some(),
        Json::Array(_) => node.as_array().is_some(),
    };
    if same_kind {
        edit_node(node, new);
    } else {
        node.remove();
        let inserted = array.insert(at, new.input());
        drop_doubled_space(inserted);
    }
}

/// jsonc-parser 0.34, inserting into the middle of a one-line array, adds `, ` after the new
/// element and keeps the space that was there: `["a", "b",  "c"]`. One space is dropped.
fn drop_doubled_space(inserted: CstNode) {
    let spaces: Vec<CstNode> = inserted
        .next_siblings()
        .skip_while(|n| n.is_comma())
        .take_while(|n| n.is_whitespace())
        .collect();
    if spaces.len() > 1 {
        for extra in spaces.into_iter().skip(1) {
            extra.remove();
        }
    }
}

/// Whether `[` is followed by a space on its line. Removing the first element of a one-line
/// array leaves the space that followed its comma (`[ "c"]`); this tells when to take it.
fn opens_with_space(array: &CstArray) -> bool {
    array
        .children()
        .into_iter()
        .nth(1)
        .is_some_and(|n| n.is_whitespace())
}

/// The steps from `old` to `new`, in order.
fn steps(old: &[Value], new: &[Value]) -> Vec<Step> {
    let (n, m) = (old.len(), new.len());
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same(&old[i], &new[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let (mut dropped, mut inserted) = (Vec::new(), Vec::new());
    while i < n || j < m {
        if i < n && j < m && same(&old[i], &new[j]) {
            pair_up(&mut out, &mut dropped, &mut inserted);
            out.push(Step::Keep);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            inserted.push(j);
            j += 1;
        } else {
            dropped.push(i);
            i += 1;
        }
    }
    pair_up(&mut out, &mut dropped, &mut inserted);
    out
}

/// Between two kept elements: the first old and new ones pair up as edits, the rest of the
/// old ones are dropped and the rest of the new ones inserted.
fn pair_up(out: &mut Vec<Step>, dropped: &mut Vec<usize>, inserted: &mut Vec<usize>) {
    let paired = dropped.len().min(inserted.len());
    out.extend(inserted[..paired].iter().map(|&j| Step::Edit(j)));
    out.extend(dropped[paired..].iter().map(|_| Step::Drop));
    out.extend(inserted[paired..].iter().map(|&j| Step::Insert(j)));
    dropped.clear();
    inserted.clear();
}

/// A JSON leaf (or any plain value) as the syntax tree's input.
fn leaf_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(leaf_input).collect()),
        Value::Object(fields) => CstInputValue::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), leaf_input(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edited(old: &str, new: Value) -> String {
        let out = update(old, &new.to_string()).unwrap();
        let reparsed: Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(reparsed, new, "{out}");
        out
    }

    #[test]
    fn an_equal_value_keeps_every_byte() {
        let old = "{\n    \"b\": [1,   2],\n    \"a\": {\"x\": true}\n}";
        let same: Value = serde_json::from_str(old).unwrap();
        assert_eq!(
            update(old, &serde_json::to_string(&same).unwrap()).as_deref(),
            Some(old)
        );
    }

    #[test]
    fn a_changed_field_is_the_only_change() {
        let old = "{\n    \"$schema\": \"s.json\",\n    \"settings\": [\n        {\"schema\": \"a\", \"key\": \"k\", \"value\": \"1\", \"comment\": \"why\"},\n        {\"schema\": \"b\", \"key\": \"k\", \"value\": \"2\"}\n    ]\n}\n";
        let out = edited(
            old,
            json!({"$schema": "s.json", "settings": [
                {"schema": "a", "key": "k", "value": "5", "comment": "why"},
                {"schema": "b", "key": "k", "value": "2"}
            ]}),
        );
        assert_eq!(out, old.replace("\"1\"", "\"5\""));
    }

    #[test]
    fn an_inserted_element_takes_the_neighbours_indentation() {
        let old =
            "{\n    \"packages\": [\n        \"a\",\n        \"c\"\n    ],\n    \"extra\": 1\n}\n";
        let out = edited(old, json!({"packages": ["a", "b", "c"], "extra": 1}));
        assert_eq!(
            out,
            "{\n    \"packages\": [\n        \"a\",\n        \"b\",\n        \"c\"\n    ],\n    \"extra\": 1\n}\n"
        );
    }

    #[test]
    fn every_indentation_is_kept() {
        for i in ["  ", "    ", "\t"] {
            let old =
                format!("{{\n{i}\"a\": [\n{i}{i}\"x\",\n{i}{i}\"z\"\n{i}],\n{i}\"b\": 1\n}}\n");
            let out = edited(&old, json!({"a": ["x", "y", "z"], "b": 1}));
            assert_eq!(
                out,
                old.replace("\"x\",\n", &format!("\"x\",\n{i}{i}\"y\",\n"))
            );
            let out = edited(&old, json!({"a": ["z"], "b": 1}));
            assert_eq!(out, old.replace(&format!("{i}{i}\"x\",\n"), ""));
            let out = edited(&old, json!({"a": ["x", "z"], "b": 2}));
            assert_eq!(out, old.replace("1\n", "2\n"));
        }
    }

    #[test]
    fn an_inline_array_stays_inline() {
        let old = "{\n  \"packages\": [\"a\", \"c\"],\n  \"x\": 1\n}\n";
        let out = edited(old, json!({"packages": ["a", "b", "c"], "x": 1}));
        assert_eq!(
            out,
            "{\n  \"packages\": [\"a\", \"b\", \"c\"],\n  \"x\": 1\n}\n"
        );
        let out = edited(old, json!({"packages": ["c"], "x": 1}));
        assert_eq!(out, "{\n  \"packages\": [\"c\"],\n  \"x\": 1\n}\n");
    }

    #[test]
    fn a_removed_element_takes_only_its_lines() {
        let old = "{\n  \"apps\": [\n    {\n      \"id\": \"a\"\n    },\n    {\n      \"id\": \"b\"\n    },\n    {\n      \"id\": \"c\"\n    }\n  ]\n}\n";
        let out = edited(old, json!({"apps": [{"id": "a"}, {"id": "c"}]}));
        assert_eq!(out, old.replace("    {\n      \"id\": \"b\"\n    },\n", ""));
    }

    #[test]
    fn a_string_entry_becomes_an_object_in_place() {
        let old = "{\n  \"extensions\": [\n    \"a@x\",\n    \"b@x\"\n  ]\n}\n";
        let out = edited(
            old,
            json!({"extensions": ["a@x", {"id": "b@x", "enabled": false}]}),
        );
        assert!(
            out.starts_with("{\n  \"extensions\": [\n    \"a@x\",\n    {"),
            "{out}"
        );
    }

    #[test]
    fn a_new_key_is_appended_and_a_gone_key_removed() {
        let old = "{\n  \"a\": 1,\n  \"b\": 2\n}";
        assert_eq!(
            edited(old, json!({"a": 1, "b": 2, "c": 3})),
            "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}"
        );
        assert_eq!(edited(old, json!({"b": 2})), "{\n  \"b\": 2\n}");
    }

    #[test]
    fn empty_and_absent_are_the_same() {
        let old = "{\n  \"packages\": [\"a\"],\n  \"groups\": []\n}\n";
        assert_eq!(update(old, r#"{"packages": ["a"]}"#).unwrap(), old);
        let old = "{\n  \"packages\": [\"a\"]\n}\n";
        assert_eq!(
            update(old, r#"{"packages": ["a"], "groups": []}"#).unwrap(),
            old
        );
        assert_eq!(
            update(old, r#"{"packages": ["a"], "groups": ["g"]}"#).unwrap(),
            "{\n  \"packages\": [\"a\"],\n  \"groups\": [\"g\"]\n}\n"
        );
    }

    #[test]
    fn new_objects_keep_the_field_order_given() {
        let old = "{\"x\": []}";
        assert_eq!(
            update(old, r#"{"x": [{"id": "a", "enabled": false}]}"#).unwrap(),
            "{\"x\": [\n    {\n      \"id\": \"a\",\n      \"enabled\": false\n    }\n  ]}"
        );
        assert_eq!(update("{", "{}"), None);
    }
}
