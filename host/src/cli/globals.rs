//! Global options after a subsystem command.

/// Global options written after a subsystem command (`bkt dnf install htop --root /mnt`) are
/// moved before it: clap hands an external subcommand its words untouched.
pub fn hoist(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const WITH_VALUE: &[&str] = &[
        "--repo",
        "--root",
        "--format",
        "--plugin-timeout",
        "--plugin-memory",
        "--elevator",
    ];
    const FLAGS: &[&str] = &["-v", "-vv", "-vvv", "--verbose"];
    const BUILTIN: &[&str] = &[
        "status",
        "apply",
        "capture",
        "containerfile",
        "plugin",
        "completions",
        "help",
    ];
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The first word that is neither an option nor an option's value.
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        if WITH_VALUE.contains(&w.as_str()) {
            i += 2;
        } else if w.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if i >= words.len() || BUILTIN.contains(&words[i].as_str()) {
        return args;
    }
    let (mut head, mut rest): (Vec<std::ffi::OsString>, Vec<std::ffi::OsString>) =
        (args[..i].to_vec(), Vec::new());
    let mut j = i;
    let mut literal = false;
    while j < words.len() {
        let w = words[j].as_str();
        if !literal && w == "--" {
            literal = true;
        }
        let name = w.split('=').next().unwrap_or(w);
        if !literal && WITH_VALUE.contains(&name) {
            head.push(args[j].clone());
            if !w.contains('=') && j + 1 < words.len() {
                head.push(args[j + 1].clone());
                j += 1;
            }
        } else if !literal && FLAGS.contains(&w) {
            head.push(args[j].clone());
        } else {
            rest.push(args[j].clone());
        }
        j += 1;
    }
    head.extend(rest);
    head
}

#[cfg(test)]
mod tests {
    fn hoist(s: &str) -> String {
        let args = s.split(' ').map(std::ffi::OsString::from).collect();
        super::hoist(args)
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
}
