//! Managed sections of a Containerfile: `# === NAME (managed by bkt) ===` … `# === END NAME ===`.
//!
//! Parsing keeps every byte: the document is a list of slices of the original text, so text
//! outside the markers (blank lines, comments, CRLF, a missing final newline) comes back
//! exactly as it was. Only the lines between a section's markers are ever replaced.

use std::collections::BTreeMap;
use std::fmt;

const BEGIN_PREFIX: &str = "# === ";
const BEGIN_SUFFIX: &str = " (managed by bkt) ===";
const END_PREFIX: &str = "# === END ";
const END_SUFFIX: &str = " ===";

pub fn begin_marker(name: &str) -> String {
    format!("{BEGIN_PREFIX}{name}{BEGIN_SUFFIX}")
}

pub fn end_marker(name: &str) -> String {
    format!("{END_PREFIX}{name}{END_SUFFIX}")
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line of the offending marker.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug)]
enum Part<'a> {
    Text(&'a str),
    Section(Section<'a>),
}

#[derive(Debug)]
struct Section<'a> {
    name: String,
    /// The begin marker line with its line ending.
    begin: &'a str,
    body: &'a str,
    /// The end marker line, with its line ending if it has one.
    end: &'a str,
    line: usize,
}

#[derive(Debug)]
pub struct Document<'a> {
    parts: Vec<Part<'a>>,
}

fn strip_eol(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// A line a plugin may render: one line, and not a marker (which would change the file's
/// structure on the next read).
pub fn is_plain_line(line: &str) -> bool {
    !line.contains(['\n', '\r']) && as_begin(line).is_none() && as_end(line).is_none()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn as_begin(line: &str) -> Option<&str> {
    let name = strip_eol(line)
        .trim()
        .strip_prefix(BEGIN_PREFIX)?
        .strip_suffix(BEGIN_SUFFIX)?;
    (!name.starts_with("END ")).then_some(name)
}

fn as_end(line: &str) -> Option<&str> {
    strip_eol(line)
        .trim()
        .strip_prefix(END_PREFIX)?
        .strip_suffix(END_SUFFIX)
}

/// Parses a Containerfile. Unclosed, nested, duplicated or crossed bkt sections are errors
/// naming the line; a marker-like line outside every bkt section that starts none is text.
///
/// One pass over the lines with the open section as its state; it is long because every
/// way a marker can be misplaced (nested, unclosed, duplicated, an end without a start) is
/// an error that names its line, and they read best next to each other.
pub fn parse(text: &str) -> Result<Document<'_>, ParseError> {
    let mut parts = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // (name, begin line text, byte offset of body start, line number)
    let mut open: Option<(String, &str, usize, usize)> = None;
    let mut text_start = 0;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let line_start = offset;
        offset += line.len();
        if let Some(name) = as_begin(line) {
            if let Some((outer, _, _, at)) = &open {
                return Err(ParseError {
                    line: number,
                    message: format!(
                        "section {name} starts inside section {outer} (opened on line {at}); sections cannot nest"
                    ),
                });
            }
            if !valid_name(name) {
                return Err(ParseError {
                    line: number,
                    message: format!(
                        "section name {name:?} must be upper case letters, digits, `_` or `-`"
                    ),
                });
            }
            if let Some(first) = seen.insert(name.to_string(), number) {
                return Err(ParseError {
                    line: number,
                    message: format!("section {name} appears twice (first on line {first})"),
                });
            }
            if text_start < line_start {
                parts.push(Part::Text(&text[text_start..line_start]));
            }
            open = Some((name.to_string(), line, offset, number));
        } else if let Some(name) = as_end(line) {
            match open.take() {
                Some((open_name, begin, body_start, at)) if open_name == name => {
                    parts.push(Part::Section(Section {
                        name: open_name,
                        begin,
                        body: &text[body_start..line_start],
                        end: line,
                        line: at,
                    }));
                    text_start = offset;
                }
                Some((open_name, _, _, at)) => {
                    return Err(ParseError {
                        line: number,
                        message: format!(
                            "`{}` closes section {open_name} (opened on line {at}); expected `{}`",
                            strip_eol(line).trim(),
                            end_marker(&open_name)
                        ),
                    });
                }
                // No bkt section is open: an end marker without its `(managed by bkt)` start
                // above is the user's own comment (the original bkt's Containerfile has
                // `# === END RPM VERSION SNAPSHOT ===`), kept as text.
                None => {}
            }
        }
    }
    if let Some((name, _, _, at)) = open {
        return Err(ParseError {
            line: at,
            message: format!(
                "section {name} is never closed; add `{}`",
                end_marker(&name)
            ),
        });
    }
    if text_start < text.len() {
        parts.push(Part::Text(&text[text_start..]));
    }
    Ok(Document { parts })
}

