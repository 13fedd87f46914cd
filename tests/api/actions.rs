//! Actions against real peers started by the test: an SMTP listener and an HTTP server.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{reference_workflow, spawn_app, spawn_app_with};

/// A small SMTP server: enough of RFC 5321 for a client to deliver mail to it. Every message
/// received (envelope and data) is pushed to `inbox`.
async fn smtp_listener() -> (u16, Arc<Mutex<Vec<String>>>) {
    let (port, inbox, _) = smtp_listener_counting().await;
    (port, inbox)
}

/// [`smtp_listener`], also counting the connections it accepted.
pub(crate) async fn smtp_listener_counting() -> (
    u16,
    Arc<Mutex<Vec<String>>>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let store = inbox.clone();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
                let mut envelope = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        w.write_all(b"250-test.local\r\n250 8BITMIME\r\n")
                            .await
                            .unwrap();
                    } else if upper.starts_with("MAIL FROM") || upper.starts_with("RCPT TO") {
                        envelope.push_str(&line);
                        envelope.push('\n');
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else if upper == "DATA" {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store.lock().unwrap().push(format!("{envelope}\n{data}"));
                        envelope.clear();
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if upper == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, inbox, connections)
}

#[derive(Clone, Debug)]
struct Received {
    method: String,
    path: String,
    signature: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// An HTTP server recording every request; answers with the status in `?status=`.
async fn http_receiver() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let data = web::Data::new(got.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |req: HttpRequest, body: web::Bytes, got: web::Data<Arc<Mutex<Vec<Received>>>>| async move {
                let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                got.lock().unwrap().push(Received {
                    method: req.method().to_string(),
                    path: req.path().to_string(),
                    signature: header("x-botcadence-signature"),
                    content_type: header("content-type"),
                    body: body.to_vec(),
                });
                let status = req
                    .query_string()
                    .strip_prefix("status=")
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or(200);
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("pong")
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (port, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_send_email_example_reaches_a_real_smtp_listener() {
    let (port, inbox) = smtp_listener().await;
    let port = port.to_string();
    let app = spawn_app_with(&[
        ("BOTCADENCE_SMTP__HOST", "127.0.0.1"),
        ("BOTCADENCE_SMTP__PORT", &port),
        ("BOTCADENCE_SMTP__TLS", "none"),
        ("BOTCADENCE_SMTP__FROM", "robot@botcadence.test"),
    ])
    .await;
    let mut wf = reference_workflow();
    wf["status"] = json!("active");
    let wf = app.post("/v1/workflows", wf).await.body;
    let hook = app
        .post(
            "/v1/webhooks",
            json!({"workflow_id": wf["id"], "event": "user.created"}),
        )
        .await
        .body;
    let r = app
        .send_event(&hook, json!({"user": {"email": "ada@example.com"}}))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body["status"], "queued",
        "an email is sent after the event is stored"
    );
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(exec["status"], "success", "{exec}");
    assert_eq!(exec["steps"][0]["output"]["delivered"], true);

    let mail = inbox.lock().unwrap().clone();
    assert_eq!(mail.len(), 1, "{mail:?}");
    let m = &mail[0];
    assert!(m.contains("RCPT TO:<ada@example.com>"), "{m}");
    assert!(m.contains("MAIL FROM:<robot@botcadence.test>"), "{m}");
    assert!(m.contains("Subject: Welcome!"), "{m}");
    assert!(m.contains("To: ada@example.com"), "{m}");
    assert!(m.contains("Thanks for joining!"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_smtp_host_the_message_is_recorded_not_sent() {
    let app = spawn_app().await;
    let mut wf = reference_workflow();
    wf["status"] = json!("active");
    let wf = app.post("/v1/workflows", wf).await.body;
    let hook = app
        .post(
            "/v1/webhooks",
            json!({"workflow_id": wf["id"], "event": "user.created"}),
        )
        .await
        .body;
    let r = app
        .send_event(&hook, json!({"user": {"email": "ada@example.com"}}))
        .await;
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    let out = &exec["steps"][0]["output"];
    assert_eq!(out["delivered"], false);
    assert_eq!(out["to"], "ada@example.com");
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Runs the reference's JavaScript `verifySignature` with Node.js (required: `.ci/run`
/// installs it; a missing Node fails the test rather than skipping the check).
fn verify_with_reference_js(payload: &[u8], signature: &str, secret: &str) -> bool {
    let script = r#"
const crypto = require('crypto');
function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(digest)
  );
}
const payload = Buffer.from(process.argv[1], 'base64');
console.log(verifySignature(payload, process.argv[2], process.argv[3]) ? 'valid' : 'invalid');
"#;
    let b64 = {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in payload.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                s.push(if i <= c.len() {
                    T[((n >> (18 - 6 * i)) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        s
    };
    let out = std::process::Command::new("node")
        .args(["-e", script, &b64, signature, secret])
        .output()
        .expect("Node.js runs the reference's verifySignature (install nodejs)");
    String::from_utf8_lossy(&out.stdout).trim() == "valid"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_requests_are_signed_verifiably_with_the_account_secret() {
    let (port, got) = http_receiver().await;
    let app = spawn_app().await;
    let secret = app.get("/v1/signing-secret").await.body["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("whsec_"));
    let (_, hook) = app
        .workflow_with_hook(json!([{
            "type": "http_request",
            "config": {
                "method": "POST",
                "url": format!("http://127.0.0.1:{port}/notify/{{{{user.id}}}}"),
                "headers": {"X-Custom": "{{user.name}}"},
                "body": {"hello": "{{user.name}}", "execution": "{{execution.id}}"}
            }
        }]))
        .await;
    let r = app
        .send_event(&hook, json!({"user": {"id": 7, "name": "Ada"}}))
        .await;
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(exec["status"], "success", "{exec}");
    assert_eq!(exec["steps"][0]["output"]["status"], 200);
    assert_eq!(exec["steps"][0]["output"]["body"], "pong");

    let req = got.lock().unwrap()[0].clone();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/notify/7");
    assert_eq!(req.content_type.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["hello"], "Ada");
    assert_eq!(body["execution"], exec["id"]);
    let sig = req.signature.expect("signed");
    assert_eq!(sig, hmac_hex(&secret, &req.body));
    assert!(
        verify_with_reference_js(&req.body, &sig, &secret),
        "the reference's verifySignature accepts our signature"
    );

    // After rotation, the new secret signs.
    let rotated = app.post("/v1/signing-secret/rotate", json!({})).await.body["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rotated, secret);
    let r = app
        .send_event(&hook, json!({"user": {"id": 8, "name": "Bob"}}))
        .await;
    app.wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    let req = got.lock().unwrap()[1].clone();
    assert_eq!(req.signature.unwrap(), hmac_hex(&rotated, &req.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (port, got) = http_receiver().await;
    let app = spawn_app().await;
    let (_, hook) = app
        .workflow_with_hook(json!([{
            "type": "http_request",
            "config": {"url": format!("http://127.0.0.1:{port}/x?status={{{{code}}}}")},
            "retry": {"max_attempts": 3, "backoff": "10ms"}
        }]))
        .await;
    let r = app.send_event(&hook, json!({"code": 503})).await;
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(exec["status"], "failed");
    assert_eq!(exec["steps"][0]["attempts"], 3);
    let r = app.send_event(&hook, json!({"code": 404})).await;
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(exec["status"], "failed");
    assert_eq!(exec["steps"][0]["attempts"], 1);
    assert_eq!(got.lock().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssrf_guard_refuses_internal_destinations_not_allowed() {
    let (port, got) = http_receiver().await;
    // Only 10.0.0.0/8 allowed: loopback is refused.
    let app = spawn_app_with(&[("BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS", "[\"10.0.0.0/8\"]")]).await;
    let targets = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]/".to_string(),
        "http://0.0.0.0/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
    ];
    for url in targets {
        let (_, hook) = app
            .workflow_with_hook(json!([{"type": "http_request", "config": {"url": url}}]))
            .await;
        let r = app.send_event(&hook, json!({})).await;
        let exec = app
            .wait_finished(r.body["execution_id"].as_str().unwrap())
            .await;
        assert_eq!(exec["status"], "failed", "{url}");
        assert_eq!(
            exec["steps"][0]["attempts"], 1,
            "{url}: refusals are not retried"
        );
        assert!(
            exec["error"].as_str().unwrap().contains("SSRF"),
            "{url}: {}",
            exec["error"]
        );
    }
    assert!(
        got.lock().unwrap().is_empty(),
        "nothing reached the internal server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_refused_addresses_are_not_followed() {
    // A public-looking first hop is impossible on a loopback-only machine, so this checks the
    // redirect policy with loopback allowed and a redirect to the metadata address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "http://169.254.169.254/latest/"))
                .finish()
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let app = spawn_app().await;
    let (_, hook) = app
        .workflow_with_hook(json!([{"type": "http_request", "config": {"url": format!("http://127.0.0.1:{port}/")}}]))
        .await;
    let r = app.send_event(&hook, json!({})).await;
    let exec = app
        .wait_finished(r.body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(exec["status"], "failed");
    assert!(
        exec["error"].as_str().unwrap().contains("SSRF"),
        "{}",
        exec["error"]
    );
}
