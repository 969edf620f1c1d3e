//! `quotabench profile check`: one request of each kind, showing how each answer was
//! classified and what was read, so a vendor debugs a profile before running a suite.

use std::fmt::Write;

use super::client::Target;
use super::profile::OpKind;
use super::template::Vars;
use crate::vocab::Outcome;

/// One operation's dry-run result.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: OpKind,
    /// HTTP status, if any answer came.
    pub status: Option<u16>,
    /// The class the profile gave the answer (`None`: no rule matched).
    pub class: Option<Outcome>,
    /// What was read: quotas for a list, an id for a consume, or why it failed.
    pub detail: String,
    /// The quotas a list answer showed (read, or named among its values out of range).
    pub quotas: Vec<String>,
}

impl Probe {
    /// Whether this answer was understood.
    pub fn ok(&self) -> bool {
        self.class.is_some() && !self.detail.starts_with("unreadable")
    }
}

/// Sends one request of each operation (list first, then setup, consume, release,
/// invalid orders, resources; the clock hook only when `with_clock`).
pub async fn dry_run(target: &Target, with_clock: bool) -> Vec<Probe> {
    let order = [
        OpKind::List,
        OpKind::Setup,
        OpKind::Consume,
        OpKind::Release,
        OpKind::ConsumeInvalid,
        OpKind::ListInvalid,
        OpKind::Resources,
        OpKind::AdvanceClock,
    ];
    let mut out = Vec::new();
    let mut body = Vec::new();
    // Objects created along the way, so release and dependent consumes have one.
    // (operation, id, parent)
    let mut objects: Vec<(String, String, String)> = Vec::new();
    for kind in order {
        if kind == OpKind::AdvanceClock && !with_clock {
            continue;
        }
        for op in target.profile.all_of(kind) {
            let from = op
                .releases
                .as_deref()
                .or(op.takes.as_deref())
                .or(op.uses.as_deref());
            let obj = from.and_then(|f| {
                objects
                    .iter()
                    .find(|(n, _, _)| n == f)
                    .map(|(_, id, p)| (id.clone(), p.clone()))
            });
            let request_id = format!("dryrun-{}", out.len());
            let (id, parent) = match (&obj, op.uses.is_some()) {
                (Some((id, _)), true) => (String::new(), id.clone()),
                (Some((id, p)), false) => (id.clone(), p.clone()),
                (None, _) => ("none".to_string(), String::new()),
            };
            let vars = Vars {
                tenant: &target.tenant,
                amount: 1,
                request_id: &request_id,
                seq: out.len() as u64,
                id: &id,
                parent: &parent,
                seconds: 0,
                now_unix: jiff::Timestamp::now().as_second(),
            };
            let mut p = Probe {
                name: op.name.clone(),
                kind,
                status: None,
                class: None,
                detail: String::new(),
                quotas: Vec::new(),
            };
            let done = target.perform(op, &vars, &mut body).await;
            p.status = done.status;
            p.class = done.by_rule.then_some(done.outcome);
            let note = done.note.clone().unwrap_or_default();
            match (done.status, p.class) {
                (None, _) => {
                    p.detail = format!("unreadable: no answer ({}): {note}", done.outcome.as_str())
                }
                (Some(_), None) => p.detail = format!("no outcome rule matches; {note}"),
                (Some(_), Some(Outcome::Accepted)) => match kind {
                    OpKind::List => {
                        p.detail = match &done.readings {
                            Some(rs) => {
                                p.quotas = rs.iter().map(|r| r.name.to_string()).collect();
                                let read = rs
                                    .iter()
                                    .map(|r| format!("{} {}/{}", r.name, r.consumed, r.limit))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                match &done.note {
                                    // Values out of range are what a vendor must see.
                                    Some(n) => format!("unreadable: {n}; read {read}"),
                                    None => read,
                                }
                            }
                            None => format!("unreadable: {note}"),
                        }
                    }
                    OpKind::Setup | OpKind::Consume => match done.created {
                        Some(id) => {
                            p.detail = format!("id {id}");
                            objects.push((op.name.clone(), id, parent.clone()));
                        }
                        None if op.id.is_some() => {
                            p.detail = "unreadable: no id where the profile says".into()
                        }
                        None => {
                            if let (Some(t), Some((o, _))) = (&op.takes, obj) {
                                objects.push((op.name.clone(), o, String::new()));
                                p.detail = format!("took an object of {t}");
                            }
                        }
                    },
                    _ => {}
                },
                // The answer was classified but the list could not be read from it.
                (Some(_), Some(_)) if kind == OpKind::List && !note.is_empty() => {
                    p.detail = format!("unreadable: {note}")
                }
                (Some(_), Some(_)) => {}
            }
            out.push(p);
        }
    }
    out
}

/// The declared quotas no list answer of the dry run showed: the profile's `read` does
/// not find them (a pointer off), or the API lists a counter only once it is hit and
/// the profile does not say `absent: zero`.
pub fn never_seen(target: &Target, probes: &[Probe]) -> Vec<String> {
    let shown = |q: &str| {
        probes.iter().any(|p| {
            p.quotas.iter().any(|x| x == q)
                || (p.kind == OpKind::List && p.detail.contains(&format!("({q})")))
        })
    };
    target
        .profile
        .profile
        .quotas
        .iter()
        .map(|q| q.name.clone())
        .filter(|q| !shown(q))
        .collect()
}

/// The dry run as a table.
pub fn render(probes: &[Probe]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<32} {:<16} {:>6}  {:<17} read",
        "operation", "kind", "status", "class"
    );
    for p in probes {
        let _ = writeln!(
            s,
            "{:<32} {:<16} {:>6}  {:<17} {}",
            p.name,
            p.kind.as_str(),
            p.status.map_or("-".into(), |x| x.to_string()),
            p.class.map_or("UNCLASSIFIED", |c| c.as_str()),
            p.detail
        );
    }
    crate::redact::redact(&s).into_owned()
}
