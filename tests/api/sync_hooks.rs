//! Synchronous hooks: the answer to an event carries its execution's result once finished,
//! and falls back to the usual 202 past the hook's `timeout_ms`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn sync_hook(app: &TestApp, actions: Value, response: Value) -> Value {
    let wf = app
        .post(
            "/v1/workflows",
            json!({"name": "sync", "status": "active", "trigger": {"type": "webhook"}, "actions": actions}),
        )
        .await;
    assert_eq!(wf.status, 201, "{}", wf.text);
    let hook = app
        .post(
            "/v1/webhooks",
            json!({"workflow_id": wf.body["id"], "event": "e", "response": response}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    assert_eq!(hook.body["response"]["mode"], "sync");
    hook.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_hook_answers_with_the_result_of_a_pure_workflow() {
    let app = spawn_app().await;
    let hook = sync_hook(
        &app,
        json!([{"type": "transform", "config": {"set": {"greeting": "hello {{user.name}}"}}}]),
        json!({"mode": "sync"}),
    )
    .await;
    let r = app
        .send_event(&hook, json!({"user": {"name": "Ada"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["result"]["greeting"], "hello Ada", "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_hook_waits_for_queued_work_and_can_name_the_step() {
    let app = spawn_app().await;
    let hook = sync_hook(
        &app,
        json!([
            {"type": "transform", "config": {"set": {"first": "{{n}}"}}},
            {"type": "delay", "config": {"seconds": 1}},
            {"type": "transform", "config": {"set": {"last": "yes"}}}
        ]),
        json!({"mode": "sync", "timeout_ms": 10000, "step": 0}),
    )
    .await;
    let started = Instant::now();
    let r = app.send_event(&hook, json!({"n": 7})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited for the delay"
    );
    assert_eq!(r.body["status"], "success");
    assert_eq!(
        r.body["result"]["first"], "7",
        "step 0's output: {}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_timeout_a_sync_hook_answers_202_and_the_work_goes_on() {
    let app = spawn_app().await;
    let hook = sync_hook(
        &app,
        json!([
            {"type": "delay", "config": {"seconds": 2}},
            {"type": "transform", "config": {"set": {"done": "yes"}}}
        ]),
        json!({"mode": "sync", "timeout_ms": 200}),
    )
    .await;
    let r = app.send_event(&hook, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["execution_id"].as_str().unwrap().to_string();
    let done = app.wait_finished(&id).await;
    assert_eq!(done["status"], "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_response_out_of_bounds_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let wf = app
        .post(
            "/v1/workflows",
            json!({"name": "w", "status": "active", "trigger": {"type": "webhook"},
                   "actions": [{"type": "transform", "config": {"set": {"a": "1"}}}]}),
        )
        .await;
    for (response, field) in [
        (
            json!({"mode": "sync", "timeout_ms": 0}),
            "response.timeout_ms",
        ),
        (
            json!({"mode": "sync", "timeout_ms": 30001}),
            "response.timeout_ms",
        ),
        (json!({"mode": "sync", "step": 1}), "response.step"),
        (json!({"mode": "sometimes"}), "response.mode"),
    ] {
        let r = app
            .post(
                "/v1/webhooks",
                json!({"workflow_id": wf.body["id"], "event": "e", "response": response}),
            )
            .await;
        assert_eq!(r.status, 400, "{response}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.text);
    }
}
