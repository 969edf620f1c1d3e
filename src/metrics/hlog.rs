//! latency.hlog: HdrHistogram interval log (format 1.3, compressed V2 histograms), one
//! interval per second and one tag per operation label, readable by HdrHistogram's own
//! tools (HistogramLogProcessor, HdrHistogramVisualizer). Values are latencies from the
//! intended start, in µs (the log's max-value divisor makes its max column read in ms).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::error::Error;
use crate::history::History;

/// Length of one interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// A tag the log format accepts: no spaces or commas.
fn tag_text(label: &str) -> String {
    label.replace([' ', ','], "_")
}

/// Renders the interval log of a history; `not_kept` operations that only reached
/// history.jsonl (past the memory bound) are named in a comment.
pub fn render(h: &History, not_kept: u64) -> Result<Vec<u8>, Error> {
    let fail = |e: String| Error::Target(format!("cannot write latency.hlog: {e}"));
    let start = h
        .header
        .started_at
        .parse::<jiff::Timestamp>()
        .map_or(UNIX_EPOCH, SystemTime::from);
    // (second, label) -> histogram; operations complete out of order only slightly.
    let mut buckets: BTreeMap<(u64, String), Histogram<u64>> = BTreeMap::new();
    for o in &h.ops {
        let key = (o.done_us / INTERVAL.as_micros() as u64, tag_text(&o.op));
        let hist = match buckets.get_mut(&key) {
            Some(x) => x,
            None => buckets.entry(key).or_insert(
                Histogram::new_with_bounds(1, super::MAX_US, 3).map_err(|e| fail(e.to_string()))?,
            ),
        };
        hist.saturating_record(
            o.done_us
                .saturating_sub(o.intended_us)
                .clamp(1, super::MAX_US),
        );
    }
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut w = IntervalLogWriterBuilder::new()
            // HdrHistogram's Java writer opens with this line; its tools read it.
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(&format!(
                "quotabench {} latency from intended start, µs",
                env!("CARGO_PKG_VERSION")
            ))
            .add_comment(&format!("scenario {}", h.header.scenario))
            .add_comment(&if not_kept > 0 {
                format!("PARTIAL: {not_kept} operations past the in-memory bound are only in history.jsonl")
            } else {
                "every operation of the run".to_string()
            })
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut out, &mut serializer)
            .map_err(|e| fail(e.to_string()))?;
        for ((sec, label), hist) in &buckets {
            w.write_histogram(hist, INTERVAL * (*sec as u32), INTERVAL, Tag::new(label))
                .map_err(|e| fail(format!("{e:?}")))?;
        }
    }
    Ok(out)
}

/// Writes latency.hlog atomically.
pub fn write_hlog(h: &History, path: &Path, not_kept: u64) -> Result<(), Error> {
    crate::report::write_atomic(path, &render(h, not_kept)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    use std::io::Cursor;

    #[test]
    fn round_trips_through_hdrhistograms_own_reader() {
        let h = crate::report::example::example_history();
        let bytes = render(&h, 0).unwrap();
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
}
