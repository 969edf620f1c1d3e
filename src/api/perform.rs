//! `perform`: one operation end to end on the wire: render, send, classify, extract the
//! created id, and for a list follow its counting lists and read it. The engine only
//! schedules, times, settles objects and records what this returns.

use std::time::Duration;

use hyper::http::HeaderMap;

use super::answer::SendFailure;
use super::classify::classify;
use super::client::{extract_id, Target};
use super::compile::CompiledOp;
use super::paging::{self, PageAt, Step, Walk};
use super::read::{count_sources, read_list};
use super::template::Vars;
use crate::vocab::{OpKind, Outcome, Readings, OUT_OF_RANGE_NOTE};

/// Attempts a patient caller (probes, snapshots, counting lists, preflight) makes
/// while the target answers "rate limited".
pub const RATE_RETRIES: u32 = 5;
/// The longest `Retry-After` honoured: a target asking for more is waited on this long.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);
/// The wait when a rate-limit answer names none.
pub const RETRY_DEFAULT: Duration = Duration::from_millis(500);

/// What one operation came to.
#[derive(Debug, Clone)]
pub struct Performed {
    /// Its class (docs/rules.md, "Outcomes").
    pub outcome: Outcome,
    /// The HTTP status, when one arrived.
    pub status: Option<u16>,
    /// The answer's headers (empty with no answer).
    pub headers: HeaderMap,
    /// Setup or consume accepted: the id of the object it created.
    pub created: Option<String>,
    /// List accepted: what it read.
    pub readings: Option<Readings>,
    /// Why, in a line, when the outcome needs explaining.
    pub note: Option<String>,
    /// List: the counting lists it sent, in order.
    pub follow_ups: Vec<FollowUp>,
    /// Whether a profile rule classified the answer (false: the defaults, or no answer).
    pub by_rule: bool,
}

/// One counting-list request a list sent to count consumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The resources operation.
    pub op: String,
    /// Its last status.
    pub status: Option<u16>,
    /// Its last outcome.
    pub outcome: Outcome,
    /// How many times it was sent (more than one: it was rate limited).
    pub attempts: u32,
}

impl Performed {
    fn failed(outcome: Outcome, note: String) -> Performed {
        Performed {
            outcome,
            status: None,
            headers: HeaderMap::new(),
            created: None,
            readings: None,
            note: Some(note),
            follow_ups: Vec::new(),
            by_rule: false,
        }
    }

    /// How long to wait before sending again after a rate-limit answer.
    pub fn retry_wait(&self) -> Duration {
        retry_after(&self.headers, jiff::Timestamp::now()).unwrap_or(RETRY_DEFAULT)
    }
}

/// `Retry-After` as a wait: delay-seconds or an HTTP date, capped at [`RETRY_AFTER_CAP`].
pub fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let v = headers
        .get(hyper::http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match v.parse::<u64>() {
        Ok(s) => Duration::from_secs(s),
        Err(_) => {
            let at = jiff::fmt::rfc2822::DateTimeParser::new()
                .parse_timestamp(v)
                .ok()?;
            let secs = at.as_second() - now.as_second();
            Duration::from_secs(secs.max(0) as u64)
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]);
    crate::redact::redact(&s).into_owned()
}

impl Target {
    /// Sends `op` once and classifies the answer. A list's counting lists are followed
    /// (rate-limited ones retried up to [`RATE_RETRIES`] times; still limited, the list
    /// is indeterminate, never a wrong count) and the list is read.
    pub async fn perform(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
    ) -> Performed {
        let (mut p, body) = self.exchange_paged(op, vars, scratch).await;
        if op.kind == OpKind::List && p.outcome == Outcome::Accepted {
            self.finish_list(op, vars, scratch, &mut p, body).await;
        }
        p
    }

