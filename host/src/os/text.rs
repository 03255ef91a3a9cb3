//! Text for people: control characters made visible, words quoted for display, a failed
//! program's own words, and counts that read well.

use std::borrow::Cow;

/// `s` with every control character made visible, for text a plugin supplied: ids, summaries,
/// messages, log lines, crash output. A plugin must not be able to move the cursor, erase
/// lines or start a new line on the user's terminal (and so paint over the plan above a
/// confirmation prompt), so C0 and C1 controls, DEL, and the bidirectional overrides that
/// reorder what is shown all become escapes: `\e`, `\r`, `\n`, `\t`, `\x07`, `\u{9b}`.
/// Backslashes stay as they are: this is for reading, not for parsing back.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What a failed program said, in its own words: the lines of stderr (or stdout, when stderr
/// is empty) that carry words, not a caret or a blank pointing at a column, joined on one
/// line and kept short.
pub fn failure_detail(stderr: &[u8], stdout: &[u8]) -> String {
    let pick = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(str::trim)
            .filter(|l| l.chars().any(char::is_alphanumeric))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let mut lines = pick(stderr);
    if lines.is_empty() {
        lines = pick(stdout);
    }
    let mut text = lines.join(" / ");
    if text.chars().count() > 600 {
        text = text.chars().take(600).collect::<String>() + " …";
    }
    text
}

/// Shell-style quoting for display only (nothing here is run through a shell); control
/// characters are shown as escapes.
pub fn quote(word: &str) -> String {
    let shown = printable(word);
    let word = shown.as_ref();
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        word.to_string()
    } else if word.contains('\'') && !word.contains(['"', '$', '`', '\\', '!']) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `1 change`, `2 changes`.
/// `it` for one, `them` for more: the pronoun that refers back to a count.
pub fn them(n: usize) -> &'static str {
    if n == 1 { "it" } else { "them" }
}

pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `takes effect` for one, `take effect` for more.
pub fn takes_effect(n: usize) -> &'static str {
    if n == 1 {
        "takes effect"
    } else {
        "take effect"
    }
}

/// The known word closest to `word`, when it is close enough to be a slip of the keyboard.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    #[test]
    fn slips_of_the_keyboard_are_caught_and_strangers_are_not() {
        let known = ["status", "apply", "capture", "dnf", "gsetting"];
        assert_eq!(did_you_mean("stauts", known), Some("status"));
        assert_eq!(did_you_mean("gsettings", known), Some("gsetting"));
        assert_eq!(did_you_mean("zzz", known), None);
        assert_eq!(
            did_you_mean("instal", ["install", "remove", "list"]),
            Some("install")
        );
    }

    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "gsettings: org.gnome.desktop clock-format 'ünïcode' \\ ok";
        assert!(matches!(printable(s), std::borrow::Cow::Borrowed(_)));
        assert_eq!(printable(s), s);
    }

    #[test]
    fn terminal_controls_become_visible() {
        assert_eq!(
            printable("true\x1b[1A\x1b[2K\r    queries:  echo"),
            "true\\e[1A\\e[2K\\r    queries:  echo"
        );
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(
            printable("bell\x07 del\x7f nul\0"),
            "bell\\x07 del\\x7f nul\\x00"
        );
        // C1 CSI (a one-character escape sequence on some terminals) and a bidi override.
        assert_eq!(printable("x\u{9b}2Ky"), "x\\u{9b}2Ky");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn the_program_s_words_not_its_caret() {
        let gsettings = b"0-1:unknown keyword:\n\n  5x\n  ^\n";
        assert_eq!(failure_detail(gsettings, b""), "0-1:unknown keyword: / 5x");
        let dnf = b"No match for argument: nosuchpkg\nError: Unable to find a match: nosuchpkg\n";
        assert_eq!(
            failure_detail(dnf, b""),
            "No match for argument: nosuchpkg / Error: Unable to find a match: nosuchpkg"
        );
    }

    #[test]
    fn shown_commands_escape_control_characters() {
        assert_eq!(quote("a\x1b[2Kb"), "'a\\e[2Kb'");
        assert_eq!(quote("plain"), "plain");
    }
}
