//! `http_request`: a real HTTP client behind the SSRF guard. Bodies are signed with the
//! account's secret twice: `X-Botcadence-Signature` (lowercase hex HMAC-SHA256 of the exact
//! bytes, the reference's scheme) and Standard Webhooks' `webhook-id`, `webhook-timestamp`
//! and `webhook-signature`, so receivers can verify with the official libraries.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::{Value, json};

use super::StepOutcome;
use super::ssrf::{self, REFUSED};
use crate::fasthash::FastMap;
use crate::signature::{SIGNATURE_HEADER, Signer};

/// A rendered request, ready to send.
#[derive(Debug, Clone)]
pub struct RenderedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Exact bytes sent and signed.
    pub body: Vec<u8>,
    /// Whether the body came from a JSON object/array (sets a JSON content type by default).
    pub json_body: bool,
    pub timeout: Duration,
    /// `webhook-id`: the same for every attempt of one step, so receivers can dedupe.
    pub message_id: String,
}

pub struct HttpCaller {
    client: reqwest::Client,
    allow: Arc<Vec<IpNet>>,
    max_response_bytes: usize,
    /// Keyed signers by secret: an account's keys are prepared once, not per request.
    signers: std::sync::Mutex<FastMap<String, Arc<Signer>>>,
}

/// Signers kept at most; the cache starts over when full (a rotated secret's entry goes then).
const SIGNERS_KEPT: usize = 4096;

/// How names become addresses: the system resolver, or in tests a resolver whose answers
/// change between lookups (DNS rebinding).
pub type Lookup = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>
        + Send
        + Sync,
>;

fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    })
}

/// Resolves names, then drops every refused address. The client connects only to the
/// addresses returned here, resolved for that very connection, so an answer that changes
/// after an earlier check (rebinding) is checked again before anything connects.
struct GuardedResolver {
    allow: Arc<Vec<IpNet>>,
    lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = lookup(host.clone())
                .await?
                .into_iter()
                .filter(|a| ssrf::is_allowed(a.ip(), &allow))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host}: every address is {REFUSED}").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn url_refused(url: &reqwest::Url, allow: &[IpNet]) -> bool {
    literal_ip(url).is_some_and(|ip| !ssrf::is_allowed(ip, allow))
}

impl HttpCaller {
    pub fn new(allow: Vec<IpNet>, max_redirects: usize, max_response_bytes: usize) -> HttpCaller {
        Self::with_lookup(allow, max_redirects, max_response_bytes, system_lookup())
    }

    /// As [`HttpCaller::new`], resolving names with `lookup`.
    pub fn with_lookup(
        allow: Vec<IpNet>,
        max_redirects: usize,
        max_response_bytes: usize,
        lookup: Lookup,
    ) -> HttpCaller {
        let allow = Arc::new(allow);
        let redirect_allow = allow.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else if url_refused(attempt.url(), &redirect_allow) {
                attempt.error(format!("redirect target {REFUSED}"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
                lookup,
            }))
            // A proxy from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY would resolve and connect in
            // our place, out of the guarded resolver's sight: never use one.
            .no_proxy()
            .redirect(policy)
            .user_agent(concat!("botcadence/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client configuration is static and valid");
        HttpCaller {
            client,
            allow,
            max_response_bytes,
            signers: Default::default(),
        }
    }

    fn signer(&self, secret: &str) -> Arc<Signer> {
        let mut signers = self
            .signers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(signer) = signers.get(secret) {
            return signer.clone();
        }
        if signers.len() >= SIGNERS_KEPT {
            signers.clear();
        }
        let signer = Arc::new(Signer::new(secret));
        signers.insert(secret.to_string(), signer.clone());
        signer
    }

    pub async fn call(&self, req: RenderedRequest, signing_secret: &str) -> StepOutcome {
        let url = match reqwest::Url::parse(&req.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => return StepOutcome::Failed(format!("url '{}' is not http(s)", req.url)),
            Err(e) => return StepOutcome::Failed(format!("url '{}': {e}", req.url)),
        };
        if url_refused(&url, &self.allow) {
            return StepOutcome::Failed(format!("{}: destination {REFUSED}", req.url));
        }
        let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return StepOutcome::Failed(format!("method '{}' is invalid", req.method)),
        };
        let signer = self.signer(signing_secret);
        let signature = signer.sign_hex(&req.body);
        let mut builder = self.client.request(method, url).timeout(req.timeout);
        let mut has_content_type = false;
        for (k, v) in &req.headers {
            has_content_type |= k.eq_ignore_ascii_case("content-type");
            builder = builder.header(k.as_str(), v.as_str());
        }
        if req.json_body && !has_content_type {
            builder = builder.header("Content-Type", "application/json");
        }
        let timestamp = (crate::timefmt::now_ms() / 1000).to_string();
        let standard = signer.sign_standard_webhook(&req.message_id, &timestamp, &req.body);
        builder = builder
            .header(SIGNATURE_HEADER, signature)
            .header("webhook-id", req.message_id.as_str())
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", standard)
            .body(req.body);

        let mut response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return classify_send_error(&e),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.max_response_bytes.saturating_sub(body.len());
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return classify_send_error(&e),
            }
        }
        let output = json!({
            "status": status.as_u16(),
            "body": String::from_utf8_lossy(&body),
            "truncated": truncated,
        });
        if status.is_server_error() || status.as_u16() == 429 {
            StepOutcome::Retryable {
                error: format!("HTTP {}", status.as_u16()),
                retry_after,
            }
        } else if status.is_client_error() {
            StepOutcome::FailedWithOutput(format!("HTTP {}", status.as_u16()), output)
        } else {
            StepOutcome::Done(output)
        }
    }
}

