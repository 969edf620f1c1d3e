//! history.jsonl: one header line, then one line per operation.

use super::{Header, OpRecord, Readings};
use crate::error::Error;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where history.jsonl stopped when a write to it failed (a full disk): the run carries
/// it out of the engine as data so that its report says it (summary.json
/// `history_write`, a banner in report.md/html), not only the terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct WriteStopped {
    /// The history file that stopped growing.
    pub file: String,
    /// The operating system's error: `No space left on device (os error 28)`.
    pub os_error: String,
    /// Records the file holds whole, after its header (lines 2 to `records_written + 1`).
    pub records_written: u64,
    /// The file's last whole line: 1 is the header, `records_written + 1` the last
    /// record; 0 when not even the header was written.
    pub last_whole_line: u64,
    /// Records the run completed that the file does not hold (those that failed to
    /// write and every one after them).
    pub records_lost: u64,
    /// Whether the file was cut back to its last whole line; false: a torn line follows
    /// it (`check` names it and leaves it out).
    pub cut: bool,
}

impl WriteStopped {
    /// Where it stopped, in words (the report's banner and every unknown rule's reason).
    pub fn said(&self) -> String {
        let held = if self.last_whole_line == 0 {
            "the file is empty".to_string()
        } else {
            format!(
                "its last whole line is line {} (the header and {} records)",
                self.last_whole_line, self.records_written
            )
        };
        format!(
            "{} stopped growing ({}): {held}; {} records after it were lost",
            self.file, self.os_error, self.records_lost
        )
    }
}

