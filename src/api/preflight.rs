//! Preflight: read the target once before any load, so a run against a wrong URL, a
//! dead port, a bad certificate or bad credentials stops with the cause (exit 2)
//! instead of sending a phase of operations that all fail.

use super::client::{unsupported, Target};
use super::perform::{Performed, RATE_RETRIES};
use super::template::Vars;
use crate::vocab::{OpKind, Outcome};

/// Sends the profile's first list with the scenario's headers and checks it was read.
/// Rate-limited answers are waited on and retried ([`RATE_RETRIES`]); so are answers
/// that may change on their own (a gateway 503, a cut body). The error reads
/// `cannot start: GET http://127.0.0.1:9/data/core/hygiene/quota: connection refused`.
pub async fn preflight(target: &Target) -> Result<(), String> {
    let Some(op) = target.profile.first_of(OpKind::List) else {
        return Ok(());
    };
    let vars = Vars {
        tenant: &target.tenant,
        request_id: "quotabench-preflight",
        now_unix: jiff::Timestamp::now().as_second(),
        ..Vars::default()
    };
    let what = match target.render(op, &vars) {
        Ok(r) => format!("{} {}", r.method(), r.uri()),
        Err(_) => format!("{} {}{}", op.method, target.base_url, op.path.render(&vars)),
    };
    let fail = |why: String| {
        Err(crate::redact::redact(&format!("cannot start: {what}: {why}")).into_owned())
    };
    if let Some(why) = unsupported(&target.base_url) {
        return fail(why);
    }
    let mut scratch = Vec::new();
    let mut attempt = 0;
    let p: Performed = loop {
        attempt += 1;
        let p = target.perform(op, &vars, &mut scratch).await;
        let transient = matches!(p.outcome, Outcome::RejectedRate)
            || (p.outcome == Outcome::Indeterminate && p.status.is_some());
        if !transient || attempt >= RATE_RETRIES {
            break p;
        }
        tokio::time::sleep(p.retry_wait()).await;
    };
    let note = p.note.clone().unwrap_or_default();
    let status = p.status.map_or(String::new(), |s| format!("{s} "));
    match p.outcome {
        Outcome::Accepted if p.readings.is_some() => Ok(()),
        Outcome::Accepted => fail(format!("the answer cannot be read: {note}")),
        Outcome::NotSent => fail(note),
        Outcome::RejectedAuth => fail(format!(
            "refused for credentials ({status}{note}); check the scenario's target.headers"
        )),
        Outcome::RejectedRate => fail(format!(
            "still rate limited after {attempt} attempts ({status}{note})"
        )),
        _ => fail(format!("{status}{}: {note}", p.outcome.as_str())),
    }
}
