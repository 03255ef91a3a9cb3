//! The machine's unit states, from one `systemctl list-unit-files` per scope.
//!
//! One call reports every unit file with its state and its vendor preset, which `is-enabled`
//! cannot: `is-enabled A B C` prints nothing at all for a unit that does not exist (so its
//! lines no longer line up with the names asked for), gives no preset (needed to tell a state
//! somebody chose from the default), and cannot find units enabled by hand that the manifest
//! does not name. `list-unit-files` reads the unit files itself with `--root`, and needs no
//! running service manager.

use bkt_sdk::{Context, Error, Output};
use std::collections::BTreeMap;

/// A unit as `list-unit-files` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// `enabled`, `disabled`, `masked`, `static`, `indirect`, `alias`, `generated` ...
    pub state: String,
    /// The vendor preset (`enabled` or `disabled`), when the unit has one.
    pub preset: Option<String>,
}

impl Unit {
    /// Whether the state is only what the vendor preset gives: nobody chose it.
    pub fn is_default(&self) -> bool {
        self.preset.as_deref() == Some(self.state.as_str())
    }
}

pub type Units = BTreeMap<String, Unit>;

/// `systemctl` options that point it at the scope and the root: the system, or each user's
/// units (`--user` for the running user, `--global` inside a root, where no user runs).
pub fn scope_args(ctx: &Context, user: bool) -> Vec<String> {
    let mut args = Vec::new();
    if ctx.root != "/" {
        args.push(format!("--root={}", ctx.root));
        if user {
            args.push("--global".into());
        }
    } else if user {
        args.push("--user".into());
    }
    args
}

/// The query for one scope.
pub fn list_argv(ctx: &Context, user: bool) -> Vec<String> {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(scope_args(ctx, user));
    argv.extend(["list-unit-files", "--no-legend", "--no-pager"].map(String::from));
    argv
}

/// `NAME STATE PRESET` rows (PRESET is `-` for units without one).
pub fn parse(stdout: &str) -> Units {
    let mut units = Units::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(state)) = (words.next(), words.next()) else {
            continue;
        };
        let preset = words.next().filter(|p| *p != "-").map(String::from);
        units.insert(
            name.to_string(),
            Unit {
                state: state.to_string(),
                preset,
            },
        );
    }
    units
}

/// One scope's units from its query's output, or why they could not be read.
pub fn read(argv: &[String], out: Result<Output, Error>) -> Result<Units, Error> {
    let out = out?;
    if out.status != 0 {
        return Err(Error::Failed(format!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            out.status,
            out.stderr.trim()
        )));
    }
    Ok(parse(&out.stdout))
}

/// Both scopes, queried at once: the system's (an error here is the plugin's error) and the
/// users' (an error there only leaves the user units unplanned).
pub fn read_both(ctx: &Context) -> (Result<Units, Error>, Result<Units, Error>) {
    let argvs = vec![list_argv(ctx, false), list_argv(ctx, true)];
    let mut results = bkt_sdk::query_all(argvs.clone()).into_iter();
    let mut next = |i: usize| {
        let out = results
            .next()
            .unwrap_or_else(|| Err(Error::Failed("the host answered too few queries".into())));
        read(&argvs[i], out)
    };
    let system = next(0).map(|units| vendor_masks_are_presets(units, SYSTEM_MASKS, ctx));
    let user = next(1).map(|units| vendor_masks_are_presets(units, USER_MASKS, ctx));
    (system, user)
}

/// Where a mask somebody made lives (`systemctl mask` links the unit to /dev/null there): the
/// administrator's folder, and for user units also each user's.
pub const SYSTEM_MASKS: &[&str] = &["/etc/systemd/system"];
pub const USER_MASKS: &[&str] = &["/etc/systemd/user", "~/.config/systemd/user"];

/// A unit the distribution ships masked (Debian's `rcS.service`, a link to /dev/null in
/// /usr/lib) is masked by nobody's choice here: its mask counts as its preset, so it is never
/// an extra to capture. A mask in one of `folders` was made on purpose. Inside a root the
/// running user's home is not the root's: only the root's own folders (which the host opens
/// under the root) count there.
fn vendor_masks_are_presets(mut units: Units, folders: &[&str], ctx: &Context) -> Units {
    let home = ctx.home.trim_end_matches('/');
    let in_root = ctx.root != "/";
    for (name, unit) in units.iter_mut().filter(|(_, u)| u.state == "masked") {
        let made_here = folders.iter().any(|folder| {
            let folder = match folder.strip_prefix('~') {
                Some(_) if in_root => return false,
                Some(rest) => format!("{home}{rest}"),
                None => folder.to_string(),
            };
            std::fs::symlink_metadata(format!("{folder}/{name}")).is_ok()
        });
        if !made_here {
            unit.preset = Some("masked".into());
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_give_state_and_preset() {
        let units = parse(
            "a.service enabled  disabled\nb.service disabled enabled\nc.service masked   disabled\ns.service static   -\n\n",
        );
        assert_eq!(units.len(), 4);
        assert_eq!(units["a.service"].state, "enabled");
        assert!(!units["a.service"].is_default());
        assert!(!units["b.service"].is_default());
        assert_eq!(units["s.service"].preset, None);
        assert!(!units["s.service"].is_default());
        let default = parse("d.service disabled disabled\n");
        assert!(default["d.service"].is_default());
    }

    #[test]
    fn the_root_and_the_scope_lead_the_options() {
        let ctx = |root: &str| Context {
            root: root.into(),
            home: "/home/u".into(),
            data_home: String::new(),
            arch: "x86_64".into(),
            ostree: false,
        };
        assert_eq!(
            list_argv(&ctx("/"), false).join(" "),
            "systemctl list-unit-files --no-legend --no-pager"
        );
        assert_eq!(scope_args(&ctx("/"), true), ["--user"]);
        assert_eq!(scope_args(&ctx("/mnt"), true), ["--root=/mnt", "--global"]);
        assert_eq!(scope_args(&ctx("/mnt"), false), ["--root=/mnt"]);
    }
}
