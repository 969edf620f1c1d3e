//! Quotas as a profile declares them: what kind, which period, what the target promises.

use serde::{Deserialize, Serialize};

use super::units::Span;

/// Quotas a profile (and so a history) may declare: the checker gives each a bit of a
/// `u64` (`check::facts::quota_bit`).
pub const MAX_QUOTAS: usize = 64;

/// Where quota `i` of `quotas` was first declared under its name, when an earlier one
/// has it: the checker tells quotas apart by name, so a repeat would be judged as its
/// first.
pub fn declared_before(quotas: &[QuotaDecl], i: usize) -> Option<usize> {
    quotas[..i].iter().position(|q| q.name == quotas[i].name)
}

/// One quota as the profile declares it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QuotaDecl {
    /// The name the list operation reports it under.
    pub name: String,
    /// Period, concurrent or scoped.
    pub kind: QuotaKind,
    /// For period quotas: when the counter resets.
    #[serde(default)]
    pub period: Option<PeriodDecl>,
}

/// How a quota's usage is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// A counter over a period that resets.
    Period,
    /// Work active at once; frees up when work ends; never resets.
    Concurrent,
    /// A concurrent limit per parent object.
    Scoped,
}

/// When a period quota resets. Written:
/// * `daily`, `monthly`: UTC calendar periods;
/// * `fixed 2s`: windows of that length anchored at the Unix epoch (aligned);
/// * `fixed 3s from first hit`: a window of that length opened by the first hit after the
///   previous window ended (what most rate-limit services do); `rolling 3s` is the older
///   spelling of the same and still accepted;
/// * `sliding 1h`: at every instant, what was accepted during the last hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodDecl {
    /// 00:00 UTC every day.
    Daily,
    /// The 1st of the month, 00:00 UTC.
    Monthly,
    /// Fixed-length windows anchored at the Unix epoch.
    Fixed(Span),
    /// A fixed-length window that starts at the first hit after the previous one ended.
    FirstHit(Span),
    /// A window of this length ending at every instant.
    Sliding(Span),
}

impl PeriodDecl {
    /// The window length of a windowed period (`None` for calendar periods).
    pub fn length(&self) -> Option<Span> {
        match self {
            PeriodDecl::Daily | PeriodDecl::Monthly => None,
            PeriodDecl::Fixed(s) | PeriodDecl::FirstHit(s) | PeriodDecl::Sliding(s) => Some(*s),
        }
    }
}

impl std::fmt::Display for PeriodDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeriodDecl::Daily => f.write_str("daily"),
            PeriodDecl::Monthly => f.write_str("monthly"),
            PeriodDecl::Fixed(s) => write!(f, "fixed {s}"),
            PeriodDecl::FirstHit(s) => write!(f, "fixed {s} from first hit"),
            PeriodDecl::Sliding(s) => write!(f, "sliding {s}"),
        }
    }
}

impl std::str::FromStr for PeriodDecl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                r#"expected "daily", "monthly", "fixed 2s", "fixed 2s from first hit" or "sliding 1h", found "{s}""#
            )
        };
        let words: Vec<&str> = s.split_whitespace().collect();
        let len = |w: &str| {
            super::units::parse_duration(w)
                .filter(|d| !d.is_zero())
                .map(Span)
                .ok_or_else(bad)
        };
        Ok(match words.as_slice() {
            ["daily"] => PeriodDecl::Daily,
            ["monthly"] => PeriodDecl::Monthly,
            ["fixed", l] => PeriodDecl::Fixed(len(l)?),
            ["fixed", l, "from", "first", "hit"] | ["rolling", l] => PeriodDecl::FirstHit(len(l)?),
            ["sliding", l] => PeriodDecl::Sliding(len(l)?),
            _ => return Err(bad()),
        })
    }
}

impl<'de> Deserialize<'de> for PeriodDecl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for PeriodDecl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Capabilities and tolerances the target declares.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// How long after an accepted order `consumed` may still lag.
    #[serde(default)]
    pub consistency_window: Span,
    /// How late after a period boundary a reset may show.
    #[serde(default)]
    pub reset_tolerance: Span,
    /// Whether an over-quota order is rejected whole (true) or may be partially admitted.
    #[serde(default = "yes")]
    pub all_or_nothing: bool,
    /// Whether the list operation supports filtering by quota name.
    #[serde(default)]
    pub list_filter: bool,
    /// Whether the API takes credentials: `required` (the default) or `none` (an
    /// internal service with no authentication: `auth.required` is skipped saying so).
    #[serde(default)]
    pub auth: AuthDecl,
}

/// Whether an API authenticates its callers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthDecl {
    /// Requests without valid credentials must be refused.
    #[default]
    Required,
    /// The API has no authentication.
    None,
}

fn yes() -> bool {
    true
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            consistency_window: Span::default(),
            reset_tolerance: Span::default(),
            all_or_nothing: true,
            list_filter: false,
            auth: AuthDecl::Required,
        }
    }
}

// The JSON Schemas (docs/scenario.schema.json, docs/summary.schema.json) are generated
// by tests only: schemars is a dev-dependency, out of the binary's build. Kept last,
// with the tests: tests/suite/layers.rs reads a file only up to its first cfg(test).
#[cfg(test)]
impl schemars::JsonSchema for PeriodDecl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^(daily|monthly|fixed \d+(\.\d+)?(ms|s|m|h|d)( from first hit)?|(rolling|sliding) \d+(\.\d+)?(ms|s|m|h|d))$",
            "description": "daily, monthly, fixed LENGTH (epoch-anchored), fixed LENGTH from first hit (rolling LENGTH is the older spelling) or sliding LENGTH"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_kinds_parse_and_print_back() {
        for (text, shown) in [
            ("daily", "daily"),
            ("monthly", "monthly"),
            ("fixed 2s", "fixed 2s"),
            ("fixed 3s from first hit", "fixed 3s from first hit"),
            ("rolling 3s", "fixed 3s from first hit"),
            ("sliding 90s", "sliding 90s"),
        ] {
            let p: PeriodDecl = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.to_string(), shown);
            assert_eq!(shown.parse::<PeriodDecl>().unwrap(), p);
        }
        for bad in [
            "fixed",
            "fixed 0s",
            "fixed 3s from",
            "sliding",
            "weekly",
            "fixed 3s from last hit",
        ] {
            let e = bad.parse::<PeriodDecl>().unwrap_err();
            assert!(
                e.contains("fixed 2s from first hit") && e.contains(bad),
                "{e}"
            );
        }
    }
}
