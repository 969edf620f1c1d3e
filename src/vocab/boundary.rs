//! Period boundaries in the target's time: when the next one falls, and how the reset
//! probe and the reset rules say it. One function for both, so the engine's decision to
//! wait (or not) and the checker's reading of the history agree.

use super::quota::{PeriodDecl, QuotaDecl, QuotaKind};

/// The first boundary of `period` strictly after Unix second `s`: 00:00 UTC for daily,
/// the 1st at 00:00 UTC for monthly, the next multiple of the length for fixed windows.
/// `None` for windows that start at first use (nothing to wait for from outside).
pub fn next_boundary(period: &PeriodDecl, s: i64) -> Option<i64> {
    match period {
        PeriodDecl::Daily => Some((s.div_euclid(86_400) + 1) * 86_400),
        PeriodDecl::Monthly => {
            let utc = jiff::tz::TimeZone::UTC;
            let d = jiff::Timestamp::from_second(s)
                .ok()?
                .to_zoned(utc.clone())
                .date();
            let next = d
                .first_of_month()
                .checked_add(jiff::Span::new().months(1))
                .ok()?;
            Some(next.to_zoned(utc).ok()?.timestamp().as_second())
        }
        PeriodDecl::Fixed(len) => {
            let len = len.0.as_secs() as i64;
            (len > 0).then(|| (s.div_euclid(len) + 1) * len)
        }
        _ => None,
    }
}

/// The earliest next boundary over the declared period quotas, with its period.
pub fn next_of(quotas: &[QuotaDecl], s: i64) -> Option<(i64, PeriodDecl)> {
    quotas
        .iter()
        .filter(|q| q.kind == QuotaKind::Period)
        .filter_map(|q| q.period.as_ref())
        .filter_map(|p| next_boundary(p, s).map(|b| (b, p.clone())))
        .min_by_key(|(b, _)| *b)
}

/// A duration for people: `57m`, `2h05m`, `3d4h`, `12s`.
pub fn human(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `next daily boundary 2026-12-02T00:00:00Z is in 57m, beyond wait: 15m`.
pub fn beyond_wait(period: &PeriodDecl, boundary: i64, now: i64, wait_s: u64) -> String {
    let at = jiff::Timestamp::from_second(boundary)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| boundary.to_string());
    format!(
        "next {period} boundary {at} is in {}, beyond wait: {}",
        human(boundary - now),
        human(wait_s as i64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn boundaries_are_the_next_day_month_or_window() {
        let now = ts("2026-12-01T23:03:00Z");
        assert_eq!(
            next_boundary(&PeriodDecl::Daily, now),
            Some(ts("2026-12-02T00:00:00Z"))
        );
        assert_eq!(
            next_boundary(&PeriodDecl::Monthly, now),
            Some(ts("2027-01-01T00:00:00Z"))
        );
        // Exactly on a boundary: the next one.
        let midnight = ts("2026-12-02T00:00:00Z");
        assert_eq!(
            next_boundary(&PeriodDecl::Daily, midnight),
            Some(midnight + 86_400)
        );
        let ten = PeriodDecl::Fixed(crate::vocab::units::Span(std::time::Duration::from_secs(
            10,
        )));
        assert_eq!(next_boundary(&ten, 1_000_005), Some(1_000_010));
        assert_eq!(
            beyond_wait(&PeriodDecl::Daily, midnight, now, 900),
            "next daily boundary 2026-12-02T00:00:00Z is in 57m, beyond wait: 15m"
        );
    }
}
