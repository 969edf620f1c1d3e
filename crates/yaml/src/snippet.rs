//! The few lines around a mistake, numbered, with a caret under its column:
//!
//! ```text
//!    6 |   - name: steady
//!    7 |     think_time: 1s
//!      |     ^ `think_time` belongs one level deeper, under `workload:` (indent it 2 more spaces)
//! ```
//!
//! A file's content is never echoed: nothing is shown for a file that is not a YAML
//! mapping at all (`profile: /etc/passwd` reads as one long string), at most two lines
//! are shown, each cut to [`MAX_WIDTH`] characters around the column, and the values of
//! credential-looking keys (`Authorization:`, `token:`, `password:`…) and a URL's
//! userinfo are masked, since an error is printed before a scenario's secrets are known.

use yaml_rust2::parser::{Event, Parser};

/// The widest source line shown.
pub const MAX_WIDTH: usize = 100;

/// What a masked value is shown as.
const MASK: &str = "***";

/// Words that make a key's value a secret (matched within the key, without case).
const SENSITIVE: &[&str] = &[
    "authorization",
    "cookie",
    "token",
    "secret",
    "password",
    "passwd",
    "api-key",
    "api_key",
    "apikey",
    "credential",
    "private",
];

/// The snippet for a mistake at `line`:`column` (1-based) of `text`, with `hint` after
/// the caret; empty when there is no position or the text is not a YAML mapping.
pub fn render(text: &str, line: Option<usize>, column: Option<usize>, hint: &str) -> Box<str> {
    lines(text, line, column, hint).into()
}

fn lines(text: &str, line: Option<usize>, column: Option<usize>, hint: &str) -> String {
    let Some(line) = line else {
        return String::new();
    };
    let lines: Vec<&str> = text.split('\n').collect();
    if line == 0 || line > lines.len() || !is_a_mapping(text) {
        return String::new();
    }
    let first = if line >= 2 && !lines[line - 2].trim().is_empty() {
        line - 1
    } else {
        line
    };
    let width = line.to_string().len().max(4);
    let column = column.unwrap_or(1).max(1);
    let mut out = String::new();
    let mut caret_at = 0;
    for n in first..=line {
        let (shown, caret) = shown_line(lines[n - 1], column);
        out.push_str(&format!("{n:>width$} | {shown}\n"));
        caret_at = caret;
    }
    out.push_str(&format!("{:width$} | {}^", "", " ".repeat(caret_at)));
    if !hint.is_empty() {
        out.push(' ');
        out.push_str(hint);
    }
    out
}

/// One source line as shown (tabs as `→`, control characters as `?`, secrets masked,
/// cut around `column`), and how many characters precede the caret in it.
fn shown_line(raw: &str, column: usize) -> (String, usize) {
    let masked = mask_secrets(raw.trim_end_matches('\r'));
    let chars: Vec<char> = masked
        .chars()
        .map(|c| match c {
            '\t' => '→',
            c if c.is_control() => '?',
            c => c,
        })
        .collect();
    let col = column - 1;
    if chars.len() <= MAX_WIDTH {
        let caret = col.min(chars.len());
        return (chars.into_iter().collect(), caret);
    }
    let start = col.saturating_sub(MAX_WIDTH / 2).min(chars.len());
    let end = (start + MAX_WIDTH).min(chars.len());
    let mut s = String::new();
    let mut caret = col - start;
    if start > 0 {
        s.push('…');
        caret += 1;
    }
    s.extend(&chars[start..end]);
    if end < chars.len() {
        s.push('…');
    }
    (s, caret)
}

/// Masks what follows a credential-looking word's `:` or `=` on the line, and a URL's
/// userinfo (`https://user:pass@host`). A value that is only a `${VAR}` reference stays:
/// it names a variable, not a secret.
fn mask_secrets(line: &str) -> String {
    let mut out = line.to_string();
    let lower = out.to_ascii_lowercase();
    if let Some(at) = SENSITIVE.iter().filter_map(|w| lower.find(w)).min() {
        if let Some(sep) = out[at..].find([':', '=']).map(|i| at + i + 1) {
            let value = out[sep..].trim();
            let reference = value
                .trim_start_matches("Bearer ")
                .trim_start_matches("Basic ")
                .trim_matches(['"', '\'']);
            let only_a_variable = reference.starts_with("${")
                && reference.ends_with('}')
                && reference.matches("${").count() == 1;
            if !value.is_empty() && !only_a_variable {
                out.truncate(sep);
                out.push(' ');
                out.push_str(MASK);
            }
        }
    }
    if let Some(scheme) = out.find("://") {
        let rest = &out[scheme + 3..];
        let host_end = rest
            .find(['/', '?', '#', ' ', '"', '\''])
            .unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            out = format!("{}{MASK}{}", &out[..scheme + 3], &rest[at..]);
        }
    }
    out
}

/// Whether the text's document starts as a mapping (what every configuration file is).
/// Reads only up to the first node: an error may be rendered many times over one file.
fn is_a_mapping(text: &str) -> bool {
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamStart | Event::DocumentStart | Event::Nothing, _)) => {}
            Ok((Event::MappingStart(..), _)) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_sits_under_the_column_after_the_line_before() {
        let text = "phases:\n  - name: steady\n    think_time: 1s\n";
        let s = lines(text, Some(3), Some(5), "a hint");
        assert_eq!(
            s,
            "   2 |   - name: steady\n   3 |     think_time: 1s\n     |     ^ a hint"
        );
    }

    #[test]
    fn nothing_is_shown_of_a_file_that_is_not_a_mapping() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n";
        assert_eq!(lines(passwd, Some(1), Some(1), ""), "");
        assert_eq!(lines("- a\n- b\n", Some(2), Some(1), ""), "");
        assert_eq!(lines("a: 1\n", None, None, ""), "");
    }

    #[test]
    fn credentials_and_userinfo_are_masked_and_variables_kept() {
        let text = "target:\n  headers: {Authorization: Bearer s3cr3t-value}\n  base_url: http://u:pw-s3cr3t@127.0.0.1:9/\n  token: ${TOKEN}\n";
        let s = lines(text, Some(3), Some(3), "") + &lines(text, Some(4), Some(3), "");
        assert!(!s.contains("s3cr3t"), "{s}");
        assert!(s.contains("Authorization: ***"), "{s}");
        assert!(s.contains("http://***@127.0.0.1"), "{s}");
        assert!(s.contains("token: ${TOKEN}"), "{s}");
    }

    #[test]
    fn a_long_line_is_cut_around_the_column() {
        let text = format!("a: {}X{}\n", "x".repeat(300), "y".repeat(300));
        let s = lines(&text, Some(1), Some(304), "");
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].chars().count() < MAX_WIDTH + 12, "{s}");
        let x = lines[0].chars().position(|c| c == 'X').unwrap();
        let caret = lines[1].chars().position(|c| c == '^').unwrap();
        assert_eq!(x, caret, "{s}");
    }

    #[test]
    fn tabs_show_as_one_arrow_so_the_caret_stays_under_them() {
        let s = lines("a:\n\tb: 1\n", Some(2), Some(1), "");
        assert!(s.contains("   2 | →b: 1\n     | ^"), "{s}");
    }
}
