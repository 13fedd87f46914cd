use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_api_needs_the_admin_token() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/admin/v1/accounts", Some("wrong"), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "unauthorized");
    let r = app
        .request(
            Method::GET,
            "/admin/v1/accounts",
            Some(&app.api_key.clone()),
            None,
        )
        .await;
    assert_eq!(r.status, 401, "an API key is not an admin token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_created_listed_and_updated() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "acme", "plan": "pro"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("acct_"));
    assert_eq!(r.body["limits"]["requests_per_minute"], 300);
    assert!(
        !r.text.contains("whsec_"),
        "the signing secret is not shown to the operator"
    );

    let list = app.admin(Method::GET, "/admin/v1/accounts", None).await;
    assert_eq!(list.body["total"], 2, "default + acme");

    let up = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"plan": "enterprise", "limits": {"requests_per_minute": 5000}})),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.text);
    assert_eq!(up.body["plan"], "enterprise");
    assert_eq!(up.body["limits"]["requests_per_minute"], 5000);

    let bad = app
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "x", "plan": "free", "limits": {"requests_per_minute": 1}})),
        )
        .await;
    assert_eq!(bad.status, 400, "custom limits are for Enterprise only");
    let bad = app
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "x", "plan": "gold"})),
        )
        .await;
    assert_eq!(bad.body["error"]["details"]["field"], "plan");

    let key = app
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/api-keys"),
            Some(json!({})),
        )
        .await;
    assert_eq!(key.status, 201);
    assert!(key.body["key"].as_str().unwrap().starts_with("bc_live_"));
    let missing = app
        .admin(Method::POST, "/admin/v1/accounts/acct_nope/api-keys", None)
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_answer_without_auth() {
    let app = spawn_app().await;
    let h = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.status, 200);
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("botcadence_build_info"), "{}", m.text);
}
