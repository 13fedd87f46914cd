//! Tests of the real `botcadence` binary: restart, crash (`kill -9`), graceful shutdown with
//! systemd notifications, logs free of secrets, configuration errors.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::ADMIN_TOKEN;

const BIN: &str = env!("CARGO_BIN_EXE_botcadence");

struct Daemon {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn pump(stream: impl std::io::Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

fn start(data_dir: &Path, env: &[(&str, &str)]) -> Daemon {
    start_with(data_dir, env, &[])
}

fn start_with(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Daemon {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("BOTCADENCE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE", "1000000")
        .env("BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND", "1000000")
        .env("BOTCADENCE_PLANS__FREE__REQUESTS_PER_DAY", "100000000")
        .env("BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS", "[\"127.0.0.0/8\"]")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    pump(child.stdout.take().unwrap(), stdout.clone());
    pump(child.stderr.take().unwrap(), stderr.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = stderr.lock().unwrap().clone();
        if let Some(i) = log.find("listening on http://") {
            let rest = &log[i + "listening on ".len()..];
            let base: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return Daemon {
                child,
                base,
                stdout,
                stderr,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("daemon exited with {status}: {log}");
        }
        assert!(Instant::now() < deadline, "daemon did not start: {log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Daemon {
    fn first_key(&self) -> String {
        // stdout and stderr are read by two threads: the key may show a moment after the
        // "listening" line.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.stdout.lock().unwrap().clone();
            if let Some(i) = out.find("bc_live_") {
                if out.len() >= i + 8 + 64 {
                    return out[i..i + 8 + 64].to_string();
                }
            }
            assert!(Instant::now() < deadline, "the first start prints a key");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn term(&mut self) -> std::process::ExitStatus {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "daemon did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = client.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.expect("request");
    let status = res.status().as_u16();
    let v = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

/// An active workflow with these actions and a webhook for it; returns (workflow, hook url).
async fn workflow_with_hook(
    d: &Daemon,
    client: &reqwest::Client,
    key: &str,
    actions: Value,
) -> (Value, String) {
    let (s, wf) = call(
        client,
        reqwest::Method::POST,
        format!("{}/v1/workflows", d.base),
        key,
        Some(json!({
            "name": "wf", "status": "active", "trigger": {"type": "webhook"}, "actions": actions
        })),
    )
    .await;
    assert_eq!(s, 201, "{wf}");
    let (s, hook) = call(
        client,
        reqwest::Method::POST,
        format!("{}/v1/webhooks", d.base),
        key,
        Some(json!({"workflow_id": wf["id"], "event": "e"})),
    )
    .await;
    assert_eq!(s, 201, "{hook}");
    let url = hook["url"].as_str().unwrap().to_string();
    (wf, url)
}

/// The execution once it has ended (success or failed), within 20 s.
async fn wait_ended(d: &Daemon, client: &reqwest::Client, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, exec) = call(
            client,
            reqwest::Method::GET,
            format!("{}/v1/executions/{id}", d.base),
            key,
            None,
        )
        .await;
        if exec["status"] == "failed" || exec["status"] == "success" {
            return exec;
        }
        assert!(Instant::now() < deadline, "never ended: {exec}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_restart_and_the_key_is_printed_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut d = start(dir.path(), &[]);
    let key = d.first_key();
    let (s, wf) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/v1/workflows", d.base),
        &key,
        Some(crate::helpers::reference_workflow()),
    )
    .await;
    assert_eq!(s, 201);
    let wf_id = wf["id"].as_str().unwrap().to_string();
    assert!(d.term().success(), "SIGTERM exits 0");

    let d2 = start(dir.path(), &[]);
    assert!(
        !d2.stdout.lock().unwrap().contains("bc_live_"),
        "the key is printed only on the first start"
    );
    let (s, got) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/v1/workflows/{wf_id}", d2.base),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got, wf);

    // A second daemon on the same data directory refuses clearly.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use by another botcadence process"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_kill_9_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut d = start(dir.path(), &[]);
    let key = d.first_key();
    let (_, wf) = call(&client, reqwest::Method::POST, format!("{}/v1/workflows", d.base), &key, Some(json!({
        "name": "crash", "status": "active", "trigger": {"type": "webhook"},
        "actions": [{"type": "delay", "config": {"seconds": 1}}, {"type": "transform", "config": {"set": {"n": "{{n}}"}}}]
    }))).await;
    let (_, hook) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/v1/webhooks", d.base),
        &key,
        Some(json!({"workflow_id": wf["id"], "event": "crash.test"})),
    )
    .await;
    let url = hook["url"].as_str().unwrap().to_string();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut senders = Vec::new();
    for c in 0..16 {
        let client = reqwest::Client::new();
        let url = url.clone();
        let acked = acked.clone();
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let res = client
                    .post(&url)
                    .json(&json!({"n": n, "c": c}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 202 => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked
                                .lock()
                                .unwrap()
                                .push(v["execution_id"].as_str().unwrap().to_string());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    d.kill9();
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} events acknowledged before the kill",
        acked.len()
    );

    let d2 = start(dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &acked {
        loop {
            let (s, e) = call(
                &client,
                reqwest::Method::GET,
                format!("{}/v1/executions/{id}", d2.base),
                &key,
                None,
            )
            .await;
            assert_eq!(s, 200, "acknowledged execution {id} was lost");
            if e["status"] == "success" {
                assert_eq!(e["steps"][1]["status"], "success");
                break;
            }
            assert_ne!(e["status"], "failed", "{e}");
            assert!(Instant::now() < deadline, "{id} did not finish: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_systemd_hears_ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let data = dir.path().join("data");
    let sock_env = sock_path.to_str().unwrap().to_string();
    let mut d = start(
        &data,
        &[("NOTIFY_SOCKET", &sock_env), ("WATCHDOG_USEC", "400000")],
    );
    let mut heard = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(heard.contains("READY=1") && heard.contains("WATCHDOG=1")) {
        assert!(Instant::now() < deadline, "heard only: {heard}");
        let n = sock.recv(&mut buf).expect("a notification");
        heard.push_str(&String::from_utf8_lossy(&buf[..n]));
        heard.push('\n');
    }

    // While draining, ingest is refused with 503 + Retry-After; running work finishes.
    // The workflow calls a server of ours that answers 503, so the execution is known to be
    // running (between its two attempts) when SIGTERM is sent. The wait between them is
    // short enough to be slept in place (longer ones are stored and resume after a restart).
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_url = format!("http://{}/", upstream.local_addr().unwrap());
    let (hit_tx, hit_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for conn in upstream.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = hit_tx.send(());
        }
    });
    let client = reqwest::Client::new();
    let key = d.first_key();
    let (_, wf) = call(&client, reqwest::Method::POST, format!("{}/v1/workflows", d.base), &key, Some(json!({
        "name": "slow", "status": "active", "trigger": {"type": "webhook"},
        "actions": [{"type": "http_request", "config": {"url": upstream_url}, "retry": {"max_attempts": 2, "backoff": 400}}]
    }))).await;
    let (_, hook) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/v1/webhooks", d.base),
        &key,
        Some(json!({"workflow_id": wf["id"], "event": "e"})),
    )
    .await;
    let url = hook["url"].as_str().unwrap().to_string();
    let r = client.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let exec_id = r.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    hit_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the first attempt reached the upstream");

    unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
    let mut saw_503 = false;
    for _ in 0..20 {
        match client.post(&url).json(&json!({})).send().await {
            Ok(r) if r.status().as_u16() == 503 => {
                assert!(r.headers().get("retry-after").is_some());
                saw_503 = true;
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => break,
        }
    }
    let status = d.term();
    assert!(status.success(), "exit status {status}");
    while !heard.contains("STOPPING=1") {
        let n = sock.recv(&mut buf).expect("STOPPING=1");
        heard.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(saw_503, "ingest answered 503 while draining");

    // The running execution finished before exit (it was drained, not abandoned).
    let d2 = start(&data, &[]);
    let (_, e) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/v1/executions/{exec_id}", d2.base),
        &key,
        None,
    )
    .await;
    assert_eq!(e["status"], "failed", "drained to its end: {e}");
    assert_eq!(e["steps"][0]["attempts"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_ever_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = start(dir.path(), &[("RUST_LOG", "debug")]);
    let client = reqwest::Client::new();
    let key = d.first_key();
    let b = d.base.clone();
    let mut secrets = vec![key.clone(), ADMIN_TOKEN.to_string()];
    let (_, acct) = call(
        &client,
        reqwest::Method::POST,
        format!("{b}/admin/v1/accounts"),
        ADMIN_TOKEN,
        Some(json!({"name": "x", "plan": "pro"})),
    )
    .await;
    let (_, k2) = call(
        &client,
        reqwest::Method::POST,
        format!(
            "{b}/admin/v1/accounts/{}/api-keys",
            acct["id"].as_str().unwrap()
        ),
        ADMIN_TOKEN,
        Some(json!({})),
    )
    .await;
    secrets.push(k2["key"].as_str().unwrap().to_string());
    let (_, k3) = call(
        &client,
        reqwest::Method::POST,
        format!("{b}/v1/api-keys"),
        &key,
        Some(json!({"name": "n"})),
    )
    .await;
    secrets.push(k3["key"].as_str().unwrap().to_string());
    let (_, s) = call(
        &client,
        reqwest::Method::GET,
        format!("{b}/v1/signing-secret"),
        &key,
        None,
    )
    .await;
    secrets.push(s["secret"].as_str().unwrap().to_string());
    let (_, s) = call(
        &client,
        reqwest::Method::POST,
        format!("{b}/v1/signing-secret/rotate"),
        &key,
        None,
    )
    .await;
    secrets.push(s["secret"].as_str().unwrap().to_string());
    let (_, wf) = call(&client, reqwest::Method::POST, format!("{b}/v1/workflows"), &key, Some(json!({
        "name": "w", "status": "active", "trigger": {"type": "webhook"},
        "actions": [{"type": "http_request", "config": {"url": "http://127.0.0.1:9/"}, "retry": {"max_attempts": 1}}]
    }))).await;
    let (_, hook) = call(
        &client,
        reqwest::Method::POST,
        format!("{b}/v1/webhooks"),
        &key,
        Some(json!({"workflow_id": wf["id"], "event": "e", "verify": "hmac_sha256"})),
    )
    .await;
    secrets.push(hook["secret"].as_str().unwrap().to_string());
    let url = hook["url"].as_str().unwrap();
    let _ = client
        .post(url)
        .header("X-Botcadence-Signature", "00")
        .json(&json!({}))
        .send()
        .await;
    let body = b"{}";
    let sig = botcadence::signature::sign_hex(hook["secret"].as_str().unwrap(), body);
    let _ = client
        .post(url)
        .header("X-Botcadence-Signature", sig)
        .body(body.to_vec())
        .send()
        .await;
    let _ = call(
        &client,
        reqwest::Method::GET,
        format!("{b}/v1/workflows"),
        "Bearer-garbage",
        None,
    )
    .await;
    let _ = call(
        &client,
        reqwest::Method::GET,
        format!("{b}/admin/v1/accounts"),
        "wrong-token",
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(d.term().success());
    let log = d.stderr.lock().unwrap().clone();
    assert!(
        log.contains("DEBUG") || log.contains("debug"),
        "the log ran at debug level"
    );
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret reached the log: {}…",
            &secret[..10]
        );
    }
}

#[test]
fn check_config_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"nowhere\"\n[storage]\ndurability = \"never\"\n[nope]\nx = 1\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["server.listen", "storage.durability", "nope: unknown key"] {
        assert!(err.contains(needle), "{needle} missing from: {err}");
    }
    let ok = Command::new(BIN)
        .args(["check-config", "--config", "config/botcadence.toml"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("serve"));
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
}

fn answer_ok(_: &str, _: usize) -> String {
    "200 OK".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_posted_before_kill_9_fires_once_after_the_restart_and_not_early() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (port, seen) = crate::helpers::receiver(answer_ok).await;
    let mut d = start(dir.path(), &[]);
    let key = d.first_key();
    let hook_for = |actions: Value| {
        let (client, base, key) = (client.clone(), d.base.clone(), key.clone());
        async move {
            let (s, wf) = call(&client, reqwest::Method::POST, format!("{base}/v1/workflows"), &key, Some(json!({
                "name": "later", "status": "active", "trigger": {"type": "webhook"}, "actions": actions
            }))).await;
            assert_eq!(s, 201, "{wf}");
            let (s, hook) = call(
                &client,
                reqwest::Method::POST,
                format!("{base}/v1/webhooks"),
                &key,
                Some(json!({"workflow_id": wf["id"], "event": "later"})),
            )
            .await;
            assert_eq!(s, 201, "{hook}");
            (
                wf["id"].as_str().unwrap().to_string(),
                hook["url"].as_str().unwrap().to_string(),
            )
        }
    };
    let (_, soon) = hook_for(json!([
        {"type": "delay", "config": {"seconds": 3}},
        {"type": "http_request", "config": {"url": format!("http://127.0.0.1:{port}/fired"), "method": "POST"}}
    ])).await;
    let (backlog_wf, tomorrow) = hook_for(json!([
        {"type": "delay", "config": {"seconds": 86400}},
        {"type": "http_request", "config": {"url": format!("http://127.0.0.1:{port}/early"), "method": "POST"}}
    ])).await;
    for n in 0..500 {
        let r = client
            .post(&tomorrow)
            .json(&json!({"n": n}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
    }
    let posted_ms = botcadence::timefmt::now_ms();
    let r = client.post(&soon).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    d.kill9();

    let restarted = Instant::now();
    let d2 = start(dir.path(), &[]);
    loop {
        let ready = client.get(format!("{}/readyz", d2.base)).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "not ready within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the delay never fired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a second (wrong) firing to show.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "fired once, nothing early: {calls:?}");
    assert_eq!(calls[0].path, "/fired");
    assert!(
        calls[0].at_ms >= posted_ms + 3000,
        "fired {} ms after posting",
        calls[0].at_ms - posted_ms
    );
    let (s, page) = call(
        &client,
        reqwest::Method::GET,
        format!(
            "{}/v1/workflows/{backlog_wf}/executions?per_page=1",
            d2.base
        ),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["total"], 500,
        "the backlog is all still listed: {page}"
    );
}

/// A proxy from the environment would resolve and connect in the daemon's place, so the SSRF
/// guard would never see the address: `http_request` must ignore every proxy variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_requests_ignore_proxies_from_the_environment() {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = proxy.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let proxy_env: Vec<(&str, &str)> = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]
    .into_iter()
    .map(|k| (k, proxy_url.as_str()))
    .chain([("BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS", "[]")])
    .collect();
    let d = start(dir.path(), &proxy_env);
    let key = d.first_key();
    let (_, url) = workflow_with_hook(&d, &client, &key, json!([
        {"type": "http_request", "config": {"url": "http://localhost/latest/meta-data", "method": "GET"}}
    ])).await;
    let r = client.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    let exec = wait_ended(&d, &client, &key, &id).await;
    assert_eq!(exec["status"], "failed", "{exec}");
    assert!(
        exec["steps"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("SSRF"),
        "{exec}"
    );
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy was used"
    );
}

/// Runs `cmd` and panics with its output when it fails.
fn sh(cmd: &[&str]) {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A filesystem of its own for the data directory (a 64 MiB tmpfs: mounting needs root, which
/// CI has; `BOTCADENCE_TEST_NO_MOUNT=1` is the explicit way to skip this test elsewhere).
struct SmallFs(tempfile::TempDir);

impl SmallFs {
    fn mount() -> Option<SmallFs> {
        if std::env::var_os("BOTCADENCE_TEST_NO_MOUNT").is_some() {
            eprintln!("skipped on request: BOTCADENCE_TEST_NO_MOUNT is set");
            return None;
        }
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "the disk-full test mounts a tmpfs and needs root (set BOTCADENCE_TEST_NO_MOUNT=1 to skip it)"
        );
        let dir = tempfile::tempdir().unwrap();
        sh(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            "size=64m",
            "tmpfs",
            dir.path().to_str().unwrap(),
        ]);
        Some(SmallFs(dir))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_events_with_503_and_everything_resumes_when_space_returns() {
    let Some(fs) = SmallFs::mount() else { return };
    // Ballast takes most of the filesystem; removing it is "space returns".
    let ballast = fs.0.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 24 << 20]).unwrap();
    let data = fs.0.path().join("data");
    let d = start(&data, &[("BOTCADENCE_STORAGE__MIN_FREE_BYTES", "8388608")]);
    let key = d.first_key();
    let client = reqwest::Client::new();
    let (wf, url) = workflow_with_hook(
        &d,
        &client,
        &key,
        json!([
            {"type": "transform", "config": {"set": {"seen": "yes"}}}
        ]),
    )
    .await;
    let event = json!({"blob": "x".repeat(60_000)});

    let mut accepted = 0;
    let mut refusals = Vec::new();
    for _ in 0..2000 {
        let r = client.post(&url).json(&event).send().await.unwrap();
        match r.status().as_u16() {
            202 => accepted += 1,
            status => {
                let retry_after = r.headers().get("retry-after").is_some();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                refusals.push((status, retry_after, body));
                if refusals.len() == 5 {
                    break;
                }
            }
        }
    }
    assert!(accepted > 50, "accepted {accepted} before the disk filled");
    assert_eq!(refusals.len(), 5, "the disk never filled");
    for (status, retry_after, body) in &refusals {
        assert_eq!(*status, 503, "{body}");
        assert!(*retry_after, "503 carries Retry-After");
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
    }
    let ready = client
        .get(format!("{}/readyz", d.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    assert!(ready.text().await.unwrap().contains("full"));
    // The API still reads, and everything acknowledged is there.
    let (s, page) = call(
        &client,
        reqwest::Method::GET,
        format!(
            "{}/v1/workflows/{}/executions?per_page=1",
            d.base,
            wf["id"].as_str().unwrap()
        ),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], accepted, "{page}");
    let metrics = client
        .get(format!("{}/metrics", d.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("botcadence_store_disk_full 1"),
        "the metric says why"
    );
    assert!(
        d.stderr.lock().unwrap().contains("disk full"),
        "a log line says why"
    );

    std::fs::remove_file(&ballast).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = client.post(&url).json(&event).send().await.unwrap();
        if r.status().as_u16() == 202 {
            break;
        }
        assert_eq!(r.status().as_u16(), 503);
        assert!(
            Instant::now() < deadline,
            "writes did not resume once space returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = client
        .get(format!("{}/readyz", d.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200, "ready again");
    assert!(d.stderr.lock().unwrap().contains("disk space returned"));
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb * 1024
}

/// A 300-byte template that would build a 256 MiB string (each level concatenates the last
/// one with itself eight times) fails its step with a clear error, and the daemon's memory
/// moves by no more than the render budget, even with two such events at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_bomb_fails_its_step_within_the_memory_budget() {
    let mut bomb = String::from("{% set a = '0123456789abcdef' %}");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let operands = [pair[0]; 8].join("~");
        bomb.push_str(&format!("{{% set {} = {operands} %}}", pair[1]));
    }
    bomb.push_str("{{ i|length }}");
    assert!(bomb.len() < 400);
    let budget: u64 = 16 << 20;
    let dir = tempfile::tempdir().unwrap();
    let d = start(
        dir.path(),
        &[(
            "BOTCADENCE_ENGINE__TEMPLATE_MAX_MEMORY_BYTES",
            &budget.to_string(),
        )],
    );
    let key = d.first_key();
    let client = reqwest::Client::new();
    let (_, url) = workflow_with_hook(
        &d,
        &client,
        &key,
        json!([
            {"type": "transform", "config": {"set": {"n": bomb}}}
        ]),
    )
    .await;
    // Warm up (first allocations of the runtime and the store), then measure.
    let r = client.post(&url).json(&json!({})).send().await.unwrap();
    assert!(r.status().is_success());
    let before = rss_bytes(d.child.id());
    let (a, b) = tokio::join!(
        client.post(&url).json(&json!({"x": 1})).send(),
        client.post(&url).json(&json!({"x": 2})).send()
    );
    for r in [a.unwrap(), b.unwrap()] {
        assert!(r.status().is_success());
        let v: Value = r.json().await.unwrap();
        let id = v["execution_id"].as_str().unwrap();
        let exec = wait_ended(&d, &client, &key, id).await;
        assert_eq!(exec["status"], "failed", "{exec}");
        let error = exec["steps"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains("memory budget"), "{exec}");
    }
    let grown = rss_bytes(d.child.id()).saturating_sub(before);
    assert!(
        grown <= budget,
        "RSS grew by {} MiB for a {} MiB budget",
        grown >> 20,
        budget >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_answer_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let post = |base: String, key: String| {
        let client = client.clone();
        async move {
            let res = client
                .post(format!("{base}/v1/workflows"))
                .bearer_auth(key)
                .header("Idempotency-Key", "survives-restart")
                .json(&crate::helpers::reference_workflow())
                .send()
                .await
                .expect("request");
            let replayed = res.headers().get("idempotent-replayed").is_some();
            (res.status().as_u16(), replayed, res.text().await.unwrap())
        }
    };
    let mut d = start(dir.path(), &[]);
    let key = d.first_key();
    let (status, replayed, first) = post(d.base.clone(), key.clone()).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    d.kill9();

    let d2 = start(dir.path(), &[]);
    let (status, replayed, again) = post(d2.base.clone(), key.clone()).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again, first);
    let (_, list) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/v1/workflows", d2.base),
        &key,
        None,
    )
    .await;
    assert_eq!(list["total"], 1, "{list}");
}

/// Waits until the daemon's stderr contains `text`.
fn wait_log(d: &Daemon, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = d.stderr.lock().unwrap().clone();
        if log.contains(text) {
            return log;
        }
        assert!(Instant::now() < deadline, "no {text:?} in: {log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_the_log_level_and_names_what_needs_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("botcadence.toml");
    std::fs::write(&config, "[log]\nlevel = \"info\"\n").unwrap();
    let d = start_with(
        &dir.path().join("data"),
        &[],
        &["--config", config.to_str().unwrap()],
    );
    let hup = |d: &Daemon| unsafe { libc::kill(d.child.id() as i32, libc::SIGHUP) };
    std::fs::write(
        &config,
        "[log]\nlevel = \"debug\"\n[engine]\nworkflow_concurrency = 3\n",
    )
    .unwrap();
    hup(&d);
    wait_log(&d, "SIGHUP: [log] level applied");
    let log = wait_log(&d, "take effect after a restart");
    assert!(log.contains("[engine]"), "{log}");
    // A file that does not load changes nothing, and the daemon keeps serving.
    std::fs::write(&config, "[engine]\nworkflow_concurrency = \"many\"\n").unwrap();
    hup(&d);
    wait_log(&d, "the configuration does not load; nothing changed");
    let res = reqwest::get(format!("{}/healthz", d.base)).await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_resumes_on_its_version_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut d = start(dir.path(), &[]);
    let key = d.first_key();
    let (wf, hook) = workflow_with_hook(
        &d,
        &client,
        &key,
        json!([
            {"type": "delay", "config": {"seconds": 3}},
            {"type": "transform", "config": {"set": {"v": "one"}}}
        ]),
    )
    .await;
    let r = client.post(&hook).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, patched) = call(
        &client,
        reqwest::Method::PATCH,
        format!("{}/v1/workflows/{}", d.base, wf["id"].as_str().unwrap()),
        &key,
        Some(json!({"actions": [{"type": "transform", "config": {"set": {"v": "two"}}}]})),
    )
    .await;
    assert_eq!((s, &patched["version"]), (200, &json!(2)), "{patched}");
    d.kill9();

    let d2 = start(dir.path(), &[]);
    let exec = wait_ended(&d2, &client, &key, &id).await;
    assert_eq!(exec["status"], "success", "{exec}");
    assert_eq!(exec["workflow_version"], 1, "{exec}");
    assert_eq!(exec["steps"][1]["output"]["v"], "one", "{exec}");
}
