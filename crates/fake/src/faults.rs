//! The catalogue of seeded faults: named switches that make the fake break one
//! conformance rule on purpose, so the checker can be shown to catch it.
//!
//! Each fault names the rule id it violates; the checker's rule catalogue uses the same
//! ids. Performance faults (`latency`, `stall`, `error-rate`) break no rule.

use std::time::Duration;

use crate::error::Error;

/// One entry of the fault catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultInfo {
    /// The name given to `--fault`.
    pub name: &'static str,
    /// The conformance rule it violates (`-` for performance faults).
    pub rule_id: &'static str,
    /// What the fake does differently.
    pub description: &'static str,
}

const CATALOGUE: &[FaultInfo] = &[
    FaultInfo {
        name: "non-atomic",
        rule_id: "limit.never-exceeded",
        description: "check-then-increment with a race window (~20 ms between check and add): over-admits under concurrency",
    },
    FaultInfo {
        name: "count-invalid",
        rule_id: "rejected.invalid-not-counted",
        description: "validation-rejected orders still add their amount (when parseable) to the counters",
    },
    FaultInfo {
        name: "count-quota-rejected",
        rule_id: "rejected.quota-not-counted",
        description: "quota-rejected attempts add their amount to the counters anyway",
    },
    FaultInfo {
        name: "daily-never-resets",
        rule_id: "reset.period-boundary",
        description: "daily counters never reset",
    },
    FaultInfo {
        name: "reset-local-time",
        rule_id: "reset.period-boundary",
        description: "daily reset at a local-time midnight, UTC+PARAM hours (default +2)",
    },
    FaultInfo {
        name: "reset-rolling",
        rule_id: "reset.period-boundary",
        description: "daily window is a rolling day from the first use instead of the calendar day",
    },
    FaultInfo {
        name: "monthly-resets-daily",
        rule_id: "reset.monthly-not-daily",
        description: "monthly counters reset at every daily boundary",
    },
    FaultInfo {
        name: "admit-over-limit",
        rule_id: "limit.never-exceeded",
        description: "admits an order that brings consumed to limit+1 (off by one)",
    },
    FaultInfo {
        name: "reject-before-limit",
        rule_id: "limit.rejection-justified",
        description: "rejects an order that would exactly fill the quota (limit-1 effective)",
    },
    FaultInfo {
        name: "partial-admit",
        rule_id: "order.all-or-nothing",
        description: "an order larger than what remains is partially admitted: counts what remains, answers 201",
    },
    FaultInfo {
        name: "cancel-keeps-slot",
        rule_id: "concurrent.release-frees",
        description: "cancel / disable / detach answers success but does not free the slot",
    },
    FaultInfo {
        name: "list-lag",
        rule_id: "accounting.snapshots-consistent",
        description: "GET /quota returns counters as they were PARAM ago (default 500ms, fake clock)",
    },
    FaultInfo {
        name: "tenant-leak",
        rule_id: "isolation.tenants",
        description: "consumption by one org is also added to org PARAM (default: every other known org)",
    },
    FaultInfo {
        name: "quota-reject-500",
        rule_id: "limit.rejection-shape",
        description: "quota rejections answered 500 instead of the declared status",
    },
    FaultInfo {
        name: "filter-ignored",
        rule_id: "listing.filter",
        description: "GET /quota?quotaType=NAME ignores the filter and lists every quota",
    },
    FaultInfo {
        name: "unknown-filter-lists-all",
        rule_id: "listing.unknown-filter",
        description: "GET /quota?quotaType=UNKNOWN answers 200 with every quota instead of 400",
    },
    FaultInfo {
        name: "no-auth",
        rule_id: "auth.required",
        description: "missing or invalid credentials are accepted",
    },
    FaultInfo {
        name: "latency",
        rule_id: "-",
        description: "every API response delayed by PARAM: fixed `5ms` (default) or `uniform:1ms..20ms`",
    },
    FaultInfo {
        name: "stall",
        rule_id: "-",
        description: "`stall=N@T`: requests arriving in [T, T+N) after start are answered at T+N (default 2s@5s)",
    },
    FaultInfo {
        name: "error-rate",
        rule_id: "-",
        description: "`error-rate=P%`: that share of API requests answered 503 without touching state (default 5%)",
    },
];

/// The fault catalogue: every fault the fake can seed, with its rule id.
pub fn catalogue() -> &'static [FaultInfo] {
    CATALOGUE
}

/// Response delay for the `latency` fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Always this delay.
    Fixed(Duration),
    /// Uniformly drawn from `[lo, hi]`.
    Uniform(Duration, Duration),
}

