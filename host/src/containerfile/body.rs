//! What a plugin may render into a section: lines that a Containerfile parser reads as
//! ending inside the section. Everything between a section's markers is the plugin's, and
//! nothing after its END marker is: an instruction continued with `\` (the parser skips blank
//! and comment lines while continuing, the END marker among them) or a heredoc left open
//! would make the user's next line part of the plugin's `RUN`.

crate::os::reason!(
    /// Why a section's lines cannot go into the Containerfile.
    Refused
);

/// Checks a section's lines as the parser reads them.
pub fn check(lines: &[String]) -> Result<(), Refused> {
    let mut continuing = false;
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = |what: &str| Refused(format!("line {} of the section {what}", i + 1));
        // Every marker resembles one, so this is `is_plain_line` and more.
        if line.contains(['\n', '\r']) || resembles_marker(line) {
            return Err(at("is not one plain line, or looks like a bkt marker"));
        }
        if let Some((word, strip_tabs)) = heredocs.first() {
            let body = if *strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line.as_str()
            };
            if body == word {
                heredocs.remove(0);
            }
            continue;
        }
        let trimmed = line.trim();
        if is_directive(trimmed) {
            return Err(at("is a parser directive"));
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            // Skipped by the parser, also in the middle of a continued instruction.
            continue;
        }
        heredocs.extend(heredoc_words(trimmed));
        continuing = trimmed.ends_with('\\');
    }
    if continuing {
        return Err(Refused(
            "its last instruction ends in `\\`, which would continue past the END marker into the \
             next line of the file"
                .into(),
        ));
    }
    if let Some((word, _)) = heredocs.first() {
        return Err(Refused(format!(
            "its heredoc <<{word} is not closed within the section"
        )));
    }
    Ok(())
}

/// A line a person would take for one of bkt's markers (`# === … ===`), whatever its spacing.
fn resembles_marker(line: &str) -> bool {
    // Checked on every line of every section, each time the Containerfile is checked: the
    // first four characters that are not whitespace, without copying the line.
    line.chars()
        .filter(|c| !c.is_whitespace())
        .take(4)
        .eq("#===".chars())
}

/// `# syntax=…`, `# escape=…`, `# check=…`: a directive changes how the whole file is read.
fn is_directive(trimmed: &str) -> bool {
    let Some(rest) = trimmed.strip_prefix('#') else {
        return false;
    };
    let Some((key, _)) = rest.split_once('=') else {
        return false;
    };
    let key = key.trim();
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic())
}

/// The heredocs an instruction line opens, in order: `<<EOF`, `<<-EOF` (tabs stripped from
/// its lines), `<<"EOF"`, `<<'EOF'`. `<<<` (a here-string) opens none.
fn heredoc_words(line: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = line;
    // A byte scan: a substring searcher's setup costs more than these short lines.
    while let Some(i) = rest.as_bytes().windows(2).position(|pair| pair == b"<<") {
        let after = &rest[i + 2..];
        if after.starts_with('<') {
            rest = after.trim_start_matches('<');
            continue;
        }
        let (strip_tabs, after) = match after.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, after),
        };
        let unquoted = after.trim_start_matches(['"', '\'']);
        let word: String = unquoted
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            out.push((word.clone(), strip_tabs));
        }
        rest = &unquoted[word.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn continued_instructions_must_end_inside_the_section() {
        let ok = lines(&["RUN dnf install -y \\", "    htop \\", "    vim", ""]);
        assert_eq!(check(&ok), Ok(()));
        for bad in [
            &["RUN echo x \\"][..],
            &["RUN echo x \\", ""],
            &["RUN echo x \\", "# c"],
            &["RUN echo x \\  "],
        ] {
            assert!(check(&lines(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn heredocs_must_close_inside_the_section() {
        assert_eq!(
            check(&lines(&["RUN <<EOF", "echo x", "EOF"])),
            Ok(()),
            "a closed heredoc"
        );
        assert_eq!(
            check(&lines(&["RUN <<-\"END\"", "\techo x", "\tEND"])),
            Ok(())
        );
        assert!(check(&lines(&["RUN <<EOF", "echo x"])).is_err());
        assert!(check(&lines(&["RUN cat <<A <<B", "a", "A", "b"])).is_err());
        assert_eq!(check(&lines(&["RUN cat <<<word"])), Ok(()));
    }

    #[test]
    fn no_directives_and_nothing_that_looks_like_a_marker() {
        assert!(check(&lines(&["# syntax=docker/dockerfile:1"])).is_err());
        assert!(check(&lines(&["#escape=`"])).is_err());
        assert!(check(&lines(&["#  ===  END SYSTEM_PACKAGES ==="])).is_err());
        assert!(check(&lines(&["RUN x\n# === END X ==="])).is_err());
        assert_eq!(check(&lines(&["# a comment = fine? no: spaces"])), Ok(()));
    }
}
