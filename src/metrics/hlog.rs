//! latency.hlog: the HdrHistogram interval log (format 1.3, compressed V2 histograms),
//! one tag per operation label, one interval per second, built from the history.
//! HdrHistogram's own tools (HistogramLogProcessor, HistogramLogAnalyzer) read it;
//! values are microseconds, so use `-outputValueUnitRatio 1000` for milliseconds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use super::MAX_US;
use crate::error::Error;
use crate::history::History;

/// A tag HdrHistogram accepts: no comma, space or line break.
pub fn tag_for(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if matches!(c, ',' | ' ' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn new_hist() -> Result<Histogram<u64>, Error> {
    Histogram::new_with_bounds(1, MAX_US, 3)
        .map_err(|e| Error::Target(format!("histogram bounds: {e}")))
}

/// Renders the interval log of a history. Every tag gets an interval for every second
/// from 0 to the last completion, empty ones included, so per-second plots have no gaps.
pub fn render_hlog(h: &History) -> Result<Vec<u8>, Error> {
    // label → second → histogram of latency (done − intended).
    let mut per: BTreeMap<&str, BTreeMap<u64, Histogram<u64>>> = BTreeMap::new();
    let mut last_second = 0u64;
    for o in &h.ops {
        let sec = o.done_us / 1_000_000;
        last_second = last_second.max(sec);
        let slot = per.entry(o.op.as_str()).or_default();
        let hist = match slot.entry(sec) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(new_hist()?),
        };
        hist.saturating_record(o.done_us.saturating_sub(o.intended_us).clamp(1, MAX_US));
    }
    let start: Option<jiff::Timestamp> = h.header.started_at.parse().ok();
    let mut out = Vec::new();
    out.extend_from_slice(b"#[Histogram log format version 1.3]\n");
    let _ = writeln!(
        out,
        "#[quotabench {}: latency from the intended start, microseconds, scenario {}]",
        env!("CARGO_PKG_VERSION"),
        h.header.scenario.replace('\n', " ")
    );
    if let Some(t) = start {
        let _ = writeln!(
            out,
            "#[StartTime: {:.3} (seconds since epoch), {t}]",
            t.as_millisecond() as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "#[BaseTime: {:.3} (seconds since epoch)]",
            t.as_millisecond() as f64 / 1000.0
        );
    }
    out.extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    let mut serializer = V2DeflateSerializer::new();
    let mut w = IntervalLogWriterBuilder::new()
        .begin_log_with(&mut out, &mut serializer)
        .map_err(|e| Error::Target(format!("latency.hlog: {e}")))?;
    let empty = new_hist()?;
    let tags: Vec<(String, &BTreeMap<u64, Histogram<u64>>)> =
        per.iter().map(|(l, m)| (tag_for(l), m)).collect();
    for sec in 0..=last_second {
        for (tag, by_sec) in &tags {
            let hist = by_sec.get(&sec).unwrap_or(&empty);
            w.write_histogram(
                hist,
                Duration::from_secs(sec),
                Duration::from_secs(1),
                Tag::new(tag),
            )
            .map_err(|e| Error::Target(format!("latency.hlog: {e}")))?;
        }
    }
    Ok(out)
}

/// Writes latency.hlog for a history (atomically, like every report file).
pub fn write_hlog(h: &History, path: &Path) -> Result<(), Error> {
    crate::report::write_atomic(path, &render_hlog(h)?)
}

/// The wall-clock start a log declares, for readers that need absolute times.
pub fn start_time(h: &History) -> Option<SystemTime> {
    let t: jiff::Timestamp = h.header.started_at.parse().ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(
        u64::try_from(t.as_millisecond()).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn round_trips_counts_and_max_per_tag() {
        let h = crate::report::example::example_history();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        write_hlog(&h, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"#[Histogram log format version 1.3]\n"));

        let mut de = Deserializer::new();
        let mut count: BTreeMap<String, u64> = BTreeMap::new();
        let mut max: BTreeMap<String, u64> = BTreeMap::new();
        let mut intervals = 0;
        for e in IntervalLogIterator::new(&bytes) {
            let LogEntry::Interval(i) = e.unwrap() else {
                continue;
            };
            intervals += 1;
            assert_eq!(i.duration(), Duration::from_secs(1));
            let tag = i.tag().unwrap().as_str().to_string();
            let raw = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                i.encoded_histogram(),
            )
            .unwrap();
            let hist: Histogram<u64> = de.deserialize(&mut &raw[..]).unwrap();
            assert_eq!(i.max(), hist.max() as f64);
            *count.entry(tag.clone()).or_default() += hist.len();
            let m = max.entry(tag).or_default();
            *m = (*m).max(hist.max());
        }
        for label in ["consume", "list"] {
            let lat: Vec<u64> = h
                .ops
                .iter()
                .filter(|o| o.op == label)
                .map(|o| o.done_us - o.intended_us)
                .collect();
            assert_eq!(count[label], lat.len() as u64, "{label} count");
            let want = *lat.iter().max().unwrap();
            let got = max[label];
            // 3 significant digits: the recorded max is within 0.1 % of the true one.
            assert!(
                got.abs_diff(want) * 1000 <= want,
                "{label} max {got} vs {want}"
            );
        }
        let seconds = h.ops.iter().map(|o| o.done_us / 1_000_000).max().unwrap() + 1;
        assert_eq!(intervals, 2 * seconds, "one interval per second per tag");
        assert!(start_time(&h).is_some());
    }

    #[test]
    fn tags_never_break_the_line_format() {
        assert_eq!(tag_for("list all,now"), "list_all_now");
    }
}
