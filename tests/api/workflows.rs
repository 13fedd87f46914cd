use reqwest::Method;
use serde_json::json;

use crate::helpers::{reference_workflow, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_create_example_is_accepted_verbatim() {
    let app = spawn_app().await;
    let r = app.post("/v1/workflows", reference_workflow()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let wf = &r.body;
    assert!(wf["id"].as_str().unwrap().starts_with("wf_"));
    assert_eq!(wf["name"], "New Workflow");
    assert_eq!(wf["status"], "draft");
    assert_eq!(
        wf["trigger"],
        json!({"type": "webhook", "event": "user.created"})
    );
    assert_eq!(wf["actions"][0]["config"]["to"], "{{user.email}}");
    for field in ["created_at", "updated_at"] {
        let ts = wf[field].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.contains('T'), "{field} = {ts}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_name_returns_exactly_the_reference_error() {
    let app = spawn_app().await;
    let mut body = reference_workflow();
    body.as_object_mut().unwrap().remove("name");
    let r = app.post("/v1/workflows", body).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text,
        r#"{"error":{"code":"invalid_request","message":"The 'name' field is required","details":{"field":"name","issue":"required"}}}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_definitions_name_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"name": "x", "actions": []}), "trigger"),
        (
            json!({"name": "x", "trigger": {"type": "webhook"}}),
            "actions",
        ),
        (
            json!({"name": "x", "trigger": {"type": "cron"}, "actions": [{"type": "delay", "config": {"seconds": 1}}]}),
            "trigger.type",
        ),
        (
            json!({"name": "x", "trigger": {"type": "webhook"}, "actions": [{"type": "teleport"}]}),
            "actions[0].type",
        ),
        (
            json!({"name": "x", "trigger": {"type": "webhook"}, "actions": [{"type": "send_email", "config": {"to": "a@b.c", "body": "b"}}]}),
            "actions[0].config.subject",
        ),
        (
            json!({"name": "x", "trigger": {"type": "webhook"}, "actions": [{"type": "http_request", "config": {"url": "{{ broken"}}]}),
            "actions[0].config.url",
        ),
        (
            json!({"name": "x", "status": "running", "trigger": {"type": "webhook"}, "actions": [{"type": "delay", "config": {"seconds": 1}}]}),
            "status",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/v1/workflows", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_patch_and_delete_follow_the_reference() {
    let app = spawn_app().await;
    let created = app.post("/v1/workflows", reference_workflow()).await.body;
    let id = created["id"].as_str().unwrap();

    let got = app.get(&format!("/v1/workflows/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created);

    let patched = app
        .patch(
            &format!("/v1/workflows/{id}"),
            json!({"status": "active", "name": "Renamed"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["status"], "active");
    assert_eq!(patched.body["name"], "Renamed");
    assert_eq!(
        patched.body["actions"], created["actions"],
        "untouched fields stay"
    );
    assert_ne!(patched.body["updated_at"], created["updated_at"]);
    assert_eq!(patched.body["created_at"], created["created_at"]);

    let bad = app
        .patch(
            &format!("/v1/workflows/{id}"),
            json!({"status": "sleeping"}),
        )
        .await;
    assert_eq!(bad.status, 400);

    let deleted = app.delete(&format!("/v1/workflows/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.get(&format!("/v1/workflows/{id}")).await.status, 404);
    assert_eq!(app.delete(&format!("/v1/workflows/{id}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_paginates_with_the_reference_shape() {
    let app = spawn_app().await;
    for i in 0..5 {
        let mut body = reference_workflow();
        body["name"] = json!(format!("wf {i}"));
        assert_eq!(app.post("/v1/workflows", body).await.status, 201);
    }
    let r = app.get("/v1/workflows").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["page"], 1);
    assert_eq!(r.body["per_page"], 20);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["data"][0]["name"], "wf 0", "oldest first");

    let p = app.get("/v1/workflows?page=2&per_page=2").await;
    assert_eq!(p.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(p.body["data"][0]["name"], "wf 2");
    assert_eq!(p.body["total"], 5);

    for q in ["per_page=101", "per_page=0", "page=0", "page=abc"] {
        let r = app.get(&format!("/v1/workflows?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.body["error"]["code"], "invalid_request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_workflow_is_not_found_everywhere() {
    let app = spawn_app().await;
    let wf = app.post("/v1/workflows", reference_workflow()).await.body;
    let id = wf["id"].as_str().unwrap();
    let (_, other_key) = app.other_account("free").await;
    let k = Some(other_key.as_str());

    let path = format!("/v1/workflows/{id}");
    assert_eq!(app.request(Method::GET, &path, k, None).await.status, 404);
    assert_eq!(
        app.request(Method::PATCH, &path, k, Some(json!({"name": "mine"})))
            .await
            .status,
        404
    );
    assert_eq!(
        app.request(Method::DELETE, &path, k, None).await.status,
        404
    );
    assert_eq!(
        app.request(Method::GET, &format!("{path}/executions"), k, None)
            .await
            .status,
        404
    );
    let list = app.request(Method::GET, "/v1/workflows", k, None).await;
    assert_eq!(list.body["total"], 0);
    let hook = app
        .request(
            Method::POST,
            "/v1/webhooks",
            k,
            Some(json!({"workflow_id": id, "event": "e"})),
        )
        .await;
    assert_eq!(hook.status, 404);

    // The owner still sees it untouched.
    let mine = app.get(&path).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["name"], "New Workflow");
}