    /// [`Target::exchange`], then, when `op` pages, every further page (each rendered,
    /// sent and classified the same way; a rate-limited page waits and is sent again up
    /// to [`RATE_RETRIES`] times). Accepted, the body holds every page's items. A read
    /// cut short (a page not accepted, the bound hit, pages contradicting the total) is
    /// indeterminate with the reason; a page not in the declared shape is an error.
    async fn exchange_paged(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
    ) -> (Performed, bytes::Bytes) {
        let Some(pg) = &op.paging else {
            return self.exchange(op, vars, scratch, None).await;
        };
        let mut walk = Walk::new(pg);
        let mut at = walk.first();
        loop {
            let n = walk.pages() + 1;
            let mut attempts = 0;
            let (mut p, body, url) = loop {
                attempts += 1;
                let (p, b, u) = self.exchange_at(op, vars, scratch, Some(&at)).await;
                // The first page's refusal is the operation's (its caller may retry).
                if n == 1 || p.outcome != Outcome::RejectedRate || attempts >= RATE_RETRIES {
                    break (p, b, u);
                }
                tokio::time::sleep(p.retry_wait()).await;
            };
            if p.outcome != Outcome::Accepted {
                if n > 1 {
                    let why = match p.outcome {
                        Outcome::RejectedRate => {
                            format!("still rate limited after {attempts} attempts")
                        }
                        o => p
                            .note
                            .take()
                            .unwrap_or_else(|| format!("answered {}", o.as_str())),
                    };
                    let status = p.status.map_or(String::new(), |s| format!(" ({s})"));
                    p.outcome = Outcome::Indeterminate;
                    p.note = Some(format!("paged read cut short: page {n}{status}: {why}"));
                }
                return (p, body);
            }
            let Some(url) = url else { return (p, body) };
            match walk.take(&body, &p.headers, &url) {
                Step::Next(next) => at = next,
                Step::Done(None) => return (p, body),
                Step::Done(Some(merged)) => return (p, merged.into()),
                Step::Bad(why) => {
                    p.outcome = Outcome::Error;
                    p.note = Some(format!("list answer unreadable: {why}"));
                    return (p, bytes::Bytes::new());
                }
                Step::Cut(why) => {
                    p.outcome = Outcome::Indeterminate;
                    p.note = Some(format!("paged read cut short: {why}"));
                    return (p, bytes::Bytes::new());
                }
            }
        }
    }

    /// One exchange, classified, with the answer's body (empty when none came whole).
    pub(super) async fn exchange(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
        at: Option<&PageAt>,
    ) -> (Performed, bytes::Bytes) {
        let (p, b, _) = self.exchange_at(op, vars, scratch, at).await;
        (p, b)
    }

    /// One exchange on a page (`at`: none is the request as rendered), with the URL sent.
    async fn exchange_at(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
        at: Option<&PageAt>,
    ) -> (Performed, bytes::Bytes, Option<hyper::http::Uri>) {
        let none = bytes::Bytes::new();
        let mut req = match self.render_into(op, vars, scratch) {
            Ok(r) => r,
            Err(e) => return (Performed::failed(Outcome::NotSent, e), none, None),
        };
        if let Some(at) = at {
            if let Err(e) = paging::apply(&mut req, at) {
                return (Performed::failed(Outcome::NotSent, e), none, None);
            }
        }
        let url = Some(req.uri().clone());
        let ans = match self.send(req, op.max_body).await {
            Ok(a) => a,
            Err(SendFailure::NotSent(e)) => {
                return (Performed::failed(Outcome::NotSent, e), none, url)
            }
            Err(SendFailure::Indeterminate(e)) => {
                return (Performed::failed(Outcome::Indeterminate, e), none, url)
            }
            Err(SendFailure::Cut { status, why }) => {
                let mut p = Performed::failed(Outcome::Indeterminate, why);
                p.status = Some(status);
                return (p, none, url);
            }
        };
        let c = classify(op, ans.status, &ans.headers, &ans.body);
        let note = match (c.outcome, c.by_rule) {
            (_, false) => Some(format!(
                "unclassified answer {}: {}",
                ans.status,
                excerpt(&ans.body)
            )),
            (Outcome::Accepted | Outcome::RejectedQuota | Outcome::RejectedInvalid, _) => None,
            _ => Some(excerpt(&ans.body)),
        };
        let created = (c.outcome == Outcome::Accepted
            && matches!(op.kind, OpKind::Consume | OpKind::Setup))
        .then(|| extract_id(op, &ans))
        .flatten();
        let p = Performed {
            outcome: c.outcome,
            status: Some(ans.status),
            headers: ans.headers,
            created,
            readings: None,
            note,
            follow_ups: Vec::new(),
            by_rule: c.by_rule,
        };
        (p, ans.body, url)
    }

