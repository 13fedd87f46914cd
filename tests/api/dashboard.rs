//! The dashboard over HTTP (its browser test is tests/browser/dashboard.mjs): sessions, the
//! same-origin and form-token checks, escaping, the operator view, sign-in limits.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in with `secret`; returns the `name=value` of the session cookie.
async fn sign_in(app: &TestApp, secret: &str) -> String {
    let res = browser()
        .post(format!("{}/dashboard/login", app.base))
        .header(ORIGIN, &app.base)
        .form(&[("key", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

async fn get(
    app: &TestApp,
    cookie: &str,
    path: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let res = browser()
        .get(format!("{}{path}", app.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

/// The page's form token (every page of a session carries it in its forms).
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    html[at..at + 64].to_string()
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    origin: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = browser()
        .post(format!("{}{path}", app.base))
        .header(COOKIE, cookie)
        .form(form);
    if let Some(o) = origin {
        req = req.header(ORIGIN, o);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_opens_a_session_with_strict_headers_and_a_wrong_key_does_not() {
    let app = spawn_app().await;
    let (status, _, headers) = get(&app, "", "/dashboard/overview").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/dashboard/login");

    let wrong = browser()
        .post(format!("{}/dashboard/login", app.base))
        .header(ORIGIN, &app.base)
        .form(&[(
            "key",
            "bc_live_0000000000000000000000000000000000000000000000000000000000000000",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());

    let cookie = sign_in(&app, &app.api_key).await;
    for page in [
        "/dashboard/overview",
        "/dashboard/workflows",
        "/dashboard/workflows/new",
        "/dashboard/webhooks",
        "/dashboard/settings",
        "/dashboard/settings/signing-secret",
    ] {
        let (status, html, headers) = get(&app, &cookie, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert!(!html.contains("<script>"), "{page}: no inline script");
        assert!(
            !html.contains(&app.api_key),
            "{page}: the key is in no page"
        );
    }
    // Sign out ends it.
    let (_, html, _) = get(&app, &cookie, "/dashboard/overview").await;
    let res = post_form(
        &app,
        &cookie,
        Some(&app.base),
        "/dashboard/logout",
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, _, _) = get(&app, &cookie, "/dashboard/overview").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_our_origin_and_the_sessions_token() {
    let app = spawn_app().await;
    let cookie = sign_in(&app, &app.api_key).await;
    let (_, html, _) = get(&app, &cookie, "/dashboard/workflows/new").await;
    let token = csrf_of(&html);
    let definition = json!({"name": "from the dashboard", "trigger": {"type": "webhook"},
        "actions": [{"type": "delay", "config": {"seconds": 1}}]})
    .to_string();
    let refusals = [
        (None, token.as_str()),
        (Some("http://evil.example"), token.as_str()),
        (Some(app.base.as_str()), "0".repeat(64).as_str()),
        (Some(app.base.as_str()), ""),
    ]
    .map(|(o, t)| (o.map(str::to_string), t.to_string()));
    for (origin, csrf) in refusals {
        let res = post_form(
            &app,
            &cookie,
            origin.as_deref(),
            "/dashboard/workflows",
            &[("csrf", &csrf), ("definition", &definition)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin:?} {csrf}");
    }
    assert_eq!(
        app.get("/v1/workflows").await.body["total"],
        0,
        "nothing was created"
    );

    let res = post_form(
        &app,
        &cookie,
        Some(&app.base),
        "/dashboard/workflows",
        &[("csrf", &token), ("definition", &definition)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/v1/workflows").await.body["total"], 1);

    // The API's own validation, naming the field, shown in the editor.
    let bad = json!({"name": "x", "trigger": {"type": "webhook"},
        "actions": [{"type": "send_email", "config": {"to": "a@b.c", "body": "b"}}]})
    .to_string();
    let res = post_form(
        &app,
        &cookie,
        Some(&app.base),
        "/dashboard/workflows",
        &[("csrf", &token), ("definition", &bad)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("actions[0].config.subject"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_key_ends_its_sessions() {
    let app = spawn_app().await;
    let key = app.post("/v1/api-keys", json!({"name": "browser"})).await;
    let cookie = sign_in(&app, key.body["key"].as_str().unwrap()).await;
    assert_eq!(
        get(&app, &cookie, "/dashboard/overview").await.0,
        StatusCode::OK
    );
    let r = app
        .delete(&format!(
            "/v1/api-keys/{}",
            key.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, 204);
    let (status, _, headers) = get(&app, &cookie, "/dashboard/overview").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/dashboard/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_and_names_from_outside_are_text() {
    let app = spawn_app().await;
    let hostile = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
    let (wf, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"echo": "{{text}}"}}}]))
        .await;
    let r = app
        .patch(
            &format!("/v1/workflows/{}", wf["id"].as_str().unwrap()),
            json!({"name": hostile}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ack = app.send_event(&hook, json!({"text": hostile})).await;
    let exec = ack.body["execution_id"].as_str().unwrap().to_string();
    app.wait_finished(&exec).await;
    let cookie = sign_in(&app, &app.api_key).await;
    for page in [
        format!("/dashboard/executions/{exec}"),
        "/dashboard/workflows".to_string(),
        format!("/dashboard/workflows/{}", wf["id"].as_str().unwrap()),
        "/dashboard/webhooks".to_string(),
    ] {
        let (status, html, _) = get(&app, &cookie, &page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!html.contains("<script>alert"), "{page}");
        assert!(!html.contains("<img src=x"), "{page}");
        assert!(html.contains("&lt;script&gt;alert(1)"), "{page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_view_is_the_operators_only() {
    let app = spawn_app().await;
    let account = sign_in(&app, &app.api_key).await;
    assert_eq!(
        get(&app, &account, "/dashboard/operator").await.0,
        StatusCode::FORBIDDEN
    );
    let operator = sign_in(&app, ADMIN_TOKEN).await;
    let (status, html, _) = get(&app, &operator, "/dashboard/operator").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&app.account_id), "{html}");
    let (status, _, _) = get(
        &app,
        &operator,
        &format!("/dashboard/operator/accounts/{}", app.account_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&app, &operator, "/dashboard/workflows").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = browser()
            .post(format!("{}/dashboard/login", app.base))
            .header(ORIGIN, &app.base)
            .form(&[("key", "guess")])
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
}
