//! Reading history.jsonl: one record at a time ([`stream`]), or the whole history
//! ([`load_checked`], built on it).
//!
//! The reader holds one line and the set of ids seen, never the file: the checker (or
//! any other consumer) decides what to keep. Fields a newer writer adds to a record or
//! to the header (a `shard`, clock uncertainty) are skipped, not refused.

use super::{Header, History, OpRecord, Readings, HISTORY_VERSION};
use crate::error::{ConfigError, Error};
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::fast;
use super::file::END_TYPE;
use super::source::Source;

/// What [`stream`] found besides the records.
#[derive(Debug)]
pub struct Read {
    /// The header line.
    pub header: Header,
    /// What was left out and why (a torn last line, a missing closing line).
    pub warnings: Vec<String>,
    /// Records handed on.
    pub records: u64,
}

/// Loads a saved history; a torn last line (an interrupted write) is left out. Use
/// [`load_checked`] to hear about it.
pub fn load(path: &Path) -> Result<History, Error> {
    load_checked(path).map(|(h, _)| h)
}

/// Loads a saved history and says what it left out (see [`stream`] for what is an
/// error and what a warning).
pub fn load_checked(path: &Path) -> Result<(History, Vec<String>), Error> {
    let mut ops: Vec<OpRecord> = Vec::new();
    let read = stream(path, |_| Ok(()), |r| ops.push(r))?;
    Ok((
        History {
            header: read.header,
            ops,
        },
        read.warnings,
    ))
}

/// Loads a run's history in the order the engine keeps its own copy (completion, then
/// id): what a run that outgrew its in-memory copy judges, so the verdicts are those the
/// copy would have given.
pub fn load_in_order(path: &Path) -> Result<(History, Vec<String>), Error> {
    let (mut h, warnings) = load_checked(path)?;
    h.ops.sort_by_key(|o| (o.done_us, o.id));
    Ok((h, warnings))
}

/// Reads a saved history record by record: `on_header` sees the header before any
/// record, `on_record` each record in file order.
///
/// A run writes whole lines, so a crash leaves at most one torn line, the last. That
/// line is left out with a warning naming it (`file:line`), and the whole lines before
/// it are handed on: a verdict never rests on a torn record. Anything else is an error
/// naming its line: a first line that is not the header, a corrupt line before the
/// last, a record id seen twice. Records are handed on as they are read, so a consumer
/// that judges as it goes must wait for `Ok` before trusting what it was given.
pub fn stream(
    path: &Path,
    on_header: impl FnMut(&Header) -> Result<(), Error>,
    mut on_record: impl FnMut(OpRecord),
) -> Result<Read, Error> {
    stream_while(path, on_header, |r| {
        on_record(r);
        true
    })
}

