//! `manifests/kargs.json`: `{"$schema"?, "kargs": [...], "match-architectures": [...]?}`, in
//! the order written (the kernel reads arguments left to right), without duplicates. (The
//! original bkt kept kernel arguments in its own Containerfile section; this file is new.)

use bkt_sdk::{Error, invalid, manifest};
use serde::{Deserialize, Serialize};

/// Kernel arguments the image sets through bootc's `/usr/lib/bootc/kargs.d/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema of this file (kept as written).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Arguments in the order the kernel reads them (`mitigations=auto`, `quiet`).
    #[serde(default)]
    pub kargs: Vec<String>,
    /// Only on these architectures (`x86_64`, `aarch64`); every one when left out.
    #[serde(
        rename = "match-architectures",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_architectures: Vec<String>,
}

/// A kernel argument that survives the TOML file, the shell line that writes it and the
/// kernel command line unchanged: no whitespace, quotes, backslashes or control characters,
/// and not starting with `-`.
pub fn check_karg(arg: &str) -> Result<(), String> {
    if arg.is_empty() {
        return Err("a kernel argument must not be empty".into());
    }
    if arg.starts_with('-') {
        return Err(format!("{arg:?} starts with `-`"));
    }
    if let Some(c) = arg
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'\\`$".contains(*c))
    {
        return Err(format!(
            "{arg:?} contains {c:?}; kernel arguments here may not hold whitespace, quotes, `\\`, `` ` `` or `$`"
        ));
    }
    Ok(())
}

/// An architecture as bootc names them (`x86_64`, `aarch64`, `s390x`, `ppc64le`).
pub fn check_arch(arch: &str) -> Result<(), String> {
    if !arch.is_empty() && arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "{arch:?} is not an architecture name such as x86_64 or aarch64"
        ))
    }
}

pub fn parse(text: Option<&str>) -> Result<Manifest, Error> {
    let Some(text) = text else {
        return Ok(Manifest {
            schema: Some(manifest::schema_ref(crate::MANIFEST)),
            ..Manifest::default()
        });
    };
    let m: Manifest = manifest::parse(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, k) in m.kargs.iter().enumerate() {
        check_karg(k).map_err(|e| invalid(format!("kargs[{i}]"), e))?;
        if !seen.insert(k) {
            return Err(invalid(
                format!("kargs[{i}]"),
                format!("{k} is listed twice"),
            ));
        }
    }
    for (i, a) in m.match_architectures.iter().enumerate() {
        check_arch(a).map_err(|e| invalid(format!("match-architectures[{i}]"), e))?;
    }
    Ok(m)
}

impl Manifest {
    /// The manifest text: `old` edited where this differs from it.
    pub fn render(&self, old: Option<&str>) -> String {
        manifest::write(old, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap();
        bkt_sdk::schema_file::check(crate::MANIFEST, schema).unwrap();
    }

    #[test]
    fn arguments_that_would_break_a_file_or_a_command_line_are_refused() {
        for good in [
            "quiet",
            "rd.luks.options=discard",
            "console=ttyS0,115200n8",
            "systemd.unit=multi-user.target",
        ] {
            assert!(check_karg(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a b", "a\"b", "a'b", "a\\b", "-x", "a\nb", "$(id)", "a`b`",
        ] {
            assert!(check_karg(bad).is_err(), "{bad:?}");
        }
        match parse(Some(r#"{"kargs": ["quiet", "quiet"]}"#)) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "kargs[1]"),
            other => panic!("{other:?}"),
        }
        match parse(Some(r#"{"kargs": [], "match-architectures": ["x86 64"]}"#)) {
            Err(Error::InvalidManifest(e)) => assert_eq!(e.field, "match-architectures[0]"),
            other => panic!("{other:?}"),
        }
        match parse(Some(r#"{"kargs": [], "match_architectures": []}"#)) {
            Err(Error::InvalidManifest(e)) => assert!(e.message.contains("unknown field")),
            other => panic!("{other:?}"),
        }
    }
}
