//! Checking what a plugin asks for against what it declared. Pure, so it is tested alone.

use super::bindings::{Capabilities, Effect};
use std::path::{Component, Path};

/// A query is allowed when its argv starts with one of the declared prefixes, element by
/// element (`["flatpak", "list"]` allows `flatpak list --app`, never `flatpak uninstall`).
pub fn query_allowed(caps: &Capabilities, argv: &[String]) -> bool {
    !argv.is_empty()
        && caps.queries.iter().any(|prefix| {
            !prefix.is_empty() && argv.len() >= prefix.len() && argv[..prefix.len()] == prefix[..]
        })
}

/// Why an effect is refused, or `None` when the plugin declared it.
pub fn effect_refusal(caps: &Capabilities, effect: &Effect) -> Option<String> {
    match effect {
        Effect::Run(run) => {
            if caps.programs.contains(&run.program) {
                None
            } else {
                Some(format!(
                    "runs `{}`, which is not among its declared programs ({})",
                    run.program,
                    list(&caps.programs)
                ))
            }
        }
        Effect::WriteFile(w) => path_refusal(caps, &w.path, "writes"),
        Effect::RemoveFile(path) => path_refusal(caps, path, "removes"),
    }
}

fn path_refusal(caps: &Capabilities, path: &str, verb: &str) -> Option<String> {
    if !is_clean_absolute(path) {
        return Some(format!(
            "{verb} {path:?}: paths must be absolute, without `.` or `..`"
        ));
    }
    let allowed = caps
        .writes
        .iter()
        .any(|prefix| is_clean_absolute(prefix) && Path::new(path).starts_with(prefix));
    if allowed {
        None
    } else {
        Some(format!(
            "{verb} {path}, outside its declared write paths ({})",
            list(&caps.writes)
        ))
    }
}

/// Absolute and free of `.`/`..`, so joining it under a root cannot climb out.
pub fn is_clean_absolute(path: &str) -> bool {
    let p = Path::new(path);
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::bindings::{Run, Scope};
    use super::*;

    fn caps() -> Capabilities {
        Capabilities {
            queries: vec![vec!["flatpak".into(), "list".into()]],
            programs: vec!["flatpak".into()],
            reads: vec![],
            writes: vec!["/etc/bkt/".into()],
        }
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn queries_match_whole_words() {
        assert!(query_allowed(&caps(), &argv("flatpak list --app")));
        assert!(!query_allowed(&caps(), &argv("flatpak uninstall x")));
        assert!(!query_allowed(&caps(), &argv("flatpak")));
        assert!(!query_allowed(&caps(), &argv("flatpak listx")));
        assert!(!query_allowed(&caps(), &[]));
    }

    #[test]
    fn effects_need_declared_programs_and_paths() {
        let run = |p: &str| {
            Effect::Run(Run {
                program: p.into(),
                args: vec![],
                scope: Scope::System,
                batch: false,
            })
        };
        assert!(effect_refusal(&caps(), &run("flatpak")).is_none());
        assert!(effect_refusal(&caps(), &run("rm")).is_some());
        assert!(effect_refusal(&caps(), &Effect::RemoveFile("/etc/bkt/x".into())).is_none());
        assert!(effect_refusal(&caps(), &Effect::RemoveFile("/etc/bktx".into())).is_some());
        assert!(
            effect_refusal(&caps(), &Effect::RemoveFile("/etc/bkt/../passwd".into())).is_some()
        );
        assert!(effect_refusal(&caps(), &Effect::RemoveFile("etc/bkt/x".into())).is_some());
    }
}
