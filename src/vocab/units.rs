//! Scalar types written as strings in YAML: durations, rates, amounts.
//!
//! Each rejects bad input while deserializing, so the error carries its position.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written as `500ms`, `10s`, `2m`, `1h`, `1d` (also `250us`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span(pub Duration);

/// The longest duration any field accepts (a rolling year, with a leap day). Fields
/// bound themselves tighter where it matters (a phase runs at most 30 days); this bound
/// keeps every conversion to `Duration` and `Instant` arithmetic far from overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// Parses `10s`-style durations; `None` for anything else, including durations past
/// [`MAX_DURATION`] (use [`check_duration`] for the reason).
pub fn parse_duration(s: &str) -> Option<Duration> {
    check_duration(s).ok()
}

/// Parses `10s`-style durations, saying what is wrong when it cannot. Compound
/// durations (`1m30s`, `1h30m`, `2d12h`) are accepted with their units largest first,
/// each at most once, as Go's `time.ParseDuration` and k6 write them.
pub fn check_duration(s: &str) -> Result<Duration, String> {
    let bad =
        || format!(r#"expected a duration like "10s", "500ms", "2m" or "1m30s", found "{s}""#);
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut rest = t;
    let mut secs = 0.0_f64;
    // The rank of the last unit seen: a compound must go from larger to smaller units.
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(split);
        let n: f64 = num.parse().map_err(|_| bad())?;
        if !n.is_finite() || n < 0.0 {
            return Err(bad());
        }
        // One space between a lone number and its unit is tolerated (`10 s`).
        let tail = if last_rank == usize::MAX {
            tail.trim_start()
        } else {
            tail
        };
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_len);
        let (rank, scale) = match unit {
            "d" => (0, 86400.0),
            "h" => (1, 3600.0),
            "m" | "min" => (2, 60.0),
            "s" => (3, 1.0),
            "ms" => (4, 1e-3),
            "us" | "µs" => (5, 1e-6),
            _ => return Err(bad()),
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(format!(
                r#"expected the units of a compound duration largest first and each once, like "1h30m", found "{s}""#
            ));
        }
        last_rank = rank;
        secs += n * scale;
        rest = after;
        if rest.starts_with(char::is_whitespace) {
            return Err(bad());
        }
    }
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!(
            r#"expected a duration of at most 366d, found "{s}""#
        )),
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us.is_multiple_of(1_000_000) {
            write!(f, "{}s", us / 1_000_000)
        } else if us.is_multiple_of(1000) {
            write!(f, "{}ms", us / 1000)
        } else {
            write!(f, "{us}us")
        }
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a duration like "10s", "500ms", "2m" or "1m30s""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Span, E> {
                check_duration(s).map(Span).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Span, E> {
                Err(E::custom(format!(
                    r#"expected a duration with a unit like "{n}s" or "{n}ms", found {n}"#
                )))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Span, E> {
                self.visit_u64(n.unsigned_abs())
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An arrival rate written as `200/s`, `30/m` or `1000/h`; stored per second.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

impl Rate {
    /// Requests per second.
    pub fn per_second(self) -> f64 {
        self.0
    }
}

/// The highest rate any field accepts, per second.
pub const MAX_RATE_PER_SECOND: f64 = 10_000_000.0;

fn parse_rate(s: &str) -> Option<f64> {
    let (n, unit) = s.trim().split_once('/')?;
    let n: f64 = n.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let per = match unit.trim() {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some(n / per)
}

/// Parses `200/s`-style rates, saying what is wrong when it cannot.
pub fn check_rate(s: &str) -> Result<Rate, String> {
    match parse_rate(s) {
        Some(r) if r <= MAX_RATE_PER_SECOND => Ok(Rate(r)),
        Some(_) => Err(format!(
            r#"expected a rate of at most 10000000/s, found "{s}""#
        )),
        None => Err(format!(r#"expected a rate like "200/s", found "{s}""#)),
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a rate like "200/s""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                check_rate(s).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    r#"expected a rate like "{n}/s" (a number and a unit), found {n}"#
                )))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    r#"expected a rate like "200/s", found {n}"#
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}/s", self.0))
    }
}

/// How much one consume order asks for: a fixed number, or `auto` (sized from the
/// quota's remaining capacity, so a suite works against limits it does not know).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Amount {
    /// Size orders so that about `fill_orders` of them fill what remains.
    #[default]
    Auto,
    /// Always this many units.
    Fixed(u64),
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a positive whole number or "auto""#)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Amount, E> {
                if n == 0 {
                    Err(E::custom(
                        r#"expected a positive whole number or "auto", found 0"#,
                    ))
                } else {
                    Ok(Amount::Fixed(n))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Amount, E> {
                Err(E::custom(format!(
                    r#"expected a positive whole number or "auto", found {n}"#
                )))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Amount, E> {
                if s == "auto" {
                    Ok(Amount::Auto)
                } else {
                    Err(E::custom(format!(
                        r#"expected a positive whole number or "auto", found "{s}""#
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

// The JSON Schemas (docs/scenario.schema.json, docs/summary.schema.json) are generated
// by tests only: schemars is a dev-dependency, out of the binary's build. Kept last,
// with the tests: tests/suite/layers.rs reads a file only up to its first cfg(test).
#[cfg(test)]
impl schemars::JsonSchema for Span {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^(\d+(\.\d+)?(us|µs|ms|s|m|min|h|d))+$|^\d+(\.\d+)? (us|µs|ms|s|m|min|h|d)$",
            "description": "A duration like 10s, 500ms, 2m, or compound largest unit first: 1m30s, 1h30m"
        })
    }
}

#[cfg(test)]
impl schemars::JsonSchema for Rate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^\d+(\.\d+)?/(s|m|min|h)$",
            "description": "An arrival rate like 200/s, 30/m"
        })
    }
}

#[cfg(test)]
impl schemars::JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [ {"type": "integer", "minimum": 1}, {"const": "auto"} ],
            "description": "Units per consume order, or auto (sized from what remains)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_only() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("fast"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
    }

    #[test]
    fn compound_durations_add_up_largest_unit_first() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d12h"), Some(Duration::from_secs(216_000)));
        assert_eq!(parse_duration("1s500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10 s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1min30s"), Some(Duration::from_secs(90)));
        for s in ["30s1m", "1m1m", "1m 30s", "1m30", "m30s", "1h-30m", ""] {
            assert_eq!(parse_duration(s), None, "{s}");
        }
        assert!(check_duration("30s1m")
            .unwrap_err()
            .contains("largest first"));
        assert_eq!(parse_duration("365d24h"), Some(MAX_DURATION));
        assert_eq!(parse_duration("366d1s"), None);
    }

    #[test]
    fn huge_durations_are_refused_not_a_panic() {
        for s in [
            "100000000000000000000s",
            "10000000000000000000s",
            "1e30h",
            "367d",
        ] {
            assert_eq!(parse_duration(s), None, "{s}");
        }
        assert!(check_duration("100000000000000000000s")
            .unwrap_err()
            .contains("at most 366d"));
        assert_eq!(parse_duration("366d"), Some(MAX_DURATION));
    }

    #[test]
    fn rates_normalise_to_per_second() {
        assert_eq!(parse_rate("200/s"), Some(200.0));
        assert_eq!(parse_rate("120/m"), Some(2.0));
        assert_eq!(parse_rate("fast"), None);
        assert_eq!(parse_rate("5/fortnight"), None);
    }
}
