//! Starts the real daemon in-process on 127.0.0.1:0 with a temporary RocksDB directory, and
//! speaks HTTP to it.

use std::path::Path;

use botcadence::config::{CliOverrides, Settings};
use botcadence::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub base: String,
    pub api_key: String,
    pub account_id: String,
    pub client: reqwest::Client,
    _dir: Option<TempDir>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

/// Settings for a test: port 0, the given data dir, the admin token, loopback allowed for
/// `http_request`, plus any extra `BOTCADENCE_*` pairs.
pub fn settings(data_dir: &Path, extra: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("BOTCADENCE_ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
        (
            "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS".into(),
            "[\"127.0.0.0/8\"]".into(),
        ),
        ("BOTCADENCE_SERVER__WORKERS".into(), "2".into()),
        ("BOTCADENCE_LOG__LEVEL".into(), "warn".into()),
        // Tests poll a lot; the rate-limit test sets the reference's numbers back.
        (
            "BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE".into(),
            "1000000".into(),
        ),
        (
            "BOTCADENCE_PLANS__FREE__REQUESTS_PER_DAY".into(),
            "100000000".into(),
        ),
        (
            "BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND".into(),
            "1000000".into(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let overrides = CliOverrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
    };
    Settings::load_from(None, env, &overrides).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = Application::build(settings(dir.path(), extra))
        .await
        .expect("the app starts");
    let base = format!("http://{}", app.address());
    let first = app.first_start().expect("a new data dir is initialised");
    let api_key = first.api_key.clone();
    let account_id = first.account_id.clone();
    tokio::spawn(app.run());
    TestApp {
        base,
        api_key,
        account_id,
        client: reqwest::Client::new(),
        _dir: Some(dir),
    }
}

impl TestApp {
    /// The daemon's data directory.
    pub fn data_dir(&self) -> &Path {
        self._dir
            .as_ref()
            .expect("a test app has its own data dir")
            .path()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self.client.request(method, url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        into_response(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, Some(&self.api_key.clone()), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(&self.api_key.clone()), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(&self.api_key.clone()), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, Some(&self.api_key.clone()), None)
            .await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.request(method, path, Some(ADMIN_TOKEN), body).await
    }

    /// A second account with its own key (for tenant isolation).
    pub async fn other_account(&self, plan: &str) -> (String, String) {
        let acct = self
            .admin(
                Method::POST,
                "/admin/v1/accounts",
                Some(json!({"name": "other", "plan": plan})),
            )
            .await;
        assert_eq!(acct.status, 201, "{}", acct.text);
        let id = acct.body["id"].as_str().unwrap().to_string();
        let key = self
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{id}/api-keys"),
                Some(json!({"name": "k"})),
            )
            .await;
        assert_eq!(key.status, 201, "{}", key.text);
        (id, key.body["key"].as_str().unwrap().to_string())
    }

    /// Creates an active workflow with these actions and a hook for it; returns (workflow, hook).
    pub async fn workflow_with_hook(&self, actions: Value) -> (Value, Value) {
        let wf = self
            .post(
                "/v1/workflows",
                json!({"name": "wf", "status": "active", "trigger": {"type": "webhook", "event": "user.created"}, "actions": actions}),
            )
            .await;
        assert_eq!(wf.status, 201, "{}", wf.text);
        let hook = self
            .post(
                "/v1/webhooks",
                json!({"workflow_id": wf.body["id"], "event": "user.created"}),
            )
            .await;
        assert_eq!(hook.status, 201, "{}", hook.text);
        (wf.body, hook.body)
    }

    /// POSTs an event to a hook URL.
    pub async fn send_event(&self, hook: &Value, payload: Value) -> Response {
        let url = hook["url"].as_str().unwrap();
        into_response(
            self.client
                .post(url)
                .json(&payload)
                .send()
                .await
                .expect("sent"),
        )
        .await
    }

    /// Polls an execution until it is finished (success or failed), up to 20 s.
    pub async fn wait_finished(&self, execution_id: &str) -> Value {
        for _ in 0..400 {
            let r = self.get(&format!("/v1/executions/{execution_id}")).await;
            if r.status == 200 && matches!(r.body["status"].as_str(), Some("success" | "failed")) {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("execution {execution_id} did not finish");
    }
}

pub async fn into_response(res: reqwest::Response) -> Response {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        body,
        text,
    }
}

/// The reference's "Create Workflow" body, verbatim.
pub fn reference_workflow() -> Value {
    serde_json::from_str(
        r#"{
      "name": "New Workflow",
      "trigger": {
        "type": "webhook",
        "event": "user.created"
      },
      "actions": [
        {
          "type": "send_email",
          "config": {
            "to": "{{user.email}}",
            "subject": "Welcome!",
            "body": "Thanks for joining!"
          }
        }
      ]
    }"#,
    )
    .unwrap()
}

/// One request a [`receiver`] got: its path and when it arrived (ms since the epoch).
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub at_ms: i64,
}

/// A real HTTP/1.1 server on a random loopback port that records every request and answers
/// with what `answer(path, calls_so_far_to_that_path)` returns (a full status line and
/// headers, e.g. "503 Service Unavailable\r\nretry-after: 2"). It runs on a thread of its
/// own, so an `answer` that sleeps slows this peer only, like a slow remote server.
pub async fn receiver(
    answer: fn(&str, usize) -> String,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Received>::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(serve(listener, answer, log));
    });
    (port, seen)
}

async fn serve(
    listener: std::net::TcpListener,
    answer: fn(&str, usize) -> String,
    log: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as much body as content-length says.
                let head_end = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let calls = {
                    let mut seen = log.lock().unwrap();
                    let calls = seen.iter().filter(|r| r.path == path).count();
                    seen.push(Received {
                        path: path.clone(),
                        at_ms: botcadence::timefmt::now_ms(),
                    });
                    calls
                };
                let status = answer(&path, calls);
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    }
}

impl TestApp {
    /// Creates an active workflow and its hook with `key` (another account's); returns the hook.
    pub async fn workflow_with_hook_as(&self, key: &str, actions: Value) -> Value {
        let wf = self
            .request(
                Method::POST,
                "/v1/workflows",
                Some(key),
                Some(json!({
                "name": "wf", "status": "active",
                "trigger": {"type": "webhook", "event": "user.created"}, "actions": actions})),
            )
            .await;
        assert_eq!(wf.status, 201, "{}", wf.text);
        let hook = self
            .request(
                Method::POST,
                "/v1/webhooks",
                Some(key),
                Some(json!({
                "workflow_id": wf.body["id"], "event": "user.created"})),
            )
            .await;
        assert_eq!(hook.status, 201, "{}", hook.text);
        hook.body
    }

    /// Polls an execution with `key` until it is finished, up to 20 s.
    pub async fn wait_finished_as(&self, key: &str, execution_id: &str) -> Value {
        for _ in 0..400 {
            let r = self
                .request(
                    Method::GET,
                    &format!("/v1/executions/{execution_id}"),
                    Some(key),
                    None,
                )
                .await;
            if r.status == 200 && matches!(r.body["status"].as_str(), Some("success" | "failed")) {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("execution {execution_id} did not finish");
    }

    /// The value of one un-labelled (or fully labelled) series in `/metrics`.
    pub async fn metric(&self, series: &str) -> f64 {
        let m = self.request(Method::GET, "/metrics", None, None).await;
        m.text
            .lines()
            .find_map(|l| {
                l.strip_prefix(series)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{series} not in /metrics:\n{}", m.text))
    }
}
