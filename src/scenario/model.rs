//! The typed scenario: what a YAML scenario file may contain.

pub use crate::vocab::Implementation;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::env::EnvString;
use super::units::{Amount, Rate, Span};

/// A scenario: which target, which phases of traffic, and what must hold.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name; also names the run folder.
    pub name: String,
    /// What the scenario checks, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The implementation under test. Without `base_url` (and without `--target`),
    /// the bundled fake is started in-process.
    pub target: TargetSpec,
    /// Options for the bundled fake when it is the target.
    #[serde(default)]
    pub fake: FakeSpec,
    /// Rule ids to judge (see docs/rules.md). Absent or `[]`: every rule; `none`: no
    /// rule (a pure load scenario, judged by its thresholds).
    #[serde(default)]
    pub checks: Checks,
    /// Phases run in order.
    pub phases: Vec<Phase>,
    /// SLO thresholds like `p99(consume) < 50ms`, judged at the end.
    #[serde(default)]
    pub thresholds: Vec<String>,
    /// The share of a phase's operations that may go without a definite answer (`5%`,
    /// the default) before the verdicts resting on that phase turn unknown.
    #[serde(default)]
    pub max_indefinite: Option<String>,
}

/// Where and how to reach the implementation under test.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Base URL, e.g. `https://platform.example.com`. Empty or absent: the bundled fake.
    #[serde(default)]
    pub base_url: Option<EnvString>,
    /// A built-in profile name (`adobe-hygiene`, `didomi`) or a path to a profile YAML.
    pub profile: String,
    /// The tenant (organization) whose quotas are exercised.
    #[serde(default)]
    pub tenant: Option<EnvString>,
    /// A second tenant, for isolation checks.
    #[serde(default)]
    pub other_tenant: Option<EnvString>,
    /// Headers sent with every request (credentials usually come from `${VAR}`s).
    #[serde(default)]
    pub headers: BTreeMap<String, EnvString>,
    /// Per-request timeout (default 10s); a timed-out request is indeterminate.
    #[serde(default)]
    pub timeout: Option<Span>,
    /// Who the implementation is, shown in reports.
    #[serde(default)]
    pub implementation: Option<Implementation>,
    /// More query parameters whose values are secrets, beside `api_key`, `key`,
    /// `token`, `access_token`, `signature`, `sig`, `password`, `secret` and
    /// `client_secret`: masked in every output wherever a URL shows them.
    #[serde(default)]
    pub secret_params: Vec<String>,
    /// A PEM bundle of CA certificates to trust for an `https://` target, besides the
    /// platform's roots (a private CA). Relative to this scenario file. `--ca-cert`
    /// replaces it.
    #[serde(default)]
    pub ca_cert: Option<EnvString>,
    /// A client certificate (PEM) for a server that asks for one (mutual TLS), with
    /// `client_key`. Relative to this scenario file. `--client-cert` replaces it.
    #[serde(default)]
    pub client_cert: Option<EnvString>,
    /// The private key (PEM) of `client_cert`. Relative to this scenario file.
    /// `--client-key` replaces it.
    #[serde(default)]
    pub client_key: Option<EnvString>,
    /// Accept any server certificate (no verification): for a test server with a
    /// throwaway certificate only. Said loudly in every report. `--insecure` sets it.
    #[serde(default)]
    pub insecure: bool,
    /// The proxy every request goes through (`http://[user:password@]host:port`), or
    /// `none` for none whatever the environment. Absent or empty: `HTTP_PROXY`,
    /// `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` decide. `--proxy` / `--no-proxy`
    /// replace it.
    #[serde(default)]
    pub proxy: Option<EnvString>,
}

/// Bundled-fake options (ignored when a real target is given).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FakeSpec {
    /// A quota table under mocks/ (path relative to the working directory).
    #[serde(default)]
    pub config: Option<String>,
    /// Faults to switch on, `NAME` or `NAME=PARAM`.
    #[serde(default)]
    pub faults: Vec<String>,
}

/// One phase: traffic (`workload`) or a sequential probe (`probe`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Name shown in progress and reports.
    pub name: String,
    /// The traffic (absent in a probe phase).
    #[serde(default)]
    pub workload: Workload,
    /// A coordinator-run procedure that gathers evidence some rules need, instead of a
    /// workload (docs/rules.md names which rule needs which probe).
    #[serde(default)]
    pub probe: Option<ProbeKind>,
    /// `probe: reset` only, for a target whose clock cannot be moved: wait up to this
    /// long for the next period boundary (in the target's time) and check the reset
    /// there; a boundary further away skips the reset rules, naming it.
    #[serde(default)]
    pub wait: Option<Span>,
}

