//! The causes of unexpected outcomes, grouped and counted from the history: every
//! report lists them (`3,325 × connection refused (op #12)`).

use std::collections::HashMap;

use super::model::{ErrorCause, MAX_ERROR_CAUSES};
use crate::history::{History, OpRecord};
use crate::vocab::{Outcome, INTERRUPTED_NOTE};

/// Whether an outcome is unexpected: no definite expected answer (an error, no answer at
/// all, never sent) or a rate limit.
pub fn unexpected(o: Outcome) -> bool {
    matches!(
        o,
        Outcome::Error | Outcome::Indeterminate | Outcome::NotSent | Outcome::RejectedRate
    )
}

/// The causes of the history's unexpected outcomes, most frequent first (ties by first
/// occurrence), at most [`MAX_ERROR_CAUSES`], and how many causes were left off.
/// Operations cut by an interrupt are not errors and are left out.
pub fn causes(h: &History) -> (Vec<ErrorCause>, u64) {
    let mut groups: HashMap<(Outcome, String), ErrorCause> = HashMap::new();
    for o in &h.ops {
        if !unexpected(o.outcome) || o.note.as_deref() == Some(INTERRUPTED_NOTE) {
            continue;
        }
        let cause = cause_of(o);
        groups
            .entry((o.outcome, cause.clone()))
            .and_modify(|c| {
                c.count += 1;
                c.first_op = c.first_op.min(o.id);
            })
            .or_insert(ErrorCause {
                cause,
                count: 1,
                outcome: o.outcome,
                first_op: o.id,
            });
    }
    let mut all: Vec<ErrorCause> = groups.into_values().collect();
    all.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_op.cmp(&b.first_op)));
    let left_off = all.len().saturating_sub(MAX_ERROR_CAUSES) as u64;
    all.truncate(MAX_ERROR_CAUSES);
    (all, left_off)
}

/// The cause of one operation's outcome: its status (with the reason phrase) and note,
/// volatile parts normalized.
pub fn cause_of(o: &OpRecord) -> String {
    let status = o.status.map(|s| {
        match hyper::StatusCode::from_u16(s)
            .ok()
            .and_then(|c| c.canonical_reason())
        {
            Some(r) => format!("{s} {r}"),
            None => s.to_string(),
        }
    });
    let note = o.note.as_deref().map(normalize).filter(|n| !n.is_empty());
    match (status, note) {
        (Some(s), Some(n)) => format!("{s}: {n}"),
        (Some(s), None) => s,
        (None, Some(n)) => n,
        (None, None) => o.outcome.as_str().replace('_', " "),
    }
}

/// Replaces the volatile parts of a note so equal causes group: runs of 3 or more digits
/// (ids, ports, sizes; not the parts of a dotted address) become `N`, hex-like or
/// uuid-like words become `<id>`.
pub fn normalize(note: &str) -> String {
    let mut out = String::with_capacity(note.len());
    for (i, word) in note.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let idlike = core.len() >= 8
            && core.chars().any(|c| c.is_ascii_digit())
            && core.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if idlike {
            out.push_str(&word.replace(core, "<id>"));
            continue;
        }
        // A run of digits next to a dot (an address, a decimal) is kept.
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_ascii_digit() {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let dotted = (start > 0 && chars[start - 1] == '.') || chars.get(i) == Some(&'.');
            if i - start >= 3 && !dotted {
                out.push('N');
            } else {
                out.extend(&chars[start..i]);
            }
        }
    }
    out
}

/// `3,325 × connection refused (op #12)`.
pub fn line(c: &ErrorCause) -> String {
    format!(
        "{} × {} ({}, first op #{})",
        crate::check::facts::thousands(c.count),
        c.cause,
        c.outcome.as_str(),
        c.first_op
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_parts_are_normalized_and_small_numbers_kept() {
        assert_eq!(
            normalize("error sending request for url (http://127.0.0.1:43817/orders/1234)"),
            "error sending request for url (http://127.0.0.1:N/orders/N)"
        );
        assert_eq!(
            normalize("object 3f2a9c1e-77aa-4b1c-9d2e-0a1b2c3d4e5f gone"),
            "object <id> gone"
        );
        assert_eq!(
            normalize("os error 61: connection refused"),
            "os error 61: connection refused"
        );
    }
}
