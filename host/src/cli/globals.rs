//! Global options after a subsystem command.

/// What the command line declares: global options with and without values, and the
/// built-in subcommands. Read from clap's definition so the two cannot drift apart.
struct Grammar {
    with_value: Vec<String>,
    flags: Vec<String>,
    short_flags: Vec<char>,
    builtin: Vec<String>,
}

impl Grammar {
    fn of(cmd: &clap::Command) -> Grammar {
        let mut g = Grammar {
            with_value: vec![],
            flags: vec![],
            short_flags: vec![],
            builtin: vec!["help".into()],
        };
        for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
            let names = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .into_iter()
                .chain(arg.get_short().map(|c| format!("-{c}")));
            if arg.get_action().takes_values() {
                g.with_value.extend(names);
            } else {
                g.flags.extend(names);
                g.short_flags.extend(arg.get_short());
            }
        }
        g.builtin
            .extend(cmd.get_subcommands().map(|c| c.get_name().to_string()));
        g
    }

    fn takes_value(&self, word: &str) -> bool {
        self.with_value.iter().any(|o| o == word)
    }

    /// `--verbose`, `-v`, `-vv`.
    fn is_flag(&self, word: &str) -> bool {
        self.flags.iter().any(|f| f == word)
            || word.strip_prefix('-').is_some_and(|cluster| {
                !cluster.is_empty()
                    && !cluster.starts_with('-')
                    && cluster.chars().all(|c| self.short_flags.contains(&c))
            })
    }
}

/// Global options written after a subsystem command (`bkt dnf install htop --root /mnt`) are
/// moved before it: clap hands an external subcommand its words untouched.
pub fn hoist(cmd: &clap::Command, args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let g = Grammar::of(cmd);
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The first word that is neither an option nor an option's value.
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        if g.takes_value(w) {
            i += 2;
        } else if w.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if i >= words.len() || g.builtin.contains(&words[i]) {
        return args;
    }
    let (mut head, mut rest) = (args[..i].to_vec(), Vec::new());
    let mut j = i;
    let mut literal = false;
    while j < words.len() {
        let w = words[j].as_str();
        if !literal && w == "--" {
            literal = true;
        }
        let name = w.split('=').next().unwrap_or(w);
        if !literal && g.takes_value(name) {
            head.push(args[j].clone());
            if !w.contains('=') && j + 1 < words.len() {
                head.push(args[j + 1].clone());
                j += 1;
            }
        } else if !literal && g.is_flag(w) {
            head.push(args[j].clone());
        } else {
            rest.push(args[j].clone());
        }
        j += 1;
    }
    head.extend(rest);
    head
}

/// `bkt help dnf` reads as `bkt dnf --help`: clap's own `help` knows only the built-in
/// commands.
pub fn help_for_plugins(
    cmd: &clap::Command,
    args: Vec<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let g = Grammar::of(cmd);
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(i) = words
        .iter()
        .skip(1)
        .position(|w| !w.starts_with('-'))
        .map(|i| i + 1)
    else {
        return args;
    };
    match words.get(i + 1) {
        Some(topic) if words[i] == "help" && !g.builtin.contains(topic) => {
            let mut out = args[..i].to_vec();
            out.push(args[i + 1].clone());
            out.push("--help".into());
            out
        }
        _ => args,
    }
}

/// The built-in subcommands, for messages about unknown ones.
pub fn builtin_commands(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    fn hoist(s: &str) -> String {
        let args = s.split(' ').map(std::ffi::OsString::from).collect();
        super::hoist(&<crate::cli::Cli as clap::CommandFactory>::command(), args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn globals_after_a_subsystem_command_move_before_it() {
        assert_eq!(
            hoist("bkt dnf install htop --root /mnt -v"),
            "bkt --root /mnt -v dnf install htop"
        );
        assert_eq!(
            hoist("bkt --format json dnf list --repo=/r"),
            "bkt --format json --repo=/r dnf list"
        );
        assert_eq!(
            hoist("bkt dnf install -- --root"),
            "bkt dnf install -- --root"
        );
        assert_eq!(hoist("bkt status --root /mnt"), "bkt status --root /mnt");
    }

    #[test]
    fn help_names_plugin_commands_too() {
        let help = |s: &str| {
            let args = s.split(' ').map(std::ffi::OsString::from).collect();
            super::help_for_plugins(&<crate::cli::Cli as clap::CommandFactory>::command(), args)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(help("bkt help dnf"), "bkt dnf --help");
        assert_eq!(help("bkt help status"), "bkt help status");
        assert_eq!(help("bkt status"), "bkt status");
    }

    #[test]
    fn plugins_cannot_take_bkt_s_own_commands() {
        let cmd = <crate::cli::Cli as clap::CommandFactory>::command();
        for c in cmd.get_subcommands() {
            assert!(
                crate::plugins::claims::RESERVED_COMMANDS.contains(&c.get_name()),
                "{} is not reserved",
                c.get_name()
            );
        }
    }
}
