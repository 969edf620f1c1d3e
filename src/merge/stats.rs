//! What the shards' summaries say that their histories do not: each phase's delivery
//! and the budget plan, put together for the whole run.

use crate::report::Report;
use crate::vocab::{BudgetPlan, PhaseStats};

/// Per phase (in shard 1's order, matched by name): operations, late and dropped
/// arrivals and asked and achieved rates added up; the longest shard's duration; the
/// order sizes shard 1 used.
pub fn phases(reports: &[&Report]) -> Vec<PhaseStats> {
    let Some(first) = reports.first() else {
        return Vec::new();
    };
    first
        .phases
        .iter()
        .map(|p| {
            let mut m = p.clone();
            for r in &reports[1..] {
                let Some(q) = r.phases.iter().find(|q| q.name == p.name) else {
                    continue;
                };
                m.seconds = m.seconds.max(q.seconds);
                m.operations += q.operations;
                m.late += q.late;
                m.dropped += q.dropped;
                m.asked_rate = add(m.asked_rate, q.asked_rate);
                m.achieved_rate = add(m.achieved_rate, q.achieved_rate);
            }
            m
        })
        .collect()
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

/// Shard 1's plan (its entries and order), with every shard's shortfalls and objects
/// left behind, each named with its shard: one shard without room leaves the whole
/// run unknown, as it would a single run.
pub fn plan(reports: &[(u32, &Report)]) -> BudgetPlan {
    let mut plan = reports
        .first()
        .and_then(|(_, r)| r.plan.clone())
        .unwrap_or_default();
    plan.shortfalls.clear();
    plan.left_behind.clear();
    for (k, r) in reports {
        let Some(p) = &r.plan else { continue };
        plan.shortfalls
            .extend(p.shortfalls.iter().map(|s| format!("shard {k}: {s}")));
        plan.left_behind
            .extend(p.left_behind.iter().map(|s| format!("shard {k}: {s}")));
    }
    plan
}
