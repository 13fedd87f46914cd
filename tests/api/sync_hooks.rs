//! Synchronous hooks: the answer to an event carries its execution's result once finished,
//! and falls back to the usual 202 past the hook's `timeout_ms`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use reqwest::Method;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn sync_hook(app: &TestApp, actions: Value, response: Value) -> Value {
    let key = app.api_key.clone();
    sync_hook_as(app, &key, actions, response).await
}

async fn sync_hook_as(app: &TestApp, key: &str, actions: Value, response: Value) -> Value {
    let wf = app
        .request(
            Method::POST,
            "/v1/workflows",
            Some(key),
            Some(json!({"name": "sync", "status": "active", "trigger": {"type": "webhook"}, "actions": actions})),
        )
        .await;
    assert_eq!(wf.status, 201, "{}", wf.text);
    let hook = app
        .request(
            Method::POST,
            "/v1/webhooks",
            Some(key),
            Some(json!({"workflow_id": wf.body["id"], "event": "e", "response": response})),
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

/// Past `[webhooks] max_sync_waiting_per_account` answers waiting, an account's next sync
/// event is answered 202 at once (stored, and run all the same); another account's sync hook
/// still answers with its result, and the waiting answers get theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_at_its_waiting_bound_is_answered_202_at_once_and_others_still_wait() {
    let app = spawn_app_with(&[("BOTCADENCE_WEBHOOKS__MAX_SYNC_WAITING_PER_ACCOUNT", "2")]).await;
    let slow = sync_hook(
        &app,
        json!([
            {"type": "delay", "config": {"seconds": 10}},
            {"type": "transform", "config": {"set": {"done": "yes"}}}
        ]),
        json!({"mode": "sync", "timeout_ms": 25000}),
    )
    .await;
    // The same account's workflow that finishes inside the request needs no waiting place.
    let pure = sync_hook(
        &app,
        json!([{"type": "transform", "config": {"set": {"n": "{{n}}"}}}]),
        json!({"mode": "sync"}),
    )
    .await;
    let (_, other_key) = app.other_account("free").await;
    let other = sync_hook_as(
        &app,
        &other_key,
        json!([{"type": "transform", "config": {"set": {"greeting": "hi {{name}}"}}}]),
        json!({"mode": "sync"}),
    )
    .await;

    let (first, second, (third, took, in_place, others)) = tokio::join!(
        app.send_event(&slow, json!({})),
        app.send_event(&slow, json!({})),
        async {
            let mut waiting = 0.0;
            for _ in 0..200 {
                waiting = app.metric("botcadence_engine_sync_answers_waiting").await;
                if waiting >= 2.0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(waiting, 2.0, "both answers above wait for their delay");
            let started = Instant::now();
            let third = app.send_event(&slow, json!({})).await;
            let took = started.elapsed();
            let in_place = app.send_event(&pure, json!({"n": 5})).await;
            let others = app.send_event(&other, json!({"name": "Ada"})).await;
            (third, took, in_place, others)
        }
    );
    // Waiting, it would have had the result (its delay ends well within the timeout).
    assert_eq!(third.status, 202, "{}", third.text);
    assert!(
        took < Duration::from_secs(5),
        "answered at once, not after waiting: {took:?}"
    );
    assert_eq!(in_place.status, 200, "{}", in_place.text);
    assert_eq!(in_place.body["result"]["n"], "5", "{}", in_place.text);
    assert_eq!(others.status, 200, "{}", others.text);
    assert_eq!(
        others.body["result"]["greeting"], "hi Ada",
        "{}",
        others.text
    );
    for waited in [first, second] {
        assert_eq!(waited.status, 200, "{}", waited.text);
        assert_eq!(waited.body["result"]["done"], "yes", "{}", waited.text);
    }
    let id = third.body["execution_id"].as_str().unwrap();
    assert_eq!(app.wait_finished(id).await["status"], "success");
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
