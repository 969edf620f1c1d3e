//! A fast path for reading the records the engine writes (`HistoryWriter::encode`):
//! fields in its fixed order, compact, strings without escapes. Anything else — another
//! order, an unknown field, whitespace, an escape, a number out of range, per-parent
//! counts — is not parsed here: the caller falls back to serde_json, which accepts every
//! record the format allows and words every error. serde's generic field matching and
//! its per-string interning were a fifth of the checker's time.

use super::{OpRecord, Readings, Sym};
use crate::vocab::{Outcome, Reading};

/// Names met so far (labels, operation names, tenants: a handful), so that a record's
/// three names are found without the interner's table.
#[derive(Default)]
pub(crate) struct Names {
    known: Vec<(Box<[u8]>, Sym)>,
}

impl Names {
    fn sym(&mut self, s: &[u8]) -> Option<Sym> {
        if let Some((_, sym)) = self.known.iter().find(|(k, _)| &**k == s) {
            return Some(*sym);
        }
        let text = std::str::from_utf8(s).ok()?;
        let sym = Sym::new(text);
        // A history has a handful of names; one of many would only scan longer.
        if self.known.len() < 64 {
            self.known.push((s.into(), sym));
        }
        Some(sym)
    }
}

/// Parses `line` if it has the engine's shape; `None` otherwise (then serde decides).
pub(crate) fn record(line: &[u8], names: &mut Names) -> Option<OpRecord> {
    let mut p = Cursor { s: line, at: 0 };
    p.lit(b"{\"id\":")?;
    let id = p.u64()?;
    p.lit(b",\"phase\":")?;
    let phase = u32::try_from(p.u64()?).ok()?;
    p.lit(b",\"worker\":")?;
    let worker = u32::try_from(p.u64()?).ok()?;
    p.lit(b",\"op\":")?;
    let op = names.sym(p.str()?)?;
    p.lit(b",\"name\":")?;
    let name = names.sym(p.str()?)?;
    p.lit(b",\"tenant\":")?;
    let tenant = names.sym(p.str()?)?;
    p.lit(b",\"amount\":")?;
    let amount = p.u64()?;
    p.lit(b",\"intended_us\":")?;
    let intended_us = p.u64()?;
    p.lit(b",\"sent_us\":")?;
    let sent_us = p.u64()?;
    p.lit(b",\"done_us\":")?;
    let done_us = p.u64()?;
    p.lit(b",\"outcome\":")?;
    let outcome = outcome(p.str()?)?;
    let mut r = OpRecord {
        id,
        phase,
        worker,
        op,
        name,
        tenant,
        amount,
        intended_us,
        sent_us,
        done_us,
        outcome,
        status: None,
        object: None,
        parent: None,
        snapshot: None,
        note: None,
    };
    if p.opt(b",\"status\":") {
        r.status = Some(u16::try_from(p.u64()?).ok()?);
    }
    if p.opt(b",\"object\":") {
        r.object = Some(p.text()?.into());
    }
    if p.opt(b",\"parent\":") {
        r.parent = Some(p.text()?.into());
    }
    if p.opt(b",\"snapshot\":") {
        r.snapshot = Some(readings(&mut p, names)?);
    }
    if p.opt(b",\"note\":") {
        r.note = Some(p.text()?.into());
    }
    p.lit(b"}")?;
    p.end().then_some(r)
}

fn readings(p: &mut Cursor<'_>, names: &mut Names) -> Option<Readings> {
    p.lit(b"[")?;
    let mut out = Vec::with_capacity(4);
    if !p.opt(b"]") {
        loop {
            p.lit(b"{\"name\":")?;
            let name = names.sym(p.str()?)?;
            p.lit(b",\"limit\":")?;
            let limit = p.u64()?;
            p.lit(b",\"consumed\":")?;
            let consumed = p.u64()?;
            let mut r = Reading::new(name, limit, consumed);
            if p.opt(b",\"ends_in_us\":") {
                r.ends_in_us = Some(p.u64()?);
            }
            if p.opt(b",\"absent\":true") {
                r.absent = true;
            }
            // Per-parent counts (`parents`) are rare: serde reads them.
            p.lit(b"}")?;
            out.push(r);
            if p.opt(b"]") {
                break;
            }
            p.lit(b",")?;
        }
    }
    Some(Readings(out.into()))
}

