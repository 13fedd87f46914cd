use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_and_unknown_keys_are_401_in_the_envelope() {
    let app = spawn_app().await;
    let unknown = format!("bc_live_{}", "0".repeat(64));
    for auth in [
        None,
        Some("Basic abc"),
        Some("Bearer"),
        Some("Bearer nope"),
        Some(&format!("Bearer {unknown}")[..]),
    ] {
        let mut req = app.client.get(format!("{}/v1/workflows", app.base));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = crate::helpers::into_response(req.send().await.unwrap()).await;
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.body["error"]["code"], "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_service_keys_work_until_revoked() {
    let app = spawn_app().await;
    let created = app.post("/v1/api-keys", json!({"name": "ci"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.body["key"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("bc_live_") && key.len() >= 8 + 64);
    assert!(id.starts_with("key_"));

    let list = app.get("/v1/api-keys").await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(&key), "listing never shows a secret");
    assert_eq!(list.body["total"], 2);

    assert_eq!(
        app.request(Method::GET, "/v1/workflows", Some(&key), None)
            .await
            .status,
        200
    );
    assert_eq!(app.delete(&format!("/v1/api-keys/{id}")).await.status, 204);
    let after = app
        .request(Method::GET, "/v1/workflows", Some(&key), None)
        .await;
    assert_eq!(after.status, 401, "revocation applies at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_revocation_applies_at_once() {
    let app = spawn_app().await;
    let (_, key) = app.other_account("pro").await;
    assert_eq!(
        app.request(Method::GET, "/v1/workflows", Some(&key), None)
            .await
            .status,
        200
    );
    let keys = app
        .request(Method::GET, "/v1/api-keys", Some(&key), None)
        .await;
    let key_id = keys.body["data"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/api-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.request(Method::GET, "/v1/workflows", Some(&key), None)
            .await
            .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_revoke_anothers_key() {
    let app = spawn_app().await;
    let (_, other) = app.other_account("free").await;
    let other_keys = app
        .request(Method::GET, "/v1/api-keys", Some(&other), None)
        .await;
    let other_id = other_keys.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/v1/api-keys/{other_id}")).await.status,
        404
    );
    assert_eq!(
        app.request(Method::GET, "/v1/workflows", Some(&other), None)
            .await
            .status,
        200
    );
}