/// [`stream`], stopping early when `on_record` says false (its consumer is gone): the
/// records read are then all it was given, and the [`Read`] says nothing of the rest.
pub fn stream_while(
    path: &Path,
    mut on_header: impl FnMut(&Header) -> Result<(), Error>,
    mut on_record: impl FnMut(OpRecord) -> bool,
) -> Result<Read, Error> {
    refuse_special(path)?;
    // A history is read once, front to back, and is often gigabytes: large ones are
    // read ahead, directly (source.rs).
    let mut reader = Source::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |line: usize, msg: String| {
        Error::Config(ConfigError {
            file: path.to_path_buf(),
            line: Some(line),
            column: None,
            path: String::new(),
            message: msg,
            // A history file is JSON lines: no YAML snippet.
            snippet: Box::default(),
        })
    };
    let mut warnings = Vec::new();
    let mut buf = Vec::new();
    let first = next_line(&mut reader, &mut buf).map_err(|e| Error::io(path, e))?;
    if first.is_none() {
        return Err(bad(1, "empty history; expected a header line".into()));
    }
    let first: serde_json::Value = serde_json::from_slice(&buf).map_err(|e| {
        bad(
            1,
            format!("expected a history header (the first line of a run's history.jsonl), found a line that is not JSON: {e}"),
        )
    })?;
    if first.get("type").and_then(|t| t.as_str()) != Some("header") {
        return Err(bad(
            1,
            format!(
                "expected the first line to have \"type\": \"header\", found {}; is this a run's history.jsonl?",
                first.get("type").map_or("no type".to_string(), |t| t.to_string())
            ),
        ));
    }
    let header: Header = serde_json::from_value(first)
        .map_err(|e| bad(1, format!("expected a history header: {e}")))?;
    if header.history_version != HISTORY_VERSION {
        return Err(bad(
            1,
            format!(
                "history_version {} is not supported; expected {HISTORY_VERSION}",
                header.history_version
            ),
        ));
    }
    // What a profile may not declare (api::compile), a history written elsewhere may not
    // either: the checker would judge a repeated name as its first and a 65th quota not
    // at all.
    let max = crate::vocab::MAX_QUOTAS;
    if header.quotas.len() > max {
        return Err(bad(
            1,
            format!(
                "the header declares {} quotas; a history holds at most {max}",
                header.quotas.len()
            ),
        ));
    }
    if let Some(q) = (0..header.quotas.len())
        .find(|&i| crate::vocab::declared_before(&header.quotas, i).is_some())
        .map(|i| &header.quotas[i])
    {
        return Err(bad(
            1,
            format!(
                "the header declares quota {:?} twice; each quota has its own name",
                q.name
            ),
        ));
    }
    on_header(&header)?;
    let mut seen = IdSet::default();
    let mut shared = Shared::default();
    let mut names = fast::Names::default();
    let mut records = 0u64;
    let mut pending: Option<(usize, String)> = None;
    let mut ended: Option<usize> = None;
    let mut n = 1;
    // What the line before took of the reader's buffer, given back at the next.
    let mut used = 0;
    loop {
        reader.consume(std::mem::take(&mut used));
        // A line whole in the reader's buffer is parsed where it lies (no copy: a
        // twentieth of the reader's time); one that runs past it is gathered in `buf`.
        let avail = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        if avail.is_empty() {
            break;
        }
        let (line, whole) = match memchr::memchr(b'\n', avail) {
            Some(i) => {
                used = i + 1;
                let l = &avail[..i];
                (l.strip_suffix(b"\r").unwrap_or(l), true)
            }
            None => match next_line(&mut reader, &mut buf).map_err(|e| Error::io(path, e))? {
                Some(whole) => (&buf[..], whole),
                None => break,
            },
        };
        n += 1;
        if let Some(at) = ended {
            return Err(bad(
                n,
                format!("a line after the closing line (line {at}); a history ends there"),
            ));
        }
        if let Some((at, e)) = pending.take() {
            return Err(bad(
                at,
                format!("{e}; only the last line of a history can be torn (an interrupted write), this one is corrupt"),
            ));
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if whole && line.starts_with(b"{\"type\":") {
            let v: serde_json::Value = serde_json::from_slice(line)
                .map_err(|e| bad(n, format!("expected a closing line: {e}")))?;
            if v.get("type").and_then(|t| t.as_str()) != Some(END_TYPE) {
                return Err(bad(
                    n,
                    format!(
                        "expected an operation record or the closing line, found type {}",
                        v["type"]
                    ),
                ));
            }
            let said = v.get("records").and_then(|r| r.as_u64());
            if said != Some(records) {
                return Err(bad(
                    n,
                    format!("the closing line counts {said:?} records, but {records} are above it; records were lost or added"),
                ));
            }
            ended = Some(n);
            continue;
        }
        // The engine's own shape is read by the fast path; serde reads (or refuses,
        // with its words) every other.
        let parsed = match fast::record(line, &mut names) {
            Some(r) => Ok(r),
            None => serde_json::from_slice::<OpRecord>(line),
        };
        match parsed {
            Ok(mut r) => {
                if !seen.insert(r.id) {
                    let first = first_line_of(path, r.id).unwrap_or(0);
                    return Err(bad(
                        n,
                        format!("record id {} already used on line {first}; a run numbers its records once each", r.id),
                    ));
                }
                shared.share(&mut r);
                records += 1;
                if !on_record(r) {
                    return Ok(Read {
                        header,
                        warnings,
                        records,
                    });
                }
            }
            Err(e) => {
                let what = if whole {
                    "expected an operation record"
                } else {
                    "torn record (no newline at its end)"
                };
                pending = Some((n, format!("{what}: {e}")));
            }
        }
    }
    if let Some((at, e)) = pending {
        warnings.push(format!(
            "{}:{at}: {e}; left out, the {records} whole records before it are judged",
            path.display(),
        ));
    } else if ended.is_none() {
        warnings.push(format!(
            "{}:{n}: the history ends without its closing line: the run stopped before finishing (a crash, a kill, a full disk), so operations in flight then are missing; the {records} whole records are judged",
            path.display(),
        ));
    }
    Ok(Read {
        header,
        warnings,
        records,
    })
}

/// Reads one line into `buf`, without its line end; `Some(whole)`, whole when it ended
/// in a newline; `None` at the end of the file.
fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    buf.clear();
    if reader.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    let whole = buf.last() == Some(&b'\n');
    if whole {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(Some(whole))
}

/// Refuses what is not a regular file (a FIFO would block, `/dev/zero` never ends, a
/// directory cannot be read) by its name, before opening it. No size bound: a history
/// grows with its run (a 10-minute soak writes 3 GB), and the reader holds one line.
fn refuse_special(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::FileTypeExt;
    let refuse = |message: String| {
        Error::Config(ConfigError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            path: String::new(),
            message,
            snippet: Box::default(),
        })
    };
    let ft = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot read it: {e}")))?
        .file_type();
    let kind = if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if !ft.is_file() {
        "not a regular file"
    } else {
        return Ok(());
    };
    Err(refuse(format!(
        "expected a regular file, found {kind}; give the path of a run's history.jsonl"
    )))
}

