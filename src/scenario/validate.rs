//! Checks a scenario beyond its types: workloads that can end, mixes the profile can
//! serve, rule ids that exist. Every error is located in the file.

use super::Loaded;
use crate::api::{CompiledOp, CompiledProfile};
use crate::error::{ConfigError, Error};
use crate::vocab::OpKind;

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
    if s.phases.is_empty() {
        push(l.error_at("phases", "expected at least one phase"));
    }
    for (i, p) in s.phases.iter().enumerate() {
        let w = &p.workload;
        let at = format!("phases[{i}].workload");
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
    for (i, id) in s.checks.iter().enumerate() {
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
        phases.push(entries);
    }
    finish(errs)?;
    Ok(phases)
}
