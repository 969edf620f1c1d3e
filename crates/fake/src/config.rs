//! The mocks YAML (`mocks/*.yaml`): quota tables per organization, the clock, period
//! lengths for fast tests, how quota rejections look, the credentials mode and the
//! memory caps. Everything is optional; the default is the seed tables on a real clock.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::clock::Periods;
use super::faults::parse_duration;
use super::quota::{index_of, seed_limits, Limits, QUOTAS};
use crate::error::ConfigError;
use crate::yaml;

/// The whole mocks file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeConfig {
    /// Real or virtual clock.
    #[serde(default)]
    pub clock: ClockConfig,
    /// Period lengths (calendar unless a test day length is given).
    #[serde(default)]
    pub periods: PeriodsConfig,
    /// Limits overriding the seed defaults for every organization (quota name → limit).
    #[serde(default)]
    pub defaults: BTreeMap<String, u64>,
    /// Per-organization overrides (on top of `defaults`).
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgConfig>,
    /// The organization used when a request names none and `no-auth` lets it through.
    #[serde(default)]
    pub default_org: Option<String>,
    /// How quota rejections look, per API.
    #[serde(default)]
    pub rejection: RejectionConfig,
    /// Which credentials are accepted.
    #[serde(default)]
    pub credentials: CredentialsConfig,
    /// Memory caps (the fake never grows per request; these bound per-order records).
    #[serde(default)]
    pub caps: CapsConfig,
}

/// Clock section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// `real` (default) or `virtual`.
    #[serde(default)]
    pub mode: ClockMode,
    /// Start of a virtual clock (RFC 3339); default: the real time at start-up.
    #[serde(default)]
    pub start: Option<Timestamp>,
}

/// Real or virtual clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Wall time.
    #[default]
    Real,
    /// Moved only through `POST /__admin/clock`.
    Virtual,
}

/// Period section: absent `day` means calendar days and months (UTC).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodsConfig {
    /// Length of a test "day" (`2s`, `500ms`), anchored at the epoch.
    #[serde(default)]
    pub day: Option<String>,
    /// Number of test days in a test "month" (default 30).
    #[serde(default)]
    pub days_per_month: Option<u32>,
}

/// One organization's overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    /// Quota name → limit.
    #[serde(default)]
    pub quotas: BTreeMap<String, u64>,
}

/// Rejection section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectionConfig {
    /// Adobe quota rejections.
    #[serde(default)]
    pub adobe: RejectionStyle,
    /// Didomi quota rejections.
    #[serde(default)]
    pub didomi: RejectionStyle,
}

/// How one API answers a quota rejection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectionStyle {
    /// HTTP status (default 429).
    #[serde(default = "default_rejection_status")]
    pub status: u16,
    /// Replacement JSON body; the strings `{quota}`, `{limit}` and `{consumed}` inside
    /// it are substituted. Default: the API's own error style.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

impl Default for RejectionStyle {
    fn default() -> Self {
        RejectionStyle {
            status: default_rejection_status(),
            body: None,
        }
    }
}

fn default_rejection_status() -> u16 {
    429
}

/// Credentials section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// `any` (default: any non-empty bearer token and API key) or `fixed`.
    #[serde(default)]
    pub mode: CredentialsMode,
    /// With `fixed`: the accepted bearer tokens.
    #[serde(default)]
    pub bearer_tokens: Vec<String>,
    /// With `fixed`: the accepted Adobe API keys (`x-api-key`).
    #[serde(default)]
    pub api_keys: Vec<String>,
}

/// Credentials mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialsMode {
    /// Any non-empty token / key.
    #[default]
    Any,
    /// Only the listed tokens / keys.
    Fixed,
}

/// Memory caps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapsConfig {
    /// Largest request body accepted (413 above). Default 16 MiB.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Most organizations holding state (orders from new ones are refused with 400 beyond).
    #[serde(default = "default_cap")]
    pub max_orgs: usize,
    /// Work orders remembered per organization for `GET /workorder/{id}` (oldest
    /// forgotten first; counters are unaffected).
    #[serde(default = "default_cap")]
    pub max_workorders_per_org: usize,
    /// Finished (cancelled / completed) expirations remembered per organization.
    #[serde(default = "default_cap")]
    pub max_finished_ttls_per_org: usize,
    /// Export configurations per organization: at the cap the oldest idle one (disabled,
    /// no destination) is forgotten; with none idle, creating is refused with 400.
    #[serde(default = "default_cap")]
    pub max_configs_per_org: usize,
}

