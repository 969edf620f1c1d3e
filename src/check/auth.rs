//! Authentication: requests without valid credentials are refused and count nothing.

use super::facts::Facts;
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// The label the credentials probe records its requests under.
pub const PROBE: &str = "probe.credentials";

/// `auth.required`: every request the credentials probe sent (credentials removed, or
/// replaced by an invalid value) is answered with the authentication-rejection class,
/// and the counters do not move.
pub struct Required;

impl Rule for Required {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "auth.required",
            level: Level::Must,
            title: "requests without valid credentials are refused and not counted",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if h.header.capabilities.auth == crate::vocab::AuthDecl::None {
            return Judgement::skipped(
                "the profile declares `auth: none`: the API takes no credentials",
            );
        }
        let mut t = Tally::default();
        let mut any = false;
        for &i in &f.order {
            let o = &h.ops[i];
            if o.op != PROBE || f.decl(i).is_none_or(|d| d.kind == OpKind::List) {
                continue;
            }
            any = true;
            match o.outcome {
                Outcome::RejectedAuth => t.held(),
                _ if super::no_answer(o) || o.outcome == Outcome::RejectedRate => {
                    t.undecided(|| {
                        format!(
                            "op #{} got no definite answer ({}: {})",
                            o.id,
                            o.outcome.as_str(),
                            o.note.as_deref().unwrap_or("no answer")
                        )
                    })
                }
                other => {
                    return Judgement::fail(
                        format!(
                            "op #{} ({}) was sent without valid credentials and answered {}{}, not an authentication rejection",
                            o.id,
                            o.name,
                            o.status.map(|s| format!("{s} ")).unwrap_or_default(),
                            other.as_str()
                        ),
                        vec![o.id],
                    )
                }
            }
        }
        if !any {
            return Judgement::skipped("no credentials probe ran (add `probe: credentials`)");
        }
        for (g, i) in f.lone() {
            if h.ops[i].op != PROBE {
                continue;
            }
            for q in &h.header.quotas {
                if f.rise(g, g + 1, &q.name).is_some_and(|r| r > 0) {
                    return Judgement::fail(
                        format!(
                            "{}: counted op #{} that was sent without valid credentials (snapshots #{} → #{})",
                            q.name, h.ops[i].id, f.snapshots[g].id, f.snapshots[g + 1].id
                        ),
                        vec![h.ops[i].id],
                    );
                }
            }
        }
        t.finish(
            "unauthenticated requests",
            "no unauthenticated request was sent",
        )
    }
}
