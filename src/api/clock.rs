//! The target's clock: an operation of kind `clock` asks the target what time it is
//! (`now:` points at an RFC 3339 instant or Unix seconds in its answer). A target whose
//! clock is virtual (the bundled fake with `clock: {mode: virtual}`) or simply set
//! differently from ours counts its periods in its own time, so the run must too.

use super::client::Target;
use super::compile::CompiledOp;
use super::perform::Performed;
use super::template::Vars;
use crate::vocab::Outcome;

/// What a clock read came to: the answer, and the instant when one could be read.
pub struct ClockRead {
    /// The answer, classified as any other.
    pub performed: Performed,
    /// The target's instant, when the answer was accepted and held one.
    pub now: Option<jiff::Timestamp>,
}

/// The instant a JSON value holds: an RFC 3339 string, or Unix seconds (a number,
/// fractions kept to the microsecond).
pub fn parse_now(v: &serde_json::Value) -> Result<jiff::Timestamp, String> {
    match v {
        serde_json::Value::String(s) => s
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("{s:?} is not an RFC 3339 instant: {e}")),
        serde_json::Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .and_then(|f| jiff::Timestamp::from_microsecond((f * 1e6).round() as i64).ok())
            .ok_or_else(|| format!("{n} is not a Unix time in seconds")),
        other => Err(format!(
            "expected an RFC 3339 string or Unix seconds, found {other}"
        )),
    }
}

impl Target {
    /// Sends the clock operation `op` once and reads the instant from its answer. An
    /// accepted answer without a readable instant keeps its class and says why in the
    /// note; the instant is then absent, never guessed.
    pub async fn read_clock(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
    ) -> ClockRead {
        let (mut performed, body) = self.exchange(op, vars, scratch, None).await;
        if performed.outcome != Outcome::Accepted {
            return ClockRead {
                performed,
                now: None,
            };
        }
        let pointer = self
            .profile
            .profile
            .operations
            .get(&op.name)
            .and_then(|d| d.now.clone())
            .unwrap_or_default();
        let read = serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|e| format!("the answer is not JSON: {e}"))
            .and_then(|v| {
                v.pointer(&pointer)
                    .cloned()
                    .ok_or_else(|| format!("nothing at {pointer:?}"))
            })
            .and_then(|v| parse_now(&v));
        match read {
            Ok(now) => ClockRead {
                performed,
                now: Some(now),
            },
            Err(e) => {
                performed.note = Some(format!("unreadable clock answer: {e}"));
                ClockRead {
                    performed,
                    now: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instants_are_read_from_rfc3339_or_unix_seconds() {
        let t = parse_now(&json!("2025-01-31T23:00:00.5Z")).unwrap();
        assert_eq!(t.as_microsecond(), 1_738_364_400_500_000);
        let t = parse_now(&json!(1_738_364_400.25)).unwrap();
        assert_eq!(t.as_microsecond(), 1_738_364_400_250_000);
        assert!(parse_now(&json!("yesterday")).is_err());
        assert!(parse_now(&json!(true)).is_err());
        assert!(parse_now(&json!(1e300)).is_err());
    }
}