/// Streams records to a file as they complete, so an interrupted run keeps them.
///
/// Lines are buffered here rather than in a `BufWriter` so that a failed write (a full
/// disk) knows how many bytes reached the file: the file is then cut back to its last
/// whole line, and the error says how many records it holds. Nothing half-written is
/// left for `check` to trip on.
pub struct HistoryWriter {
    file: std::fs::File,
    path: std::path::PathBuf,
    /// Lines not yet written to the file.
    pending: Vec<u8>,
    /// Where each record in `pending` ends (one past its newline).
    ends: Vec<usize>,
    /// Bytes of whole lines in the file (the header and `written` records).
    on_disk: u64,
    /// Records in the file.
    written: u64,
    /// The line being built (reused: no allocation per record).
    line: Vec<u8>,
    /// The last snapshot written and its JSON: list records share their readings while
    /// the target answers the same, so each distinct snapshot is serialized once.
    last_snapshot: Option<(Readings, Vec<u8>)>,
    /// The last tenant written and whether it is a registered secret (a tenant from a
    /// secret-named variable is masked like the header's).
    last_tenant: Option<(super::Sym, bool)>,
    /// Records appended, stated by the closing line.
    records: u64,
    /// The names records carried so far (labels, operations, tenants: a handful),
    /// looked up here rather than in the process-wide table, whose lock every shard's
    /// thread takes too.
    names: Vec<(super::Sym, &'static str)>,
    /// Set when a write failed: where the file stopped.
    stopped: Option<WriteStopped>,
}

/// Lines are written to the file once this many bytes are pending.
const WRITE_AT: usize = 1 << 16;

/// The type of the closing line a finished run writes: `{"type":"end","records":N}`.
/// A history without it was cut short (a crash, a kill, a full disk): the operations in
/// flight when it stopped are missing, so `check` does not fail it on what is there.
pub const END_TYPE: &str = "end";

impl HistoryWriter {
    /// Creates the file and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Self, Error> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = HistoryWriter {
            file,
            path: path.to_path_buf(),
            pending: Vec::with_capacity(WRITE_AT + 4096),
            ends: Vec::with_capacity(256),
            on_disk: 0,
            written: 0,
            line: Vec::with_capacity(512),
            last_snapshot: None,
            last_tenant: None,
            records: 0,
            names: Vec::new(),
            stopped: None,
        };
        w.header(header)?;
        Ok(w)
    }

    fn header(&mut self, v: &Header) -> Result<(), Error> {
        let text = serde_json::to_string(v).map_err(|e| Error::Target(e.to_string()))?;
        let mut text = crate::redact::redact(&text).into_owned().into_bytes();
        text.push(b'\n');
        // Written at once: a file without its header is no history.
        self.pending = text;
        self.write_pending(false)
    }

    /// Appends one record. Records hold no secrets (error excerpts are redacted when
    /// taken), so they are serialized straight into the buffer: this is the hot path.
    /// The bytes are exactly what `serde_json` writes for an [`OpRecord`] (a test holds
    /// them equal), produced without its per-field machinery.
    pub fn append(&mut self, rec: &OpRecord) -> Result<(), Error> {
        self.push(rec, None)
    }

    fn push(&mut self, rec: &OpRecord, shard: Option<u32>) -> Result<(), Error> {
        // Past a failed write nothing more is written: a record after the gap would
        // make the file claim what it lost.
        if let Some(s) = &self.stopped {
            return Err(Error::Usage(s.said()));
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.encode(rec, &mut line);
        if let Some(k) = shard {
            // The record's object ends in `}`: the field goes before it.
            line.pop();
            line.extend_from_slice(format!(",\"shard\":{k}}}").as_bytes());
        }
        line.push(b'\n');
        self.pending.extend_from_slice(&line);
        self.ends.push(self.pending.len());
        self.line = line;
        self.records += 1;
        if self.pending.len() >= WRITE_AT {
            self.write_pending(true)?;
        }
        Ok(())
    }

    /// [`HistoryWriter::append`] for a merged history: the record's line carries the shard
    /// it came from, `"shard":K` (an optional field; the checker does not read it).
    pub fn append_in_shard(&mut self, rec: &OpRecord, shard: u32) -> Result<(), Error> {
        self.push(rec, Some(shard))
    }

    /// Writes the pending lines. On a failure, cuts the file back to its last whole
    /// line and says, naming the file, how many records it holds. `records` is whether
    /// the pending lines are records (false for the header).
    fn write_pending(&mut self, records: bool) -> Result<(), Error> {
        let mut done = 0;
        while done < self.pending.len() {
            match std::io::Write::write(&mut self.file, &self.pending[done..]) {
                Ok(0) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        "the file took no more bytes",
                    );
                    return Err(self.stopped_at(done, records, e));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.stopped_at(done, records, e)),
            }
        }
        self.on_disk += done as u64;
        self.written += self.ends.len() as u64;
        self.pending.clear();
        self.ends.clear();
        Ok(())
    }

    /// The error for a write that stopped after `done` pending bytes.
    fn stopped_at(&mut self, done: usize, records: bool, e: std::io::Error) -> Error {
        let whole = if records {
            self.ends.iter().take_while(|&&end| end <= done).count()
        } else {
            0
        };
        let keep = if whole > 0 { self.ends[whole - 1] } else { 0 };
        self.written += whole as u64;
        self.on_disk += keep as u64;
        // Shrinking frees space, so this works on a full disk; if it fails anyway the
        // torn last line is one `check` names and leaves out.
        let cut = self.file.set_len(self.on_disk).is_ok();
        let lost = self.records - self.written;
        let held = if self.on_disk == 0 {
            "the file is empty (not even its header was written)".to_string()
        } else {
            format!(
                "the file holds its header and {} whole records (lines 2 to {}){}",
                self.written,
                self.written + 1,
                if cut { "" } else { ", then a torn line" }
            )
        };
        let context = format!(
            "{e}; the history stopped there: {held}; {lost} records after them were not written"
        );
        self.stopped = Some(WriteStopped {
            file: self.path.display().to_string(),
            os_error: e.to_string(),
            records_written: self.written,
            last_whole_line: if self.on_disk == 0 {
                0
            } else {
                self.written + 1
            },
            records_lost: lost,
            cut,
        });
        self.pending.clear();
        self.ends.clear();
        Error::io(&self.path, std::io::Error::new(e.kind(), context))
    }

    /// The text of an interned name.
    fn name(&mut self, s: super::Sym) -> &'static str {
        if let Some(&(_, text)) = self.names.iter().find(|(k, _)| *k == s) {
            return text;
        }
        let text = s.as_str();
        // A run has a handful of names; a history of many would only scan longer.
        if self.names.len() < 64 {
            self.names.push((s, text));
        }
        text
    }

    fn encode(&mut self, rec: &OpRecord, o: &mut Vec<u8>) {
        let mut n = itoa::Buffer::new();
        let mut num = |o: &mut Vec<u8>, key: &[u8], v: u64| {
            o.extend_from_slice(key);
            o.extend_from_slice(n.format(v).as_bytes());
        };
        num(o, b"{\"id\":", rec.id);
        num(o, b",\"phase\":", rec.phase.into());
        num(o, b",\"worker\":", rec.worker.into());
        o.extend_from_slice(b",\"op\":");
        string(o, self.name(rec.op));
        o.extend_from_slice(b",\"name\":");
        string(o, self.name(rec.name));
        o.extend_from_slice(b",\"tenant\":");
        let secret = match self.last_tenant {
            Some((t, secret)) if t == rec.tenant => secret,
            _ => {
                let secret = crate::redact::is_secret(&rec.tenant);
                self.last_tenant = Some((rec.tenant, secret));
                secret
            }
        };
        if secret {
            string(o, crate::redact::MASK);
        } else {
            string(o, self.name(rec.tenant));
        }
        num(o, b",\"amount\":", rec.amount);
        num(o, b",\"intended_us\":", rec.intended_us);
        num(o, b",\"sent_us\":", rec.sent_us);
        num(o, b",\"done_us\":", rec.done_us);
        o.extend_from_slice(b",\"outcome\":\"");
        o.extend_from_slice(rec.outcome.as_str().as_bytes());
        o.push(b'"');
        if let Some(s) = rec.status {
            num(o, b",\"status\":", s.into());
        }
        if let Some(s) = &rec.object {
            o.extend_from_slice(b",\"object\":");
            string(o, s);
        }
        if let Some(s) = &rec.parent {
            o.extend_from_slice(b",\"parent\":");
            string(o, s);
        }
        if let Some(s) = &rec.snapshot {
            o.extend_from_slice(b",\"snapshot\":");
            match &self.last_snapshot {
                Some((last, json)) if last.same(s) => o.extend_from_slice(json),
                _ => {
                    let mut json = Vec::with_capacity(64 * s.len());
                    json.push(b'[');
                    for (i, r) in s.iter().enumerate() {
                        if i > 0 {
                            json.push(b',');
                        }
                        json.extend_from_slice(b"{\"name\":");
                        string(&mut json, &r.name);
                        num(&mut json, b",\"limit\":", r.limit);
                        num(&mut json, b",\"consumed\":", r.consumed);
                        // Window fields, as serde writes them (skipped when unset).
                        if let Some(e) = r.ends_in_us {
                            num(&mut json, b",\"ends_in_us\":", e);
                        }
                        if r.absent {
                            json.extend_from_slice(b",\"absent\":true");
                        }
                        // Per-parent counts of a scoped quota (serde's map order: the
                        // BTreeMap's).
                        if let Some(ps) = &r.parents {
                            json.extend_from_slice(b",\"parents\":{");
                            for (j, (id, n)) in ps.iter().enumerate() {
                                if j > 0 {
                                    json.push(b',');
                                }
                                string(&mut json, id);
                                num(&mut json, b":", *n);
                            }
                            json.push(b'}');
                        }
                        json.push(b'}');
                    }
                    json.push(b']');
                    o.extend_from_slice(&json);
                    self.last_snapshot = Some((s.clone(), json));
                }
            }
        }
        if let Some(s) = &rec.note {
            o.extend_from_slice(b",\"note\":");
            string(o, s);
        }
        o.push(b'}');
    }

    /// Where the file stopped, once a write failed (then every later write is refused:
    /// the file ends at its last whole line).
    pub fn stopped(&self) -> Option<&WriteStopped> {
        self.stopped.as_ref()
    }

    /// Writes the closing line (the run finished: every operation it sent is above)
    /// and flushes to disk.
    pub fn finish(mut self) -> Result<(), Error> {
        self.close()
    }

    /// [`HistoryWriter::finish`] keeping the writer, so that a failure's
    /// [`HistoryWriter::stopped`] can still be read.
    pub fn close(&mut self) -> Result<(), Error> {
        if let Some(s) = &self.stopped {
            return Err(Error::Usage(s.said()));
        }
        self.write_pending(true)?;
        let end = format!("{{\"type\":\"{END_TYPE}\",\"records\":{}}}\n", self.records);
        self.pending.extend_from_slice(end.as_bytes());
        // The closing line is no record: a failure to write it names the records above.
        self.write_pending(false)?;
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))
    }
}

