//! Colour where it helps and is wanted: `--color`, then NO_COLOR, CLICOLOR_FORCE and TERM=dumb
//! (the conventions other command-line tools follow), then whether the stream is a terminal.

use std::io::IsTerminal;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy)]
pub struct Style {
    on: bool,
}

impl ColorChoice {
    /// Whether a stream that is (or is not) a terminal gets colour.
    pub fn colours(self, is_terminal: bool) -> bool {
        self.decide(is_terminal, |v| std::env::var_os(v))
    }

    fn decide(self, is_terminal: bool, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
        let set = |v: &str| env(v).is_some_and(|x| !x.is_empty() && x != "0");
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if env("NO_COLOR").is_some_and(|x| !x.is_empty()) => false,
            ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
            ColorChoice::Auto if env("TERM").is_some_and(|t| t == "dumb") => false,
            ColorChoice::Auto => is_terminal,
        }
    }
}

impl Style {
    pub fn detect(choice: ColorChoice) -> Style {
        Style {
            on: choice.colours(std::io::stdout().is_terminal()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_the_environment_then_the_terminal() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let auto = ColorChoice::Auto;
        assert!(auto.decide(true, env(&[])));
        assert!(!auto.decide(false, env(&[])));
        assert!(!auto.decide(true, env(&[("NO_COLOR", "1")])));
        assert!(!auto.decide(true, env(&[("TERM", "dumb")])));
        assert!(auto.decide(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!auto.decide(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(ColorChoice::Always.decide(false, env(&[("NO_COLOR", "1")])));
        assert!(!ColorChoice::Never.decide(true, env(&[("CLICOLOR_FORCE", "1")])));
    }
}