impl Document<'_> {
    /// Section names with the line of their begin marker, in file order.
    pub fn sections(&self) -> Vec<(&str, usize)> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Section(s) => Some((s.name.as_str(), s.line)),
                Part::Text(_) => None,
            })
            .collect()
    }

    /// The document with the bodies of the sections named in `bodies` replaced, and the names
    /// of the sections that changed. Generated lines use the line ending of their begin
    /// marker, so a CRLF file stays CRLF.
    pub fn render(&self, bodies: &BTreeMap<String, Vec<String>>) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut changed = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Section(s) => {
                    out.push_str(s.begin);
                    let start = out.len();
                    match bodies.get(&s.name) {
                        Some(lines) => {
                            let eol = if s.begin.ends_with("\r\n") {
                                "\r\n"
                            } else {
                                "\n"
                            };
                            for line in lines {
                                out.push_str(line);
                                out.push_str(eol);
                            }
                        }
                        None => out.push_str(s.body),
                    }
                    if out[start..] != *s.body {
                        changed.push(s.name.clone());
                    }
                    out.push_str(s.end);
                }
            }
        }
        (out, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(n, l)| (n.to_string(), l.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    const FILE: &str = "FROM a AS build\r\nRUN make\r\n\r\n# === PKGS (managed by bkt) ===\r\nRUN old\r\n# === END PKGS ===\r\n\r\nFROM b\r\n# keep me\r\nCOPY --from=build /x /x";

    #[test]
    fn replaces_only_the_body_and_keeps_crlf_and_missing_final_newline() {
        let doc = parse(FILE).unwrap();
        assert_eq!(doc.sections(), vec![("PKGS", 4)]);
        assert_eq!(doc.render(&BTreeMap::new()), (FILE.to_string(), vec![]));
        let (out, changed) =
            doc.render(&bodies(&[("PKGS", &["RUN dnf install -y \\", "    htop"])]));
        assert_eq!(changed, ["PKGS"]);
        assert_eq!(
            doc.render(&bodies(&[("PKGS", &["RUN old"])])).1,
            Vec::<String>::new(),
            "same body, no change"
        );
        assert_eq!(
            out,
            FILE.replace("RUN old\r\n", "RUN dnf install -y \\\r\n    htop\r\n")
        );
    }

    #[test]
    fn marker_like_lines_outside_bkt_sections_are_text() {
        let text = "FROM x\n# === RPM VERSION SNAPSHOT ===\nRUN rpm -qa\n# === END RPM VERSION SNAPSHOT ===\n# === END A ===\n# === A (managed by bkt) ===\nRUN old\n# === END A ===\n";
        let doc = parse(text).unwrap();
        assert_eq!(doc.sections(), vec![("A", 6)]);
        assert_eq!(doc.render(&BTreeMap::new()).0, text);
        let (out, _) = doc.render(&bodies(&[("A", &["RUN new"])]));
        assert_eq!(out, text.replace("RUN old", "RUN new"));
    }

    #[test]
    fn structural_errors_name_the_line() {
        let unclosed = "FROM x\n# === A (managed by bkt) ===\nRUN a\n";
        assert_eq!(parse(unclosed).unwrap_err().line, 2);
        let nested = "# === A (managed by bkt) ===\n# === B (managed by bkt) ===\n# === END B ===\n# === END A ===\n";
        assert_eq!(parse(nested).unwrap_err().line, 2);
        let dup = "# === A (managed by bkt) ===\n# === END A ===\n\n# === A (managed by bkt) ===\n# === END A ===\n";
        let e = parse(dup).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("first on line 1"));
        let crossed_inside = "# === A (managed by bkt) ===\n# === END RPM ===\n";
        assert_eq!(parse(crossed_inside).unwrap_err().line, 2);
        let crossed = "# === A (managed by bkt) ===\n# === END B ===\n";
        assert_eq!(parse(crossed).unwrap_err().line, 2);
    }

    /// A tiny deterministic generator: enough to build many odd files without a dependency.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n
        }
    }

    #[test]
    fn property_sync_is_idempotent_and_keeps_outside_bytes() {
        let fillers = [
            "",
            "RUN x",
            "# comment",
            "  ",
            "FROM y AS z",
            "# === not a marker",
            "# === END NOT OURS ===",
            "# === OTHER ===",
            "\t\\",
            "RUN ü",
        ];
        let mut rng = Lcg(7);
        for case in 0..500 {
            let eol = if rng.next(2) == 0 { "\n" } else { "\r\n" };
            let mut text = String::new();
            let mut outside = Vec::new();
            let sections = rng.next(4);
            for s in 0..=sections {
                let mut chunk = String::new();
                for _ in 0..rng.next(4) {
                    chunk.push_str(fillers[rng.next(fillers.len())]);
                    chunk.push_str(eol);
                }
                outside.push(chunk.clone());
                text.push_str(&chunk);
                if s < sections {
                    text.push_str(&format!("{}{eol}", begin_marker(&format!("S{s}"))));
                    for _ in 0..rng.next(3) {
                        text.push_str(&format!("RUN old {s}{eol}"));
                    }
                    text.push_str(&end_marker(&format!("S{s}")));
                    text.push_str(eol);
                }
            }
            if rng.next(2) == 0
                && text.ends_with('\n')
                && !outside.last().is_some_and(|o| o.is_empty())
            {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            let doc = parse(&text).unwrap_or_else(|e| panic!("case {case}: {e}\n{text:?}"));
            let mut new = BTreeMap::new();
            for s in 0..sections {
                let lines: Vec<String> = (0..rng.next(3))
                    .map(|i| format!("RUN new {s} {i}"))
                    .collect();
                new.insert(format!("S{s}"), lines);
            }
            let once = doc.render(&new).0;
            let twice = parse(&once).unwrap().render(&new).0;
            assert_eq!(once, twice, "case {case}: not idempotent");
            let mut rest = once.as_str();
            for chunk in &outside {
                let chunk = chunk.trim_end_matches(['\r', '\n']);
                let at = rest
                    .find(chunk)
                    .unwrap_or_else(|| panic!("case {case}: lost {chunk:?}"));
                rest = &rest[at + chunk.len()..];
            }
            let unchanged = doc.render(&BTreeMap::new()).0;
            assert_eq!(
                unchanged, text,
                "case {case}: rendering nothing changed bytes"
            );
        }
    }
}
