//! Outcome classification on the wire (docs/rules.md, "Outcomes"): what each kind of
//! answer, or its absence, becomes through `Target::perform`, on loopback servers.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use quotabench::api::template::Vars;
use quotabench::api::{Target, TransportOptions};
use quotabench::vocab::{out_of_range, Outcome};

use crate::echo::{self, Reply};

fn vars() -> Vars<'static> {
    Vars {
        tenant: "org-1",
        amount: 1,
        request_id: "r-1",
        ..Vars::default()
    }
}

async fn perform(
    base: &str,
    profile: &str,
    op: &str,
    o: &TransportOptions,
) -> quotabench::api::Performed {
    let p = quotabench::api::load(profile, Path::new(".")).expect("built in");
    let t = Target::with_options(base, "org-1", p.clone(), &[], o).expect("a target");
    t.perform(&p.ops[op], &vars(), &mut Vec::new()).await
}

fn json(status: u16, body: &'static str) -> Reply {
    Reply::Fixed(
        status,
        vec![("content-type", "application/json".into())],
        Bytes::from_static(body.as_bytes()),
    )
}

#[tokio::test]
async fn no_answer_is_not_sent_and_a_gateway_answer_is_indeterminate() {
    let o = TransportOptions::default();
    let dead = perform(
        "http://127.0.0.1:9",
        "adobe-hygiene",
        "delete_identities",
        &o,
    )
    .await;
    assert_eq!(dead.outcome, Outcome::NotSent);
    assert_eq!(dead.note.as_deref(), Some("connection refused"));
    let ftp = perform(
        "ftp://127.0.0.1:9",
        "adobe-hygiene",
        "delete_identities",
        &o,
    )
    .await;
    assert_eq!(ftp.outcome, Outcome::NotSent);
    assert!(
        ftp.note
            .as_deref()
            .unwrap_or("")
            .contains("unsupported scheme ftp://"),
        "{:?}",
        ftp.note
    );

    for (status, want) in [
        (502, Outcome::Indeterminate),
        (503, Outcome::Indeterminate),
        // The built-in profiles declare `5xx: error`: a 500 is a definite refusal there,
        // but the class rule does not reach the gateway codes above.
        (500, Outcome::Error),
        (418, Outcome::Error),
        (400, Outcome::RejectedInvalid),
        (429, Outcome::RejectedQuota),
    ] {
        let srv = echo::start(json(status, r#"{"message":"x"}"#), None).await;
        let p = perform(
            &format!("http://{}", srv.addr),
            "adobe-hygiene",
            "delete_identities",
            &o,
        )
        .await;
        assert_eq!((status, p.outcome), (status, want), "{:?}", p.note);
        assert_eq!(p.status, Some(status));
    }
}

#[tokio::test]
async fn a_rate_limit_429_is_told_from_a_quota_429_by_retry_after() {
    let o = TransportOptions::default();
    let rate = Reply::Fixed(
        429,
        vec![
            ("retry-after", "1".into()),
            ("ratelimit", "\"org\";r=0;t=1".into()),
        ],
        Bytes::from_static(
            br#"{"code":429,"name":"TooManyRequests","message":"Too many requests"}"#,
        ),
    );
    let quota = Reply::Fixed(
        429,
        vec![("ratelimit", "\"org\";r=3;t=1".into())],
        Bytes::from_static(
            br#"{"code":429,"name":"TooManyRequests","message":"quota exceeded: exports_configs"}"#,
        ),
    );
    for profile in ["adobe-hygiene", "didomi"] {
        let op = if profile == "didomi" {
            "create_config"
        } else {
            "delete_identities"
        };
        let srv = echo::start(rate.clone(), None).await;
        let p = perform(&format!("http://{}", srv.addr), profile, op, &o).await;
        assert_eq!(p.outcome, Outcome::RejectedRate, "{profile}");
        assert_eq!(p.retry_wait(), Duration::from_secs(1));
        let srv = echo::start(quota.clone(), None).await;
        let p = perform(&format!("http://{}", srv.addr), profile, op, &o).await;
        assert_eq!(p.outcome, Outcome::RejectedQuota, "{profile}");
    }
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap_on_both_transports() {
    let (pem, tls) = echo::self_signed();
    let o = TransportOptions {
        extra_roots_pem: vec![pem],
        timeout: Duration::from_secs(5),
        ..TransportOptions::default()
    };
    let plain = echo::start(Reply::Endless, None).await;
    let secure = echo::start(Reply::Endless, Some(tls)).await;
    for base in [
        format!("http://{}", plain.addr),
        format!("https://127.0.0.1:{}", secure.addr.port()),
    ] {
        let t0 = Instant::now();
        let p = perform(&base, "adobe-hygiene", "delete_identities", &o).await;
        assert_eq!(p.outcome, Outcome::Indeterminate, "{base}");
        assert_eq!(p.note.as_deref(), Some("body over 65536 bytes"), "{base}");
        assert_eq!(p.status, Some(200));
        let list = perform(&base, "adobe-hygiene", "list_quotas", &o).await;
        assert_eq!(list.outcome, Outcome::Indeterminate, "{base}");
        assert_eq!(
            list.note.as_deref(),
            Some("body over 1048576 bytes"),
            "{base}"
        );
        // The body never ends: without the cap this would run until the test
        // harness gives up. Generous, so a loaded machine is not a failure.
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{base}: the cap did not stop an endless body"
        );
    }
}

#[tokio::test]
async fn list_values_out_of_range_are_kept_with_a_note() {
    let srv = echo::start(
        json(200, r#"{"quotas":[{"name":"datasetExpirationQuota","consumed":-2,"quota":50},{"name":"dailyConsumerDeleteIdentitiesQuota","consumed":3,"quota":600000}]}"#),
        None,
    )
    .await;
    let p = perform(
        &format!("http://{}", srv.addr),
        "adobe-hygiene",
        "list_quotas",
        &TransportOptions::default(),
    )
    .await;
    assert_eq!(p.outcome, Outcome::Accepted);
    assert!(out_of_range(p.note.as_deref()), "{:?}", p.note);
    assert!(
        p.note
            .as_deref()
            .unwrap()
            .contains("datasetExpirationQuota"),
        "{:?}",
        p.note
    );
    let r = p.readings.expect("what could be read");
    assert_eq!(r.len(), 1);
    assert_eq!(
        (&*r[0].name, r[0].consumed),
        ("dailyConsumerDeleteIdentitiesQuota", 3)
    );
}

#[tokio::test]
async fn a_counting_list_still_rate_limited_leaves_the_list_indeterminate() {
    let limited = Reply::Fixed(
        429,
        vec![("retry-after", "0".into())],
        Bytes::from_static(br#"{"message":"Too many requests"}"#),
    );
    let srv = echo::start(
        Reply::Routes(vec![
            (
                "/v1/quotas",
                json(
                    200,
                    r#"{"data":[{"exports_configs":3,"exports_destinations":2}]}"#,
                ),
            ),
            ("/v1/exports/configs", limited),
        ]),
        None,
    )
    .await;
    let p = perform(
        &format!("http://{}", srv.addr),
        "didomi",
        "list_quotas",
        &TransportOptions::default(),
    )
    .await;
    assert_eq!(p.outcome, Outcome::Indeterminate, "{:?}", p.note);
    assert!(p.readings.is_none(), "never a wrong count");
    assert_eq!(p.follow_ups.len(), 1);
    assert_eq!(p.follow_ups[0].attempts, quotabench::api::RATE_RETRIES);
    assert_eq!(p.follow_ups[0].outcome, Outcome::RejectedRate);
    // 1 list + 5 attempts at the counting list, then it gave up.
    assert_eq!(srv.seen.lock().unwrap().len(), 6);
}
