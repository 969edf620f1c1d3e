//! latency.hlog: HdrHistogram interval log (format 1.3, compressed V2 histograms), one
//! interval per second and one tag per operation label, readable by HdrHistogram's own
//! tools (HistogramLogProcessor, HdrHistogramVisualizer). Values are latencies from the
//! intended start, in µs (the log's max-value divisor makes its max column read in ms).

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::error::Error;

/// Length of one interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// A tag the log format accepts: no spaces or commas.
fn tag_text(label: &str) -> String {
    label.replace([' ', ','], "_")
}

/// One closed interval: (second since start, tag, histogram); `None` ends the log.
type Closed = Option<(u64, String, Histogram<u64>)>;

/// latency.hlog written as the run goes, on its own thread (the log writer borrows its
/// output, so one thread owns both). It is written to `latency.hlog.partial` and renamed
/// when finished: a killed run leaves a file that says it is partial, never one that
/// looks complete.
pub struct HlogStream {
    tx: mpsc::Sender<Closed>,
    thread: std::thread::JoinHandle<Result<(), Error>>,
}

impl HlogStream {
    /// Starts the log at `path`; `start` is the run's wall-clock start.
    pub fn create(path: &Path, start: SystemTime, scenario: &str) -> Result<HlogStream, Error> {
        let partial = path.with_extension("hlog.partial");
        let file = std::fs::File::create(&partial).map_err(|e| Error::io(&partial, e))?;
        let (tx, rx) = mpsc::channel::<Closed>();
        let (final_path, scenario) = (path.to_path_buf(), scenario.to_string());
        let thread = std::thread::Builder::new()
            .name("qb-hlog".into())
            .spawn(move || write_log(file, &partial, &final_path, start, &scenario, rx))
            .map_err(|e| Error::io(path, e))?;
        Ok(HlogStream { tx, thread })
    }

    /// Appends the interval of second `sec` for `label`.
    pub fn interval(&self, sec: u64, label: &str, h: Histogram<u64>) {
        // A send fails only when the writer thread stopped on an error it reports at finish.
        let _ = self.tx.send(Some((sec, tag_text(label), h)));
    }

    /// Writes what is left, flushes, and gives the file its final name.
    pub fn finish(self) -> Result<(), Error> {
        let _ = self.tx.send(None);
        self.thread
            .join()
            .map_err(|_| Error::Target("the latency.hlog writer panicked".into()))?
    }
}

fn write_log(
    file: std::fs::File,
    partial: &Path,
    path: &Path,
    start: SystemTime,
    scenario: &str,
    rx: mpsc::Receiver<Closed>,
) -> Result<(), Error> {
    match fill_log(file, partial, path, start, scenario, rx) {
        Ok(true) => Ok(()),
        // Dropped without `finish` (the run died): the file keeps its .partial name.
        Ok(false) => Err(Error::Target(
            "cannot write latency.hlog: the run ended before the log did".into(),
        )),
        // A write failed (a full disk): what is there is cut short and of no use to a
        // reader, and summary.json says why there is no log; leave no .partial behind.
        Err(e) => {
            let _ = std::fs::remove_file(partial);
            Err(e)
        }
    }
}

/// Writes the log and renames it into place: `Ok(false)` when the run dropped its end
/// of the channel without finishing.
fn fill_log(
    file: std::fs::File,
    partial: &Path,
    path: &Path,
    start: SystemTime,
    scenario: &str,
    rx: mpsc::Receiver<Closed>,
) -> Result<bool, Error> {
    let fail = |e: String| Error::Target(format!("cannot write latency.hlog: {e}"));
    let mut out = std::io::BufWriter::new(file);
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut w = IntervalLogWriterBuilder::new()
            // HdrHistogram's Java writer opens with this line; its tools read it.
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(&format!(
                "quotabench {} latency from intended start, µs",
                env!("CARGO_PKG_VERSION")
            ))
            .add_comment(&format!("scenario {scenario}"))
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut out, &mut serializer)
            .map_err(|e| fail(e.to_string()))?;
        loop {
            match rx.recv() {
                Ok(Some((sec, tag, h))) => w
                    .write_histogram(&h, INTERVAL * (sec as u32), INTERVAL, Tag::new(&tag))
                    .map_err(|e| fail(format!("{e:?}")))?,
                Ok(None) => break,
                Err(_) => return Ok(false),
            }
        }
    }
    out.flush().map_err(|e| Error::io(partial, e))?;
    out.get_ref()
        .sync_all()
        .map_err(|e| Error::io(partial, e))?;
    std::fs::rename(partial, path).map_err(|e| Error::io(path, e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    use std::collections::BTreeMap;
    use std::io::Cursor;

    #[test]
    fn round_trips_through_hdrhistograms_own_reader() {
        let h = crate::report::example::example_history();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        let log = HlogStream::create(&path, SystemTime::now(), "example").unwrap();
        assert!(dir.path().join("latency.hlog.partial").exists());
        let mut intervals = super::super::intervals::Intervals::new(Some(log));
        for o in &h.ops {
            intervals.record(o.op, o.done_us, o.done_us - o.intended_us);
        }
        intervals.finish().unwrap();
        assert!(
            !dir.path().join("latency.hlog.partial").exists(),
            "renamed when finished"
        );
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("#[Histogram log format version 1.3]"),
            "{text}"
        );
        // Expected per tag: count and max latency, straight from the history.
        let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for o in &h.ops {
            let e = want.entry(tag_text(&o.op)).or_default();
            e.0 += 1;
            e.1 = e.1.max(o.done_us - o.intended_us);
        }
        let mut got: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut de = Deserializer::new();
        let mut intervals = 0;
        for entry in IntervalLogIterator::new(&bytes) {
            if let LogEntry::Interval(ilh) = entry.unwrap() {
                intervals += 1;
                assert_eq!(ilh.duration(), INTERVAL);
                let raw = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    ilh.encoded_histogram(),
                )
                .unwrap();
                let hist: Histogram<u64> = de.deserialize(&mut Cursor::new(raw)).unwrap();
                let e = got
                    .entry(ilh.tag().unwrap().as_str().to_string())
                    .or_default();
                e.0 += hist.len();
                e.1 = e.1.max(hist.max());
            }
        }
        assert!(
            intervals > 10,
            "one interval per second and tag: {intervals}"
        );
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (tag, (n, max)) in &want {
            let (gn, gmax) = got[tag];
            assert_eq!(gn, *n, "{tag} count");
            // 3 significant digits: the decoded max is within 0.1% of the true one.
            assert!(
                (gmax as f64 - *max as f64).abs() <= *max as f64 * 0.001 + 1.0,
                "{tag} max {gmax} vs {max}"
            );
        }
    }

    #[test]
    fn a_log_dropped_without_finish_keeps_its_partial_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        let log = HlogStream::create(&path, SystemTime::now(), "x").unwrap();
        log.interval(0, "list", Histogram::new_with_bounds(1, 1000, 3).unwrap());
        let HlogStream { tx, thread } = log;
        drop(tx);
        assert!(thread.join().unwrap().is_err());
        assert!(!path.exists(), "a dead run's log must not look complete");
        assert!(dir.path().join("latency.hlog.partial").exists());
    }
}
