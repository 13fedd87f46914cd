use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_are_listed_newest_first_with_filters_and_exact_totals() {
    let app = spawn_app().await;
    let (wf, hook) = app
        .workflow_with_hook(json!([
            {"type": "filter", "config": {"condition": "n < 1000"}},
            {"type": "http_request", "config": {"url": "http://127.0.0.1:1/refused-port", "method": "POST"}, "retry": {"max_attempts": 1}}
        ]))
        .await;
    let wf_id = wf["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for n in 0..25 {
        // n >= 1000 stops at the filter (success); otherwise the HTTP call fails.
        let n = if n % 5 == 0 { n } else { 1000 + n };
        let r = app.send_event(&hook, json!({"n": n})).await;
        assert_eq!(r.status, 202);
        ids.push(r.body["execution_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        app.wait_finished(id).await;
    }
    let all = app.get(&format!("/v1/workflows/{wf_id}/executions")).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["total"], 25);
    assert_eq!(all.body["per_page"], 20);
    let data = all.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 20);
    assert_eq!(data[0]["id"], ids[24].as_str(), "newest first");
    for f in [
        "id",
        "workflow_id",
        "status",
        "started_at",
        "completed_at",
        "duration_ms",
    ] {
        assert!(data[0].get(f).is_some(), "{f}");
    }

    let page2 = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?page=2&per_page=20"
        ))
        .await;
    assert_eq!(page2.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(page2.body["data"][4]["id"], ids[0].as_str());

    let failed = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?status=failed&per_page=100"
        ))
        .await;
    assert_eq!(failed.body["total"], 5);
    assert!(
        failed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "failed")
    );
    let ok = app
        .get(&format!("/v1/workflows/{wf_id}/executions?status=success"))
        .await;
    assert_eq!(ok.body["total"], 20);
    let running = app
        .get(&format!("/v1/workflows/{wf_id}/executions?status=running"))
        .await;
    assert_eq!(running.body["total"], 0);

    // Time window: everything up to the 10th execution's start.
    let tenth = app.get(&format!("/v1/executions/{}", ids[9])).await.body;
    let received = tenth["trigger"]["received_at"].as_str().unwrap();
    let until = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?to={received}&per_page=100"
        ))
        .await;
    let n = until.body["total"].as_u64().unwrap();
    assert!((10..=12).contains(&n), "{n}");
    assert_eq!(until.body["data"].as_array().unwrap().len() as u64, n);
    let from_future = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?from=2999-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(from_future.body["total"], 0);
    let crossed = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(crossed.status, 200, "{}", crossed.text);
    assert_eq!(crossed.body["total"], 0);
    assert_eq!(crossed.body["data"], serde_json::json!([]));

    for q in [
        "status=sleeping",
        "from=yesterday",
        "to=2025-13-01",
        "per_page=101",
    ] {
        let r = app
            .get(&format!("/v1/workflows/{wf_id}/executions?{q}"))
            .await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
    }

    let failed_one = app.get(&format!("/v1/executions/{}", ids[0])).await.body;
    assert_eq!(failed_one["status"], "failed");
    assert!(
        failed_one["error"].as_str().unwrap().contains("step 1"),
        "{failed_one}"
    );
    assert_eq!(failed_one["steps"][1]["status"], "failed");
    let stopped = app.get(&format!("/v1/executions/{}", ids[1])).await.body;
    assert_eq!(stopped["status"], "success");
    assert_eq!(stopped["steps"][1]["status"], "skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_runs_the_same_input_again_as_a_new_execution() {
    let app = spawn_app().await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"x": "{{v}}"}}}]))
        .await;
    let r = app.send_event(&hook, json!({"v": "once"})).await;
    let original = r.body["execution_id"].as_str().unwrap().to_string();
    app.wait_finished(&original).await;

    let replay = app
        .post(&format!("/v1/executions/{original}/replay"), json!({}))
        .await;
    assert_eq!(replay.status, 201, "{}", replay.text);
    let new_id = replay.body["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, original);
    assert_eq!(replay.body["replay_of"], original.as_str());
    let done = app.wait_finished(&new_id).await;
    assert_eq!(done["status"], "success");
    assert_eq!(done["input"], json!({"v": "once"}));
    assert_eq!(done["steps"][0]["output"], json!({"x": "once"}));

    let (_, other) = app.other_account("free").await;
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/executions/{original}/replay"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .request(
            reqwest::Method::GET,
            &format!("/v1/executions/{original}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.get("/v1/executions/exec_nope").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_execution_waits_then_finishes() {
    let app = spawn_app().await;
    let (_, hook) = app
        .workflow_with_hook(json!([
            {"type": "delay", "config": {"seconds": 3}},
            {"type": "transform", "config": {"set": {"after": "yes"}}}
        ]))
        .await;
    let r = app.send_event(&hook, json!({})).await;
    let id = r.body["execution_id"].as_str().unwrap().to_string();
    // While it waits, the execution is stored as running with the time it resumes.
    let mut mid = serde_json::Value::Null;
    for _ in 0..50 {
        mid = app.get(&format!("/v1/executions/{id}")).await.body;
        if mid["status"] == "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    assert_eq!(mid["status"], "running", "{mid}");
    assert!(mid["resume_at"].is_string());
    let done = app.wait_finished(&id).await;
    assert_eq!(done["status"], "success");
    assert!(done["duration_ms"].as_i64().unwrap() >= 2900);
}
