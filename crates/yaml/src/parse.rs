//! The one place that parses YAML.
//!
//! Every scenario, target profile and mock table is read through [`from_str`] (or
//! [`crate::from_str_rewritten`]): serde-saphyr reads the text into a [`Value`], which is
//! then typed; yaml-rust2's events locate a field path in the text (serde-saphyr's
//! positions are for the syntax; the typing knows only paths). Errors come back as
//! [`ConfigError`]s naming file, line, column and field path, with a snippet.

use std::collections::HashMap;
use std::path::Path;

use crate::Value;
use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::ConfigError;

/// The largest configuration file read (scenario, profile, mock table).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The deepest nesting of mappings and sequences a configuration file may have.
pub const MAX_DEPTH: usize = 64;

fn whole_file_error(file: &Path, message: String) -> ConfigError {
    ConfigError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        path: String::new(),
        message,
        snippet: Box::default(),
    }
}

/// Refuses, by its name and before opening it, what is not a regular file: a FIFO
/// would block the read, `/dev/zero` never ends, a directory cannot be parsed. Also
/// refuses files past [`MAX_FILE_BYTES`].
pub fn refuse_special(file: &Path) -> Result<(), ConfigError> {
    let meta = std::fs::metadata(file)
        .map_err(|e| whole_file_error(file, format!("cannot read it: {e}")))?;
    let ft = meta.file_type();
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_dir() {
            Some("a directory")
        } else if ft.is_fifo() {
            Some("a FIFO (named pipe)")
        } else if ft.is_char_device() {
            Some("a character device")
        } else if ft.is_block_device() {
            Some("a block device")
        } else if ft.is_socket() {
            Some("a socket")
        } else if !ft.is_file() {
            Some("not a regular file")
        } else {
            None
        }
    };
    if let Some(kind) = kind {
        return Err(whole_file_error(
            file,
            format!("expected a regular file, found {kind}; give the path of a YAML file"),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(whole_file_error(
            file,
            format!(
                "expected a file of at most 16 MiB, found {} bytes; is this the right file?",
                meta.len()
            ),
        ));
    }
    Ok(())
}

/// Reads a configuration file: a regular file of at most [`MAX_FILE_BYTES`], in UTF-8.
/// Errors name the file and never print its content.
pub fn read_file(file: &Path) -> Result<String, ConfigError> {
    refuse_special(file)?;
    let bytes =
        std::fs::read(file).map_err(|e| whole_file_error(file, format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole_file_error(
            file,
            "expected a file of at most 16 MiB; it grew while being read".into(),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        ConfigError {
            file: file.to_path_buf(),
            line: Some(line),
            column: None,
            path: String::new(),
            message: "expected UTF-8 text, found bytes that are not; is this a YAML file?".into(),
            snippet: Box::default(),
        }
    })
}

/// Refuses YAML nested deeper than [`MAX_DEPTH`] (before serde recurses into it).
fn check_depth(file: &Path, text: &str) -> Result<(), ConfigError> {
    struct Depth {
        now: usize,
        at: Option<(usize, usize)>,
    }
    impl MarkedEventReceiver for Depth {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            match ev {
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    self.now += 1;
                    if self.now > MAX_DEPTH && self.at.is_none() {
                        self.at = Some((mark.line(), mark.col() + 1));
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => self.now = self.now.saturating_sub(1),
                _ => {}
            }
        }
    }
    let mut d = Depth { now: 0, at: None };
    let mut parser = Parser::new_from_str(text);
    // A syntax error is reported by the parse that follows, with its position.
    let _ = parser.load(&mut d, false);
    match d.at {
        Some((line, col)) => Err(ConfigError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(col),
            path: String::new(),
            message: format!(
                "expected mappings and lists nested at most {MAX_DEPTH} deep, found deeper"
            ),
            snippet: crate::snippet::render(text, Some(line), Some(col), ""),
        }),
        None => Ok(()),
    }
}

/// A found value quoted in a serde message is shortened: an error never prints a
/// file's content (`profile: /etc/passwd` parses as one long string).
fn shorten_found(msg: &str) -> String {
    let Some(start) = msg.find("string \"") else {
        return msg.to_string();
    };
    let open = start + "string \"".len();
    let rest = &msg[open..];
    let Some(end) = rest.find("\", expected").or_else(|| rest.rfind('"')) else {
        return msg.to_string();
    };
    let quoted = &rest[..end];
    if quoted.chars().count() <= 40 && !quoted.contains('\\') {
        return msg.to_string();
    }
    let short: String = quoted.chars().take(24).collect();
    format!(
        "{}string \"{short}…\" ({} characters){}",
        &msg[..start],
        quoted.chars().count(),
        &rest[end + 1..]
    )
}

/// A key or variant quoted in backticks by serde (`unknown variant `…`, expected …`) is
/// shortened like a found string: a value that swallowed the rest of the file (a stray
/// quote) would otherwise print it.
fn shorten_variant(msg: &str) -> String {
    let Some(start) = ["unknown variant `", "unknown field `"]
        .iter()
        .find_map(|p| msg.find(p).map(|i| i + p.len()))
    else {
        return msg.to_string();
    };
    let rest = &msg[start..];
    let Some(end) = rest.find("`, expected").or_else(|| rest.find('`')) else {
        return msg.to_string();
    };
    let quoted = &rest[..end];
    if quoted.chars().count() <= 40 && !quoted.chars().any(char::is_control) {
        return msg.to_string();
    }
    let short: String = quoted
        .chars()
        .take(24)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{}{short}…` ({} characters){}",
        &msg[..start],
        quoted.chars().count(),
        &rest[end + 1..]
    )
}

/// An error is one line (`file:line:col: …`): line breaks a message still holds are
/// written as `\\n`, so no continuation line reads as unlocated.
fn one_line(msg: &str) -> String {
    msg.replace('\r', "\\r").replace('\n', "\\n")
}

/// The parser's settings: YAML 1.2 booleans (`yes` stays a string, as with serde_yaml),
/// duplicate keys refused, `<<` an ordinary key (serde_yaml did not merge; a merge
/// would have no place in the located field paths), and aliases bounded so that a
/// "billion laughs" file is refused instead of filling memory. Snippets are ours.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::Error,
        merge_keys: serde_saphyr::options::MergeKeyPolicy::AsOrdinary,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
            max_replay_stack_depth: MAX_DEPTH,
        },
    }
}

/// The most nodes that aliases (`*name`) may bring in, in all: far past any real
/// configuration, far below what would exhaust memory (each is a few dozen bytes).
pub const MAX_ALIAS_EVENTS: usize = 100_000;

/// The parser's message for `err`, in the words of this project's errors (what was
/// expected, what was found, what to do), without its location (ours comes first).
fn plain_parser_words(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    // An error met while replaying an alias is wrapped; the cause is inside.
    let mut err = err;
    while let E::AliasError { error, .. } = err {
        err = error;
    }
    match err {
        E::DuplicateMappingKey { key, .. } => match key {
            Some(k) => {
                let k: String = k.chars().take(40).map(|c| if c.is_control() { ' ' } else { c }).collect();
                format!("duplicate key `{k}`: a key may appear once in a mapping; remove one of the two")
            }
            None => "duplicate key: a key may appear once in a mapping; remove one of the two".into(),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => format!(
            "expected aliases (`*name`) to expand to at most {MAX_ALIAS_EVENTS} nodes, found more \
             (an alias bomb?); write the values out or use fewer nested aliases"
        ),
        E::Budget { .. } => "expected a configuration file of ordinary size and shape, found one past the parser's limits (events, anchors or nesting); is this the right file?".into(),
        E::UnknownAnchor { .. } => "this alias (`*name`) refers to no anchor (`&name`) defined above it".into(),
        E::NonFiniteFloat { value, .. } => {
            let v: String = value.chars().take(24).collect();
            format!("expected a finite number, found `{v}`")
        }
        other => {
            let raw = serde_saphyr::MessageFormatter::format_message(
                &serde_saphyr::UserMessageFormatter,
                other,
            );
            shorten_variant(&shorten_found(&raw))
        }
    }
}

/// Reads `text` as one YAML document, in written order. A syntax mistake, a second
/// document, a duplicate key or an alias bomb is reported located, in plain words.
pub fn parse_value(file: &Path, text: &str) -> Result<Value, ConfigError> {
    if text.trim().is_empty() {
        return Err(ConfigError {
            file: file.to_path_buf(),
            line: Some(1),
            column: Some(1),
            path: String::new(),
            message: "the file is empty; expected a YAML mapping".into(),
            snippet: Box::default(),
        });
    }
    check_depth(file, text)?;
    let err = match serde_saphyr::from_str_with_options::<Value>(text, options()) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let (mut line, mut column) = match err.location() {
        Some(l) if l.line() > 0 => (Some(l.line() as usize), Some(l.column().max(1) as usize)),
        _ => (None, None),
    };
    let inner = err.without_snippet();
    let mut message = match inner {
        serde_saphyr::Error::MultipleDocuments { .. } => {
            // Where the second document starts (its `---`), as yaml-rust2 finds it.
            if let Ok(Some((l, c))) = second_document(text) {
                line = Some(l);
                column = Some(c);
            }
            "expected one YAML document, found a second one starting here (a `---` line); remove it or split the file".to_string()
        }
        other => plain_parser_words(other),
    };
    if let Some(l) = line {
        if let Some(plain) = crate::hints::syntax(text, l) {
            message = plain.message;
            line = Some(plain.line);
            column = Some(plain.column);
        }
    } else {
        // No position from the parser: the first place yaml-rust2 stops reading.
        if let Err((l, c, why)) = second_document(text) {
            line = Some(l);
            column = Some(c);
            if message.is_empty() {
                message = why;
            }
        }
    }
    let mut e = ConfigError {
        file: file.to_path_buf(),
        line: line.or(Some(1)),
        column: column.or(Some(1)),
        path: String::new(),
        message: one_line(&message),
        snippet: Box::default(),
    };
    e.snippet = crate::snippet::render(text, e.line, e.column, "");
    Err(e)
}

/// Parses `text` (the contents of `file`) into `T`, rejecting unknown fields where `T`
/// says so, and reports the first mistake with its position and field path.
pub fn from_str<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    let value = parse_value(file, text)?;
    from_value(file, text, value, &[])
}

/// Types a parsed document. `changed` lists the paths whose text was rewritten (and
/// how it was written), so a mistake there names the text as written.
pub(crate) fn from_value<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    value: Value,
    changed: &[(String, String)],
) -> Result<T, ConfigError> {
    let trial = value.clone();
    let err = match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut path = err.path().to_string();
    if path == "." {
        path.clear();
    }
    let mut message = one_line(&shorten_variant(&shorten_found(
        &err.into_inner().to_string(),
    )));
    if let Some((_, written)) = changed.iter().find(|(p, _)| *p == path) {
        message = format!("{message} (the value of {written:?} after substitution)");
        let mut e = crate::rewrite::at_value(file, text, &path, message);
        e.snippet = crate::snippet::render(text, e.line, e.column, "");
        return Err(e);
    }
    let mut hint = String::new();
    if let Some(field) = unknown_field(&message) {
        // serde_path_to_error usually names the unknown key already.
        if !path.ends_with(&field) {
            path = join_path(&path, &field);
        }
        message = message.replacen("unknown field", "unknown field (misspelled?)", 1);
        let parent = path[..path.len() - field.len()].trim_end_matches('.');
        hint = crate::hints::deeper::<T>(text, trial, parent, &field)
            .or_else(|| crate::hints::closest(&field, &message))
            .unwrap_or_default();
    }
    let mut e = error_at(file, text, &path, message);
    e.snippet = crate::snippet::render(text, e.line, e.column, &hint);
    Err(e)
}

/// Builds a [`ConfigError`] for a mistake found after parsing (a semantic check),
/// locating `path` (e.g. `phases[1].workload.mix`) in `text` when it can: at its key
/// when it has one, else at its value.
pub fn error_at(file: &Path, text: &str, path: &str, message: impl Into<String>) -> ConfigError {
    // A field left out (a defaulted `workload`) has no position: point at the nearest
    // enclosing one that does, else the top of the file.
    let mut at = path;
    let (line, column) = loop {
        if let Some((l, c)) = locate_key(text, at).or_else(|| locate(text, at)) {
            break (Some(l), Some(c));
        }
        match at.rfind(['.', '[']) {
            Some(i) => at = &at[..i],
            None if !at.is_empty() => at = "",
            None => break (Some(1), Some(1)),
        }
    };
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        path: path.to_string(),
        message: message.into(),
        snippet: crate::snippet::render(text, line, column, ""),
    }
}

/// Where a second YAML document starts, if the text has one; or where the text stops
/// being YAML (line, column, why).
fn second_document(text: &str) -> Result<Option<(usize, usize)>, (usize, usize, String)> {
    struct Docs(Vec<(usize, usize)>);
    impl MarkedEventReceiver for Docs {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            if let Event::DocumentStart = ev {
                self.0.push((mark.line(), mark.col() + 1));
            }
        }
    }
    let mut d = Docs(Vec::new());
    match Parser::new_from_str(text).load(&mut d, true) {
        Ok(()) => Ok(d.0.get(1).copied()),
        Err(e) => Err((
            e.marker().line(),
            e.marker().col() + 1,
            e.info().to_string(),
        )),
    }
}

fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() || parent == "." {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// Position (1-based line, column) of the *value* at `path`.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let index = index(text)?;
    index.values.get(path).copied()
}

/// Position of the *key* at `path` (for unknown-field errors).
pub(crate) fn locate_key(text: &str, path: &str) -> Option<(usize, usize)> {
    let index = index(text)?;
    index.keys.get(path).copied()
}

#[derive(Default)]
struct Index {
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

struct Indexer {
    index: Index,
    stack: Vec<Frame>,
    root_seen: bool,
}

impl Indexer {
    /// Where the next node goes; `None` when the node is a mapping key.
    fn next_path(&mut self, key_text: Option<&str>, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => {
                if self.root_seen {
                    return None;
                }
                self.root_seen = true;
                Some(String::new())
            }
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join_path(path, &k)),
                None => {
                    let k = key_text.unwrap_or("?").to_string();
                    let full = join_path(path, &k);
                    self.index.keys.insert(full, (mark.line(), mark.col() + 1));
                    *key = Some(k);
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(ref s, ..) => {
                if let Some(p) = self.next_path(Some(s), mark) {
                    self.index.values.entry(p).or_insert(pos);
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.next_path(None, mark) {
                    self.index.values.entry(p).or_insert(pos);
                }
            }
            Event::MappingStart(..) => {
                let p = self.next_path(None, mark).unwrap_or_default();
                self.index.values.entry(p.clone()).or_insert(pos);
                self.stack.push(Frame::Map { path: p, key: None });
            }
            Event::SequenceStart(..) => {
                let p = self.next_path(None, mark).unwrap_or_default();
                self.index.values.entry(p.clone()).or_insert(pos);
                self.stack.push(Frame::Seq { path: p, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

fn index(text: &str) -> Option<Index> {
    let mut ix = Indexer {
        index: Index::default(),
        stack: Vec::new(),
        root_seen: false,
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut ix, false).ok()?;
    Some(ix.index)
}

#[cfg(test)]
mod second_document_tests {
    use super::*;

    #[test]
    fn a_second_document_is_located_at_its_marker() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let e = from_str::<T>(Path::new("x.yaml"), "a: 1\nb: 2\n---\na: 3\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("second one"), "{e}");
        let e = from_str::<Value>(Path::new("x.yaml"), "a: 1\n---\na: 3\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        // A sequence indented under nothing, then a mapping: not YAML at all.
        let e = from_str::<Value>(Path::new("x.yaml"), "# c\n  - a: 1\n#\nb: 2\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        rate: u32,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        phases: Vec<Inner>,
    }

    #[test]
    fn type_error_names_line_column_and_path() {
        let text = "name: x\nphases:\n  - rate: 1\n  - rate: fast\n";
        let err = from_str::<Doc>(Path::new("x.yaml"), text).unwrap_err();
        assert_eq!(err.path, "phases[1].rate");
        assert_eq!((err.line, err.column), (Some(4), Some(5)));
        assert!(
            err.to_string()
                .starts_with("x.yaml:4:5: phases[1].rate: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_points_at_the_misspelled_key() {
        let text = "name: x\nphases:\n  - rate: 1\n    rtae: 2\n";
        let err = from_str::<Doc>(Path::new("x.yaml"), text).unwrap_err();
        assert_eq!(err.path, "phases[0].rtae");
        assert_eq!((err.line, err.column), (Some(4), Some(5)));
        assert!(err.message.contains("expected `rate`"), "{}", err.message);
    }

    #[test]
    fn locate_finds_nested_values() {
        let text = "a:\n  b:\n    - 1\n    - c: 2\n";
        assert_eq!(locate(text, "a.b[1].c"), Some((4, 10)));
        assert_eq!(locate(text, "a.b[0]"), Some((3, 7)));
        assert_eq!(locate(text, "a.zz"), None);
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Period,
        Concurrent,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Kinds {
        #[allow(dead_code)]
        kinds: std::collections::BTreeMap<String, Kind>,
    }

    #[test]
    fn a_key_or_variant_that_swallowed_the_file_is_shortened_to_one_line() {
        // Found by tests/suite/fuzz_profile.rs: a stray quote makes the rest of the file
        // one multi-line scalar, which serde quoted whole in `unknown variant`.
        let secret = "password: hunter2-SECRET";
        let text = format!("kinds:\n  a: \"\n    {secret}\n    more: lines\n    and: more\"\n");
        let err = from_str::<Kinds>(Path::new("p.yaml"), &text).unwrap_err();
        let shown = err.to_string();
        assert_eq!(err.headline().lines().count(), 1, "{shown}");
        assert!(shown.starts_with("p.yaml:"), "{shown}");
        assert!(!shown.contains("more: lines"), "{shown}");
        assert!(shown.contains("characters)"), "{shown}");
        let text = format!("name: x\nphases: []\n\"{secret}\n  x\": 1\n");
        let err = from_str::<Doc>(Path::new("p.yaml"), &text).unwrap_err();
        let shown = err.headline();
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert!(!shown.contains("  x"), "{shown}");
    }

    #[test]
    fn empty_file_is_an_error_not_a_default() {
        let err = from_str::<Doc>(Path::new("e.yaml"), "  \n").unwrap_err();
        assert!(err.message.contains("empty"));
    }
}
