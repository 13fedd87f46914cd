//! Workflow versions: every change to `trigger` or `actions` makes one; executions record the
//! version they run and finish on it.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn transform(value: &str) -> Value {
    json!([{"type": "transform", "config": {"set": {"v": value}}}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_of_definition_is_a_version_listed_newest_first() {
    let app = spawn_app().await;
    let wf = app
        .post(
            "/v1/workflows",
            json!({"name": "w", "status": "active", "trigger": {"type": "webhook"}, "actions": transform("one")}),
        )
        .await;
    assert_eq!(wf.status, 201, "{}", wf.text);
    assert_eq!(wf.body["version"], 1);
    let id = wf.body["id"].as_str().unwrap().to_string();
    let path = format!("/v1/workflows/{id}");

    // A rename and a status change are not versions; the same actions again are not either.
    let r = app
        .patch(&path, json!({"name": "renamed", "status": "paused"}))
        .await;
    assert_eq!(r.body["version"], 1, "{}", r.text);
    let r = app.patch(&path, json!({"actions": transform("one")})).await;
    assert_eq!(r.body["version"], 1, "{}", r.text);
    let r = app.patch(&path, json!({"actions": transform("two")})).await;
    assert_eq!(r.body["version"], 2, "{}", r.text);
    let r = app
        .patch(
            &path,
            json!({"trigger": {"type": "webhook", "event": "only.this"}}),
        )
        .await;
    assert_eq!(r.body["version"], 3, "{}", r.text);

    let list = app.get(&format!("{path}/versions")).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["total"], 3);
    let numbers: Vec<&Value> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(numbers, [&json!(3), &json!(2), &json!(1)], "newest first");
    assert_eq!(list.body["data"][0]["trigger"]["event"], "only.this");
    let page2 = app.get(&format!("{path}/versions?per_page=2&page=2")).await;
    assert_eq!(page2.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(page2.body["data"][0]["version"], 1);
    assert_eq!(page2.body["total"], 3);

    let v1 = app.get(&format!("{path}/versions/1")).await;
    assert_eq!(v1.status, 200, "{}", v1.text);
    assert_eq!(v1.body["workflow_id"], id.as_str());
    assert_eq!(v1.body["actions"], transform("one"));
    assert!(v1.body["created_at"].is_string());
    assert_eq!(app.get(&format!("{path}/versions/4")).await.status, 404);
    let huge = app.get(&format!("{path}/versions/{}", u64::MAX)).await;
    assert_eq!(huge.status, 404, "{}", huge.text);
    let beyond = app
        .get(&format!("{path}/versions/99999999999999999999999"))
        .await;
    assert_eq!(beyond.status, 400, "{}", beyond.text);
    let bad = app.get(&format!("{path}/versions/zero")).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["error"]["details"]["field"], "version");

    // Rolling back: PATCH with an old version's body makes a new version with it.
    let r = app
        .patch(
            &path,
            json!({"trigger": v1.body["trigger"], "actions": v1.body["actions"]}),
        )
        .await;
    assert_eq!(r.body["version"], 4, "{}", r.text);
    let v4 = app.get(&format!("{path}/versions/4")).await;
    assert_eq!(v4.body["actions"], v1.body["actions"]);
    assert_eq!(v4.body["trigger"], v1.body["trigger"]);

    // Another account sees none of it.
    let (_, other_key) = app.other_account("free").await;
    let r = app
        .request(
            reqwest::Method::GET,
            &format!("{path}/versions/1"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_finishes_on_the_version_it_started_with() {
    let app = spawn_app().await;
    let v1 = json!([
        {"type": "delay", "config": {"seconds": 2}},
        {"type": "transform", "config": {"set": {"v": "one"}}}
    ]);
    let (wf, hook) = app.workflow_with_hook(v1).await;
    let waiting = app.send_event(&hook, json!({})).await;
    assert_eq!(waiting.status, 202, "{}", waiting.text);
    let waiting_id = waiting.body["execution_id"].as_str().unwrap().to_string();

    // Changed while the first execution waits in its delay: three steps now.
    let v2 = json!([
        {"type": "transform", "config": {"set": {"v": "two"}}},
        {"type": "transform", "config": {"set": {"w": "extra"}}},
        {"type": "transform", "config": {"set": {"x": "more"}}}
    ]);
    let r = app
        .patch(
            &format!("/v1/workflows/{}", wf["id"].as_str().unwrap()),
            json!({"actions": v2}),
        )
        .await;
    assert_eq!(r.body["version"], 2, "{}", r.text);

    let first = app.wait_finished(&waiting_id).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["workflow_version"], 1);
    assert_eq!(first["steps"].as_array().unwrap().len(), 2, "{first}");
    assert_eq!(first["steps"][1]["output"]["v"], "one");

    let later = app.send_event(&hook, json!({})).await;
    let second = app
        .wait_finished(later.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(second["workflow_version"], 2);
    assert_eq!(second["steps"][0]["output"]["v"], "two");
    assert_eq!(second["steps"].as_array().unwrap().len(), 3);
}