/// The line a record id first appears on (the error path of a duplicate only: the
/// reader keeps no line per id).
fn first_line_of(path: &Path, id: u64) -> Option<usize> {
    let file = std::fs::File::open(path).ok()?;
    for (k, line) in BufReader::new(file).split(b'\n').enumerate().skip(1) {
        let line = line.ok()?;
        if let Ok(r) = serde_json::from_slice::<OpRecord>(&line) {
            if r.id == id {
                return Some(k + 1);
            }
        }
    }
    None
}

/// The record ids seen: a bitmap while ids stay dense (a run numbers them 1, 2, 3, …;
/// one bit each instead of a hash entry of 16 bytes or more), a hash set for the rest.
#[derive(Default)]
struct IdSet {
    bits: Vec<u64>,
    sparse: std::collections::HashSet<u64>,
    len: u64,
}

impl IdSet {
    /// Adds `id`; false when it was there already.
    fn insert(&mut self, id: u64) -> bool {
        self.len += 1;
        // Dense: within a bitmap of at most 64 bits per id seen (plus a start), so a
        // stray huge id cannot make it allocate the world.
        let word = (id / 64) as usize;
        let cap = (self.len as usize + 4096) * 8;
        if word < self.bits.len() || word < cap {
            if word >= self.bits.len() {
                self.bits.resize((word + 1).max(self.bits.len() * 2), 0);
            }
            let mask = 1u64 << (id % 64);
            let fresh = self.bits[word] & mask == 0;
            self.bits[word] |= mask;
            fresh
        } else {
            self.sparse.insert(id)
        }
    }
}

/// Consecutive list records with equal readings share one allocation, as the run's own
/// copy does (a quiet target answers the same list for minutes).
#[derive(Default)]
struct Shared {
    last: Option<Readings>,
}