/// The faults switched on for one fake. [`FaultSet::none`] is the correct fake.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSet {
    /// `non-atomic`.
    pub non_atomic: bool,
    /// `count-invalid`.
    pub count_invalid: bool,
    /// `count-quota-rejected`.
    pub count_quota_rejected: bool,
    /// `daily-never-resets`.
    pub daily_never_resets: bool,
    /// `reset-local-time`: the offset from UTC in hours.
    pub reset_local_time: Option<i64>,
    /// `reset-rolling`.
    pub reset_rolling: bool,
    /// `monthly-resets-daily`.
    pub monthly_resets_daily: bool,
    /// `admit-over-limit`.
    pub admit_over_limit: bool,
    /// `reject-before-limit`.
    pub reject_before_limit: bool,
    /// `partial-admit`.
    pub partial_admit: bool,
    /// `cancel-keeps-slot`.
    pub cancel_keeps_slot: bool,
    /// `list-lag`: how far behind the list is.
    pub list_lag: Option<Duration>,
    /// `tenant-leak`: `Some(None)` leaks into every other known org, `Some(Some(org))`
    /// into that org.
    pub tenant_leak: Option<Option<String>>,
    /// `quota-reject-500`.
    pub quota_reject_500: bool,
    /// `filter-ignored`.
    pub filter_ignored: bool,
    /// `unknown-filter-lists-all`.
    pub unknown_filter_lists_all: bool,
    /// `no-auth`.
    pub no_auth: bool,
    /// `latency`.
    pub latency: Option<Latency>,
    /// `stall`: (start after server start, length).
    pub stall: Option<(Duration, Duration)>,
    /// `error-rate`: share of requests answered 503, in (0, 1].
    pub error_rate: Option<f64>,
    /// The specs as given, normalised (`name` or `name=param`), for `GET /__admin/faults`.
    pub specs: Vec<String>,
}

impl FaultSet {
    /// The correct fake: no fault.
    pub fn none() -> FaultSet {
        FaultSet::default()
    }

    /// Parses `--fault NAME[=PARAM]` specs. Unknown names, parameters on faults that
    /// take none, bad parameters and contradictory combinations are usage errors.
    pub fn parse(specs: &[String]) -> Result<FaultSet, Error> {
        let mut set = FaultSet::default();
        for spec in specs {
            let (name, param) = match spec.split_once('=') {
                Some((n, p)) => (n.trim(), Some(p.trim())),
                None => (spec.trim(), None),
            };
            let usage = |msg: String| Error::Usage(format!("--fault {spec}: {msg}"));
            let no_param = |p: Option<&str>| match p {
                None => Ok(()),
                Some(_) => Err(usage(format!("`{name}` takes no parameter"))),
            };
            match name {
                "non-atomic" => no_param(param).map(|_| set.non_atomic = true)?,
                "count-invalid" => no_param(param).map(|_| set.count_invalid = true)?,
                "count-quota-rejected" => {
                    no_param(param).map(|_| set.count_quota_rejected = true)?
                }
                "daily-never-resets" => no_param(param).map(|_| set.daily_never_resets = true)?,
                "reset-local-time" => {
                    let h = match param {
                        None => 2,
                        Some(p) => p
                            .trim_start_matches('+')
                            .parse::<i64>()
                            .ok()
                            .filter(|h| (-23..=23).contains(h))
                            .ok_or_else(|| {
                                usage("expected an offset in hours between -23 and +23".into())
                            })?,
                    };
                    set.reset_local_time = Some(h);
                }
                "reset-rolling" => no_param(param).map(|_| set.reset_rolling = true)?,
                "monthly-resets-daily" => {
                    no_param(param).map(|_| set.monthly_resets_daily = true)?
                }
                "admit-over-limit" => no_param(param).map(|_| set.admit_over_limit = true)?,
                "reject-before-limit" => no_param(param).map(|_| set.reject_before_limit = true)?,
                "partial-admit" => no_param(param).map(|_| set.partial_admit = true)?,
                "cancel-keeps-slot" => no_param(param).map(|_| set.cancel_keeps_slot = true)?,
                "list-lag" => {
                    let d = match param {
                        None => Duration::from_millis(500),
                        Some(p) => parse_duration(p).map_err(usage)?,
                    };
                    set.list_lag = Some(d);
                }
                "tenant-leak" => {
                    set.tenant_leak = Some(param.filter(|p| !p.is_empty()).map(str::to_string))
                }
                "quota-reject-500" => no_param(param).map(|_| set.quota_reject_500 = true)?,
                "filter-ignored" => no_param(param).map(|_| set.filter_ignored = true)?,
                "unknown-filter-lists-all" => {
                    no_param(param).map(|_| set.unknown_filter_lists_all = true)?
                }
                "no-auth" => no_param(param).map(|_| set.no_auth = true)?,
                "latency" => {
                    set.latency = Some(match param {
                        None => Latency::Fixed(Duration::from_millis(5)),
                        Some(p) => parse_latency(p).map_err(usage)?,
                    })
                }
                "stall" => {
                    let p = param.unwrap_or("2s@5s");
                    let (len, at) = p
                        .split_once('@')
                        .ok_or_else(|| usage("expected N@T, e.g. 2s@5s".into()))?;
                    let len = parse_duration(len).map_err(usage)?;
                    let at = parse_duration(at).map_err(usage)?;
                    set.stall = Some((at, len));
                }
                "error-rate" => {
                    let p = param.unwrap_or("5%");
                    let rate = parse_rate(p).ok_or_else(|| {
                        usage("expected a share like 5% or 0.05, above 0 and at most 100%".into())
                    })?;
                    set.error_rate = Some(rate);
                }
                _ => {
                    let known: Vec<_> = CATALOGUE.iter().map(|f| f.name).collect();
                    return Err(usage(format!(
                        "unknown fault `{name}`; known faults: {} (see --list-faults)",
                        known.join(", ")
                    )));
                }
            }
            let normal = match param {
                Some(p) => format!("{name}={p}"),
                None => name.to_string(),
            };
            if !set.specs.contains(&normal) {
                set.specs.push(normal);
            }
        }
        let daily = [
            set.daily_never_resets,
            set.reset_local_time.is_some(),
            set.reset_rolling,
        ];
        if daily.iter().filter(|b| **b).count() > 1 {
            return Err(Error::Usage(
                "--fault: daily-never-resets, reset-local-time and reset-rolling are mutually exclusive"
                    .into(),
            ));
        }
        if set.admit_over_limit && set.reject_before_limit {
            return Err(Error::Usage(
                "--fault: admit-over-limit and reject-before-limit are mutually exclusive".into(),
            ));
        }
        Ok(set)
    }
}