/// The probes the engine can run (src/engine/probe.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// Fill the tightest quota down to a small remainder R, then send R+1, R and 1.
    Boundary,
    /// A consume without credentials, and one with invalid credentials.
    Credentials,
    /// The other tenant's counters before and after a consume on the main tenant.
    Isolation,
    /// Move the target's clock across a daily and a monthly boundary.
    Reset,
    /// Fill a concurrent quota to its cap, release one, create again.
    Release,
}

impl ProbeKind {
    /// The label its operations are recorded under (`probe.boundary`).
    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Boundary => "probe.boundary",
            ProbeKind::Credentials => "probe.credentials",
            ProbeKind::Isolation => "probe.isolation",
            ProbeKind::Reset => "probe.reset",
            ProbeKind::Release => "probe.release",
        }
    }
}

/// How much traffic, of which kind.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Closed model: this many virtual users, each sending its next request when
    /// the previous one completes (default 1).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Open model: requests start at this rate whatever the latency (like `200/s`);
    /// with `stages`, the rate the first stage ramps from (default 0/s).
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Open model: stages that ramp the arrival rate linearly to each `target`.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Stop after this long.
    #[serde(default)]
    pub duration: Option<Span>,
    /// Stop after this many operations.
    #[serde(default)]
    pub operations: Option<u64>,
    /// Weighted mix of operations: `consume`, `consume_invalid`, `release`, `list`, or
    /// an operation name from the target profile.
    #[serde(default)]
    pub mix: BTreeMap<String, u32>,
    /// Units per consume order (default `auto`).
    #[serde(default)]
    pub amount: Amount,
    /// With `amount: auto`: about how many orders should fill what remains (default 40).
    #[serde(default)]
    pub fill_orders: Option<u64>,
    /// Pause between a virtual user's operations (closed model).
    #[serde(default)]
    pub think_time: Option<Span>,
    /// Where consumes that act inside a parent object (an operation with `uses:`, such
    /// as attaching a destination to a configuration) go: `spread` (default) over the
    /// run's parents in turn, or `one` fresh parent created when the phase opens, so
    /// every worker races for that one parent's room (a scoped quota's race).
    #[serde(default)]
    pub parents: Parents,
}

/// Where a phase's scoped consumes act (see [`Workload::parents`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Parents {
    /// Over the run's parents in turn (creating one when there is none).
    #[default]
    Spread,
    /// All inside one parent created when the phase opens.
    One,
}

/// One stage of an open-model ramp.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// How long the ramp takes.
    pub duration: Span,
    /// The arrival rate reached at its end.
    pub target: Rate,
}

/// Which rules a scenario judges: every rule (absent, or `[]`), a list of rule ids, or
/// `none` for a load scenario that only its thresholds judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Checks {
    /// Every rule.
    #[default]
    All,
    /// No rule.
    None,
    /// These rule ids.
    Only(Vec<String>),
}

impl Checks {
    /// The rule ids to judge, as [`crate::check::judge`] takes them (empty: all);
    /// `None` when no rule is judged.
    pub fn ids(&self) -> Option<&[String]> {
        match self {
            Checks::All => Some(&[]),
            Checks::None => None,
            Checks::Only(ids) => Some(ids),
        }
    }
}

impl<'de> Deserialize<'de> for Checks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Checks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of rule ids, or `none`")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Checks, E> {
                match s {
                    "none" => Ok(Checks::None),
                    _ => Err(E::custom(format!(
                        "expected a list of rule ids like [limit.never-exceeded], or `none` for no rule, found {s:?}"
                    ))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Checks, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = a.next_element::<String>()? {
                    ids.push(id);
                }
                Ok(if ids.is_empty() {
                    Checks::All
                } else {
                    Checks::Only(ids)
                })
            }
        }
        d.deserialize_any(V)
    }
}

// The JSON Schemas (docs/scenario.schema.json, docs/summary.schema.json) are generated
// by tests only: schemars is a dev-dependency, out of the binary's build. Kept last,
// with the tests: tests/suite/layers.rs reads a file only up to its first cfg(test).
#[cfg(test)]
impl schemars::JsonSchema for Checks {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Checks".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Rule ids to judge (empty: every rule), or `none`",
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"const": "none"}
            ]
        })
    }
}
