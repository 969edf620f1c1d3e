//! `quotabench profile check`: one request of each kind, showing how each answer was
//! classified and what was read, so a vendor debugs a profile before running a suite.

use std::fmt::Write;

use super::client::{classify, extract_id, SendFailure, Target};
use super::profile::OpKind;
use super::read::{count_sources, read_list};
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
            };
            match target.send(op, &vars, &mut body).await {
                Err(SendFailure::NotSent(e) | SendFailure::Indeterminate(e)) => {
                    p.detail = format!("unreadable: no answer: {e}")
                }
                Ok(ans) => {
                    p.status = Some(ans.status);
                    p.class = classify(op, ans.status, &ans.body);
                    if p.class == Some(Outcome::Accepted) {
                        match kind {
                            OpKind::List => {
                                let mut res = Vec::new();
                                for src in count_sources(op) {
                                    if let Some(rop) = target.profile.ops.get(&src) {
                                        if let Ok(a) = target.send(rop, &vars, &mut body).await {
                                            res.push((src, a.body.to_vec()));
                                        }
                                    }
                                }
                                p.detail = match read_list(op, &ans.body, &res) {
                                    Ok(rs) => rs
                                        .iter()
                                        .map(|r| format!("{} {}/{}", r.name, r.consumed, r.limit))
                                        .collect::<Vec<_>>()
                                        .join(", "),
                                    Err(e) => format!("unreadable: {e}"),
                                };
                            }
                            OpKind::Setup | OpKind::Consume => match extract_id(op, &ans) {
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
                        }
                    } else if p.class.is_none() {
                        let text = String::from_utf8_lossy(&ans.body[..ans.body.len().min(200)])
                            .into_owned();
                        p.detail = format!("no outcome rule matches; body: {text}");
                    }
                }
            }
            out.push(p);
        }
    }
    out
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