fn outcome(s: &[u8]) -> Option<Outcome> {
    Outcome::ALL
        .into_iter()
        .find(|o| o.as_str().as_bytes() == s)
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    // Keys are compared as fixed-size arrays: inline compares, not a call to memcmp
    // per key (a tenth of the reader's time).
    fn lit<const N: usize>(&mut self, l: &[u8; N]) -> Option<()> {
        self.opt(l).then_some(())
    }

    fn opt<const N: usize>(&mut self, l: &[u8; N]) -> bool {
        let hit = self.s[self.at..].first_chunk::<N>() == Some(l);
        if hit {
            self.at += N;
        }
        hit
    }

    fn end(&self) -> bool {
        self.at == self.s.len()
    }

    /// A JSON unsigned integer as serde reads one into a u64: digits, no leading zero,
    /// no sign, fraction or exponent (those fall back, and serde refuses them).
    fn u64(&mut self) -> Option<u64> {
        let d = &self.s[self.at..];
        // Up to 19 digits cannot overflow a u64: summed unchecked (seven numbers a
        // record, a twentieth of the reader's time with a check per digit); a 20th
        // digit is checked.
        let mut v = 0u64;
        let mut n = 0;
        for &b in d.iter().take(19) {
            let x = b.wrapping_sub(b'0');
            if x > 9 {
                break;
            }
            v = v * 10 + u64::from(x);
            n += 1;
        }
        if n == 19 {
            if let Some(x) = d.get(19).map(|b| b.wrapping_sub(b'0')).filter(|x| *x <= 9) {
                v = v.checked_mul(10)?.checked_add(u64::from(x))?;
                n += 1;
                // A 21st digit is past any u64.
                if d.get(20).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
        }
        if n == 0 || (n > 1 && d[0] == b'0') {
            return None;
        }
        self.at += n;
        // A number runs to the next delimiter: `1.5`, `1e3` are not this path's.
        match self.s.get(self.at) {
            Some(b',' | b'}' | b']') => Some(v),
            _ => None,
        }
    }

    /// A string's bytes, when it holds no escape and no control character.
    fn str(&mut self) -> Option<&'a [u8]> {
        self.lit(b"\"")?;
        let rest = &self.s[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at += len + 1;
        Some(&rest[..len])
    }

    /// [`Cursor::str`] as text (UTF-8 checked, as serde checks it).
    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.str()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::{record, Names};
    use crate::history::{Header, HistoryWriter, OpRecord, Readings};
    use crate::vocab::{Outcome, Reading};

    /// Records of every shape the writer produces: each optional field present and
    /// absent, names and texts needing escapes, non-ASCII, extreme numbers, readings
    /// with and without window fields and per-parent counts.
    fn records() -> Vec<OpRecord> {
        let base = OpRecord::sample(1, "order", 10, 20);
        let mut reading = Reading::new("daily", 100, 7);
        reading.ends_in_us = Some(5);
        let mut absent = Reading::new("monthly", 0, 0);
        absent.absent = true;
        let mut scoped = Reading::new("dest", 10, 3);
        scoped.parents = Some(Box::new([("cfg-1".to_string(), 3)].into_iter().collect()));
        let mut out = vec![
            base.clone(),
            OpRecord {
                status: None,
                outcome: Outcome::Indeterminate,
                ..OpRecord::sample(2, "order", 0, 0)
            },
            OpRecord {
                id: u64::MAX,
                amount: u64::MAX,
                worker: u32::MAX,
                phase: u32::MAX,
                status: Some(u16::MAX),
                ..OpRecord::sample(3, "list", 1, u64::MAX)
            },
            OpRecord {
                object: Some("obj-1".into()),
                parent: Some("cfg-é".into()),
                note: Some("timed out after 5s".into()),
                outcome: Outcome::Error,
                ..OpRecord::sample(4, "create", 5, 6)
            },
            OpRecord {
                note: Some("a \"quoted\"\\ note\nwith a newline\tand a tab".into()),
                object: Some("o\u{1}".into()),
                tenant: "org \"x\"".into(),
                ..OpRecord::sample(5, "op\\name", 5, 6)
            },
            OpRecord {
                snapshot: Some(Readings(
                    vec![
                        reading.clone(),
                        absent.clone(),
                        Reading::new("slots", 50, 0),
                    ]
                    .into(),
                )),
                worker: crate::vocab::COORDINATOR,
                ..OpRecord::sample(6, "list", 7, 8)
            },
            OpRecord {
                snapshot: Some(Readings(Vec::new().into())),
                ..OpRecord::sample(7, "list", 7, 8)
            },
            OpRecord {
                snapshot: Some(Readings(vec![reading, scoped].into())),
                ..OpRecord::sample(8, "list", 7, 8)
            },
            OpRecord {
                snapshot: Some(Readings(vec![Reading::new("naïve \"q\"", 1, 1)].into())),
                ..OpRecord::sample(9, "list", 7, 8)
            },
        ];
        for (i, o) in Outcome::ALL.into_iter().enumerate() {
            out.push(OpRecord {
                outcome: o,
                ..OpRecord::sample(100 + i as u64, "order", 1, 2)
            });
        }
        out
    }

    /// The lines the writer writes for `records()`, plain and as a merged history's.
    fn written() -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = Vec::new();
        for shard in [None, Some(3)] {
            let path = dir.path().join("h.jsonl");
            let mut w = HistoryWriter::create(&path, &Header::sample()).unwrap();
            for o in records() {
                match shard {
                    Some(k) => w.append_in_shard(&o, k).unwrap(),
                    None => w.append(&o).unwrap(),
                }
            }
            w.finish().unwrap();
            let text = std::fs::read(&path).unwrap();
            let all: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            // Not the header, not the closing line, not the empty tail.
            lines.extend(all[1..all.len() - 2].iter().map(|l| l.to_vec()));
        }
        lines
    }

    /// The fast path may decline a line, never read it differently from serde.
    fn agrees(line: &[u8]) -> bool {
        let serde = serde_json::from_slice::<OpRecord>(line);
        match record(line, &mut Names::default()) {
            Some(fast) => {
                assert_eq!(
                    Some(&fast),
                    serde.as_ref().ok(),
                    "{}",
                    String::from_utf8_lossy(line)
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_engines_records_read_as_serde_reads_them() {
        let lines = written();
        assert_eq!(lines.len(), 2 * records().len());
        let mut fast = 0;
        for line in &lines {
            fast += agrees(line) as usize;
        }
        // Declined: escapes (record 5 and 9's reading), per-parent counts (8), and
        // every merged line (its `shard` field). The rest are read by the fast path.
        assert_eq!(fast, records().len() - 3, "lines read by the fast path");
        let plain = String::from_utf8(lines[0].clone()).unwrap();
        assert!(record(plain.as_bytes(), &mut Names::default()).is_some());
    }

    #[test]
    fn other_shapes_fall_back_to_serde_or_agree_with_it() {
        let line = String::from_utf8(written()[3].clone()).unwrap();
        assert!(
            line.contains("\"object\":") && line.contains("\"note\":"),
            "{line}"
        );
        let variants = [
            // Reordered fields.
            line.replacen("{\"id\":4,\"phase\":0", "{\"phase\":0,\"id\":4", 1),
            // An unknown field, at the start, in the middle and at the end.
            line.replacen("{\"id\":4", "{\"x\":1,\"id\":4", 1),
            line.replacen(",\"amount\":", ",\"x\":[1,{}],\"amount\":", 1),
            line.replacen('}', ",\"shard\":2}", 1),
            // Missing optional fields; a missing required one.
            line.replacen(",\"status\":200", "", 1),
            line.replacen(",\"note\":\"timed out after 5s\"", "", 1),
            line.replacen(",\"amount\":1", "", 1),
            // Whitespace; explicit nulls; escapes where the writer writes none.
            line.replace(',', ", "),
            line.replacen(",\"status\":200", ",\"status\":null", 1),
            line.replacen("\"object\":\"obj-1\"", "\"object\":\"obj\\u002d1\"", 1),
            line.replacen("\"op\":\"create\"", "\"op\":\"cr\\u00e9ate\"", 1),
            // Numbers serde refuses or reads differently: sign, fraction, exponent,
            // leading zero, overflow, out of a field's range.
            line.replacen("\"amount\":1", "\"amount\":-1", 1),
            line.replacen("\"amount\":1", "\"amount\":1.0", 1),
            line.replacen("\"amount\":1", "\"amount\":1e2", 1),
            line.replacen("\"amount\":1", "\"amount\":01", 1),
            line.replacen("\"amount\":1", "\"amount\":18446744073709551616", 1),
            line.replacen("\"amount\":1", "\"amount\":99999999999999999999", 1),
            line.replacen("\"amount\":1", "\"amount\":123456789012345678901", 1),
            line.replacen("\"status\":200", "\"status\":65536", 1),
            line.replacen("\"phase\":0", "\"phase\":4294967296", 1),
            // Unknown outcome; a duplicate field; trailing bytes; a torn line.
            line.replacen("\"error\"", "\"exploded\"", 1),
            line.replacen(",\"status\":200", ",\"status\":200,\"status\":202", 1),
            format!("{line} "),
            format!("{line}x"),
            line[..line.len() - 1].to_string(),
        ];
        let mut fast = 0;
        for v in &variants {
            assert_ne!(v, &line, "a variant that changed nothing");
            fast += agrees(v.as_bytes()) as usize;
        }
        // Only the two with an optional field left out have the writer's shape.
        assert_eq!(fast, 2);
        assert!(agrees(line.as_bytes()));
    }

    #[test]
    fn a_name_is_the_same_handle_however_it_was_read() {
        let mut names = Names::default();
        let a = record(&written()[0], &mut names).unwrap();
        let b = record(&written()[0], &mut names).unwrap();
        assert_eq!((a.op, a.name, a.tenant), (b.op, b.name, b.tenant));
        assert_eq!(a.tenant, crate::vocab::Sym::new("t"));
        // Invalid UTF-8 in a name is declined (serde refuses it, naming the line).
        let bad = String::from_utf8(written()[0].clone())
            .unwrap()
            .replacen("\"t\"", "\"\u{1F600}\"", 1)
            .into_bytes();
        let mut bad = bad;
        let at = bad
            .windows(4)
            .position(|w| w == "\u{1F600}".as_bytes())
            .unwrap();
        bad[at] = 0xff;
        assert!(record(&bad, &mut Names::default()).is_none());
        assert!(serde_json::from_slice::<OpRecord>(&bad).is_err());
    }
}
