use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_61st_request_within_a_minute_on_free_gets_429_with_headers() {
    let app = spawn_app_with(&[
        ("BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE", "60"),
        ("BOTCADENCE_PLANS__FREE__REQUESTS_PER_DAY", "1000"),
    ])
    .await;
    let (_, other) = app.other_account("free").await;
    for i in 1..=60 {
        let r = app.get("/v1/workflows").await;
        assert_eq!(r.status, 200, "request {i}");
        let h = |n: &str| {
            r.headers
                .get(n)
                .unwrap()
                .to_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        assert_eq!(h("x-ratelimit-limit"), 60);
        assert_eq!(h("x-ratelimit-remaining"), 60 - i);
        assert!(h("x-ratelimit-reset") > botcadence::timefmt::now_ms() / 1000);
    }
    let r = app.get("/v1/workflows").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(r.headers.get("x-ratelimit-remaining").unwrap(), "0");

    // Another tenant is not affected.
    let r = app
        .request(Method::GET, "/v1/workflows", Some(&other), None)
        .await;
    assert_eq!(r.status, 200);

    // An upgrade applies at once.
    let up = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{}", app.account_id),
            Some(json!({"plan": "pro"})),
        )
        .await;
    assert_eq!(up.status, 200);
    let r = app.get("/v1/workflows").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers.get("x-ratelimit-limit").unwrap(), "300");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_ingest_has_its_own_per_account_quota() {
    let app = spawn_app_with(&[("BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND", "3")]).await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "b"}}}]))
        .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app.send_event(&hook, json!({})).await;
        if r.status == 429 {
            assert!(r.headers.get("retry-after").is_some());
            assert_eq!(r.body["error"]["code"], "rate_limited");
        }
        statuses.push(r.status.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 202).count() >= 3,
        "{statuses:?}"
    );
}