impl Shared {
    fn share(&mut self, r: &mut OpRecord) {
        let Some(s) = r.snapshot.as_mut() else {
            return;
        };
        match &self.last {
            Some(l) if l == s => *s = l.clone(),
            _ => self.last = Some(s.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn a_history_past_the_yaml_files_16_mib_bound_is_read() {
        // The reader once shared the YAML loader's size bound: every soak's history
        // was refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let h = crate::history::History {
            header: crate::history::Header::sample(),
            ops: vec![],
        };
        let w = crate::history::HistoryWriter::create(&path, &h.header).unwrap();
        drop(w);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        // A blank line (spaces, then a newline) past 16 MiB: the reader skips it.
        use std::io::Write;
        f.write_all(&vec![b' '; 17 << 20]).unwrap();
        f.write_all(b"\n").unwrap();
        drop(f);
        let read = super::stream(&path, |_| Ok(()), |_| ()).unwrap();
        assert_eq!(read.records, 0);
    }

    #[test]
    fn lines_across_the_read_buffer_with_crlf_ends_and_a_torn_tail_read_whole() {
        // 30,000 records (~4 MB) cross the reader's 1 MiB buffer several times, mid-line;
        // every line ends in CRLF; the last is torn (no newline, cut short).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = crate::history::HistoryWriter::create(&path, &crate::history::Header::sample())
            .unwrap();
        let ops: Vec<_> = (1..=30_000u64)
            .map(|id| crate::history::OpRecord::sample(id, "order", id * 10, id * 10 + 5))
            .collect();
        for o in &ops {
            w.append(o).unwrap();
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        // The closing line gives way to the torn record.
        let cut = text.trim_end().rfind('\n').unwrap() + 1;
        let mut crlf = text[..cut].replace('\n', "\r\n");
        crlf.push_str("{\"id\":30001,\"pha");
        std::fs::write(&path, crlf).unwrap();
        let mut back = Vec::new();
        let read = super::stream(&path, |_| Ok(()), |r| back.push(r)).unwrap();
        assert_eq!(read.records, 30_000);
        assert_eq!(back.len(), ops.len());
        for (a, b) in ops.iter().zip(&back) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        assert!(
            read.warnings.iter().any(|w| w.contains("torn record")),
            "{:?}",
            read.warnings
        );
    }

    #[test]
    fn a_header_with_a_quota_named_twice_or_65_quotas_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let write = |quotas: Vec<crate::vocab::QuotaDecl>| {
            let mut header = crate::history::Header::sample();
            header.quotas = quotas;
            crate::history::HistoryWriter::create(&path, &header)
                .unwrap()
                .finish()
                .unwrap();
            super::stream(&path, |_| Ok(()), |_| ()).map(|r| r.records)
        };
        let named = |i: usize| crate::vocab::QuotaDecl {
            name: format!("q{i}"),
            kind: crate::vocab::QuotaKind::Concurrent,
            period: None,
        };
        let e = write(vec![named(1), named(2), named(1)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":1: ") && e.contains("quota \"q1\" twice"),
            "{e}"
        );
        let e = write((0..65).map(named).collect()).unwrap_err().to_string();
        assert!(
            e.contains("declares 65 quotas; a history holds at most 64"),
            "{e}"
        );
        assert_eq!(write((0..64).map(named).collect()).unwrap(), 0);
    }

    #[test]
    fn ids_are_told_apart_dense_or_sparse() {
        let mut s = IdSet::default();
        for id in 1..10_000u64 {
            assert!(s.insert(id));
        }
        assert!(!s.insert(5_000), "a dense id seen twice");
        assert!(s.insert(u64::MAX - 3));
        assert!(!s.insert(u64::MAX - 3), "a sparse id seen twice");
        assert!(s.insert(0));
        assert!(!s.insert(0));
        // The bitmap stayed near the ids' range, not the stray id's.
        assert!(s.bits.len() < 1_000, "{}", s.bits.len());
    }
}
