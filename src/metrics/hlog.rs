//! latency.hlog: HdrHistogram interval log (format 1.3, compressed V2 histograms), one
//! interval per second and one tag per operation label, readable by HdrHistogram's own
//! tools (HistogramLogProcessor, HdrHistogramVisualizer). Values are latencies from the
//! intended start, in µs (the log's max-value divisor makes its max column read in ms).

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hdrhistogram::Histogram;

use super::hdr_v2::{EncodeError, V2Encoder};
use crate::error::Error;

/// Length of one interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// A tag the log format accepts: no comma, space, CR or LF (a comma ends the tag, a line
/// break the line; HdrHistogram's readers split on both).
fn tag_text(label: &str) -> String {
    label.replace([' ', ',', '\r', '\n'], "_")
}

/// One closed interval: (second since start, tag, histogram); `None` ends the log.
type Closed = Option<(u64, String, Histogram<u64>)>;

/// latency.hlog written as the run goes, on its own thread (encoding and compressing
/// stay off the collector's path). It is written to `latency.hlog.partial` and renamed
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
    let mut w = LogWriter::begin(std::io::BufWriter::new(file), start, scenario)
        .map_err(|e| fail(e.to_string()))?;
    loop {
        match rx.recv() {
            Ok(Some((sec, tag, h))) => w
                .interval(INTERVAL * (sec as u32), INTERVAL, &tag, &h)
                .map_err(|e| fail(e.to_string()))?,
            Ok(None) => break,
            Err(_) => return Ok(false),
        }
    }
    let mut out = w.out;
    out.flush().map_err(|e| Error::io(partial, e))?;
    out.get_ref()
        .sync_all()
        .map_err(|e| Error::io(partial, e))?;
    std::fs::rename(partial, path).map_err(|e| Error::io(path, e))?;
    Ok(true)
}

/// Why an interval could not be written.
#[derive(Debug, thiserror::Error)]
enum IntervalError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// An interval log, format 1.3, as HdrHistogram's writers make it: hdrhistogram 7.5's
/// `src/serialization/interval_log/mod.rs` (`IntervalLogWriterBuilder`,
/// `IntervalLogWriter`), whose text this reproduces line for line, and the Java
/// `HistogramLogWriter` it follows. Comment lines start with `#`; the headers are
/// `#[StartTime: S (seconds since epoch)]`, `#[BaseTime: S (seconds since epoch)]` (the
/// intervals' start times count from it) and `#[MaxValueDivisor: D]`; each interval is
/// `[Tag=T,]start,duration,max/D,base64(compressed V2 histogram)`, times in seconds with
/// 3 decimals.
struct LogWriter<W: Write> {
    out: W,
    encoder: V2Encoder,
    line: String,
}

/// Interval maxima in the log are in ms (values are µs): only the human-read column.
const MAX_VALUE_DIVISOR: f64 = 1000.0;

impl<W: Write> LogWriter<W> {
    /// Writes the header: the format's version line first (HdrHistogram's Java writer
    /// opens with it; its tools read it), then what the run is, the start and base times
    /// (both the run's start) and the max column's divisor.
    fn begin(mut out: W, start: SystemTime, scenario: &str) -> std::io::Result<LogWriter<W>> {
        let comments = [
            "[Histogram log format version 1.3]".to_string(),
            format!(
                "quotabench {} latency from intended start, µs",
                env!("CARGO_PKG_VERSION")
            ),
            format!("scenario {scenario}"),
        ];
        for c in &comments {
            // A line break in a comment would start a line that is not one: each part
            // becomes a comment line of its own, as the crate's writer does.
            for l in c.split('\n') {
                writeln!(out, "#{l}")?;
            }
        }
        let start = epoch_seconds(start);
        writeln!(out, "#[StartTime: {start:.3} (seconds since epoch)]")?;
        writeln!(out, "#[BaseTime: {start:.3} (seconds since epoch)]")?;
        writeln!(out, "#[MaxValueDivisor: {MAX_VALUE_DIVISOR:.3}]")?;
        Ok(LogWriter {
            out,
            encoder: V2Encoder::new(),
            line: String::new(),
        })
    }

    /// One interval of `h`, starting `start` after the base time; `tag` must come from
    /// [`tag_text`]. The histogram is encoded before anything is written, so a histogram
    /// that cannot be encoded leaves no half line.
    fn interval(
        &mut self,
        start: Duration,
        duration: Duration,
        tag: &str,
        h: &Histogram<u64>,
    ) -> Result<(), IntervalError> {
        use std::fmt::Write as _;
        let encoded = self.encoder.compressed(h)?;
        self.line.clear();
        // Writing to a String cannot fail.
        let _ = write!(
            self.line,
            "Tag={tag},{:.3},{:.3},{:.3},",
            start.as_secs_f64(),
            duration.as_secs_f64(),
            // Max as the crate and the Java writer print it: the highest equivalent
            // value of the maximum, divided.
            h.max() as f64 / MAX_VALUE_DIVISOR,
        );
        base64::engine::general_purpose::STANDARD.encode_string(encoded, &mut self.line);
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        Ok(())
    }
}

