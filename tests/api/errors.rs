use reqwest::Method;

use crate::helpers::{into_response, spawn_app};

fn is_envelope(body: &serde_json::Value, code: &str) -> bool {
    body["error"]["code"] == code && body["error"]["message"].is_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_wrong_type_and_oversized_bodies_answer_in_the_envelope() {
    let app = spawn_app().await;
    let url = format!("{}/v1/workflows", app.base);
    // A connection per request: the server answers 413 before reading an oversized body and
    // closes that connection, which a pooled client could otherwise pick for the next request.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let send = |ct: &'static str, body: Vec<u8>| {
        client
            .post(&url)
            .bearer_auth(&app.api_key)
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let r = into_response(
        send("application/json", b"{\"name\": ".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(is_envelope(&r.body, "invalid_request"), "{}", r.text);

    let r = into_response(send("text/plain", b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(r.status, 415);
    assert!(is_envelope(&r.body, "unsupported_media_type"), "{}", r.text);

    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(300 * 1024));
    let r = into_response(send("application/json", big.into_bytes()).await.unwrap()).await;
    assert_eq!(r.status, 413);
    assert!(is_envelope(&r.body, "payload_too_large"), "{}", r.text);

    let r = into_response(send("application/json", b"[1,2]".to_vec()).await.unwrap()).await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_answer_in_the_envelope() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    for path in [
        "/nope",
        "/v1/nope",
        "/v1/workflows/wf_1/nope",
        "/admin/v1/nope",
    ] {
        let r = app.request(Method::GET, path, Some(&key), None).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(is_envelope(&r.body, "not_found"), "{path}: {}", r.text);
    }
    for (m, path, allow) in [
        (Method::PUT, "/v1/workflows", "GET, HEAD, POST"),
        (
            Method::POST,
            "/v1/workflows/wf_1",
            "GET, HEAD, PATCH, DELETE",
        ),
        (Method::GET, "/webhooks/hook_1", "POST"),
        (Method::HEAD, "/webhooks/hook_1", "POST"),
        (Method::DELETE, "/healthz", "GET, HEAD"),
        (Method::GET, "/v1/executions/exec_1/replay", "POST"),
        (Method::PUT, "/v1/api-keys/key_1", "DELETE"),
        (Method::DELETE, "/admin/v1/accounts", "GET, HEAD, POST"),
    ] {
        let res = app
            .client
            .request(m.clone(), format!("{}{path}", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405, "{m} {path}");
        let got = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), Some(allow), "{m} {path}: Allow");
        if m != Method::HEAD {
            let r = into_response(res).await;
            assert!(is_envelope(&r.body, "method_not_allowed"), "{}", r.text);
        }
    }
}

/// HEAD answers wherever GET does: same status and headers, no body (RFC 9110 §9.3.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_works_wherever_get_does() {
    let app = spawn_app().await;
    let (wf, hook) = app
        .workflow_with_hook(
            serde_json::json!([{"type": "transform", "config": {"set": {"a": "1"}}}]),
        )
        .await;
    let wf_id = wf["id"].as_str().unwrap();
    for path in [
        "/healthz".to_string(),
        "/readyz".into(),
        "/metrics".into(),
        "/v1/workflows".into(),
        format!("/v1/workflows/{wf_id}"),
        format!("/v1/workflows/{wf_id}/executions"),
        "/v1/webhooks".into(),
        format!("/v1/webhooks/{}", hook["id"].as_str().unwrap()),
        "/v1/api-keys".into(),
        "/v1/signing-secret".into(),
    ] {
        let get = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&app.api_key)
            .send()
            .await
            .unwrap();
        let (get_status, get_type) = (get.status(), get.headers().get("content-type").cloned());
        assert!(get_status.is_success(), "GET {path}: {get_status}");
        let head = app
            .client
            .head(format!("{}{path}", app.base))
            .bearer_auth(&app.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get_status, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get_type.as_ref(),
            "HEAD {path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
    }
    let r = app
        .client
        .head(format!("{}/v1/workflows", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "HEAD is authenticated like GET");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_above_the_daemons_maximum_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let action = |ms: u64| {
        serde_json::json!({
            "name": "slow", "trigger": {"type": "webhook"},
            "actions": [
                {"type": "transform", "config": {"set": {"a": "1"}}},
                {"type": "http_request", "config": {"url": "https://example.com", "timeout_ms": ms}}
            ]
        })
    };
    let r = app.post("/v1/workflows", action(60_001)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["field"], "actions[1].config.timeout_ms",
        "{}",
        r.text
    );
    let r = app.post("/v1/workflows", action(60_000)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("/v1/workflows/{id}"),
            serde_json::json!({"actions": action(600_000)["actions"]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["field"],
        "actions[1].config.timeout_ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_never_produce_a_5xx() {
    let app = spawn_app().await;
    let bodies: Vec<&[u8]> = vec![
        b"", b"null", b"\"str\"", b"{\"name\": 5}", b"{\"name\": \"x\", \"trigger\": [], \"actions\": {}}",
        b"{\"name\": \"x\", \"trigger\": {\"type\": \"webhook\"}, \"actions\": [null]}",
        b"{\"name\": \"x\", \"trigger\": {\"type\": \"webhook\"}, \"actions\": [{\"type\": \"transform\", \"config\": {\"set\": {\"a\": \"{% for %}\"}}}]}",
        b"\xff\xfe", b"{\"a\":1e999999}", &[b'['; 10_000],
        // Found by fuzzing: these made the template parser panic.
        b"{\"name\": \"x\", \"trigger\": {\"type\": \"webhook\"}, \"actions\": [{\"type\": \"filter\", \"config\": {\"condition\": \"amoname}}unt > 100\"}}]}",
        b"{\"name\": \"x\", \"trigger\": {\"type\": \"webhook\"}, \"actions\": [{\"type\": \"transform\", \"config\": {\"set\": {\"a\": \"{{ user.email }ample.com\\\"}}\"}}}]}",
    ];
    for body in bodies {
        for path in [
            "/v1/workflows",
            "/v1/webhooks",
            "/v1/api-keys",
            "/v1/workflows/wf_x",
        ] {
            let method = if path.ends_with("wf_x") {
                reqwest::Method::PATCH
            } else {
                reqwest::Method::POST
            };
            let r = app
                .client
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(&app.api_key)
                .header("Content-Type", "application/json")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            let status = r.status();
            let r = into_response(r).await;
            assert!(
                status.is_client_error() || status.is_success(),
                "{path} {:?}: {status} {}",
                String::from_utf8_lossy(body),
                r.text
            );
            if status.is_client_error() {
                assert!(r.body["error"]["code"].is_string(), "{}", r.text);
            }
        }
    }
    let r = app
        .get("/v1/workflows/wf_x/executions?from=yesterday")
        .await;
    assert_eq!(r.status, 404);
}

/// The API's description is served without auth, and is the committed `openapi.json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_without_auth() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let served: serde_json::Value = r.json().await.unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi.json")).unwrap();
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
}

/// `/docs` renders the spec from assets served by the daemon itself: nothing from elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_and_its_script_come_from_the_daemon_only() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"spec-url="/openapi.json""#), "{html}");
    assert!(
        html.contains(r#"src="/docs/redoc.standalone.js""#),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside URL: {html}"
    );
    let script = app
        .client
        .get(format!("{}/docs/redoc.standalone.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status().as_u16(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(script.bytes().await.unwrap().len() > 500_000);
}
