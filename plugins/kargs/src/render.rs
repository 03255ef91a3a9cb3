//! The KERNEL_ARGUMENTS section: a file in bootc's kargs.d, exactly in bootc's format
//! (`kargs = [...]`, optional `match-architectures = [...]`, kebab-case, nothing else),
//! written by one RUN line. bootc applies the difference on upgrade; `rpm-ostree kargs` has
//! no place in an image build.

use crate::manifest::Manifest;

/// Where the image keeps bkt's kernel arguments.
pub const FILE: &str = "/usr/lib/bootc/kargs.d/10-bkt.toml";

/// A TOML basic string. The manifest admits no quotes, backslashes or control characters,
/// but the escaping keeps the file valid whatever it holds.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", items.join(", "))
}

/// The TOML file's lines.
pub fn toml_lines(m: &Manifest) -> Vec<String> {
    let mut lines = vec![format!("kargs = {}", toml_array(&m.kargs))];
    if !m.match_architectures.is_empty() {
        let mut arches = m.match_architectures.clone();
        arches.sort();
        arches.dedup();
        lines.push(format!("match-architectures = {}", toml_array(&arches)));
    }
    lines
}

/// The section's lines: a comment when there is nothing to set, else one RUN that writes the
/// file with printf, one single-quoted line per TOML line (the manifest admits no `'`).
pub fn section(m: &Manifest) -> Vec<String> {
    if m.kargs.is_empty() {
        return vec!["# No kernel arguments (`bkt kargs add ARG` adds one)".into()];
    }
    let dir = FILE.rsplit_once('/').map_or("/", |(d, _)| d);
    let mut lines = vec![
        format!("RUN mkdir -p {dir} && \\"),
        "    printf '%s\\n' \\".to_string(),
    ];
    for line in toml_lines(m) {
        lines.push(format!("        '{line}' \\"));
    }
    lines.push(format!("        > {FILE}"));
    lines
}

/// The kernel arguments of a kargs.d file in bootc's format: the basic strings of the
/// `kargs` array (escapes `\"` and `\\` read back).
pub fn parse_kargs_file(text: &str) -> Vec<String> {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kargs") && l.contains('='))
    else {
        return vec![];
    };
    let Some((_, array)) = line.split_once('=') else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut chars = array.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut item = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => item.extend(chars.next()),
                c => item.push(c),
            }
        }
        out.push(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// bootc's kargs.d schema: unknown fields are an error.
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct KargsFile {
        kargs: Vec<String>,
        match_architectures: Option<Vec<String>>,
    }

    /// What the RUN line writes: printf prints each single-quoted word on its own line.
    fn written(section: &[String]) -> String {
        let mut text = String::new();
        for line in section {
            let Some(start) = line.find('\'') else {
                continue;
            };
            let rest = &line[start + 1..];
            let Some(end) = rest.rfind('\'') else {
                continue;
            };
            if &rest[..end] == "%s\\n" {
                continue;
            }
            text.push_str(&rest[..end]);
            text.push('\n');
        }
        text
    }

    #[test]
    fn the_file_is_exactly_bootc_s_format_and_round_trips() {
        let m = Manifest {
            kargs: vec![
                "quiet".into(),
                "rd.luks.options=discard".into(),
                "console=ttyS0,115200n8".into(),
            ],
            match_architectures: vec!["x86_64".into(), "aarch64".into()],
            schema: None,
        };
        let lines = section(&m);
        assert_eq!(lines[0], "RUN mkdir -p /usr/lib/bootc/kargs.d && \\");
        assert_eq!(
            lines.last().unwrap(),
            "        > /usr/lib/bootc/kargs.d/10-bkt.toml"
        );
        let text = written(&lines);
        let parsed: KargsFile = toml::from_str(&text).expect("valid TOML in bootc's schema");
        assert_eq!(parsed.kargs, m.kargs);
        assert_eq!(
            parsed.match_architectures,
            Some(vec!["aarch64".to_string(), "x86_64".to_string()])
        );
        assert_eq!(parse_kargs_file(&text), m.kargs);
        let plain = Manifest {
            kargs: vec!["quiet".into()],
            match_architectures: vec![],
            schema: None,
        };
        let parsed: KargsFile = toml::from_str(&written(&section(&plain))).unwrap();
        assert_eq!(parsed.match_architectures, None);
    }

    #[test]
    fn escaping_keeps_any_text_valid_toml() {
        let odd = vec!["a\"b".to_string(), "c\\d".to_string(), "e\u{7}".to_string()];
        let text = format!("kargs = {}\n", toml_array(&odd));
        let parsed: KargsFile = toml::from_str(&text).unwrap();
        assert_eq!(parsed.kargs, odd);
    }
}