/// Seconds since the Unix epoch, negative before it, as the crate writes a SystemTime.
fn epoch_seconds(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
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

    /// The same header and intervals through hdrhistogram's own writer.
    fn crates_log(start: SystemTime, scenario: &str, intervals: &[Interval]) -> Vec<u8> {
        use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
        let mut out = Vec::new();
        let mut ser = hdrhistogram::serialization::V2DeflateSerializer::new();
        let mut w = IntervalLogWriterBuilder::new()
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(&format!(
                "quotabench {} latency from intended start, µs",
                env!("CARGO_PKG_VERSION")
            ))
            .add_comment(&format!("scenario {scenario}"))
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut out, &mut ser)
            .unwrap();
        for (at, len, tag, h) in intervals {
            w.write_histogram(h, *at, *len, Tag::new(tag)).unwrap();
        }
        drop(w);
        out
    }

    fn our_log(start: SystemTime, scenario: &str, intervals: &[Interval]) -> Vec<u8> {
        let mut w = LogWriter::begin(Vec::new(), start, scenario).unwrap();
        for (at, len, tag, h) in intervals {
            w.interval(*at, *len, tag, h).unwrap();
        }
        w.out
    }

    type Interval = (Duration, Duration, String, Histogram<u64>);

    fn decode(base64_text: &str) -> Histogram<u64> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(base64_text)
            .unwrap();
        Deserializer::new()
            .deserialize(&mut Cursor::new(raw))
            .unwrap()
    }

    #[test]
    fn the_log_is_the_crates_writers_log_line_for_line() {
        let new = super::super::new_hist;
        let mut intervals: Vec<Interval> = Vec::new();
        for (sec, tag, values) in [
            (0u64, "consume", &[1u64, 250, 250, 9_000][..]),
            (0, "list", &[3_600_000_000]),
            (1, "consume", &[]),
            (7, "delete_identities", &[12, 13, 14, 1_000_000]),
            (86_400, "consume", &[777]),
        ] {
            let mut h = new();
            for v in values {
                h.record(*v).unwrap();
            }
            intervals.push((INTERVAL * sec as u32, INTERVAL, tag_text(tag), h));
        }
        // Sub-second start and length, and a scenario name with a line break.
        let mut odd = new();
        odd.record(42).unwrap();
        intervals.push((
            Duration::new(3, 123_456_789),
            Duration::from_millis(1_999),
            tag_text("a b,c"),
            odd,
        ));
        for start in [
            SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 987_654_321),
            SystemTime::UNIX_EPOCH - Duration::from_millis(1_500),
        ] {
            let scenario = "two\nlines";
            let ours = String::from_utf8(our_log(start, scenario, &intervals)).unwrap();
            let theirs = String::from_utf8(crates_log(start, scenario, &intervals)).unwrap();
            let (ours, theirs): (Vec<_>, Vec<_>) =
                (ours.lines().collect(), theirs.lines().collect());
            assert_eq!(ours.len(), theirs.len(), "{ours:#?}\n{theirs:#?}");
            let mut histograms = 0;
            for (o, t) in ours.iter().zip(&theirs) {
                if o.starts_with('#') {
                    assert_eq!(o, t);
                    continue;
                }
                // Compression may differ: the fields before the histogram are the same
                // text, the histograms decode equal.
                let (o_fields, o_hist) = o.rsplit_once(',').unwrap();
                let (t_fields, t_hist) = t.rsplit_once(',').unwrap();
                assert_eq!(o_fields, t_fields);
                let (o_hist, t_hist) = (decode(o_hist), decode(t_hist));
                assert!(o_hist == t_hist, "{o}\n{t}");
                assert!(o_hist == intervals[histograms].3, "{o}");
                histograms += 1;
            }
            assert_eq!(histograms, intervals.len());
        }
    }

    #[test]
    fn the_crates_reader_reads_tags_times_and_histograms() {
        let mut intervals: Vec<Interval> = Vec::new();
        for sec in 0..5u32 {
            for tag in ["consume", "list"] {
                let mut h = super::super::new_hist();
                h.record_n(u64::from(sec) * 1000 + 1, u64::from(sec) + 1)
                    .unwrap();
                intervals.push((INTERVAL * sec, INTERVAL, tag.to_string(), h));
            }
        }
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let bytes = our_log(start, "s", &intervals);
        let mut read = Vec::new();
        let (mut start_time, mut base_time) = (None, None);
        for entry in IntervalLogIterator::new(&bytes) {
            match entry.unwrap() {
                LogEntry::Interval(i) => read.push((
                    i.start_timestamp(),
                    i.duration(),
                    i.tag().unwrap().as_str().to_string(),
                    decode(i.encoded_histogram()),
                    i.max(),
                )),
                LogEntry::StartTime(t) => start_time = Some(t),
                LogEntry::BaseTime(t) => base_time = Some(t),
            }
        }
        assert_eq!(start_time, Some(Duration::from_secs(1_700_000_000)));
        assert_eq!(base_time, start_time);
        assert_eq!(read.len(), intervals.len());
        for ((at, len, tag, h), (r_at, r_len, r_tag, r_h, r_max)) in intervals.iter().zip(&read) {
            assert_eq!((at, len, tag), (r_at, r_len, r_tag));
            assert!(h == r_h, "{tag} at {at:?}");
            assert_eq!(*r_max, h.max() as f64 / 1000.0);
        }
    }

    #[test]
    fn a_histogram_that_cannot_be_encoded_is_an_error_and_no_half_line() {
        let mut w = LogWriter::begin(Vec::new(), SystemTime::UNIX_EPOCH, "x").unwrap();
        let header = w.out.len();
        let mut h = super::super::new_hist();
        h.record_n(5, u64::MAX).unwrap();
        let e = w.interval(INTERVAL, INTERVAL, "list", &h).unwrap_err();
        assert!(e.to_string().contains("i64::MAX"), "{e}");
        assert_eq!(w.out.len(), header, "nothing written");
    }

    #[test]
    fn tags_lose_what_would_end_them() {
        assert_eq!(tag_text("a b,c\r\nd"), "a_b_c__d");
        assert!(hdrhistogram::serialization::interval_log::Tag::new(&tag_text("x\ny")).is_some());
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
