//! Quotas as a profile declares them: what kind, which period, what the target promises.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::Span;

/// One quota as the profile declares it.
#[derive(Debug, Clone, Deserialize, JsonSchema, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// A counter over a period that resets.
    Period,
    /// Work active at once; frees up when work ends; never resets.
    Concurrent,
    /// A concurrent limit per parent object.
    Scoped,
}

/// When a period quota resets, written `daily`, `monthly`, `fixed 2s` (windows of that
/// length anchored at the Unix epoch) or `rolling 24h` (a window that starts at first use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodDecl {
    /// 00:00 UTC every day.
    Daily,
    /// The 1st of the month, 00:00 UTC.
    Monthly,
    /// Fixed-length windows anchored at the Unix epoch.
    Fixed(Span),
    /// A window of this length that starts at first use.
    Rolling(Span),
}

impl std::fmt::Display for PeriodDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeriodDecl::Daily => f.write_str("daily"),
            PeriodDecl::Monthly => f.write_str("monthly"),
            PeriodDecl::Fixed(s) => write!(f, "fixed {s}"),
            PeriodDecl::Rolling(s) => write!(f, "rolling {s}"),
        }
    }
}

impl std::str::FromStr for PeriodDecl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!(r#"expected "daily", "monthly", "fixed 2s" or "rolling 24h", found "{s}""#);
        let mut words = s.split_whitespace();
        let p = match (words.next(), words.next(), words.next()) {
            (Some("daily"), None, _) => PeriodDecl::Daily,
            (Some("monthly"), None, _) => PeriodDecl::Monthly,
            (Some(kind @ ("fixed" | "rolling")), Some(len), None) => {
                let d = super::units::parse_duration(len)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(bad)?;
                if kind == "fixed" {
                    PeriodDecl::Fixed(Span(d))
                } else {
                    PeriodDecl::Rolling(Span(d))
                }
            }
            _ => return Err(bad()),
        };
        Ok(p)
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

impl JsonSchema for PeriodDecl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^(daily|monthly|(fixed|rolling) \d+(\.\d+)?(ms|s|m|h|d))$",
            "description": "daily, monthly, fixed LENGTH (epoch-anchored) or rolling LENGTH (from first use)"
        })
    }
}

/// Capabilities and tolerances the target declares.
#[derive(Debug, Clone, Deserialize, JsonSchema, Serialize)]
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
        }
    }
}
