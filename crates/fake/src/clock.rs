//! The fake's one clock: real wall time or a virtual time the tests set and advance,
//! plus the period arithmetic (which day / month a moment belongs to).
//!
//! Time is kept as microseconds since the Unix epoch in an atomic so the hot path reads
//! it without a lock; the virtual clock is moved only through the admin API.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// The fake's clock: real, or virtual (only moved by [`Clock::set`] / [`Clock::advance_us`]).
#[derive(Debug)]
pub struct Clock {
    /// `Some` when virtual: the current virtual time in µs since the epoch.
    virtual_us: Option<AtomicI64>,
}

impl Clock {
    /// A clock following the system's wall time.
    pub fn real() -> Clock {
        Clock { virtual_us: None }
    }

    /// A virtual clock starting at `start`; it only moves when told to.
    pub fn virtual_at(start: Timestamp) -> Clock {
        Clock {
            virtual_us: Some(AtomicI64::new(start.as_microsecond())),
        }
    }

    /// Whether this clock is virtual (and so may be set through the admin API).
    pub fn is_virtual(&self) -> bool {
        self.virtual_us.is_some()
    }

    /// The current time in µs since the epoch (the hot-path form of [`Clock::now`]).
    pub fn now_us(&self) -> i64 {
        match &self.virtual_us {
            Some(v) => v.load(Ordering::Acquire),
            None => Timestamp::now().as_microsecond(),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        ts_from_us(self.now_us())
    }

    /// Sets a virtual clock to `to`. Returns `false` (and does nothing) on a real clock.
    /// Moving backwards is allowed: tests may need it, and periods are recomputed lazily.
    pub fn set(&self, to: Timestamp) -> bool {
        match &self.virtual_us {
            Some(v) => {
                v.store(to.as_microsecond(), Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// Advances a virtual clock by `micros`. Returns `false` on a real clock.
    pub fn advance_us(&self, micros: i64) -> bool {
        match &self.virtual_us {
            Some(v) => {
                // Saturating, and kept inside jiff's range, however often it is called.
                let max = Timestamp::MAX.as_microsecond();
                let min = Timestamp::MIN.as_microsecond();
                let _ = v.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                    Some(t.saturating_add(micros).clamp(min, max))
                });
                true
            }
            None => false,
        }
    }
}

/// Converts µs since the epoch to a timestamp, clamping to jiff's representable range.
pub fn ts_from_us(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(if us < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Formats µs since the epoch as RFC 3339 in UTC exactly as jiff's `Timestamp`
/// Display does (fraction only when non-zero, trailing zeros trimmed), without jiff's
/// general formatting machinery: this runs on every accepted order.
pub fn rfc3339_us(us: i64) -> String {
    use std::fmt::Write;
    let secs = us.div_euclid(MICROS_PER_SEC);
    let frac = us.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return ts_from_us(us).to_string();
    }
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// How period boundaries fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Periods {
    /// Calendar periods in UTC: a day starts at 00:00, a month on the 1st at 00:00.
    Calendar,
    /// Test periods anchored at the epoch: a "day" lasts `day_us`, a "month" is
    /// `days_per_month` such days (so a 2 s day resets every 2 s).
    Scaled {
        /// Length of one "day" in µs (> 0).
        day_us: i64,
        /// Number of "days" in a "month" (> 0).
        days_per_month: i64,
    },
}

impl Periods {
    /// Length of one day in µs.
    pub fn day_us(&self) -> i64 {
        match self {
            Periods::Calendar => MICROS_PER_DAY,
            Periods::Scaled { day_us, .. } => *day_us,
        }
    }

    /// Index of the day containing `now_us`, shifted by `offset_us` (a local-time zone
    /// offset; 0 for UTC). Consecutive days have consecutive indices.
    pub fn day_index(&self, now_us: i64, offset_us: i64) -> i64 {
        (now_us + offset_us).div_euclid(self.day_us())
    }

    /// Index of the month containing `now_us`: `year * 12 + month0` for calendar
    /// periods, `day_index / days_per_month` for scaled ones.
    pub fn month_index(&self, now_us: i64) -> i64 {
        match self {
            Periods::Calendar => {
                let days = now_us.div_euclid(MICROS_PER_DAY);
                let (y, m, _) = civil_from_days(days);
                y * 12 + (m - 1)
            }
            Periods::Scaled { days_per_month, .. } => {
                self.day_index(now_us, 0).div_euclid(*days_per_month)
            }
        }
    }

    /// Start (µs since epoch) of the day with index `day` (UTC-anchored, no offset).
    pub fn day_start_us(&self, day: i64) -> i64 {
        day.saturating_mul(self.day_us())
    }

    /// Start (µs since epoch) of the month with index `month`.
    pub fn month_start_us(&self, month: i64) -> i64 {
        match self {
            Periods::Calendar => {
                let y = month.div_euclid(12);
                let m = month.rem_euclid(12) + 1;
                days_from_civil(y, m, 1).saturating_mul(MICROS_PER_DAY)
            }
            Periods::Scaled {
                day_us,
                days_per_month,
            } => month
                .saturating_mul(*days_per_month)
                .saturating_mul(*day_us),
        }
    }
}

/// Civil date (year, month 1..=12, day 1..=31) of a day count since 1970-01-01
/// (Howard Hinnant's algorithm: exact, no allocation, no time-zone database).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day count since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn rfc3339_matches_jiff() {
        let mut x: i64 = 0x2545_F491_4F6C_DD1D;
        let mut samples = vec![
            0,
            1,
            -1,
            500_000,
            1_738_364_400_000_000,
            -62_135_596_800_000_000,
        ];
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(x.rem_euclid(253_402_300_799_999_999));
        }
        for us in samples {
            assert_eq!(rfc3339_us(us), ts_from_us(us).to_string(), "{us}");
        }
    }

    #[test]
    fn civil_round_trips_against_jiff() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let ts = Timestamp::from_second(days * 86_400).unwrap();
            let date = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
            assert_eq!(
                (y, m, d),
                (date.year() as i64, date.month() as i64, date.day() as i64)
            );
        }
    }

    #[test]
    fn calendar_day_and_month_boundaries_are_utc_midnight() {
        let p = Periods::Calendar;
        let before = us("2025-01-31T23:59:59.999999Z");
        let after = us("2025-02-01T00:00:00Z");
        assert_eq!(p.day_index(after, 0), p.day_index(before, 0) + 1);
        assert_eq!(p.month_index(after), p.month_index(before) + 1);
        let mid = us("2025-02-14T12:00:00Z");
        assert_eq!(p.month_index(mid), p.month_index(after));
        assert_eq!(p.month_start_us(p.month_index(mid)), after);
        assert_eq!(
            p.day_start_us(p.day_index(mid, 0)),
            us("2025-02-14T00:00:00Z")
        );
        // December → January crosses the year.
        assert_eq!(
            p.month_index(us("2026-01-01T00:00:00Z")),
            p.month_index(us("2025-12-31T23:00:00Z")) + 1
        );
    }

    #[test]
    fn scaled_periods_anchor_at_the_epoch() {
        let p = Periods::Scaled {
            day_us: 2_000_000,
            days_per_month: 10,
        };
        assert_eq!(p.day_index(1_999_999, 0), 0);
        assert_eq!(p.day_index(2_000_000, 0), 1);
        assert_eq!(p.month_index(19_999_999), 0);
        assert_eq!(p.month_index(20_000_000), 1);
        assert_eq!(p.month_start_us(3), 60_000_000);
    }

    #[test]
    fn virtual_clock_moves_only_when_told() {
        let c = Clock::virtual_at("2025-01-01T00:00:00Z".parse().unwrap());
        let t0 = c.now_us();
        assert_eq!(c.now_us(), t0);
        assert!(c.advance_us(1_500_000));
        assert_eq!(c.now_us(), t0 + 1_500_000);
        assert!(c.set("2024-01-01T00:00:00Z".parse().unwrap()));
        assert_eq!(c.now().to_string(), "2024-01-01T00:00:00Z");
        assert!(c.advance_us(i64::MAX));
        assert!(c.advance_us(i64::MAX));
        assert_eq!(c.now(), Timestamp::MAX);
        let real = Clock::real();
        assert!(!real.is_virtual());
        assert!(!real.set(Timestamp::UNIX_EPOCH));
        assert!(!real.advance_us(1));
    }
}
