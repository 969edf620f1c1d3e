//! How the terminal summary looks: colour (on a terminal, unless `NO_COLOR` or
//! `--color never`) and `--quiet`. The words are the same with or without colour, so a
//! log read without escapes says what a terminal shows.

use std::io::IsTerminal;

use crate::vocab::Verdict;

/// `--color`: when to colour the summary on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the `NO_COLOR` environment variable is set (no-color.org).
    #[default]
    Auto,
    /// Always, also into pipes and files.
    Always,
    /// Never.
    Never,
}

/// The terminal summary's presentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours on verdict words.
    pub color: bool,
    /// Only what did not pass, the counts and the verdict: no passing rules, no tables.
    pub quiet: bool,
}

impl Style {
    /// The style for stdout under `choice`.
    pub fn for_stdout(choice: ColorChoice, quiet: bool) -> Style {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Style { color, quiet }
    }

    /// The verdict word (`PASS`, `FAIL`, `UNKNOWN`, `SKIP`), padded to `width`, coloured
    /// when the style says so. Padding comes first so escapes never break alignment.
    pub fn verdict(&self, v: Verdict, width: usize) -> String {
        let word = format!("{:<width$}", word(v));
        if !self.color {
            return word;
        }
        let code = match v {
            Verdict::Pass => "32",
            Verdict::Fail => "1;31",
            Verdict::Unknown => "33",
            Verdict::Skipped => "2",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    }
}

/// The one word each verdict is shown as, in `run`, `check` and every report.
pub fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Unknown => "UNKNOWN",
        Verdict::Skipped => "SKIP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_wraps_the_padded_word_and_plain_is_plain() {
        let plain = Style::default();
        assert_eq!(plain.verdict(Verdict::Fail, 8), "FAIL    ");
        let c = Style {
            color: true,
            quiet: false,
        };
        assert_eq!(c.verdict(Verdict::Fail, 8), "\x1b[1;31mFAIL    \x1b[0m");
        assert_eq!(Style::for_stdout(ColorChoice::Never, false), plain);
        assert!(Style::for_stdout(ColorChoice::Always, false).color);
    }
}