/// Longest duration any fault or config accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// Parses `250us`, `5ms`, `2s`, `1m`, `1h` (a whole number and a unit), at most
/// [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{t}`: a duration needs a unit (us, ms, s, m, h)"))?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{t}`: expected a duration like 500ms or 2s"))?;
    let d = match unit {
        "us" | "µs" => Duration::from_micros(n),
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "`{t}`: unknown unit `{unit}` (use us, ms, s, m, h)"
            ))
        }
    };
    // A cap keeps every later sum of durations (latency + stall, T + N) far from overflow.
    if d > MAX_DURATION {
        return Err(format!("`{t}`: at most 366 days"));
    }
    Ok(d)
}

fn parse_latency(p: &str) -> Result<Latency, String> {
    match p.strip_prefix("uniform:") {
        Some(range) => {
            let (lo, hi) = range
                .split_once("..")
                .ok_or_else(|| format!("`{p}`: expected uniform:LO..HI, e.g. uniform:1ms..20ms"))?;
            let (lo, hi) = (parse_duration(lo)?, parse_duration(hi)?);
            if lo > hi {
                return Err(format!("`{p}`: LO is above HI"));
            }
            Ok(Latency::Uniform(lo, hi))
        }
        None => Ok(Latency::Fixed(parse_duration(p)?)),
    }
}

fn parse_rate(p: &str) -> Option<f64> {
    let v = match p.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().ok()? / 100.0,
        None => p.parse::<f64>().ok()?,
    };
    (v > 0.0 && v <= 1.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(specs: &[&str]) -> Result<FaultSet, Error> {
        FaultSet::parse(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_catalogued_fault_parses() {
        for f in catalogue() {
            let set = parse(&[f.name]).unwrap();
            assert_ne!(set, FaultSet::none(), "{}", f.name);
            assert_eq!(set.specs, vec![f.name.to_string()]);
        }
    }

    #[test]
    fn params_are_parsed() {
        let s = parse(&["latency=uniform:1ms..20ms", "stall=2s@5s", "error-rate=5%"]).unwrap();
        assert_eq!(
            s.latency,
            Some(Latency::Uniform(
                Duration::from_millis(1),
                Duration::from_millis(20)
            ))
        );
        assert_eq!(
            s.stall,
            Some((Duration::from_secs(5), Duration::from_secs(2)))
        );
        assert_eq!(s.error_rate, Some(0.05));
        assert_eq!(
            parse(&["reset-local-time=-5"]).unwrap().reset_local_time,
            Some(-5)
        );
        assert_eq!(
            parse(&["tenant-leak=org-b"]).unwrap().tenant_leak,
            Some(Some("org-b".into()))
        );
        assert_eq!(
            parse(&["list-lag=2s"]).unwrap().list_lag,
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for bad in [
            "nope",
            "non-atomic=1",
            "latency=fast",
            "latency=uniform:5ms..1ms",
            "stall=2s",
            "error-rate=0%",
            "error-rate=150%",
            "reset-local-time=+30",
            "list-lag=5",
            "list-lag=99999999999h",
            "stall=1s@18446744073709551615s",
        ] {
            match parse(&[bad]) {
                Err(Error::Usage(msg)) => assert!(msg.contains(bad), "{msg}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(parse(&["reset-rolling", "daily-never-resets"]).is_err());
        assert!(parse(&["admit-over-limit", "reject-before-limit"]).is_err());
    }

    #[test]
    fn catalogue_names_are_unique() {
        let mut names: Vec<_> = catalogue().iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), catalogue().len());
    }
}