impl Default for CapsConfig {
    fn default() -> Self {
        CapsConfig {
            max_body_bytes: default_max_body(),
            max_orgs: default_cap(),
            max_workorders_per_org: default_cap(),
            max_finished_ttls_per_org: default_cap(),
            max_configs_per_org: default_cap(),
        }
    }
}

fn default_max_body() -> usize {
    16 * 1024 * 1024
}

fn default_cap() -> usize {
    10_000
}

impl FakeConfig {
    /// Reads and validates a mocks file.
    pub fn load(path: &Path) -> Result<FakeConfig, ConfigError> {
        let text = yaml::read_file(path)?;
        FakeConfig::from_text(path, &text)
    }

    /// Parses and validates mocks YAML `text` (named `path` in errors).
    pub fn from_text(path: &Path, text: &str) -> Result<FakeConfig, ConfigError> {
        let cfg: FakeConfig = yaml::from_str(path, text)?;
        cfg.validate(path, text)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let known = || QUOTAS.iter().map(|q| q.name).collect::<Vec<_>>().join(", ");
        for name in self.defaults.keys() {
            if index_of(name).is_none() {
                return Err(yaml::error_at(
                    path,
                    text,
                    &format!("defaults.{name}"),
                    format!("unknown quota `{name}`; known quotas: {}", known()),
                ));
            }
        }
        for (org, oc) in &self.orgs {
            for name in oc.quotas.keys() {
                if index_of(name).is_none() {
                    return Err(yaml::error_at(
                        path,
                        text,
                        &format!("orgs.{org}.quotas.{name}"),
                        format!("unknown quota `{name}`; known quotas: {}", known()),
                    ));
                }
            }
        }
        for (api, style) in [
            ("adobe", &self.rejection.adobe),
            ("didomi", &self.rejection.didomi),
        ] {
            if !(400..=599).contains(&style.status) {
                return Err(yaml::error_at(
                    path,
                    text,
                    &format!("rejection.{api}.status"),
                    format!("expected an error status 400..=599, found {}", style.status),
                ));
            }
        }
        if let Some(day) = &self.periods.day {
            match parse_duration(day) {
                Ok(d) if d >= Duration::from_millis(1) => {}
                Ok(_) => {
                    return Err(yaml::error_at(
                        path,
                        text,
                        "periods.day",
                        "a day must last at least 1ms",
                    ))
                }
                Err(msg) => return Err(yaml::error_at(path, text, "periods.day", msg)),
            }
        } else if self.periods.days_per_month.is_some() {
            return Err(yaml::error_at(
                path,
                text,
                "periods.days_per_month",
                "days_per_month needs a test day length (periods.day)",
            ));
        }
        if self.periods.days_per_month == Some(0) {
            return Err(yaml::error_at(
                path,
                text,
                "periods.days_per_month",
                "expected at least 1",
            ));
        }
        if self.clock.start.is_some() && self.clock.mode == ClockMode::Real {
            return Err(yaml::error_at(
                path,
                text,
                "clock.start",
                "a start time needs `mode: virtual`",
            ));
        }
        if self.credentials.mode == CredentialsMode::Fixed
            && (self.credentials.bearer_tokens.is_empty() || self.credentials.api_keys.is_empty())
        {
            return Err(yaml::error_at(
                path,
                text,
                "credentials",
                "`mode: fixed` needs at least one bearer_tokens entry and one api_keys entry",
            ));
        }
        if self.caps.max_body_bytes == 0 {
            return Err(yaml::error_at(
                path,
                text,
                "caps.max_body_bytes",
                "expected at least 1",
            ));
        }
        Ok(())
    }

