//! The Didomi routes of the fake (quota list and the fake's export endpoints).

use crate::support::*;
use quotabench_fake::{Fake, FakeRequest, FakeResponse};
use serde_json::json;

fn feathers(r: &FakeResponse) -> (u64, String) {
    let b = r.json_body();
    assert!(b["errors"].is_object(), "Feathers body: {b}");
    assert!(b["message"].is_string());
    (
        b["code"].as_u64().unwrap_or(0),
        b["name"].as_str().unwrap_or("").to_string(),
    )
}

fn create(f: &Fake, org: &str) -> String {
    let r =
        f.handle(&didomi("POST", "/exports/configs", org).body(json!({"name": "c"}).to_string()));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["enabled"], false);
    r.json_body()["id"].as_str().unwrap().to_string()
}

fn post(f: &Fake, org: &str, path: &str) -> FakeResponse {
    f.handle(&didomi("POST", path, org))
}

#[test]
fn quota_list_is_feathers_paged_limits_only() {
    let f = fake(
        "orgs:\n  acme:\n    quotas:\n      exports_configs: 7\n",
        &[],
    );
    let r = f.handle(&didomi("GET", "/quotas", "acme"));
    assert_eq!(r.status, 200);
    let b = r.json_body();
    assert_eq!(b["total"], 1);
    assert_eq!(b["skip"], 0);
    assert_eq!(b["limit"], 10);
    let row = &b["data"][0];
    assert_eq!(row["exports_configs"], 7);
    assert_eq!(row["exports_destinations"], 2);
    assert_eq!(row["organization_id"], "acme");
    assert_eq!(row["version"], 0);
    assert!(
        row["id"].is_string() && row["created_at"].is_string() && row["updated_at"].is_string()
    );
    let r = f.handle(&didomi("GET", "/quotas?$skip=1&$limit=5", "acme"));
    assert_eq!(r.json_body()["data"].as_array().unwrap().len(), 0);
    assert_eq!(r.json_body()["limit"], 5);
    let r = f.handle(&didomi("GET", "/quotas?$limit=abc", "acme"));
    assert_eq!(feathers(&r), (400, "BadRequest".into()));
}

