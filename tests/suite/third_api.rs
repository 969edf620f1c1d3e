//! Any quota API: a third API of a different shape, described only in YAML
//! (tests/data/thirdapi/profile.yaml), passes when correct and fails when broken.
//! The API is served by this file's own small stateful fake (wiremock + a responder).

use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common;

const ALLOWANCE: u64 = 1000;
const JOBS: u64 = 4;

#[derive(Default)]
struct State {
    spent: u64,
    running: Vec<String>,
    next: u64,
}

#[derive(Clone)]
struct Api {
    state: Arc<Mutex<State>>,
    /// Counts rejected spends and admits one job too many.
    broken: bool,
}

fn quota_exhausted() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {"code": "QUOTA_EXHAUSTED"}}))
}

impl Respond for Api {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        let p = req.url.path().to_string();
        match (req.method.as_str(), p.rsplit('/').next().unwrap_or("")) {
            ("GET", "usage") => ResponseTemplate::new(200).set_body_json(json!({"meters": [
                {"meter": "credits", "allowance": ALLOWANCE, "remaining": ALLOWANCE.saturating_sub(s.spent)},
                {"meter": "running_jobs", "allowance": JOBS, "remaining": JOBS.saturating_sub(s.running.len() as u64)},
            ]})),
            ("POST", "spend") => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let Some(n) = body["credits"].as_u64().filter(|n| *n > 0) else {
                    if self.broken {
                        s.spent += 5;
                    }
                    return ResponseTemplate::new(422).set_body_json(json!({"error": {"code": "VALIDATION"}}));
                };
                if s.spent + n > ALLOWANCE {
                    return quota_exhausted();
                }
                s.spent += n;
                ResponseTemplate::new(200).set_body_json(json!({"spent": n}))
            }
            ("POST", "jobs") => {
                let cap = if self.broken { JOBS + 1 } else { JOBS };
                if s.running.len() as u64 >= cap {
                    return quota_exhausted();
                }
                s.next += 1;
                let id = format!("job-{}", s.next);
                s.running.push(id.clone());
                ResponseTemplate::new(202).insert_header("location", format!("{p}/{id}").as_str())
            }
            ("DELETE", id) => match s.running.iter().position(|x| x == id) {
                Some(i) => {
                    s.running.remove(i);
                    ResponseTemplate::new(204)
                }
                None => ResponseTemplate::new(404),
            },
            _ => ResponseTemplate::new(404),
        }
    }
}

async fn serve(broken: bool) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let api = Api {
        state: Arc::default(),
        broken,
    };
    Mock::given(method("GET"))
        .and(path_regex(r"^/v3/accounts/[^/]+/usage$"))
        .respond_with(api.clone())
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/accounts/[^/]+/(credits/spend|jobs)$"))
        .respond_with(api.clone())
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3/accounts/[^/]+/jobs/[^/]+$"))
        .respond_with(api)
        .mount(&server)
        .await;
    server
}

fn run(url: &str) -> (i32, Value) {
    let out = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .args([
            "run",
            "tests/data/thirdapi/suite.yaml",
            "--seed",
            "11",
            "--target",
            url,
            "--out",
        ])
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let dir = common::run_dir(out.path());
    let s = common::summary(&dir);
    (o.status.code().unwrap_or(-1), s)
}

fn verdict(s: &Value, id: &str) -> String {
    common::rule(s, id)["verdict"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_third_api_passes_through_a_yaml_profile() {
    let server = serve(false).await;
    let (code, s) = tokio::task::spawn_blocking({
        let url = server.uri();
        move || run(&url)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{s:#}");
    let spend = &s["operations"]["spend_credits"]["outcomes"];
    assert!(
        spend["accepted"].as_u64().unwrap() > 0 && spend["rejected_quota"].as_u64().unwrap() > 0,
        "{spend}"
    );
    assert!(
        s["operations"]["start_job"]["outcomes"]["accepted"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        s["quotas"]["credits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["consumed"] == ALLOWANCE),
        "the window was filled: {}",
        s["quotas"]["credits"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_third_api_fails_on_the_rules_it_breaks() {
    let server = serve(true).await;
    let (code, s) = tokio::task::spawn_blocking({
        let url = server.uri();
        move || run(&url)
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{s:#}");
    assert_eq!(verdict(&s, "rejected.invalid-not-counted"), "fail", "{s:#}");
    assert_eq!(verdict(&s, "limit.never-exceeded"), "fail", "{s:#}");
}
