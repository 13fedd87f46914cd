//! `http_request`: a real HTTP client behind the SSRF guard. Bodies are signed with the
//! account's secret (`X-Botcadence-Signature`, lowercase hex HMAC-SHA256 of the exact bytes).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::{Value, json};

use super::StepOutcome;
use super::ssrf::{self, REFUSED};
use crate::signature::{SIGNATURE_HEADER, sign_hex};

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
}

pub struct HttpCaller {
    client: reqwest::Client,
    allow: Arc<Vec<IpNet>>,
    max_response_bytes: usize,
}

/// Resolves names with the system resolver, then drops every refused address.
struct GuardedResolver {
    allow: Arc<Vec<IpNet>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
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
            }))
            .redirect(policy)
            .user_agent(concat!("botcadence/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client configuration is static and valid");
        HttpCaller {
            client,
            allow,
            max_response_bytes,
        }
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
        let signature = sign_hex(signing_secret, &req.body);
        let mut builder = self.client.request(method, url).timeout(req.timeout);
        let mut has_content_type = false;
        for (k, v) in &req.headers {
            has_content_type |= k.eq_ignore_ascii_case("content-type");
            builder = builder.header(k.as_str(), v.as_str());
        }
        if req.json_body && !has_content_type {
            builder = builder.header("Content-Type", "application/json");
        }
        builder = builder.header(SIGNATURE_HEADER, signature).body(req.body);

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