#[test]
fn organization_and_bearer_are_required() {
    let f = fake("", &[]);
    let r = f.handle(&FakeRequest::new("GET", "/v1/quotas").header("authorization", "Bearer t"));
    assert_eq!(r.status, 400);
    assert_eq!(feathers(&r), (400, "BadRequest".into()));
    let r = f.handle(&FakeRequest::new("GET", "/v1/quotas?organization_id=o"));
    assert_eq!(r.status, 401);
    assert_eq!(feathers(&r), (401, "NotAuthenticated".into()));
    let r = f.handle(
        &FakeRequest::new("GET", "/v1/quotas?organization_id=o").header("authorization", "Bearer"),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn enabling_consumes_the_concurrent_quota_and_disabling_frees_it() {
    let f = fake(SMALL_VIRTUAL, &[]); // exports_configs 2
    let ids: Vec<String> = (0..3).map(|_| create(&f, "o")).collect();
    for id in &ids[..2] {
        let r = post(&f, "o", &format!("/exports/configs/{id}/enable"));
        assert_eq!(r.status, 200);
        assert_eq!(r.json_body()["enabled"], true);
    }
    // Enabling an enabled configuration is a no-op, not a second slot.
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{}/enable", ids[0])).status,
        200
    );
    assert_eq!(consumed(&f, "o", "exports_configs"), 2);
    let r = post(&f, "o", &format!("/exports/configs/{}/enable", ids[2]));
    assert_eq!(r.status, 429);
    assert_eq!(feathers(&r), (429, "TooManyRequests".into()));
    assert!(r.json_body()["message"]
        .as_str()
        .unwrap()
        .contains("exports_configs"));
    assert_eq!(truth(&f, "o", "exports_configs")["active"], 2);

    let r = post(&f, "o", &format!("/exports/configs/{}/disable", ids[0]));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["enabled"], false);
    assert_eq!(consumed(&f, "o", "exports_configs"), 1);
    // Disabling twice frees nothing more.
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{}/disable", ids[0])).status,
        200
    );
    assert_eq!(consumed(&f, "o", "exports_configs"), 1);
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{}/enable", ids[2])).status,
        200
    );

    // List shows enabled flags and destinations.
    let r = f.handle(&didomi("GET", "/exports/configs?$limit=2", "o"));
    let b = r.json_body();
    assert_eq!(b["total"], 3);
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    assert_eq!(b["data"][0]["enabled"], false);
    assert!(b["data"][0]["destinations"].is_array());

    // Deleting an enabled configuration frees its slot.
    let r = f.handle(&didomi(
        "DELETE",
        &format!("/exports/configs/{}", ids[2]),
        "o",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(consumed(&f, "o", "exports_configs"), 1);
    assert_eq!(
        f.handle(&didomi("GET", &format!("/exports/configs/{}", ids[2]), "o"))
            .status,
        404
    );
}

#[test]
fn destinations_are_scoped_per_configuration() {
    let f = fake(SMALL_VIRTUAL, &[]); // exports_destinations 2
    let a = create(&f, "o");
    let b = create(&f, "o");
    let mut dests = Vec::new();
    for _ in 0..2 {
        let r = f.handle(
            &didomi("POST", &format!("/exports/configs/{a}/destinations"), "o")
                .body(json!({"type": "s3"}).to_string()),
        );
        assert_eq!(r.status, 201);
        dests.push(r.json_body()["id"].as_str().unwrap().to_string());
    }
    let r = post(&f, "o", &format!("/exports/configs/{a}/destinations"));
    assert_eq!(r.status, 429);
    assert!(r.json_body()["message"]
        .as_str()
        .unwrap()
        .contains("exports_destinations"));
    // Another configuration has its own two.
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{b}/destinations")).status,
        201
    );
    let s = f.state("o");
    let ca = s.configs.iter().find(|c| c.id == a).unwrap();
    assert_eq!((ca.destinations, ca.destination_slots), (2, 2));

    let r = f.handle(&didomi(
        "DELETE",
        &format!("/exports/configs/{a}/destinations/{}", dests[0]),
        "o",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(
        f.handle(&didomi(
            "DELETE",
            &format!("/exports/configs/{a}/destinations/{}", dests[0]),
            "o"
        ))
        .status,
        404
    );
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{a}/destinations")).status,
        201
    );
    let got = f.handle(&didomi("GET", &format!("/exports/configs/{a}"), "o"));
    assert_eq!(got.json_body()["destinations"].as_array().unwrap().len(), 2);
}

#[test]
fn didomi_errors_are_feathers_shaped() {
    let f = fake(
        "caps:\n  max_body_bytes: 64\n  max_configs_per_org: 1\n",
        &[],
    );
    let cases: Vec<(FakeRequest, u16, &str)> = vec![
        (didomi("GET", "/nope", "o"), 404, "NotFound"),
        (didomi("PUT", "/quotas", "o"), 405, "MethodNotAllowed"),
        (
            didomi("POST", "/exports/configs/cfg-99/enable", "o"),
            404,
            "NotFound",
        ),
        (
            didomi("POST", "/exports/configs/zzz/disable", "o"),
            404,
            "NotFound",
        ),
        (
            didomi("POST", "/exports/configs/cfg-1/destinations", "o"),
            404,
            "NotFound",
        ),
        (
            didomi("DELETE", "/exports/configs/cfg-1/destinations/x", "o"),
            404,
            "NotFound",
        ),
        (
            didomi("POST", "/exports/configs", "o").body("{bad"),
            400,
            "BadRequest",
        ),
        (
            didomi("POST", "/exports/configs", "o").body("[1]"),
            400,
            "BadRequest",
        ),
        (
            didomi("POST", "/exports/configs", "o").body(r#"{"name": 5}"#),
            400,
            "BadRequest",
        ),
        (
            didomi("POST", "/exports/configs", "o").body(vec![b' '; 100]),
            413,
            "PayloadTooLarge",
        ),
    ];
    for (req, status, name) in cases {
        let r = f.handle(&req);
        assert_eq!(r.status, status, "{} {}", req.method, req.path);
        assert_eq!(feathers(&r), (status as u64, name.to_string()));
    }
    assert!(!f.state("o").exists, "no error created state");
    // At the cap the oldest idle configuration is forgotten; with none idle, 400.
    let first = create(&f, "o");
    let second = create(&f, "o");
    assert_eq!(
        f.handle(&didomi("GET", &format!("/exports/configs/{first}"), "o"))
            .status,
        404
    );
    assert_eq!(
        post(&f, "o", &format!("/exports/configs/{second}/enable")).status,
        200
    );
    let r = f.handle(&didomi("POST", "/exports/configs", "o"));
    assert_eq!(r.status, 400, "configuration cap, nothing idle");
    assert_eq!(feathers(&r), (400, "BadRequest".into()));
    assert_eq!(consumed(&f, "o", "exports_configs"), 1);
}

#[test]
fn didomi_rejection_is_configurable() {
    let f = fake(
        "defaults:\n  exports_configs: 0\nrejection:\n  didomi:\n    status: 403\n",
        &[],
    );
    let id = create(&f, "o");
    let r = post(&f, "o", &format!("/exports/configs/{id}/enable"));
    assert_eq!(r.status, 403);
    assert_eq!(feathers(&r), (403, "Forbidden".into()));
    assert_eq!(consumed(&f, "o", "exports_configs"), 0);
}

#[test]
fn configuration_list_filters_sorts_and_pages() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let ids: Vec<String> = (0..5).map(|_| create(&f, "o")).collect();
    for id in [&ids[1], &ids[3]] {
        assert_eq!(
            post(&f, "o", &format!("/exports/configs/{id}/enable")).status,
            200
        );
    }
    let list = |q: &str| {
        f.handle(&didomi("GET", &format!("/exports/configs?{q}"), "o"))
            .json_body()
    };
    let got = |b: &serde_json::Value| -> Vec<String> {
        b["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let b = list("enabled=true");
    assert_eq!(b["total"], 2);
    assert_eq!(got(&b), vec![ids[1].clone(), ids[3].clone()]);
    assert_eq!(list("enabled=false")["total"], 3);
    let b = list("$sort[created_at]=-1&$limit=2");
    assert_eq!(b["total"], 5);
    assert_eq!(got(&b), vec![ids[4].clone(), ids[3].clone()]);
    let b = list("$skip=4");
    assert_eq!(got(&b), vec![ids[4].clone()]);
    assert_eq!(list("$limit=5000")["limit"], 1000);
    for bad in ["enabled=yes", "$sort[created_at]=up", "$skip=-1"] {
        let r = f.handle(&didomi("GET", &format!("/exports/configs?{bad}"), "o"));
        assert_eq!(r.status, 400, "{bad}");
    }
}
