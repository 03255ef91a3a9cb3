//! Plugin results with every text a person may see made printable (see
//! [`crate::style::printable`]), field by field. Effects are left alone: they are data that
//! runs, and the host quotes them for display itself. So are manifests and Containerfile
//! lines: they go to files, and are checked there. Item ids and values are escaped in every
//! result alike, so the sync record compares like with like.

use super::CallError;
use super::bindings::bkt::subsystem::types::Verb;
use super::bindings::{
    Agreed, Arg, Capabilities, Change, EditResult, InvalidManifestValue, Plan, PluginInfo, Problem,
};
use crate::style::printable;

fn text(s: &mut String) {
    if let std::borrow::Cow::Owned(clean) = printable(s) {
        *s = clean;
    }
}

fn texts(list: &mut [String]) {
    list.iter_mut().for_each(text);
}

pub fn info(mut i: PluginInfo) -> PluginInfo {
    for s in [
        &mut i.id,
        &mut i.command,
        &mut i.summary,
        &mut i.version,
        &mut i.manifest,
    ] {
        text(s);
    }
    texts(&mut i.sections);
    for Verb {
        name,
        usage,
        summary,
        edits: _,
    } in &mut i.verbs
    {
        text(name);
        text(usage);
        text(summary);
    }
    capabilities(&mut i.capabilities);
    i
}

fn capabilities(c: &mut Capabilities) {
    c.queries.iter_mut().for_each(|argv| args(argv));
    c.runs.iter_mut().for_each(|run| args(&mut run.argv));
    texts(&mut c.reads);
    texts(&mut c.writes);
}

fn args(shape: &mut [Arg]) {
    for arg in shape {
        if let Arg::Literal(s) | Arg::Root(s) = arg {
            text(s);
        }
    }
}

fn change(c: &mut Change) {
    text(&mut c.id);
    text(&mut c.summary);
    c.wanted.iter_mut().for_each(text);
    c.live.iter_mut().for_each(text);
}

pub fn plan(mut p: Plan) -> Plan {
    p.changes.iter_mut().for_each(change);
    for Agreed { id, value, .. } in &mut p.agreed {
        text(id);
        text(value);
    }
    for Problem { id, message, .. } in &mut p.problems {
        text(id);
        text(message);
    }
    p
}

pub fn edit(mut e: EditResult) -> EditResult {
    texts(&mut e.output);
    e.changes.iter_mut().for_each(change);
    e
}

pub fn error(e: CallError) -> CallError {
    match e {
        CallError::Invalid(InvalidManifestValue {
            mut field,
            mut message,
            line,
            column,
        }) => {
            text(&mut field);
            text(&mut message);
            CallError::Invalid(InvalidManifestValue {
                field,
                message,
                line,
                column,
            })
        }
        CallError::Unavailable(m) => CallError::Unavailable(printable(&m).into_owned()),
        CallError::Failed(m) => CallError::Failed(printable(&m).into_owned()),
        CallError::Refused(m) => CallError::Refused(printable(&m).into_owned()),
        CallError::Crashed(m) => CallError::Crashed(printable(&m).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::bindings::{ChangeKind, Effect, Scope, Severity};
    use super::*;

    #[test]
    fn summaries_and_messages_are_escaped_but_effects_are_not() {
        let plan_in = Plan {
            items: 1,
            changes: vec![Change {
                id: "k".into(),
                kind: ChangeKind::Missing,
                summary: "ok\x1b[2K\rApplied".into(),
                effects: vec![Effect::RemoveFile("/etc/x\ny".into())],
                wanted: Some("w\x1b".into()),
                live: None,
                live_is_default: false,
                scope: Scope::System,
                next_boot: false,
            }],
            agreed: vec![],
            problems: vec![Problem {
                id: "p\x07".into(),
                message: "m\r".into(),
                severity: Severity::Error,
            }],
        };
        let out = plan(plan_in);
        assert_eq!(out.changes[0].summary, "ok\\e[2K\\rApplied");
        assert_eq!(out.changes[0].wanted.as_deref(), Some("w\\e"));
        assert!(matches!(&out.changes[0].effects[0], Effect::RemoveFile(p) if p == "/etc/x\ny"));
        assert_eq!(out.problems[0].id, "p\\x07");
        assert_eq!(out.problems[0].message, "m\\r");
        let e = error(CallError::Failed("bad\x1b[1A".into()));
        assert_eq!(e.to_string(), "bad\\e[1A");
    }
}
