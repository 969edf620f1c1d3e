//! history.jsonl: one header line, then one line per operation.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use super::{Header, History, OpRecord, HISTORY_VERSION};
use crate::error::{ConfigError, Error};

/// Streams records to a file as they complete, so an interrupted run keeps them.
pub struct HistoryWriter {
    out: BufWriter<std::fs::File>,
    path: std::path::PathBuf,
}

impl HistoryWriter {
    /// Creates the file and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Self, Error> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = HistoryWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
        };
        w.line(header)?;
        Ok(w)
    }

    fn line<T: serde::Serialize>(&mut self, v: &T) -> Result<(), Error> {
        let text = serde_json::to_string(v).map_err(|e| Error::Target(e.to_string()))?;
        let text = crate::redact::redact(&text);
        self.out
            .write_all(text.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Appends one record. Records hold no secrets (error excerpts are redacted when
    /// taken), so they are serialized straight into the buffer: this is the hot path.
    pub fn append(&mut self, rec: &OpRecord) -> Result<(), Error> {
        serde_json::to_writer(&mut self.out, rec)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Flushes to disk.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Loads a saved history; a torn last line (an interrupted write) is ignored.
pub fn load(path: &Path) -> Result<History, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut lines = BufReader::new(file).lines();
    let bad = |line: usize, msg: String| {
        Error::Config(ConfigError {
            file: path.to_path_buf(),
            line: Some(line),
            column: None,
            path: String::new(),
            message: msg,
        })
    };
    let first = match lines.next() {
        Some(l) => l.map_err(|e| Error::io(path, e))?,
        None => return Err(bad(1, "empty history; expected a header line".into())),
    };
    let header: Header = serde_json::from_str(&first)
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
    let mut ops = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, l) in lines.enumerate() {
        let l = l.map_err(|e| Error::io(path, e))?;
        if let Some((n, e)) = pending.take() {
            return Err(bad(n, e));
        }
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<OpRecord>(&l) {
            Ok(r) => ops.push(r),
            // Only the very last line may be torn; anything earlier is corruption.
            Err(e) => pending = Some((i + 2, format!("expected an operation record: {e}"))),
        }
    }
    Ok(History { header, ops })
}
