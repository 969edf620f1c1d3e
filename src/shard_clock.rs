//! A shard's clock against the target's, before its load (`run --shard K/N`): an
//! estimate and its bound, recorded in the history header for `quotabench merge`.
//!
//! The target's `Date` header says its time to the second (RFC 9110 §6.6.1: the
//! instant the answer was generated, truncated). An answer sent at local `t0` and
//! received at `t1`, dated `D`, was generated at some local instant in `[t0, t1]` and
//! some target instant in `[D, D + 1 s)`: the offset (target − local) lies in
//! `(D − t1, D + 1 s − t0)`. Several reads intersect their intervals; the estimate is the
//! middle and the bound half the width. Without `Date` there is nothing to estimate
//! from, and the run says so instead of assuming the clocks agree.

use crate::api::template::Vars;
use crate::api::Target;
use crate::vocab::OpKind;

/// How many reads the estimate takes (each one list request, before any load).
pub const SAMPLES: u32 = 3;

/// The offset interval `(low, high)` one dated answer gives, µs: `date` is the `Date`
/// header's instant (whole seconds), `t0`/`t1` the local send and receive, Unix µs.
pub fn interval(date_us: i64, t0: i64, t1: i64) -> (i64, i64) {
    (date_us - t1, date_us + 1_000_000 - t0)
}

/// The estimate and its bound from several intervals: the middle and half-width of
/// their intersection, or of their hull when they do not meet (a clock stepped while
/// reading: the wider answer is the honest one).
pub fn combine(intervals: &[(i64, i64)]) -> Option<(i64, u64)> {
    let lo = intervals.iter().map(|i| i.0).max()?;
    let hi = intervals.iter().map(|i| i.1).min()?;
    let (lo, hi) = if lo <= hi {
        (lo, hi)
    } else {
        (
            intervals.iter().map(|i| i.0).min()?,
            intervals.iter().map(|i| i.1).max()?,
        )
    };
    let mid = lo + (hi - lo) / 2;
    Some((mid, (hi - mid).unsigned_abs()))
}

/// Reads the target's `Date` [`SAMPLES`] times with its first list operation and returns
/// (offset µs, bound µs). The error names the fix (`--clock-uncertainty`).
pub async fn from_date_header(target: &Target) -> Result<(i64, u64), String> {
    let no_date = "the target's answers carry no `Date` header to estimate this shard's clock offset from: give --clock-uncertainty (how far this machine's clock may be from the others', e.g. 50ms with NTP)";
    let Some(op) = target.profile.first_of(OpKind::List) else {
        return Err(format!(
            "the profile declares no list operation, so {no_date}"
        ));
    };
    let mut found = Vec::new();
    let mut scratch = Vec::new();
    for _ in 0..SAMPLES {
        let vars = Vars {
            tenant: &target.tenant,
            request_id: "quotabench-clock",
            now_unix: jiff::Timestamp::now().as_second(),
            ..Vars::default()
        };
        let t0 = jiff::Timestamp::now().as_microsecond();
        let p = target.perform(op, &vars, &mut scratch).await;
        let t1 = jiff::Timestamp::now().as_microsecond();
        let date = p
            .headers
            .get(hyper::http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                jiff::fmt::rfc2822::DateTimeParser::new()
                    .parse_timestamp(v.trim())
                    .ok()
            });
        if let Some(d) = date {
            found.push(interval(d.as_second() * 1_000_000, t0, t1));
        }
    }
    combine(&found).ok_or_else(|| no_date.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dated_answer_bounds_the_offset_by_the_second_and_the_round_trip() {
        // Sent at 10.2 s, back at 10.4 s local, dated 12 s: target − local in (1.6, 2.8).
        let i = interval(12_000_000, 10_200_000, 10_400_000);
        assert_eq!(i, (1_600_000, 2_800_000));
        assert_eq!(combine(&[i]), Some((2_200_000, 600_000)));
    }

    #[test]
    fn reads_across_a_second_boundary_narrow_the_estimate() {
        // True offset 0.7 s: read at local 9.25 s the target is at 9.95 s (dated 9),
        // read at 9.35 s it is at 10.05 s (dated 10).
        let a = interval(9_000_000, 9_250_000, 9_260_000);
        let b = interval(10_000_000, 9_350_000, 9_360_000);
        let (mid, bound) = combine(&[a, b]).unwrap();
        assert!(mid - bound as i64 <= 700_000 && 700_000 <= mid + bound as i64);
        assert!(
            bound < combine(&[a]).unwrap().1,
            "two reads know more than one"
        );
    }

    #[test]
    fn intervals_that_do_not_meet_give_their_hull_never_a_false_precision() {
        let (mid, bound) = combine(&[(0, 10), (20, 30)]).unwrap();
        assert_eq!((mid, bound), (15, 15));
        assert_eq!(combine(&[]), None);
    }
}
