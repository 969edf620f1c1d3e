//! Plain words for the usual YAML mistakes, in place of a parser's own terms
//! ("found character that cannot start any token"):
//! - a tab in a line's indentation;
//! - a line indented to a column none of its siblings or parents use (3 spaces where
//!   the others use 2);
//! - a key written one level too shallow: unknown where it is, but a known field of a
//!   sibling mapping (`think_time` dedented out of `workload:`).

use serde::de::DeserializeOwned;

use crate::parse::locate_key;
use crate::Value;

/// A syntax mistake restated: where and what, in plain words.
pub struct Plain {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The message that replaces the parser's.
    pub message: String,
}

/// For a syntax error the parser reported at `line`:`column`: its likely cause in plain
/// words, when it is a tab or an inconsistent indentation at or just before that line.
pub fn syntax(text: &str, line: usize) -> Option<Plain> {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = line.min(lines.len());
    // A tab in the indentation of any line up to the error: the parser stops at the
    // first one it cannot read, which may be a line or two later.
    for (i, l) in lines[..last].iter().enumerate() {
        let indent: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
        if let Some(at) = indent.find('\t') {
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            return Some(Plain {
                line: i + 1,
                column: at + 1,
                message: "tabs are not allowed for indentation in YAML; use spaces".into(),
            });
        }
    }
    // The line the parser stopped at, or the content line before it.
    for n in [line, previous_content_line(&lines, line)?] {
        if let Some((has, siblings)) = misindented(&lines, n) {
            return Some(Plain {
                line: n,
                column: has + 1,
                message: format!(
                    "inconsistent indentation: {has} spaces where its siblings use {siblings}; \
                     line it up with the keys at its level"
                ),
            });
        }
    }
    None
}

fn previous_content_line(lines: &[&str], line: usize) -> Option<usize> {
    (1..line).rev().find(|&n| is_content(lines[n - 1]))
}

fn is_content(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#') && t != "---" && t != "..."
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// Where a line's content starts once its `- ` list markers are passed.
fn content_column(l: &str) -> usize {
    let mut col = indent(l);
    let mut rest = &l[col..];
    while let Some(r) = rest.strip_prefix("- ") {
        let spaces = r.len() - r.trim_start_matches(' ').len();
        col += 2 + spaces;
        rest = &r[spaces..];
    }
    col
}

/// Whether line `n` (1-based) is indented to a column that neither the block it would
/// belong to nor any enclosing one uses: `Some((its indent, the nearest level))`. Asked
/// only where the parser stopped, so a deeper line that is not a new block is taken as
/// the mistake rather than a continued value.
fn misindented(lines: &[&str], n: usize) -> Option<(usize, usize)> {
    let l = *lines.get(n.checked_sub(1)?)?;
    if !is_content(l) {
        return None;
    }
    let has = indent(l);
    let mut above = lines[..n - 1].iter().rev().filter(|l| is_content(l));
    let first = above.next()?;
    let head = first.split(" #").next().unwrap_or("").trim_end();
    let opens_block = head.ends_with(':')
        || head.ends_with('-')
        || head.ends_with('|')
        || head.ends_with('>')
        || head.ends_with("|-")
        || head.ends_with(">-");
    if opens_block && has > indent(first) {
        return None;
    }
    // The levels open at the line: walking up, each line less indented than all seen
    // so far opens one (at its indent, and at its content after any `- `).
    let mut levels = vec![indent(first), content_column(first)];
    let mut floor = indent(first);
    for l in above {
        if floor == 0 {
            break;
        }
        let i = indent(l);
        if i < floor {
            levels.push(i);
            levels.push(content_column(l));
            floor = i;
        }
    }
    if levels.contains(&has) {
        return None;
    }
    let nearest = *levels.iter().min_by_key(|&&c| (c.abs_diff(has), c))?;
    Some((has, nearest))
}

/// For `field`, unknown in the mapping at `parent`: whether it is a known field of one
/// of that mapping's child mappings, found by typing the document again with the key
/// moved there. Returns the words for after the caret.
pub fn deeper<T: DeserializeOwned>(
    text: &str,
    doc: Value,
    parent: &str,
    field: &str,
) -> Option<String> {
    let mut doc = doc;
    let entries = doc.at_mut(parent)?.as_map_mut()?;
    let at = entries.iter().position(|(k, _)| k.key_text() == field)?;
    let (key, val) = entries.remove(at);
    let siblings: Vec<String> = entries
        .iter()
        .filter(|(_, v)| matches!(v, Value::Map(_) | Value::Null))
        .map(|(k, _)| k.key_text())
        .collect();
    // A key no configuration has: how the child answers a truly unknown key.
    const PROBE: &str = "\u{1}quotabench-probe";
    for sibling in siblings {
        let unknown_here = |k: Value, v: Value| -> Option<bool> {
            let mut trial = doc.clone();
            let entries = trial.at_mut(parent)?.as_map_mut()?;
            let i = entries.iter().position(|(k, _)| k.key_text() == sibling)?;
            let mut child = entries.remove(i);
            if child.1 == Value::Null {
                child.1 = Value::Map(Vec::new());
            }
            // The child first, the key first in it: it is typed before anything else.
            child.1.as_map_mut()?.insert(0, (k.clone(), v));
            entries.insert(0, child);
            let e = serde_path_to_error::deserialize::<_, T>(trial).err()?;
            let name = k.key_text();
            Some(
                e.inner()
                    .to_string()
                    .starts_with(&format!("unknown field `{name}`")),
            )
        };
        // The child must refuse an unknown key (a struct, not a free-form map) ...
        if unknown_here(Value::String(PROBE.into()), Value::Null) != Some(true) {
            continue;
        }
        // ... and take this one.
        if unknown_here(key.clone(), val.clone()) == Some(true) {
            continue;
        }
        let own = locate_key(text, &join(parent, field)).map(|(_, c)| c);
        let child_col = child_column(text, parent, &sibling, &doc);
        let more = match (own, child_col) {
            (Some(a), Some(b)) if b > a => format!(" (indent it {} more spaces)", b - a),
            (Some(_), None) => " (indent it 2 more spaces)".to_string(),
            _ => String::new(),
        };
        return Some(format!(
            "`{field}` belongs one level deeper, under `{sibling}:`{more}"
        ));
    }
    None
}

/// The column of the first key inside `parent.sibling`, when it has one.
fn child_column(text: &str, parent: &str, sibling: &str, doc: &Value) -> Option<usize> {
    let path = join(parent, sibling);
    let mut doc = doc.clone();
    let first = doc.at_mut(&path)?.as_map_mut()?.first()?.0.key_text();
    locate_key(text, &join(&path, &first)).map(|(_, c)| c)
}

fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// For an unknown `field` whose message lists the known ones (``expected one of `a`,
/// `b` `` or ``expected `a` ``): the known one it is most likely a misspelling of.
pub fn closest(field: &str, message: &str) -> Option<String> {
    let known = message.split_once("expected")?.1;
    let names = known.split('`').skip(1).step_by(2);
    let best = names
        .map(|n| (edit_distance(field, n), n))
        .min_by_key(|(d, _)| *d)?;
    // Close enough to be the same word mistyped: two letters (one in a short word), or
    // a third of a long one.
    let len = field.chars().count();
    let near = if len <= 3 { 1 } else { (len / 3).max(2) };
    (best.0 > 0 && best.0 <= near).then(|| format!("did you mean `{}`?", best.1))
}

/// Levenshtein distance, over characters (for field names: short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