    /// Follows the counting lists, then reads the list (or reuses the last reading
    /// when the answer is byte for byte the last one).
    async fn finish_list(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
        p: &mut Performed,
        body: bytes::Bytes,
    ) {
        let mut resources = Vec::new();
        for from in count_sources(op) {
            let Some(rop) = self.profile.ops.get(&from) else {
                continue;
            };
            let mut attempts = 0;
            let (f, fbody) = loop {
                attempts += 1;
                let (f, b) = self.exchange_paged(rop, vars, scratch).await;
                if f.outcome != Outcome::RejectedRate || attempts >= RATE_RETRIES {
                    break (f, b);
                }
                tokio::time::sleep(f.retry_wait()).await;
            };
            p.follow_ups.push(FollowUp {
                op: from.clone(),
                status: f.status,
                outcome: f.outcome,
                attempts,
            });
            match f.outcome {
                Outcome::Accepted => resources.push((from, fbody.to_vec())),
                o => {
                    // Without every count the list says nothing reliable: a refusal
                    // leaves it an error, anything that may change (rate limited,
                    // lost, cut) leaves it indeterminate; never a wrong count.
                    p.outcome = match o {
                        Outcome::RejectedRate => Outcome::Indeterminate,
                        o if o.definite() => Outcome::Error,
                        _ => Outcome::Indeterminate,
                    };
                    let why = match o {
                        Outcome::RejectedRate => {
                            format!("still rate limited after {attempts} attempts")
                        }
                        _ => f.note.unwrap_or_else(|| format!("answered {}", o.as_str())),
                    };
                    let status = f.status.map_or(String::new(), |s| format!(" ({s})"));
                    p.note = Some(format!("counting list {from}{status}: {why}"));
                    return;
                }
            }
        }
        // While nothing changes, a list answers the same bytes: reuse what they said.
        if resources.is_empty() {
            let c = self.list_cache.lock();
            if let Some((_, _, r, note)) = c
                .as_ref()
                .filter(|(n, b, _, _)| *n == op.name && *b == body)
            {
                p.readings = Some(r.clone());
                p.note = note.clone();
                return;
            }
        }
        match read_list(op, &body, &resources) {
            Ok(listed) => {
                let r = Readings::from(listed.readings);
                let note = (!listed.problems.is_empty())
                    .then(|| format!("{OUT_OF_RANGE_NOTE}{}", listed.problems.join("; ")));
                if resources.is_empty() {
                    *self.list_cache.lock() =
                        Some((op.name.clone(), body, r.clone(), note.clone()));
                }
                p.readings = Some(r);
                p.note = note;
            }
            Err(e) => {
                p.outcome = Outcome::Error;
                p.note = Some(format!("list answer unreadable: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates_and_is_capped() {
        let now: jiff::Timestamp = "1994-11-06T08:49:30Z".parse().unwrap();
        let h = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert("retry-after", v.parse().unwrap());
            m
        };
        assert_eq!(retry_after(&h("2"), now), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&h("120"), now), Some(RETRY_AFTER_CAP));
        assert_eq!(
            retry_after(&h("Sun, 06 Nov 1994 08:49:33 GMT"), now),
            Some(Duration::from_secs(3))
        );
        // A date already past: send again at once.
        assert_eq!(
            retry_after(&h("Sun, 06 Nov 1994 08:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
