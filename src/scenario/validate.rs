//! Checks a scenario beyond its types: workloads that can end, mixes the profile can
//! serve, rule ids that exist. Every error is located in the file.

use super::Loaded;
use crate::api::tls::Setting;
use crate::api::{CompiledOp, CompiledProfile, ProxySetting, TlsSettings};
use crate::error::{ConfigError, Error};
use crate::vocab::units::Span;
use crate::vocab::OpKind;
use std::time::Duration;

/// Checks that need only the scenario itself.
pub(super) fn standalone(l: &Loaded) -> Result<(), Error> {
    let s = &l.scenario;
    let mut errs: Vec<ConfigError> = Vec::new();
    let mut push = |e: Error| {
        if let Error::Config(c) = e {
            errs.push(c)
        }
    };
    if s.name.trim().is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        push(l.error_at(
            "name",
            format!(
                "expected a name of letters, digits, '-', '_' or '.', found {:?}",
                s.name
            ),
        ));
    }
    if s.name.len() > MAX_NAME {
        push(l.error_at(
            "name",
            format!(
                "expected a name of at most {MAX_NAME} characters (it names the run's folder), found {}",
                s.name.len()
            ),
        ));
    }
    target(l, &mut push);
    fake(l, &mut push);
    if s.phases.is_empty() {
        push(l.error_at("phases", "expected at least one phase"));
    }
    for (i, p) in s.phases.iter().enumerate() {
        let w = &p.workload;
        let at = format!("phases[{i}].workload");
        if let Some(wait) = p.wait {
            if p.probe != Some(crate::scenario::ProbeKind::Reset) {
                push(l.error_at(
                    &format!("phases[{i}].wait"),
                    "`wait` belongs to `probe: reset` only (how long it may wait for a real period boundary)",
                ));
            } else if wait.0 > MAX_PHASE {
                push(l.error_at(
                    &format!("phases[{i}].wait"),
                    format!("expected a wait of at most 30d, found {wait}"),
                ));
            }
        }
        // A probe phase runs its own fixed procedure: it takes no workload.
        if p.probe.is_some() {
            if !w.mix.is_empty() || w.operations.is_some() || w.duration.is_some() {
                push(l.error_at(
                    &format!("phases[{i}].probe"),
                    "a phase has either `probe` or `workload`, not both",
                ));
            }
            continue;
        }
        if w.duration.is_none() && w.operations.is_none() && w.stages.is_empty() {
            push(l.error_at(
                &at,
                "expected `duration`, `operations` or `stages`, so the phase ends",
            ));
        }
        let long = |d: Option<Span>, max: Duration| d.is_some_and(|d| d.0 > max);
        if long(w.duration, MAX_PHASE) {
            push(l.error_at(
                &format!("{at}.duration"),
                format!(
                    "expected a phase of at most 30d, found {}",
                    w.duration.unwrap_or_default()
                ),
            ));
        }
        for (j, st) in w.stages.iter().enumerate() {
            if st.duration.0 > MAX_PHASE {
                push(l.error_at(
                    &format!("{at}.stages[{j}].duration"),
                    format!("expected a stage of at most 30d, found {}", st.duration),
                ));
            }
        }
        if w.stages.iter().map(|st| st.duration.0).sum::<Duration>() > MAX_PHASE {
            push(l.error_at(
                &format!("{at}.stages"),
                "expected stages lasting at most 30d in all",
            ));
        }
        if long(w.think_time, MAX_THINK) {
            push(l.error_at(
                &format!("{at}.think_time"),
                format!(
                    "expected a think time of at most 1h, found {}",
                    w.think_time.unwrap_or_default()
                ),
            ));
        }
        if w.concurrency.is_some_and(|c| c > MAX_CONCURRENCY) {
            push(l.error_at(
                &format!("{at}.concurrency"),
                format!(
                    "expected at most {MAX_CONCURRENCY} virtual users, found {}",
                    w.concurrency.unwrap_or_default()
                ),
            ));
        }
        if w.operations.is_some_and(|n| n > MAX_OPERATIONS) {
            push(l.error_at(
                &format!("{at}.operations"),
                format!(
                    "expected at most {MAX_OPERATIONS} operations in a phase, found {}",
                    w.operations.unwrap_or_default()
                ),
            ));
        }
        if w.fill_orders.is_some_and(|n| n > MAX_OPERATIONS) {
            push(l.error_at(
                &format!("{at}.fill_orders"),
                format!("expected at most {MAX_OPERATIONS}"),
            ));
        }
        if w.concurrency == Some(0) {
            push(l.error_at(
                &format!("{at}.concurrency"),
                "expected at least 1 virtual user, found 0",
            ));
        }
        if let Some(r) = w.rate {
            if r.per_second() <= 0.0 {
                push(l.error_at(&format!("{at}.rate"), "expected a rate above 0"));
            }
        }
        if w.mix.is_empty() {
            push(l.error_at(
                &format!("{at}.mix"),
                "expected at least one operation, like `consume: 1`",
            ));
        }
        if w.mix.values().all(|&x| x == 0) && !w.mix.is_empty() {
            push(l.error_at(
                &format!("{at}.mix"),
                "every weight is 0; expected at least one positive weight",
            ));
        }
        if w.fill_orders == Some(0) {
            push(l.error_at(&format!("{at}.fill_orders"), "expected at least 1"));
        }
    }
    let known = crate::check::rule_ids();
    for (i, id) in s.checks.ids().unwrap_or_default().iter().enumerate() {
        if !known.contains(&id.as_str()) {
            push(l.error_at(
                &format!("checks[{i}]"),
                format!(
                    "unknown rule id {id:?}; expected one of: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    for (i, t) in s.thresholds.iter().enumerate() {
        if let Err(e) = crate::thresholds::Threshold::parse(t) {
            push(l.error_at(&format!("thresholds[{i}]"), e));
        }
    }
    finish(errs)
}

/// Limits every scenario keeps (docs/scenarios.md): far past any real run, close
/// enough that no arithmetic on them overflows.
const MAX_NAME: usize = 100;
const MAX_PHASE: Duration = Duration::from_secs(30 * 86_400);
const MAX_THINK: Duration = Duration::from_secs(3600);
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
const MAX_CONCURRENCY: u32 = 100_000;
const MAX_OPERATIONS: u64 = 1_000_000_000_000;

/// An HTTP header name is a token (RFC 9110 §5.1).
fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn target(l: &Loaded, push: &mut impl FnMut(Error)) {
    let t = &l.scenario.target;
    for (name, v) in &t.headers {
        let at = format!("target.headers.{name}");
        if !header_name_ok(name) {
            push(l.error_at(
                &at,
                format!(
                    "expected a header name of letters, digits and !#$%&'*+-.^_`|~, found {name:?}"
                ),
            ));
        }
        // The value may be a credential: say what is wrong, never print it.
        if let Some(c) = v.value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
            push(l.error_at(
                &at,
                format!(
                    "expected a header value on one line, found {} in it{}",
                    match c {
                        '\r' => "a carriage return (CR)",
                        '\n' => "a line feed (LF)",
                        _ => "a NUL byte",
                    },
                    if v.from_env {
                        " (from the environment)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    if let Some(u) = t.base_url.as_ref().filter(|u| !u.value.trim().is_empty()) {
        match url::Url::parse(u.value.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                if url.host_str().is_none_or(str::is_empty) {
                    push(l.error_at("target.base_url", "expected a URL with a host, like https://api.example.com"));
                }
            }
            Ok(url) => push(l.error_at(
                "target.base_url",
                format!(
                    "expected an http:// or https:// URL, found scheme {:?}",
                    url.scheme()
                ),
            )),
            Err(e) => push(l.error_at(
                "target.base_url",
                format!("expected a URL like https://api.example.com, found one that does not parse ({e})"),
            )),
        }
    }
    target_tls(l, push);
    if let Some(d) = t.timeout {
        if d.0.is_zero() || d.0 > MAX_TIMEOUT {
            push(l.error_at(
                "target.timeout",
                format!("expected a timeout above 0 and at most 1h, found {d}"),
            ));
        }
    }
}

/// The scenario's TLS settings, paths taken relative to the scenario file.
pub fn tls_settings(l: &Loaded) -> TlsSettings {
    let t = &l.scenario.target;
    let dir = l.path.parent().unwrap_or(std::path::Path::new("."));
    let path = |v: &Option<super::env::EnvString>| {
        v.as_ref()
            .map(|v| v.value.trim())
            .filter(|v| !v.is_empty())
            .map(|v| dir.join(v))
    };
    TlsSettings {
        ca_cert: path(&t.ca_cert),
        client_cert: path(&t.client_cert),
        client_key: path(&t.client_key),
        insecure: t.insecure,
    }
}

/// The scenario's proxy setting: `none`, a URL, or (absent or empty) the environment's.
pub fn proxy_setting(l: &Loaded) -> ProxySetting {
    match l.scenario.target.proxy.as_ref().map(|p| p.value.trim()) {
        None | Some("") => ProxySetting::FromEnv,
        Some("none") => ProxySetting::Off,
        Some(u) => ProxySetting::Url(u.to_string()),
    }
}

/// Every TLS file is read and checked (a key against its certificate) and the proxy
/// parsed here, so `validate` finds what would otherwise fail every request.
fn target_tls(l: &Loaded, push: &mut impl FnMut(Error)) {
    let s = tls_settings(l);
    if s.ca_cert.is_some() || s.client_cert.is_some() || s.client_key.is_some() {
        if let Err(e) = crate::api::tls::client_config(&s) {
            let field = match e.setting {
                Setting::CaCert => "target.ca_cert",
                Setting::ClientCert => "target.client_cert",
                Setting::ClientKey => "target.client_key",
            };
            push(l.error_at(field, e.message));
        }
    }
    if let ProxySetting::Url(u) = proxy_setting(l) {
        if let Err(e) = crate::api::proxy::parse(&u, "target.proxy") {
            let msg = e.strip_prefix("target.proxy: ").unwrap_or(&e).to_string();
            push(l.error_at("target.proxy", msg));
        }
    }
}

fn fake(l: &Loaded, push: &mut impl FnMut(Error)) {
    let f = &l.scenario.fake;
    for (i, spec) in f.faults.iter().enumerate() {
        if let Err(e) = quotabench_fake::FaultSet::parse(std::slice::from_ref(spec)) {
            let msg = e.to_string();
            let msg = msg
                .strip_prefix(&format!("--fault {spec}: "))
                .unwrap_or(&msg);
            push(l.error_at(&format!("fake.faults[{i}]"), msg.to_string()));
        }
    }
    if let Some(c) = &f.config {
        let p = std::path::Path::new(c);
        match quotabench_fake::FakeConfig::load(p) {
            Ok(_) => {}
            // Located in the mocks file itself: that error says where.
            Err(e) if e.line.is_some() => push(Error::Config(e)),
            Err(e) => push(l.error_at(
                "fake.config",
                format!("{} (the path is relative to the working directory)", e),
            )),
        }
    }
}

fn finish(mut errs: Vec<ConfigError>) -> Result<(), Error> {
    match errs.len() {
        0 => Ok(()),
        1 => Err(Error::Config(errs.remove(0))),
        _ => Err(Error::ConfigMany(errs)),
    }
}

/// One entry of a resolved mix.
#[derive(Debug, Clone)]
pub struct MixEntry {
    /// The label (the mix key), used in reports.
    pub label: String,
    /// Weight.
    pub weight: u32,
    /// The operations it cycles through (a `consume_invalid` or `list_invalid` key cycles
    /// every variant).
    pub ops: Vec<CompiledOp>,
}

/// Resolves each phase's mix keys against the profile, locating unknown names.
pub fn resolve_mix(l: &Loaded, profile: &CompiledProfile) -> Result<Vec<Vec<MixEntry>>, Error> {
    let mut errs = Vec::new();
    let mut phases = Vec::new();
    for (i, p) in l.scenario.phases.iter().enumerate() {
        let mut entries = Vec::new();
        for (key, &weight) in &p.workload.mix {
            if weight == 0 {
                continue;
            }
            let ops: Vec<CompiledOp> = match (profile.ops.get(key), OpKind::parse(key)) {
                (Some(op), _) => vec![op.clone()],
                (None, Some(kind @ (OpKind::ConsumeInvalid | OpKind::ListInvalid))) => {
                    profile.all_of(kind).into_iter().cloned().collect()
                }
                (None, Some(kind)) => profile.first_of(kind).cloned().into_iter().collect(),
                (None, None) => Vec::new(),
            };
            if ops.is_empty() {
                let names: Vec<&str> = profile.ops.keys().map(String::as_str).collect();
                if let Error::Config(c) = l.error_at(
                    &format!("phases[{i}].workload.mix.{key}"),
                    format!(
                        "profile {:?} has no operation {key:?}; expected consume, consume_invalid, release, list, list_invalid, or one of: {}",
                        profile.profile.name,
                        names.join(", ")
                    ),
                ) {
                    errs.push(c);
                }
                continue;
            }
            entries.push(MixEntry {
                label: key.clone(),
                weight,
                ops,
            });
        }
        let scoped = entries
            .iter()
            .flat_map(|e| &e.ops)
            .any(|o| o.kind == OpKind::Consume && o.uses.is_some());
        if p.workload.parents == super::model::Parents::One && !scoped {
            if let Error::Config(c) = l.error_at(
                &format!("phases[{i}].workload.parents"),
                "`parents: one` needs a consume that acts inside a parent (an operation with `uses:`, like attach_destination) in the mix",
            ) {
                errs.push(c);
            }
        }
        phases.push(entries);
    }
    finish(errs)?;
    Ok(phases)
}