fn classify_send_error(e: &reqwest::Error) -> StepOutcome {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains(REFUSED) || e.is_builder() {
        StepOutcome::Failed(text)
    } else {
        // Timeouts, refused connections, resets: worth another attempt.
        StepOutcome::Retryable {
            error: text,
            retry_after: None,
        }
    }
}

/// Turns a rendered `body` config value into the exact bytes to send.
pub fn body_bytes(body: Option<&Value>) -> (Vec<u8>, bool) {
    match body {
        None => (Vec::new(), false),
        Some(Value::String(s)) => (s.as_bytes().to_vec(), false),
        Some(v) => (
            serde_json::to_vec(v).expect("JSON values always serialise"),
            true,
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Counts the connections made to a port on every loopback address that can be bound, and
    /// answers each with a 200 that closes the connection (so no connection is reused).
    async fn counting_listener(port: u16, ips: &[&str], count: Arc<AtomicUsize>) -> u16 {
        let mut port = port;
        for ip in ips {
            let Ok(listener) = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), port)).await
            else {
                continue;
            };
            port = listener.local_addr().unwrap().port();
            let count = count.clone();
            tokio::spawn(async move {
                while let Ok((mut socket, _)) = listener.accept().await {
                    count.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        let _ = socket.read(&mut buf).await;
                        let _ = socket
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                            .await;
                    });
                }
            });
        }
        port
    }

    fn request(url: String) -> RenderedRequest {
        RenderedRequest {
            method: "GET".into(),
            url,
            headers: vec![],
            body: vec![],
            json_body: false,
            timeout: Duration::from_secs(5),
            message_id: "msg_test_0".into(),
        }
    }

    /// Names resolve to the address written in them: `a-127-0-0-1.test` → 127.0.0.1,
    /// `v6-fe80--1.test` → fe80::1; several answers separated by `_`; `localhost` as usual.
    fn literal_dns() -> Lookup {
        Arc::new(|host: String| {
            Box::pin(async move {
                let name = match host.as_str() {
                    "localhost" => "a-127-0-0-1_v6---1",
                    other => other.trim_end_matches(".test"),
                };
                name.split('_')
                    .map(|part| {
                        let ip: IpAddr = if let Some(v4) = part.strip_prefix("a-") {
                            v4.replace('-', ".").parse()
                        } else if let Some(v6) = part.strip_prefix("v6-") {
                            v6.replace('-', ":").parse()
                        } else {
                            return Err(std::io::Error::other(format!("no such name {host}")));
                        }
                        .map_err(std::io::Error::other)?;
                        Ok(SocketAddr::new(ip, 0))
                    })
                    .collect()
            })
        })
    }

    #[tokio::test]
    async fn internal_destinations_are_refused_before_any_connection() {
        let count = Arc::new(AtomicUsize::new(0));
        let port = counting_listener(0, &["127.0.0.1", "::1", "127.0.0.2"], count.clone()).await;
        let caller = HttpCaller::with_lookup(vec![], 5, 1024, literal_dns());
        let literals = [
            "127.0.0.1",
            "127.0.0.2",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0177.0.0.1",
            "0.0.0.0",
            "0",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "255.255.255.255",
            "[::1]",
            "[::]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::127.0.0.2]",
            "[::7f00:1]",
            "[64:ff9b::7f00:1]",
            "[2002:7f00:2::]",
            "[2001::7f00:2]",
            "[fe80::1]",
            "[fd00::1]",
            "[fec0::1]",
            "[ff02::1]",
        ];
        let names = [
            "localhost",
            "a-127-0-0-1.test",
            "a-169-254-169-254.test",
            "a-10-0-0-1.test",
            "a-0-0-0-0.test",
            "v6---1.test",
            "v6---ffff-7f00-1.test",
            "v6-2002-7f00-1--.test",
            "v6-64-ff9b--a9fe-a9fe.test",
            "a-127-0-0-1_v6---1.test",
        ];
        let targets: Vec<String> = literals
            .iter()
            .chain(names.iter())
            .map(|host| format!("http://{host}:{port}/latest/meta-data"))
            .collect();
        assert!(targets.len() >= 30);
        for url in targets {
            let outcome = caller.call(request(url.clone()), "whsec_x").await;
            match outcome {
                StepOutcome::Failed(e) => assert!(e.contains(REFUSED), "{url}: {e}"),
                other => panic!("{url} was not refused: {other:?}"),
            }
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            0,
            "a refused target was connected to"
        );
        // The listener does count: an allowed address reaches it.
        let open = HttpCaller::with_lookup(
            vec!["127.0.0.1/32".parse().unwrap()],
            5,
            1024,
            literal_dns(),
        );
        let outcome = open
            .call(
                request(format!("http://a-127-0-0-1.test:{port}/")),
                "whsec_x",
            )
            .await;
        assert!(matches!(outcome, StepOutcome::Done(_)), "{outcome:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    /// DNS rebinding: a name first answers an allowed address, then an internal one. Each
    /// connection resolves again and checks what it is about to connect to.
    #[tokio::test]
    async fn a_name_that_rebinds_to_an_internal_address_is_refused_at_connect_time() {
        let allowed = Arc::new(AtomicUsize::new(0));
        let internal = Arc::new(AtomicUsize::new(0));
        let port = counting_listener(0, &["127.0.0.2"], allowed.clone()).await;
        counting_listener(port, &["127.0.0.1"], internal.clone()).await;
        let lookups = Arc::new(AtomicUsize::new(0));
        let seen = lookups.clone();
        let rebinding: Lookup = Arc::new(move |_host: String| {
            let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                let ip: IpAddr = if first { "127.0.0.2" } else { "127.0.0.1" }
                    .parse()
                    .unwrap();
                Ok(vec![SocketAddr::new(ip, 0)])
            })
        });
        // 127.0.0.2 stands for a public address here.
        let caller =
            HttpCaller::with_lookup(vec!["127.0.0.2/32".parse().unwrap()], 5, 1024, rebinding);
        let url = format!("http://rebind.test:{port}/");
        let first = caller.call(request(url.clone()), "whsec_x").await;
        assert!(matches!(first, StepOutcome::Done(_)), "{first:?}");
        let second = caller.call(request(url), "whsec_x").await;
        match second {
            StepOutcome::Failed(e) => assert!(e.contains(REFUSED), "{e}"),
            other => panic!("the rebound name was not refused: {other:?}"),
        }
        assert_eq!(
            lookups.load(Ordering::SeqCst),
            2,
            "each connection resolves again"
        );
        assert_eq!(allowed.load(Ordering::SeqCst), 1);
        assert_eq!(internal.load(Ordering::SeqCst), 0);
    }
}