impl Drop for HistoryWriter {
    /// A writer dropped without [`HistoryWriter::close`] (a panic unwinding, an early
    /// return on an error) still writes the records it holds, with no closing line:
    /// `check` then says the run stopped short instead of the records being lost.
    fn drop(&mut self) {
        if self.stopped.is_none() && !self.pending.is_empty() {
            let _ = self.write_pending(true);
        }
    }
}

/// Writes `s` as a JSON string: verbatim when nothing needs escaping (names, ids),
/// otherwise through serde_json so escapes match its output exactly.
fn string(o: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        o.push(b'"');
        o.extend_from_slice(s.as_bytes());
        o.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *o, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{load, HISTORY_VERSION};
    use crate::vocab::{Outcome, Reading};

    fn rec(id: u64) -> OpRecord {
        OpRecord {
            phase: 1,
            worker: u32::MAX,
            op: "list".into(),
            tenant: "org-é".into(),
            amount: 0,
            intended_us: 12,
            ..OpRecord::sample(id, "list_quotas", 13, u64::MAX)
        }
    }

    fn header() -> Header {
        serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": HISTORY_VERSION, "scenario": "s",
            "profile": "p", "target": "http://x", "tenant": "t",
            "started_at": "2025-01-01T00:00:00Z", "phases": ["a"], "quotas": [],
            "operations": {}, "capabilities": {}, "clock_control": false
        }))
        .unwrap()
    }

    #[test]
    fn a_writer_dropped_without_closing_keeps_its_records_and_no_closing_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = HistoryWriter::create(&path, &header()).unwrap();
        // Three records, far below WRITE_AT: all still pending when the writer goes.
        for id in 1..=3 {
            w.append(&rec(id)).unwrap();
        }
        drop(w);
        let (h, warnings) = crate::history::load_checked(&path).unwrap();
        assert_eq!(h.ops.iter().map(|o| o.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("without its closing line")),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_history_that_cannot_take_its_header_says_so_naming_the_file() {
        // /dev/full takes no byte (ENOSPC), as a full disk.
        let full = Path::new("/dev/full");
        if !full.exists() {
            eprintln!("skipped: no /dev/full here");
            return;
        }
        let e = HistoryWriter::create(full, &header())
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("/dev/full: "), "{e}");
        assert!(e.contains("not even its header was written"), "{e}");
    }

    #[test]
    fn a_stopped_write_is_kept_as_data_and_nothing_follows_the_gap() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            eprintln!("skipped: no /dev/full here");
            return;
        }
        // The header goes to a real file; the records' writes then fail (ENOSPC).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut w = HistoryWriter::create(&path, &header()).unwrap();
        w.file = std::fs::OpenOptions::new().write(true).open(full).unwrap();
        w.path = full.to_path_buf();
        let mut failed = None;
        for id in 1..=2_000 {
            if let Err(e) = w.append(&rec(id)) {
                failed = Some((id, e.to_string()));
                break;
            }
        }
        let (at, said) = failed.expect("a write to /dev/full fails");
        let s = w.stopped().cloned().expect("where it stopped");
        assert_eq!(s.file, "/dev/full");
        assert!(s.os_error.contains("No space left on device"), "{s:?}");
        assert_eq!((s.records_written, s.last_whole_line), (0, 1), "{s:?}");
        assert_eq!(s.records_lost, at, "{s:?}");
        assert!(said.contains(&format!("{at} records after them")), "{said}");
        // Later records and the closing line are refused, not written after the gap.
        assert!(w.append(&rec(at + 1)).is_err());
        assert!(w.close().is_err());
    }

    #[test]
    fn records_are_written_exactly_as_serde_json_writes_them() {
        let shared: Readings = vec![
            Reading::new("daily", 600_000, 12),
            Reading::new("we\"ird\\q\u{1}", 0, 0),
            Reading {
                ends_in_us: Some(2_500_000),
                ..Reading::new("windowed", 100, 7)
            },
            Reading {
                absent: true,
                ..Reading::new("absent", 100, 0)
            },
            Reading {
                parents: Some(Box::new(
                    [("cfg-1".to_string(), 2), ("c\"2".to_string(), 0)]
                        .into_iter()
                        .collect(),
                )),
                ..Reading::new("per parent", 2, 2)
            },
        ]
        .into();
        let mut recs = vec![rec(1), rec(2), rec(3), rec(4), rec(5)];
        recs[1].snapshot = Some(shared.clone());
        recs[2].snapshot = Some(shared.clone());
        recs[3] = OpRecord {
            outcome: Outcome::RejectedQuota,
            status: None,
            object: Some("wo-1/\"x\"".into()),
            parent: Some("cfg\t7".into()),
            note: Some("unclassified answer 500: {\"error\":\"boom\"}\n\u{7f}→".into()),
            amount: 40,
            ..rec(4)
        };
        recs[4].snapshot = Some(Vec::new().into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = HistoryWriter::create(&path, &header()).unwrap();
        for r in &recs {
            w.append(r).unwrap();
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        for (line, r) in lines.iter().zip(&recs) {
            assert_eq!(*line, serde_json::to_string(r).unwrap());
        }
        assert_eq!(load(&path).unwrap().ops, recs);
    }
}
