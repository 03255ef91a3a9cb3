//! One style for what bkt says went wrong: `error: what went wrong`, then `hint: what to
//! do` when the message says what to do, clap's own errors included.

/// Words a hint starts with: what the person is told to do.
const HINT_STARTS: &[&str] = &[
    "run ",
    "use ",
    "pass ",
    "add ",
    "point ",
    "install ",
    "set ",
    "take ",
    "clone ",
    "commit ",
    "edit ",
    "choose ",
    "see ",
    "try ",
    "did you mean ",
    "`bkt",
    "`git",
    "`sudo",
    "`gh",
];

/// A message split into what went wrong and, when its last clause tells what to do, that
/// clause: `X; run Y` → (`X`, `run Y`).
pub fn split_hint(message: &str) -> (&str, Option<&str>) {
    for sep in ["; ", ": "] {
        let Some(at) = message.rfind(sep) else {
            continue;
        };
        let (what, tail) = (&message[..at], &message[at + sep.len()..]);
        // Only a whole clause: never inside parentheses or a quoted command.
        let whole = what.matches('(').count() == what.matches(')').count()
            && what.matches('`').count() % 2 == 0;
        if whole && !tail.contains('\n') && HINT_STARTS.iter().any(|h| tail.starts_with(h)) {
            return (what, Some(tail));
        }
    }
    (message, None)
}

/// The lines for an error: `error: …` and, when there is one, `hint: …`. The operating
/// system's error numbers (`(os error 2)`) are left out: the words before them say it.
pub fn error_lines(message: &str) -> String {
    let message = without_os_error_numbers(message);
    match split_hint(&message) {
        (what, Some(hint)) => format!("error: {what}\nhint: {hint}"),
        (what, None) => format!("error: {what}"),
    }
}

fn without_os_error_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " (os error ".len()..];
        match after.find(')') {
            Some(close) if after[..close].chars().all(|c| c.is_ascii_digit()) => {
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(" (os error ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Clap's error in bkt's style: its `tip:` lines become `hint:`; the usage line and the
/// pointer to `--help` stay.
pub fn clap_error(rendered: &str) -> String {
    rendered
        .lines()
        .map(|l| match l.trim_start().strip_prefix("tip: ") {
            Some(tip) => format!("hint: {tip}"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closing_instruction_is_the_hint() {
        assert_eq!(
            split_hint("no repository found; pass --repo DIR"),
            ("no repository found", Some("pass --repo DIR"))
        );
        assert_eq!(
            split_hint("x is the read-only copy inside the image: `bkt init --clone U` clones it"),
            (
                "x is the read-only copy inside the image",
                Some("`bkt init --clone U` clones it")
            )
        );
        assert_eq!(
            split_hint("manifests/a.json:2:3: kargs: bad"),
            ("manifests/a.json:2:3: kargs: bad", None)
        );
        assert_eq!(
            error_lines("git is not installed here"),
            "error: git is not installed here"
        );
        assert_eq!(
            error_lines("reading x: No such file or directory (os error 2)"),
            "error: reading x: No such file or directory"
        );
    }

    #[test]
    fn clap_tips_become_hints() {
        let rendered = "error: unexpected argument '-x' found\n\n  tip: to pass '-x' as a value, use '-- -x'\n\nUsage: bkt status\n";
        assert_eq!(
            clap_error(rendered),
            "error: unexpected argument '-x' found\n\nhint: to pass '-x' as a value, use '-- -x'\n\nUsage: bkt status"
        );
    }
}
