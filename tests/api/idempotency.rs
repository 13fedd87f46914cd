//! `Idempotency-Key` on `/v1` POSTs, over HTTP: a retried request gets its first answer again
//! and creates nothing twice; a reused key for another request is a 409.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Response, TestApp, into_response, reference_workflow, spawn_app};

async fn post_with_key(
    app: &TestApp,
    api_key: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(api_key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent");
    into_response(res).await
}

fn replayed(r: &Response) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_with_the_same_key_creates_one_workflow_and_answers_it_again() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    let first = post_with_key(
        &app,
        &key,
        "/v1/workflows",
        "create-wf-1",
        &reference_workflow(),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(!replayed(&first));
    let again = post_with_key(
        &app,
        &key,
        "/v1/workflows",
        "create-wf-1",
        &reference_workflow(),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert!(replayed(&again));
    assert_eq!(again.text, first.text, "byte for byte the first answer");
    assert_eq!(
        again.headers.get("content-type").unwrap(),
        "application/json"
    );
    let list = app.get("/v1/workflows").await;
    assert_eq!(list.body["total"], 1, "{}", list.text);

    // Another key is another request.
    let other = post_with_key(
        &app,
        &key,
        "/v1/workflows",
        "create-wf-2",
        &reference_workflow(),
    )
    .await;
    assert_eq!(other.status, 201);
    assert_ne!(other.body["id"], first.body["id"]);
    assert_eq!(app.get("/v1/workflows").await.body["total"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_body_or_path_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    let first = post_with_key(&app, &key, "/v1/workflows", "k", &reference_workflow()).await;
    assert_eq!(first.status, 201);
    let mut changed = reference_workflow();
    changed["name"] = json!("Another name");
    let r = post_with_key(&app, &key, "/v1/workflows", "k", &changed).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "conflict");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("different request"),
        "{}",
        r.text
    );
    let hook = json!({"workflow_id": first.body["id"], "event": "user.created"});
    let r = post_with_key(&app, &key, "/v1/webhooks", "k", &hook).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(app.get("/v1/workflows").await.body["total"], 1);
    assert_eq!(app.get("/v1/webhooks").await.body["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_successes_are_remembered_so_a_corrected_retry_runs() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    let mut broken = reference_workflow();
    broken.as_object_mut().unwrap().remove("name");
    let r = post_with_key(&app, &key, "/v1/workflows", "fix-me", &broken).await;
    assert_eq!(r.status, 400);
    // The same key with the corrected body: the 400 changed nothing and was not stored.
    let r = post_with_key(&app, &key, "/v1/workflows", "fix-me", &reference_workflow()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!replayed(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_keys_are_refused_naming_the_header() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    for bad in ["has space", &"x".repeat(256), "caf\u{e9}"] {
        let r = post_with_key(&app, &key, "/v1/workflows", bad, &reference_workflow()).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], "Idempotency-Key");
    }
    let longest = "y".repeat(255);
    let r = post_with_key(&app, &key, "/v1/workflows", &longest, &reference_workflow()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.get("/v1/workflows").await.body["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_an_account_and_need_its_credentials() {
    let app = spawn_app().await;
    let (_, other_key) = app.other_account("pro").await;
    let mine = post_with_key(
        &app,
        &app.api_key,
        "/v1/workflows",
        "shared",
        &reference_workflow(),
    )
    .await;
    let theirs = post_with_key(
        &app,
        &other_key,
        "/v1/workflows",
        "shared",
        &reference_workflow(),
    )
    .await;
    assert_eq!((mine.status.as_u16(), theirs.status.as_u16()), (201, 201));
    assert!(!replayed(&theirs), "another account never sees my answers");
    assert_ne!(mine.body["id"], theirs.body["id"]);
    let anonymous = post_with_key(
        &app,
        "bc_live_not_a_key",
        "/v1/workflows",
        "shared",
        &reference_workflow(),
    )
    .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v1_post_takes_a_key_and_an_api_key_it_created_is_not_stored_in_clear() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    let created = post_with_key(
        &app,
        &key,
        "/v1/api-keys",
        "new-key",
        &json!({"name": "ci"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let again = post_with_key(
        &app,
        &key,
        "/v1/api-keys",
        "new-key",
        &json!({"name": "ci"}),
    )
    .await;
    assert!(replayed(&again));
    assert_eq!(
        again.body["key"], created.body["key"],
        "the retry gets its key"
    );
    assert_eq!(app.get("/v1/api-keys").await.body["total"], 2);
    // Neither the key itself nor its answer is readable from the data directory.
    let secret = created.body["key"].as_str().unwrap().as_bytes().to_vec();
    for file in walk(app.data_dir()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "{} holds the key in clear",
            file.display()
        );
    }

    let rotated = post_with_key(&app, &key, "/v1/signing-secret/rotate", "rot", &Value::Null).await;
    let rotated_again =
        post_with_key(&app, &key, "/v1/signing-secret/rotate", "rot", &Value::Null).await;
    assert_eq!(rotated.status, 200);
    assert!(replayed(&rotated_again));
    assert_eq!(
        rotated.body["secret"],
        app.get("/v1/signing-secret").await.body["secret"],
        "rotated once"
    );

    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let ack = app.send_event(&hook, json!({"n": 1})).await;
    let exec = ack.body["execution_id"].as_str().unwrap().to_string();
    app.wait_finished(&exec).await;
    let path = format!("/v1/executions/{exec}/replay");
    let one = post_with_key(&app, &key, &path, "replay-1", &Value::Null).await;
    let two = post_with_key(&app, &key, &path, "replay-1", &Value::Null).await;
    assert_eq!(one.status, 201, "{}", one.text);
    assert_eq!(two.body["id"], one.body["id"]);
    let wf = hook["workflow_id"].as_str().unwrap();
    let list = app.get(&format!("/v1/workflows/{wf}/executions")).await;
    assert_eq!(
        list.body["total"], 2,
        "the event and one replay: {}",
        list.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_requests_ignore_the_header() {
    let app = spawn_app().await;
    let r = app
        .client
        .request(Method::GET, format!("{}/v1/workflows", app.base))
        .bearer_auth(&app.api_key)
        .header("Idempotency-Key", "has space")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
