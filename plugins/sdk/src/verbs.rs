//! A plugin's punned verbs in one table: what `info` declares, what `edit` runs and what
//! `complete` offers all come from the same entries, so a verb cannot be declared and not
//! handled, or handled under another name.
//!
//! ```ignore
//! const VERBS: Verbs<Manifest> = Verbs::new("shim", manifest::parse, &[
//!     Entry::edits("add", "NAME [--host CMD]", "Add a shim", add),
//!     Entry::edits("remove", "NAME", "Remove a shim", remove).completing(names),
//!     Entry::reads("list", "", "Show the shims", list),
//! ]);
//! // info:     verbs: VERBS.declared(),
//! // edit:     VERBS.edit(text.as_deref(), &verb, &args)
//! // complete: VERBS.complete(text.as_deref(), &verb, &args)
//! ```

use crate::{EditResult, Result, Verb, usage};

/// Runs a verb: the parsed manifest, the manifest text as read (for an in-place edit), and
/// the words after the verb.
pub type Handler<M> = fn(M, Option<&str>, &[String]) -> Result<EditResult>;

/// Offers the words that may come next, given the manifest and the words typed so far.
pub type Completer<M> = fn(&M, &[String]) -> Vec<String>;

/// One verb.
pub struct Entry<M: 'static> {
    pub name: &'static str,
    /// Arguments as `--help` shows them: `SCHEMA KEY VALUE`.
    pub usage: &'static str,
    pub summary: &'static str,
    /// Whether it changes the manifest (and so may be applied live).
    pub edits: bool,
    pub run: Handler<M>,
    pub complete: Option<Completer<M>>,
}

impl<M> Entry<M> {
    /// A verb that changes the manifest.
    pub const fn edits(
        name: &'static str,
        usage: &'static str,
        summary: &'static str,
        run: Handler<M>,
    ) -> Self {
        Entry::new(name, usage, summary, true, run)
    }

    /// A verb that only reads (`list`, `sync`).
    pub const fn reads(
        name: &'static str,
        usage: &'static str,
        summary: &'static str,
        run: Handler<M>,
    ) -> Self {
        Entry::new(name, usage, summary, false, run)
    }

    const fn new(
        name: &'static str,
        usage: &'static str,
        summary: &'static str,
        edits: bool,
        run: Handler<M>,
    ) -> Self {
        Entry {
            name,
            usage,
            summary,
            edits,
            run,
            complete: None,
        }
    }

    /// The same verb, offering `complete`'s words to shell completion.
    pub const fn completing(mut self, complete: Completer<M>) -> Self {
        self.complete = Some(complete);
        self
    }
}

/// Reads a manifest's text (`None`: the file does not exist yet) into the plugin's type.
pub type Parser<M> = fn(Option<&str>) -> Result<M>;

/// Every verb of one plugin command.
pub struct Verbs<M: 'static> {
    /// The word users type: `bkt shim add ...`.
    pub command: &'static str,
    pub parse: Parser<M>,
    pub entries: &'static [Entry<M>],
}

impl<M> Verbs<M> {
    pub const fn new(
        command: &'static str,
        parse: Parser<M>,
        entries: &'static [Entry<M>],
    ) -> Self {
        Verbs {
            command,
            parse,
            entries,
        }
    }

    /// The verbs as `info` declares them.
    pub fn declared(&self) -> Vec<Verb> {
        self.entries
            .iter()
            .map(|e| Verb {
                name: e.name.into(),
                usage: e.usage.into(),
                summary: e.summary.into(),
                edits: e.edits,
            })
            .collect()
    }

    /// Runs `verb` on the manifest `text`; an unknown verb is a usage error naming the
    /// command's help.
    pub fn edit(&self, text: Option<&str>, verb: &str, args: &[String]) -> Result<EditResult> {
        let m = (self.parse)(text)?;
        match self.entries.iter().find(|e| e.name == verb) {
            Some(e) => (e.run)(m, text, args),
            None => Err(usage(format!(
                "`{} {verb}` is not a verb; see `bkt {} --help`",
                self.command, self.command
            ))),
        }
    }

    /// What may come after `verb ARGS`; nothing for a manifest that does not parse.
    pub fn complete(&self, text: Option<&str>, verb: &str, args: &[String]) -> Vec<String> {
        let Some(entry) = self.entries.iter().find(|e| e.name == verb) else {
            return Vec::new();
        };
        match (entry.complete, (self.parse)(text)) {
            (Some(complete), Ok(m)) => complete(&m, args),
            _ => Vec::new(),
        }
    }

    /// The usage error for `verb` called with other arguments than it takes.
    pub fn misused(&self, verb: &str) -> crate::Error {
        let shape = self
            .entries
            .iter()
            .find(|e| e.name == verb)
            .map_or(String::new(), |e| format!(" {}", e.usage));
        usage(format!(
            "`{} {verb}` takes{}; see `bkt {} --help`",
            self.command,
            if shape.trim().is_empty() {
                " no arguments".to_string()
            } else {
                shape
            },
            self.command
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edited;

    fn add(mut m: Vec<String>, _: Option<&str>, args: &[String]) -> Result<EditResult> {
        m.extend(args.iter().cloned());
        Ok(edited(Some(m.join(",")), vec![]))
    }

    fn list(m: Vec<String>, _: Option<&str>, _: &[String]) -> Result<EditResult> {
        Ok(edited(None, m))
    }

    #[allow(clippy::ptr_arg)] // the table's manifest type is a Vec here
    fn names(m: &Vec<String>, typed: &[String]) -> Vec<String> {
        m.iter().filter(|n| !typed.contains(n)).cloned().collect()
    }

    fn parse(text: Option<&str>) -> Result<Vec<String>> {
        match text {
            Some("bad") => Err(usage("bad")),
            Some(t) => Ok(t.split(',').map(String::from).collect()),
            None => Ok(vec![]),
        }
    }

    const VERBS: Verbs<Vec<String>> = Verbs::new(
        "thing",
        parse,
        &[
            Entry::edits("add", "NAME...", "Add things", add),
            Entry::edits("remove", "NAME...", "Remove things", add).completing(names),
            Entry::reads("list", "", "Show things", list),
        ],
    );

    #[test]
    fn one_table_declares_runs_and_completes() {
        let declared = VERBS.declared();
        assert_eq!(declared.len(), 3);
        assert!(declared[0].edits && !declared[2].edits);
        let out = VERBS.edit(Some("a,b"), "add", &["c".into()]).unwrap();
        assert_eq!(out.manifest.as_deref(), Some("a,b,c"));
        assert!(VERBS.edit(Some("a,b"), "frob", &[]).is_err());
        assert!(VERBS.edit(Some("bad"), "add", &[]).is_err());
        assert_eq!(VERBS.complete(Some("a,b"), "remove", &["a".into()]), ["b"]);
        assert!(VERBS.complete(Some("a,b"), "add", &[]).is_empty());
        assert!(VERBS.complete(Some("bad"), "remove", &[]).is_empty());
        let crate::Error::Failed(msg) = VERBS.misused("list") else {
            panic!()
        };
        assert!(msg.contains("takes no arguments"), "{msg}");
    }
}
