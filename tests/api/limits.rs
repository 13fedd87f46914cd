//! Limits that hold before any work: quota before the body, slow clients cut off, half-open
//! connections, body memory per account and in all. Raw TCP where a client misbehaves.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{into_response, spawn_app_with};

/// Opens a connection and sends `head` (and nothing more unless the caller writes it).
async fn send_head(base: &str, head: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads until the status line is complete (or the connection closes), within `limit`.
async fn status_within(s: &mut TcpStream, limit: Duration) -> Option<u16> {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 1024];
        loop {
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(line) = buf
                .split(|b| *b == b'\n')
                .next()
                .filter(|_| buf.contains(&b'\n'))
            {
                let line = String::from_utf8_lossy(line);
                return line.split_whitespace().nth(1)?.parse().ok();
            }
        }
    };
    tokio::time::timeout(limit, read).await.ok().flatten()
}

fn post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_over_its_quota_is_answered_before_its_body_is_read() {
    let app = spawn_app_with(&[("BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND", "1")]).await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let path = format!("/webhooks/{}", hook["id"].as_str().unwrap());
    // Spend the quota (one event per second), then announce a body and never send it.
    let r = app.send_event(&hook, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let mut s = send_head(&app.base, &post_head(&path, 100_000)).await;
    let status = status_within(&mut s, Duration::from_secs(2)).await;
    assert_eq!(status, Some(429), "answered without waiting for the body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_do_not_spend_the_accounts_quota() {
    let app = spawn_app_with(&[("BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND", "2")]).await;
    let (wf, _) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let hook = app
        .post(
            "/v1/webhooks",
            json!({"workflow_id": wf["id"], "event": "e", "verify": "hmac_sha256"}),
        )
        .await
        .body;
    let url = hook["url"].as_str().unwrap();
    for _ in 0..20 {
        let r = app.client.post(url).body("{}").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let body = b"{}";
    let sig = botcadence::signature::sign_hex(hook["secret"].as_str().unwrap(), body);
    let r = app
        .client
        .post(url)
        .header("X-Botcadence-Signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "the account's quota is intact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_byte_by_byte_is_cut_off() {
    let app = spawn_app_with(&[("BOTCADENCE_SERVER__BODY_READ_TIMEOUT_SECS", "2")]).await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let path = format!("/webhooks/{}", hook["id"].as_str().unwrap());
    let started = Instant::now();
    let mut s = send_head(&app.base, &post_head(&path, 64)).await;
    let mut status = None;
    for byte in std::iter::repeat_n(b' ', 20) {
        if s.write_all(&[byte]).await.is_err() {
            break;
        }
        if let Some(code) = status_within(&mut s, Duration::from_secs(1)).await {
            status = Some(code);
            break;
        }
    }
    assert_eq!(status, Some(408), "cut off with 408");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off after {:?}",
        started.elapsed()
    );
    // The connection is closed afterwards.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_half_open_connections_do_not_delay_a_normal_request() {
    let app = spawn_app_with(&[]).await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let path = format!("/webhooks/{}", hook["id"].as_str().unwrap());
    let mut held = Vec::new();
    for i in 0..500 {
        // Half of them stop inside their headers, half inside their body.
        let head = if i % 2 == 0 {
            "POST /webhooks/x HTTP/1.1\r\nHost: t\r\nContent-Le".to_string()
        } else {
            format!("{}{{\"a\":", post_head(&path, 1000))
        };
        held.push(send_head(&app.base, &head).await);
    }
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let r = app.send_event(&hook, json!({"ok": true})).await;
        assert_eq!(r.status, 202, "{}", r.text);
        let h = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert!(h.status().is_success());
        slowest = slowest.max(t.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a normal request took {slowest:?}"
    );
    drop(held);
}

/// One account sending many large bodies at once, each stalled halfway, is refused once its
/// share is spent; another account's events are still accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_accounts_large_bodies_cannot_spend_the_body_memory_of_another() {
    let app = spawn_app_with(&[
        ("BOTCADENCE_WEBHOOKS__MAX_BODY_BYTES", "262144"),
        (
            "BOTCADENCE_WEBHOOKS__MAX_BODY_MEMORY_PER_ACCOUNT_BYTES",
            "1048576",
        ),
        ("BOTCADENCE_SERVER__MAX_BODY_MEMORY_BYTES", "2097152"),
    ])
    .await;
    let (_, hostile) = app
        .workflow_with_hook(json!([{"type": "transform", "config": {"set": {"a": "1"}}}]))
        .await;
    let path = format!("/webhooks/{}", hostile["id"].as_str().unwrap());
    // Four bodies of 256 KiB fill the account's 1 MiB share; the fifth is refused at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = send_head(&app.base, &post_head(&path, 262_144)).await;
        s.write_all(&[b' '; 1000]).await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut s = send_head(&app.base, &post_head(&path, 262_144)).await;
    assert_eq!(
        status_within(&mut s, Duration::from_secs(2)).await,
        Some(503)
    );

    let (_, other_key) = app.other_account("free").await;
    let other = app
        .workflow_with_hook_as(
            &other_key,
            json!([{"type": "transform", "config": {"set": {"a": "1"}}}]),
        )
        .await;
    let r = into_response(
        app.client
            .post(other["url"].as_str().unwrap())
            .json(&json!({"big": "x".repeat(200_000)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    // Once the stalled bodies are gone, the account's share is back.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app
        .send_event(&hostile, json!({"x": "y".repeat(200_000)}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
}

/// All accounts together cannot hold more than the global budget: once it is spent, a request
/// announcing a body is refused before its body is read, and served again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_memory_in_all_is_bounded_and_returned() {
    let app = spawn_app_with(&[
        ("BOTCADENCE_WEBHOOKS__MAX_BODY_BYTES", "262144"),
        ("BOTCADENCE_SERVER__MAX_API_BODY_BYTES", "262144"),
        (
            "BOTCADENCE_WEBHOOKS__MAX_BODY_MEMORY_PER_ACCOUNT_BYTES",
            "262144",
        ),
        ("BOTCADENCE_SERVER__MAX_BODY_MEMORY_BYTES", "524288"),
    ])
    .await;
    let authed = |length: usize| {
        post_head("/v1/workflows", length).replace(
            "Host: t\r\n",
            &format!("Host: t\r\nAuthorization: Bearer {}\r\n", app.api_key),
        )
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = send_head(&app.base, &authed(262_144)).await;
        s.write_all(b"{\"name\":").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut s = send_head(&app.base, &authed(1000)).await;
    assert_eq!(
        status_within(&mut s, Duration::from_secs(2)).await,
        Some(503)
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app.post("/v1/workflows", json!({"name": 5})).await;
    assert_eq!(r.status, 400, "served again: {}", r.text);
}
