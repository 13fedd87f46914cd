use reqwest::Method;
use serde_json::json;

use crate::helpers::{into_response, spawn_app, spawn_app_with};
use botcadence::signature::{sign_hex, sign_standard_webhook};

fn transform() -> serde_json::Value {
    json!([{"type": "transform", "config": {"set": {"greeting": "Hi {{user.name}}"}}}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_created_with_the_reference_shape_and_a_secret_shown_once() {
    let app = spawn_app().await;
    let (wf, hook) = app.workflow_with_hook(transform()).await;
    let id = hook["id"].as_str().unwrap();
    assert!(id.starts_with("hook_") && id.len() >= 5 + 32);
    assert_eq!(hook["url"], format!("{}/webhooks/{id}", app.base));
    assert_eq!(hook["workflow_id"], wf["id"]);
    assert_eq!(hook["event"], "user.created");
    assert!(hook["created_at"].is_string());
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));

    let got = app.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("secret").is_none());
    let list = app
        .get(&format!(
            "/v1/webhooks?workflow_id={}",
            wf["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(list.body["total"], 1);

    let (_, other) = app.other_account("free").await;
    assert_eq!(
        app.request(
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            Some(&other),
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.request(
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            Some(&other),
            None
        )
        .await
        .status,
        404
    );

    assert_eq!(app.delete(&format!("/v1/webhooks/{id}")).await.status, 204);
    let r = app.send_event(&hook, json!({})).await;
    assert_eq!(r.status, 404, "a deleted hook accepts nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_acknowledged_with_202_and_runs_to_success() {
    let app = spawn_app().await;
    let (wf, hook) = app.workflow_with_hook(transform()).await;
    let r = app
        .send_event(&hook, json!({"user": {"name": "Ada"}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    // A transform-only workflow has no effects: it has already run when the event is stored.
    assert_eq!(r.body["status"], "success");
    let exec_id = r.body["execution_id"].as_str().unwrap();
    assert!(exec_id.starts_with("exec_"));

    let exec = app.wait_finished(exec_id).await;
    assert_eq!(exec["status"], "success", "{exec}");
    assert_eq!(exec["workflow_id"], wf["id"]);
    assert_eq!(exec["trigger"]["hook_id"], hook["id"]);
    assert_eq!(exec["trigger"]["event"], "user.created");
    assert_eq!(exec["input"], json!({"user": {"name": "Ada"}}));
    let step = &exec["steps"][0];
    assert_eq!(step["index"], 0);
    assert_eq!(step["type"], "transform");
    assert_eq!(step["status"], "success");
    assert_eq!(step["attempts"], 1);
    assert_eq!(step["output"], json!({"greeting": "Hi Ada"}));
    for f in ["started_at", "completed_at", "duration_ms"] {
        assert!(!exec[f].is_null(), "{f}");
        assert!(!step[f].is_null(), "step {f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_workflows_unknown_hooks_bad_json_and_big_bodies_are_refused() {
    let app = spawn_app_with(&[("BOTCADENCE_WEBHOOKS__MAX_BODY_BYTES", "1024")]).await;
    let (wf, hook) = app.workflow_with_hook(transform()).await;
    let url = hook["url"].as_str().unwrap();

    let r = into_response(app.client.post(url).body("{not json").send().await.unwrap()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "invalid_request");

    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2000));
    let r = into_response(app.client.post(url).body(big).send().await.unwrap()).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["error"]["code"], "payload_too_large");

    let r = into_response(
        app.client
            .post(format!("{}/webhooks/hook_{}", app.base, "0".repeat(32)))
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 404);

    let wf_id = wf["id"].as_str().unwrap();
    app.patch(
        &format!("/v1/workflows/{wf_id}"),
        json!({"status": "paused"}),
    )
    .await;
    let r = app.send_event(&hook, json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["code"], "workflow_inactive");
    let list = app.get(&format!("/v1/workflows/{wf_id}/executions")).await;
    assert_eq!(list.body["total"], 0, "nothing recorded for refused events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_hooks_require_a_valid_signature() {
    let app = spawn_app().await;
    let (wf, _) = app.workflow_with_hook(transform()).await;
    let hook = app
        .post(
            "/v1/webhooks",
            json!({"workflow_id": wf["id"], "event": "user.created", "verify": "hmac_sha256"}),
        )
        .await
        .body;
    let secret = hook["secret"].as_str().unwrap();
    let url = hook["url"].as_str().unwrap();
    let body = br#"{"user":{"name":"Ada"}}"#;
    let good = sign_hex(secret, body);
    let send = |sig: Option<String>| {
        let mut r = app.client.post(url).body(body.to_vec());
        if let Some(s) = sig {
            r = r.header("X-Botcadence-Signature", s);
        }
        r.send()
    };
    for bad in [
        None,
        Some(String::new()),
        Some(good[..good.len() - 1].to_string()),
        Some(good[..10].to_string()),
        Some(sign_hex("whsec_other", body)),
        Some("zz".into()),
    ] {
        let r = into_response(send(bad.clone()).await.unwrap()).await;
        assert_eq!(r.status, 401, "{bad:?}");
        assert_eq!(r.body["error"]["code"], "signature_invalid");
    }
    let r = into_response(send(Some(good)).await.unwrap()).await;
    assert_eq!(r.status, 202, "{}", r.text);

    // Standard Webhooks headers are accepted too, within the timestamp tolerance.
    let now = (botcadence::timefmt::now_ms() / 1000).to_string();
    let sig = sign_standard_webhook(secret, "msg_1", &now, body);
    let r = into_response(
        app.client
            .post(url)
            .body(body.to_vec())
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", &now)
            .header("webhook-signature", &sig)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let old = "1000000000";
    let sig = sign_standard_webhook(secret, "msg_2", old, body);
    let r = into_response(
        app.client
            .post(url)
            .body(body.to_vec())
            .header("webhook-id", "msg_2")
            .header("webhook-timestamp", old)
            .header("webhook-signature", &sig)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "stale timestamps are refused");
    // Extreme timestamps are compared without overflow.
    for extreme in [i64::MIN.to_string(), i64::MAX.to_string()] {
        let sig = sign_standard_webhook(secret, "msg_3", &extreme, body);
        let r = into_response(
            app.client
                .post(url)
                .body(body.to_vec())
                .header("webhook-id", "msg_3")
                .header("webhook-timestamp", &extreme)
                .header("webhook-signature", &sig)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 401, "{extreme}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_returns_the_original_execution_and_runs_nothing() {
    let app = spawn_app().await;
    let (wf, hook) = app.workflow_with_hook(transform()).await;
    let url = hook["url"].as_str().unwrap();
    let send = |key: &'static str| {
        app.client
            .post(url)
            .header("Idempotency-Key", key)
            .json(&json!({"n": 1}))
            .send()
    };
    let first = into_response(send("order-42").await.unwrap()).await;
    assert_eq!(first.status, 202);
    let again = into_response(send("order-42").await.unwrap()).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["execution_id"], first.body["execution_id"]);
    let other = into_response(send("order-43").await.unwrap()).await;
    assert_eq!(other.status, 202);

    // Concurrent duplicates: exactly one is stored.
    let sends: Vec<_> = (0..8).map(|_| send("burst")).collect();
    let results = futures_join(sends).await;
    let accepted = results.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, 1, "{results:?}");

    app.wait_finished(first.body["execution_id"].as_str().unwrap())
        .await;
    let list = app
        .get(&format!(
            "/v1/workflows/{}/executions",
            wf["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(list.body["total"], 3);
}

async fn futures_join(
    futs: Vec<impl std::future::Future<Output = reqwest::Result<reqwest::Response>>>,
) -> Vec<u16> {
    let mut handles = Vec::new();
    for f in futs {
        handles.push(f);
    }
    let mut out = Vec::new();
    for r in futures_util::future::join_all(handles).await {
        out.push(r.unwrap().status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updated_definition_reaches_the_workflow_actor() {
    let app = spawn_app().await;
    let (wf, hook) = app.workflow_with_hook(transform()).await;
    let first = app
        .send_event(&hook, json!({"user": {"name": "Ada"}}))
        .await;
    let done = app
        .wait_finished(first.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(done["steps"][0]["output"], json!({"greeting": "Hi Ada"}));

    let id = wf["id"].as_str().unwrap();
    let patched = app
        .patch(
            &format!("/v1/workflows/{id}"),
            json!({"actions": [{"type": "transform", "config": {"set": {"greeting": "Bye {{user.name}}"}}}]}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let second = app
        .send_event(&hook, json!({"user": {"name": "Ada"}}))
        .await;
    let done = app
        .wait_finished(second.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(done["steps"][0]["output"], json!({"greeting": "Bye Ada"}));

    // Deleting the workflow removes its hooks too.
    assert_eq!(app.delete(&format!("/v1/workflows/{id}")).await.status, 204);
    assert_eq!(app.send_event(&hook, json!({})).await.status, 404);
    assert_eq!(
        app.get(&format!("/v1/webhooks/{}", hook["id"].as_str().unwrap()))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_describe_requests_events_executions_store_and_process() {
    let app = spawn_app().await;
    let (_, hook) = app.workflow_with_hook(transform()).await;
    let r = app
        .send_event(&hook, json!({"user": {"name": "Ada"}}))
        .await;
    app.wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    let _ = app
        .send_event(
            &json!({"url": format!("{}/webhooks/hook_nope", app.base)}),
            json!({}),
        )
        .await;
    let m = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(m.status, 200);
    assert!(
        m.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for needle in [
        "botcadence_http_requests_total{route=\"/webhooks/{hook_id}\",method=\"POST\",status=\"2xx\"}",
        "botcadence_http_request_duration_seconds_bucket{route=\"/webhooks/{hook_id}\",method=\"POST\",le=\"0.0005\"}",
        "botcadence_webhook_events_total{outcome=\"accepted\"}",
        "botcadence_webhook_events_total{outcome=\"not_found\"}",
        "botcadence_engine_executions_total{status=\"success\"}",
        "botcadence_engine_execution_duration_seconds_bucket",
        "botcadence_engine_action_attempts_total{action=\"transform\",outcome=\"success\"}",
        "botcadence_engine_executions_pending",
        "botcadence_engine_oldest_pending_age_seconds",
        "botcadence_engine_workflow_actors",
        "botcadence_store_size_bytes",
        "botcadence_store_write_stalled",
        "botcadence_store_write_batch_size_bucket",
        "\nprocess_cpu_seconds_total ",
        "\nprocess_resident_memory_bytes ",
        "\nprocess_open_fds ",
        "\nprocess_max_fds ",
        "\nprocess_start_time_seconds ",
        "botcadence_build_info{version=",
    ] {
        assert!(m.text.contains(needle), "missing {needle}");
    }
    assert!(
        !m.text.contains("botcadence_process_"),
        "process metrics carry the standard names only"
    );
    let hook_id = hook["id"].as_str().unwrap();
    assert!(
        !m.text.contains(hook_id) && !m.text.contains("hook_nope"),
        "no ids or raw paths in labels"
    );
    assert!(
        !m.text.contains("wf_") && !m.text.contains("exec_"),
        "no ids in labels"
    );
    assert!(!m.text.contains("quantile="), "histograms, not summaries");
}

/// A peer that accepts connections and never answers: calls to it stay in flight until they
/// time out, so the executions making them stay unfinished.
async fn silent_peer() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_at_its_pending_bound_gets_429_while_another_account_is_admitted() {
    let app = spawn_app_with(&[("BOTCADENCE_ENGINE__MAX_PENDING_PER_ACCOUNT", "3")]).await;
    let (port, _peer) = silent_peer().await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "http_request", "config": {
            "url": format!("http://127.0.0.1:{port}/slow"), "method": "POST", "timeout_ms": 60000}}]))
        .await;
    for _ in 0..3 {
        let r = app.send_event(&hook, json!({})).await;
        assert_eq!(r.status, 202, "{}", r.text);
    }
    let refused = app.send_event(&hook, json!({})).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    assert_eq!(refused.headers["retry-after"], "1");

    // Another account's events are admitted and run to the end meanwhile.
    let (_, key) = app.other_account("free").await;
    let other_hook = app
        .workflow_with_hook_as(
            &key,
            json!([{"type": "send_email", "config": {
            "to": "a@example.com", "subject": "s", "body": "b"}}]),
        )
        .await;
    let accepted = app.send_event(&other_hook, json!({})).await;
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    let id = accepted.body["execution_id"].as_str().unwrap();
    assert_eq!(app.wait_finished_as(&key, id).await["status"], "success");
    let refusals = app
        .metric("botcadence_engine_admission_refusals_total{scope=\"account\"}")
        .await;
    assert_eq!(refusals, 1.0);
}

/// The deepest event accepted reads back and replays, on the fast path and the queued path;
/// one level more is refused at ingest, clearly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deepest_accepted_event_reads_back_and_one_level_more_is_refused() {
    let app = spawn_app().await;
    let limit = botcadence::api::ingest::MAX_EVENT_DEPTH;
    let (_, fast) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let (_, queued) = app
        .workflow_with_hook(json!([{"type": "delay", "config": {"seconds": 3600}}, {"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    for hook in [&fast, &queued] {
        let url = hook["url"].as_str().unwrap();
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let r = into_response(
            app.client
                .post(url)
                .body(nested(limit))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let id = r.body["execution_id"].as_str().unwrap();
        let got = app.get(&format!("/v1/executions/{id}")).await;
        assert_eq!(got.status, 200, "{}", got.text);
        let mut depth = 0;
        let mut v = &got.body["input"];
        while let Some(inner) = v.as_array() {
            depth += 1;
            match inner.first() {
                Some(next) => v = next,
                None => break,
            }
        }
        assert_eq!(depth, limit, "the input reads back whole");
        let replayed = app
            .post(&format!("/v1/executions/{id}/replay"), json!({}))
            .await;
        assert!(
            replayed.status == 201 || replayed.status == 202,
            "{}",
            replayed.text
        );

        let r = into_response(
            app.client
                .post(url)
                .body(nested(limit + 1))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("nested more than {limit} levels")),
            "{}",
            r.text
        );
    }
}
