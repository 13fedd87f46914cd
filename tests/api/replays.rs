//! Bulk replays and shadow replays, end to end over HTTP.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, receiver, spawn_app, spawn_app_with};

/// Polls a job until it stopped (a cancelled one shows `cancelled` at once, and stops
/// within its current batch), up to `secs`.
async fn wait_job(app: &TestApp, key: &str, path: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = app.request(Method::GET, path, Some(key), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if !r.body["finished_at"].is_null() {
            return r.body;
        }
        assert!(Instant::now() < deadline, "still running: {}", r.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `10 // n` fails to render for n = 0: a failed execution, run in place.
fn failing_when_zero() -> Value {
    json!([{"type": "transform", "config": {"set": {"q": "{{ 10 // n }}"}}}])
}

async fn post_events(app: &TestApp, hook: &Value, payloads: Vec<Value>) {
    let url = hook["url"].as_str().unwrap().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in payloads.chunks(payloads.len().div_ceil(16).max(1)) {
        let (client, url, chunk) = (app.client.clone(), url.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for p in chunk {
                let r = client.post(&url).json(&p).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 202);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_replay_of_ten_thousand_failed_executions_counts_exactly_and_finishes() {
    let app = spawn_app().await;
    let (wf, hook) = app.workflow_with_hook(failing_when_zero()).await;
    let wf_id = wf["id"].as_str().unwrap();
    // 10,000 that fail and 300 that succeed.
    let payloads = (0..10_300).map(|i| json!({"n": if i < 10_000 { 0 } else { 1 }, "i": i}));
    post_events(&app, &hook, payloads.collect()).await;
    let replays = format!("/v1/workflows/{wf_id}/replays");

    let dry = app
        .post(&replays, json!({"status": "failed", "dry_run": true}))
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body, json!({"count": 10_000}), "exact, nothing started");
    let all = app.post(&replays, json!({"dry_run": true})).await;
    assert_eq!(all.body["count"], 10_000, "at most the default limit");
    let all = app
        .post(&replays, json!({"dry_run": true, "limit": 100_000}))
        .await;
    assert_eq!(all.body["count"], 10_300);
    let capped = app
        .post(
            &replays,
            json!({"status": "failed", "limit": 1234, "dry_run": true}),
        )
        .await;
    assert_eq!(capped.body["count"], 1234);
    let future = app
        .post(
            &replays,
            json!({"from": "2999-01-01T00:00:00Z", "dry_run": true}),
        )
        .await;
    assert_eq!(future.body["count"], 0);
    let total_before = app
        .get(&format!("/v1/workflows/{wf_id}/executions?per_page=1"))
        .await;
    assert_eq!(
        total_before.body["total"], 10_300,
        "a dry run starts nothing"
    );

    let started = app.post(&replays, json!({"status": "failed"})).await;
    assert_eq!(started.status, 202, "{}", started.text);
    assert_eq!(started.body["matched"], 10_000);
    assert_eq!(started.body["status"], "running");
    let id = started.body["id"].as_str().unwrap();
    assert!(id.starts_with("rpl_"), "{id}");
    let done = wait_job(&app, &app.api_key, &format!("/v1/replays/{id}"), 120).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["replayed"].as_u64(), done["skipped"].as_u64()),
        (Some(10_000), Some(0))
    );
    assert!(done["finished_at"].is_string());

    let failed = app
        .get(&format!(
            "/v1/workflows/{wf_id}/executions?status=failed&per_page=1"
        ))
        .await;
    assert_eq!(
        failed.body["total"], 20_000,
        "each failed one ran again, once"
    );
    let newest = failed.body["data"][0]["id"].as_str().unwrap();
    let newest = app.get(&format!("/v1/executions/{newest}")).await.body;
    let original = newest["replay_of"]
        .as_str()
        .expect("linked to its original");
    let original = app.get(&format!("/v1/executions/{original}")).await.body;
    assert_eq!(original["input"], newest["input"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_paced_leaves_room_for_live_events_and_can_be_cancelled() {
    // 100 events a second for the pro plan: a replay takes at most half.
    let app = spawn_app_with(&[("BOTCADENCE_PLANS__PRO__WEBHOOKS_PER_SECOND", "100")]).await;
    let (_, key) = app.other_account("pro").await;
    let hook = app
        .workflow_with_hook_as(
            &key,
            json!([{"type": "transform", "config": {"set": {"a": "{{ i }}"}}}]),
        )
        .await;
    let wf_id = hook["workflow_id"].as_str().unwrap().to_string();
    let mut accepted = 0;
    while accepted < 400 {
        // Within the quota: 100 a second.
        let r = app
            .client
            .post(hook["url"].as_str().unwrap())
            .json(&json!({"i": accepted}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        assert_eq!(r.status().as_u16(), 202);
        accepted += 1;
    }
    // The filling above spent the quota: a second for it to refill before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let path = format!("/v1/workflows/{wf_id}/replays");
    let started = app
        .request(Method::POST, &path, Some(&key), Some(json!({})))
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let matched = started.body["matched"].as_u64().unwrap();
    assert_eq!(matched, 400);
    let job = format!("/v1/replays/{}", started.body["id"].as_str().unwrap());

    // Live events keep being accepted while the replay runs: the replay takes half the rate.
    let began = Instant::now();
    let (mut live_sent, mut live_refused) = (0, 0);
    while began.elapsed() < Duration::from_secs(2) {
        let r = app
            .client
            .post(hook["url"].as_str().unwrap())
            .json(&json!({"live": true}))
            .send()
            .await
            .unwrap();
        live_sent += 1;
        if r.status() != 202 {
            live_refused += 1;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let progress = app.request(Method::GET, &job, Some(&key), None).await.body;
    let replayed = progress["replayed"].as_u64().unwrap();
    // About 50 a second (plus a tenth of a second of burst); never the whole backlog at once.
    assert!(
        (20..=200).contains(&replayed),
        "paced: {replayed} in 2 s: {progress}"
    );
    assert_eq!(
        live_refused, 0,
        "every live event got through ({live_sent} sent)"
    );

    let cancelled = app.request(Method::DELETE, &job, Some(&key), None).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    let end = wait_job(&app, &key, &job, 10).await;
    assert_eq!(end["status"], "cancelled", "{end}");
    let stopped_at = end["replayed"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = app.request(Method::GET, &job, Some(&key), None).await.body;
    assert_eq!(
        later["replayed"].as_u64().unwrap(),
        stopped_at,
        "nothing after the cancel"
    );
    assert!(stopped_at < matched, "{later}");
    // Cancelling again answers the same.
    let again = app.request(Method::DELETE, &job, Some(&key), None).await;
    assert_eq!(again.body["status"], "cancelled");

    // Another account cannot see or cancel it.
    assert_eq!(app.get(&job).await.status, 404);
    assert_eq!(app.delete(&job).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_requests_are_checked() {
    let app = spawn_app().await;
    let (wf, _) = app.workflow_with_hook(failing_when_zero()).await;
    let path = format!("/v1/workflows/{}/replays", wf["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"status": "running"}), "status"),
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 100_001}), "limit"),
        (json!({"from": "yesterday"}), "from"),
        (
            json!({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
            "to",
        ),
        (json!({"colour": "red"}), "colour"),
    ] {
        let r = app.post(&path, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], field, "{body}");
    }
    // An empty body is every finished execution.
    let r = app
        .request(Method::POST, &format!("{path}?"), Some(&app.api_key), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let paused = app
        .patch(
            &format!("/v1/workflows/{}", wf["id"].as_str().unwrap()),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(paused.status, 200);
    let r = app.post(&path, json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["code"], "workflow_inactive");
    assert_eq!(app.get("/v1/replays/rpl_nope").await.status, 404);
    assert_eq!(app.get("/v1/shadow-replays/shr_nope").await.status, 404);
}

fn answer_ok(_: &str, _: usize) -> String {
    "200 OK".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_replay_sends_nothing_and_reports_what_a_changed_filter_would_do() {
    let (smtp_port, inbox, smtp_connections) = crate::actions::smtp_listener_counting().await;
    let (http_port, requests) = receiver(answer_ok).await;
    let smtp_port = smtp_port.to_string();
    let app = spawn_app_with(&[
        ("BOTCADENCE_SMTP__HOST", "127.0.0.1"),
        ("BOTCADENCE_SMTP__PORT", &smtp_port),
        ("BOTCADENCE_SMTP__TLS", "none"),
        ("BOTCADENCE_SMTP__FROM", "robot@botcadence.test"),
    ])
    .await;
    let actions = |threshold: u64| {
        json!([
            {"type": "filter", "config": {"condition": format!("amount > {threshold}")}},
            {"type": "transform", "config": {"set": {"label": "big-{{ amount }}"}}},
            {"type": "http_request", "config": {"url": format!("http://127.0.0.1:{http_port}/order"), "method": "POST", "body": {"label": "{{ label }}"}}},
            {"type": "send_email", "config": {"to": "{{ email }}", "subject": "Order {{ amount }}", "body": "{{ label }}"}}
        ])
    };
    let (wf, hook) = app.workflow_with_hook(actions(100)).await;
    let wf_id = wf["id"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for amount in [50, 150, 250, 80] {
        let r = app
            .send_event(&hook, json!({"amount": amount, "email": "ada@example.com"}))
            .await;
        ids.push(r.body["execution_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        assert_eq!(app.wait_finished(id).await["status"], "success");
    }
    let sent_requests = requests.lock().unwrap().len();
    let sent_mails = inbox.lock().unwrap().len();
    let smtp_before = smtp_connections.load(Ordering::SeqCst);
    assert_eq!(
        (sent_requests, sent_mails),
        (2, 2),
        "the originals really sent"
    );

    // The draft raises the threshold: the 150 order would now stop at the filter.
    let shadow = app
        .post(
            &format!("/v1/workflows/{wf_id}/shadow-replays"),
            json!({"definition": {"actions": actions(200)}}),
        )
        .await;
    assert_eq!(shadow.status, 202, "{}", shadow.text);
    let id = shadow.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("shr_"));
    let done = wait_job(&app, &app.api_key, &format!("/v1/shadow-replays/{id}"), 30).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["summary"],
        json!({"matched": 4, "compared": 4, "changed": 1, "unchanged": 3})
    );
    assert_eq!(done["definition"]["actions"], actions(200));
    assert!(done["version"].is_null());

    let changed = app
        .get(&format!("/v1/shadow-replays/{id}/results?changed=true"))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["total"], 1);
    let result = &changed.body["data"][0];
    assert_eq!(result["execution_id"], ids[1].as_str(), "the 150 order");
    assert_eq!(result["changed"], true);
    assert_eq!(result["original"]["status"], "success");
    assert_eq!(result["shadow"]["status"], "success");
    let diffs = result["differences"].as_array().unwrap();
    let diff = |path: &str| diffs.iter().find(|d| d["path"] == path).cloned();
    assert_eq!(
        diff("steps[0].output").unwrap(),
        json!({"path": "steps[0].output", "original": {"passed": true}, "shadow": {"passed": false}})
    );
    for step in 1..=3 {
        let d = diff(&format!("steps[{step}].status")).unwrap();
        assert_eq!(
            (d["original"].as_str(), d["shadow"].as_str()),
            (Some("success"), Some("skipped")),
            "{d}"
        );
    }
    assert!(diff("status").is_none(), "{diffs:?}");

    let all = app
        .get(&format!("/v1/shadow-replays/{id}/results?per_page=10"))
        .await;
    assert_eq!(all.body["total"], 4);
    let data = all.body["data"].as_array().unwrap();
    assert_eq!(data[0]["execution_id"], ids[1].as_str(), "changed first");
    let big = data
        .iter()
        .find(|r| r["execution_id"] == ids[2].as_str())
        .unwrap();
    assert_eq!(big["changed"], false, "{big}");
    assert_eq!(big["differences"], json!([]));
    let stubbed = &big["shadow"]["steps"][2]["output"];
    assert_eq!(stubbed["stubbed"], true, "{stubbed}");
    assert_eq!(
        stubbed["request"]["url"],
        format!("http://127.0.0.1:{http_port}/order")
    );
    assert_eq!(stubbed["request"]["body"], json!({"label": "big-250"}));
    assert_eq!(
        big["shadow"]["steps"][3]["output"]["email"]["subject"],
        "Order 250"
    );

    // A draft with an hour's delay finishes at once: delays are skipped.
    let mut delayed = actions(100);
    delayed
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"type": "delay", "config": {"seconds": 3600}}));
    let shadow = app
        .post(
            &format!("/v1/workflows/{wf_id}/shadow-replays"),
            json!({"definition": {"actions": delayed}, "status": "success"}),
        )
        .await;
    assert_eq!(shadow.status, 202, "{}", shadow.text);
    let path = format!("/v1/shadow-replays/{}", shadow.body["id"].as_str().unwrap());
    let done = wait_job(&app, &app.api_key, &path, 30).await;
    assert_eq!(done["status"], "completed", "{done}");
    let results = app.get(&format!("{path}/results")).await;
    assert_eq!(
        results.body["data"][0]["shadow"]["steps"][0]["output"],
        json!({"stubbed": true, "skipped_delay_seconds": 3600})
    );

    // The current version against itself: nothing changes.
    let same = app
        .post(
            &format!("/v1/workflows/{wf_id}/shadow-replays"),
            json!({"version": 1}),
        )
        .await;
    assert_eq!(same.status, 202, "{}", same.text);
    let path = format!("/v1/shadow-replays/{}", same.body["id"].as_str().unwrap());
    let done = wait_job(&app, &app.api_key, &path, 30).await;
    assert_eq!(done["summary"]["changed"], 0, "{done}");
    assert_eq!(done["version"], 1);

    // Nothing reached the outside world, and no execution was recorded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        requests.lock().unwrap().len(),
        sent_requests,
        "no HTTP request"
    );
    assert_eq!(
        smtp_connections.load(Ordering::SeqCst),
        smtp_before,
        "no SMTP connection"
    );
    assert_eq!(inbox.lock().unwrap().len(), sent_mails);
    let list = app.get(&format!("/v1/workflows/{wf_id}/executions")).await;
    assert_eq!(list.body["total"], 4);

    // Bad drafts are refused with the field named.
    let r = app
        .post(
            &format!("/v1/workflows/{wf_id}/shadow-replays"),
            json!({"definition": {"actions": [{"type": "teleport"}]}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.body["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .starts_with("definition.actions"),
        "{}",
        r.text
    );
    for body in [
        json!({}),
        json!({"version": 1, "definition": {}}),
        json!({"version": 7}),
    ] {
        let r = app
            .post(
                &format!("/v1/workflows/{wf_id}/shadow-replays"),
                body.clone(),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
}