    /// The period arithmetic this configuration asks for.
    pub fn periods(&self) -> Periods {
        match self
            .periods
            .day
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
        {
            Some(day) => Periods::Scaled {
                day_us: (day.as_micros() as i64).max(1),
                days_per_month: i64::from(self.periods.days_per_month.unwrap_or(30).max(1)),
            },
            None => Periods::Calendar,
        }
    }

    /// Limits every organization starts with: seed defaults overridden by `defaults`.
    pub fn base_limits(&self) -> Limits {
        let mut l = seed_limits();
        apply(&mut l, &self.defaults);
        l
    }

    /// Limits organization `org` starts with.
    pub fn limits_for(&self, org: &str) -> Limits {
        let mut l = self.base_limits();
        if let Some(oc) = self.orgs.get(org) {
            apply(&mut l, &oc.quotas);
        }
        l
    }
}

fn apply(limits: &mut Limits, overrides: &BTreeMap<String, u64>) {
    for (name, v) in overrides {
        if let Some(i) = index_of(name) {
            limits[i] = *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FakeConfig, ConfigError> {
        FakeConfig::from_text(Path::new("m.yaml"), text)
    }

    #[test]
    fn full_file_parses_and_resolves() {
        let cfg = parse(
            "clock:\n  mode: virtual\n  start: 2025-03-01T00:00:00Z\nperiods:\n  day: 2s\n  days_per_month: 10\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 100\norgs:\n  acme:\n    quotas:\n      exports_configs: 1\nrejection:\n  adobe:\n    status: 400\n    body: {code: QUOTA, quota: \"{quota}\"}\ncredentials:\n  mode: fixed\n  bearer_tokens: [t]\n  api_keys: [k]\n",
        )
        .unwrap();
        assert_eq!(cfg.clock.mode, ClockMode::Virtual);
        assert_eq!(
            cfg.periods(),
            Periods::Scaled {
                day_us: 2_000_000,
                days_per_month: 10
            }
        );
        assert_eq!(cfg.limits_for("acme"), [50, 100, 600_000, 0, 1, 2]);
        assert_eq!(cfg.limits_for("other"), [50, 100, 600_000, 0, 3, 2]);
        assert_eq!(cfg.rejection.adobe.status, 400);
        assert_eq!(cfg.rejection.didomi.status, 429);
    }

    #[test]
    fn default_is_the_seed_table_on_calendar_periods() {
        let cfg = FakeConfig::default();
        assert_eq!(cfg.periods(), Periods::Calendar);
        assert_eq!(cfg.base_limits(), seed_limits());
        assert_eq!(cfg.caps.max_body_bytes, 16 * 1024 * 1024);
    }

    #[test]
    fn unknown_quota_names_point_at_the_line() {
        let err = parse("orgs:\n  acme:\n    quotas:\n      exports_config: 1\n").unwrap_err();
        assert_eq!(err.path, "orgs.acme.quotas.exports_config");
        assert_eq!(err.line, Some(4));
        assert!(err.message.contains("exports_configs"), "{}", err.message);
    }

    #[test]
    fn misspelled_fields_and_bad_values_are_errors() {
        // (`ends_with`: older crate::yaml versions reported a root key as `clok.clok`.)
        assert!(parse("clok: {}\n").unwrap_err().path.ends_with("clok"));
        let nested = parse("clock:\n  mod: virtual\n").unwrap_err();
        assert_eq!((nested.path.as_str(), nested.line), ("clock.mod", Some(2)));
        assert_eq!(
            parse("rejection:\n  adobe:\n    status: 200\n")
                .unwrap_err()
                .path,
            "rejection.adobe.status"
        );
        assert_eq!(
            parse("periods:\n  day: 2\n").unwrap_err().path,
            "periods.day"
        );
        assert_eq!(
            parse("periods:\n  days_per_month: 3\n").unwrap_err().path,
            "periods.days_per_month"
        );
        assert_eq!(
            parse("clock:\n  start: 2025-01-01T00:00:00Z\n")
                .unwrap_err()
                .path,
            "clock.start"
        );
        assert_eq!(
            parse("credentials:\n  mode: fixed\n").unwrap_err().path,
            "credentials"
        );
        assert_eq!(
            parse("defaults:\n  exports_configs: -1\n")
                .unwrap_err()
                .path,
            "defaults.exports_configs"
        );
    }
}
