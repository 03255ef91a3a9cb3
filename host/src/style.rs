//! Colour on a terminal only, never with NO_COLOR.

use std::io::IsTerminal;

#[derive(Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            on: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn red(self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// `s` with every control character made visible, for text a plugin supplied: ids, summaries,
/// messages, log lines, crash output. A plugin must not be able to move the cursor, erase
/// lines or start a new line on the user's terminal (and so paint over the plan above a
/// confirmation prompt), so C0 and C1 controls, DEL, and the bidirectional overrides that
/// reorder what is shown all become escapes: `\e`, `\r`, `\n`, `\t`, `\x07`, `\u{9b}`.
/// Backslashes stay as they are: this is for reading, not for parsing back.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
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
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

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
}
