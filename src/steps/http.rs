//! `http_request`: a real HTTP client behind the SSRF guard. Bodies are signed with the
//! account's secret twice: `X-Botcadence-Signature` (lowercase hex HMAC-SHA256 of the exact
//! bytes, the reference's scheme) and Standard Webhooks' `webhook-id`, `webhook-timestamp`
//! and `webhook-signature`, so receivers can verify with the official libraries.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use ipnet::IpNet;
use serde_json::{Value, json};
use url::Url;

use super::StepOutcome;
use super::ssrf::{self, REFUSED};
use crate::fasthash::FastMap;
use crate::signature::Signer;

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

type Connector = HttpsConnector<HttpConnector<GuardedResolver>>;

/// The HTTP client of `http_request`: hyper's pooled client (keep-alive, HTTP/1.1, TLS by
/// rustls with the webpki roots) behind the guarded resolver. Redirects are followed here,
/// not by the client, so each hop's target is checked before anything connects to it.
pub struct HttpCaller {
    client: Client<Connector, Full<Bytes>>,
    allow: Arc<Vec<IpNet>>,
    max_redirects: usize,
    max_response_bytes: usize,
    /// Keyed signers by secret: an account's keys are prepared once, not per request.
    signers: std::sync::Mutex<FastMap<String, Arc<Signer>>>,
}

/// Signers kept at most; the cache starts over when full (a rotated secret's entry goes then).
const SIGNERS_KEPT: usize = 4096;

const USER_AGENT: &str = concat!("botcadence/", env!("CARGO_PKG_VERSION"));

/// The signature headers, parsed once ([`crate::signature::SIGNATURE_HEADER`] lowercased, as HTTP/1.1 sends it).
const SIGNATURE: HeaderName = HeaderName::from_static("x-botcadence-signature");
const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");

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
/// after an earlier check (rebinding) is checked again before anything connects. (Literal
/// addresses never reach a resolver: they are checked before the request is made.)
#[derive(Clone)]
struct GuardedResolver {
    allow: Arc<Vec<IpNet>>,
    lookup: Lookup,
}

type ResolveError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ResolveError;
    type Future = BoxFuture<'static, Result<Self::Response, ResolveError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ResolveError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
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
            Ok(addrs.into_iter())
        })
    }
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn url_refused(url: &Url, allow: &[IpNet]) -> bool {
    literal_ip(url).is_some_and(|ip| !ssrf::is_allowed(ip, allow))
}

/// Headers a redirect to another origin must not carry (as browsers and curl do).
fn is_sensitive(name: &HeaderName) -> bool {
    [
        header::AUTHORIZATION,
        header::COOKIE,
        header::PROXY_AUTHORIZATION,
        header::WWW_AUTHENTICATE,
    ]
    .contains(name)
}

/// The redirects that are followed (as browsers and reqwest do); any other 3xx is the answer.
fn is_followed(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Takes `user:password@` out of a URL: they are sent as `Authorization: Basic`, never in a
/// request line and never in an error message.
fn take_credentials(mut url: Url) -> (Url, Option<HeaderValue>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url, None);
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
    let mut pair = decode(url.username());
    pair.push(b':');
    pair.extend(decode(url.password().unwrap_or("")));
    let value = HeaderValue::try_from(format!("Basic {}", crate::signature::base64_encode(&pair)))
        .ok()
        .map(|mut v| {
            v.set_sensitive(true);
            v
        });
    // Neither can fail on an http(s) URL, which always has a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    (url, value)
}

/// A URL that did not parse, shown without what may be `user:password@`.
fn without_userinfo(raw: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.into();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]).into(),
        None => raw.into(),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// One hop of a request: what is sent to one URL.
struct Hop {
    method: Method,
    url: Url,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

enum Answer {
    Final(hyper::Response<hyper::body::Incoming>),
    Redirect(Url, StatusCode),
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
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            allow: allow.clone(),
            lookup,
        });
        // https URLs pass through this connector to the TLS layer around it.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(15)));
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .expect("ring supports the default TLS versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // No proxy is ever used: a proxy would resolve and connect in our place, out of the
        // guarded resolver's sight.
        let client = Client::builder(TokioExecutor::new())
            // The timer lets the pool close idle connections on its own, not only when their
            // host is called again.
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(tls);
        HttpCaller {
            client,
            allow,
            max_redirects,
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
        let url = match Url::parse(&req.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(other) => {
                let shown = take_credentials(other).0;
                return StepOutcome::Failed(format!("url '{shown}' is not http(s)"));
            }
            Err(e) => {
                let shown = without_userinfo(&req.url);
                return StepOutcome::Failed(format!("url '{shown}': {e}"));
            }
        };
        let (url, basic_auth) = take_credentials(url);
        if url_refused(&url, &self.allow) {
            return StepOutcome::Failed(format!("{url}: destination {REFUSED}"));
        }
        let method = match Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return StepOutcome::Failed(format!("method '{}' is invalid", req.method)),
        };
        let signer = self.signer(signing_secret);
        let timestamp = (crate::timefmt::now_ms() / 1000).to_string();
        let mut headers = Vec::with_capacity(req.headers.len() + 6);
        let mut has_content_type = false;
        for (k, v) in &req.headers {
            let name = match HeaderName::from_bytes(k.as_bytes()) {
                Ok(name) => name,
                Err(e) => return StepOutcome::Failed(format!("header '{k}': {e}")),
            };
            let value = match HeaderValue::from_str(v) {
                Ok(value) => value,
                Err(e) => return StepOutcome::Failed(format!("header '{k}': {e}")),
            };
            has_content_type |= name == header::CONTENT_TYPE;
            headers.push((name, value));
        }
        if let Some(credentials) = basic_auth {
            if !headers
                .iter()
                .any(|(name, _)| name == header::AUTHORIZATION)
            {
                headers.push((header::AUTHORIZATION, credentials));
            }
        }
        if req.json_body && !has_content_type {
            headers.push((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ));
        }
        let computed = [
            (SIGNATURE, signer.sign_hex(&req.body)),
            (WEBHOOK_ID, req.message_id.clone()),
            (
                WEBHOOK_SIGNATURE,
                signer.sign_standard_webhook(&req.message_id, &timestamp, &req.body),
            ),
            (WEBHOOK_TIMESTAMP, timestamp),
        ];
        for (name, value) in computed {
            match HeaderValue::try_from(value) {
                Ok(value) => headers.push((name, value)),
                Err(e) => return StepOutcome::Failed(format!("header '{name}': {e}")),
            }
        }
        let mut hop = Hop {
            method,
            url,
            headers,
            body: Bytes::from(req.body),
        };
        match tokio::time::timeout(req.timeout, self.exchange(&mut hop)).await {
            Ok(outcome) => outcome,
            Err(_) => StepOutcome::Retryable {
                // The hop that was under way: after a redirect, not the URL first called.
                error: format!(
                    "{}: timed out after {} ms",
                    hop.url,
                    req.timeout.as_millis()
                ),
                retry_after: None,
            },
        }
    }

    /// Sends a request, following redirects, and reads the answer.
    async fn exchange(&self, hop: &mut Hop) -> StepOutcome {
        let mut redirects = 0;
        let response = loop {
            match self.send(hop).await {
                Ok(Answer::Final(response)) => break response,
                Ok(Answer::Redirect(next, status)) => {
                    if redirects >= self.max_redirects {
                        return StepOutcome::Failed(format!(
                            "{}: more than {} redirects",
                            hop.url, self.max_redirects
                        ));
                    }
                    redirects += 1;
                    if !matches!(next.scheme(), "http" | "https") {
                        return StepOutcome::Failed(format!("redirect to '{next}' is not http(s)"));
                    }
                    if url_refused(&next, &self.allow) {
                        return StepOutcome::Failed(format!(
                            "{}: redirect target {REFUSED}",
                            hop.url
                        ));
                    }
                    if !same_origin(&hop.url, &next) {
                        hop.headers.retain(|(name, _)| !is_sensitive(name));
                    }
                    // A 303 turns into a GET without a body, and so does a POST answered with
                    // 301 or 302 (as browsers do); 307 and 308 repeat the request as it was.
                    let to_get = match status {
                        StatusCode::SEE_OTHER => hop.method != Method::HEAD,
                        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => {
                            hop.method == Method::POST
                        }
                        _ => false,
                    };
                    if to_get {
                        hop.method = Method::GET;
                        hop.body = Bytes::new();
                        hop.headers.retain(|(name, _)| {
                            ![
                                header::CONTENT_TYPE,
                                header::CONTENT_LENGTH,
                                header::CONTENT_ENCODING,
                                header::TRANSFER_ENCODING,
                            ]
                            .contains(name)
                        });
                    }
                    hop.url = take_credentials(next).0;
                }
                Err(outcome) => return outcome,
            }
        };
        self.read(response).await
    }

    /// One request to one URL: the answer, or where it redirects to.
    async fn send(&self, hop: &Hop) -> Result<Answer, StepOutcome> {
        let uri: Uri = hop
            .url
            .as_str()
            .parse()
            .map_err(|e| StepOutcome::Failed(format!("url '{}': {e}", hop.url)))?;
        let mut request = Request::new(Full::new(hop.body.clone()));
        *request.method_mut() = hop.method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(hop.headers.len() + 1);
        for (name, value) in &hop.headers {
            headers.append(name.clone(), value.clone());
        }
        headers
            .entry(header::USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT));
        headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| classify_send_error(&hop.url, &e))?;
        let status = response.status();
        if is_followed(status) {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            if let Some(location) = location {
                return match hop.url.join(location) {
                    Ok(next) => Ok(Answer::Redirect(next, status)),
                    Err(e) => Err(StepOutcome::Failed(format!(
                        "{}: redirect to '{location}': {e}",
                        hop.url
                    ))),
                };
            }
        }
        Ok(Answer::Final(response))
    }

    /// The outcome of a final answer: its status and (up to the limit) its body.
    async fn read(&self, response: hyper::Response<hyper::body::Incoming>) -> StepOutcome {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => {
                    return StepOutcome::Retryable {
                        error: error_text("reading the response", &e),
                        retry_after: None,
                    };
                }
            };
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            let room = self.max_response_bytes.saturating_sub(bytes.len());
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        let output = json!({
            "status": status.as_u16(),
            "body": String::from_utf8_lossy(&bytes),
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

/// An error and its causes, joined.
fn error_text(context: &str, e: &dyn std::error::Error) -> String {
    let mut text = format!("{context}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn classify_send_error(url: &Url, e: &hyper_util::client::legacy::Error) -> StepOutcome {
    let text = error_text(&format!("error sending request for url ({url})"), e);
    if text.contains(REFUSED) {
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
    use crate::signature::SIGNATURE_HEADER;

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

    /// A caller that may reach 127.0.0.1, with names resolved by [`literal_dns`].
    fn loopback_caller(max_redirects: usize) -> HttpCaller {
        HttpCaller::with_lookup(
            vec!["127.0.0.1/32".parse().unwrap()],
            max_redirects,
            1024,
            literal_dns(),
        )
    }

    #[test]
    fn the_parsed_signature_header_is_the_one_the_reference_names() {
        assert!(SIGNATURE.as_str().eq_ignore_ascii_case(SIGNATURE_HEADER));
    }

    #[test]
    fn a_url_that_does_not_parse_is_shown_without_its_credentials() {
        assert_eq!(
            without_userinfo("http://bob:hunter2@exa mple.com/p@th"),
            "http://…@exa mple.com/p@th"
        );
        assert_eq!(without_userinfo("http://host/p@th"), "http://host/p@th");
        assert_eq!(without_userinfo("not a url"), "not a url");
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
        let open = loopback_caller(5);
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

    /// A server answering by path: `/see-other` → 303 to `/landed` on the same origin,
    /// `/moved-away` → 307 to `other` (another origin); `/landed` → 200. Records each request's
    /// first line and whether it carried `authorization`.
    async fn redirecting_server(
        other: Option<String>,
        seen: Arc<std::sync::Mutex<Vec<String>>>,
    ) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let other = other.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                    let line = head.lines().next().unwrap_or("").to_string();
                    let auth = head.contains("\r\nauthorization:");
                    seen.lock().unwrap().push(format!("{line} auth={auth}"));
                    let answer = if line.contains("/multiple-choices") {
                        "HTTP/1.1 300 Multiple Choices\r\nlocation: /landed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
                    } else if line.contains("/see-other") {
                        "HTTP/1.1 303 See Other\r\nlocation: /landed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
                    } else if line.contains("/moved-away") {
                        format!(
                            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                            other.unwrap_or_default()
                        )
                    } else {
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                            .to_string()
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn redirects_change_method_and_drop_credentials_as_browsers_do() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let target = redirecting_server(None, seen.clone()).await;
        let port = redirecting_server(
            Some(format!("http://localhost:{target}/landed")),
            seen.clone(),
        )
        .await;
        let caller = HttpCaller::with_lookup(
            vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
            5,
            1024,
            literal_dns(),
        );
        let post = |path: &str| RenderedRequest {
            method: "POST".into(),
            headers: vec![("Authorization".into(), "Bearer t".into())],
            body: b"{}".to_vec(),
            ..request(format!("http://127.0.0.1:{port}{path}"))
        };
        // 303: a GET of the new location, credentials kept on the same origin.
        let outcome = caller.call(post("/see-other"), "whsec_x").await;
        assert!(matches!(outcome, StepOutcome::Done(_)), "{outcome:?}");
        // 307 to another origin: the same method, without the credentials.
        let outcome = caller.call(post("/moved-away"), "whsec_x").await;
        assert!(matches!(outcome, StepOutcome::Done(_)), "{outcome:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "post /see-other http/1.1 auth=true",
                "get /landed http/1.1 auth=true",
                "post /moved-away http/1.1 auth=true",
                "post /landed http/1.1 auth=false",
            ]
        );
    }

    #[tokio::test]
    async fn a_redirect_loop_stops_at_the_limit() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let port = redirecting_server(None, seen.clone()).await;
        let caller = loopback_caller(0);
        let outcome = caller
            .call(
                request(format!("http://127.0.0.1:{port}/see-other")),
                "whsec_x",
            )
            .await;
        match outcome {
            StepOutcome::Failed(e) => assert!(e.contains("more than 0 redirects"), "{e}"),
            other => panic!("followed a redirect past the limit: {other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn only_the_five_redirect_statuses_are_followed() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let port = redirecting_server(None, seen.clone()).await;
        let caller = loopback_caller(5);
        let outcome = caller
            .call(
                request(format!("http://127.0.0.1:{port}/multiple-choices")),
                "whsec_x",
            )
            .await;
        match outcome {
            StepOutcome::Done(output) => assert_eq!(output["status"], 300),
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    /// `user:password@` in a URL is sent as Basic credentials, never in the request line, and
    /// never shown in an error.
    #[tokio::test]
    async fn credentials_in_the_url_become_basic_authorization() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let head = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = socket.read(&mut buf).await.unwrap();
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
            String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase()
        });
        let caller = loopback_caller(5);
        let outcome = caller
            .call(
                request(format!("http://al%40ice:s3cr%3At@127.0.0.1:{port}/in")),
                "whsec_x",
            )
            .await;
        assert!(matches!(outcome, StepOutcome::Done(_)), "{outcome:?}");
        let head = head.await.unwrap();
        assert!(head.starts_with("get /in http/1.1\r\n"), "{head}");
        // base64("al@ice:s3cr:t")
        assert!(
            head.contains("\r\nauthorization: basic ywxaawnlonmzy3i6da==\r\n"),
            "{head}"
        );
        // Nothing listens on a refused address: the error names the URL without the password.
        let refused = HttpCaller::with_lookup(vec![], 5, 1024, literal_dns());
        match refused
            .call(request("http://bob:hunter2@127.0.0.1:1/".into()), "whsec_x")
            .await
        {
            StepOutcome::Failed(e) => assert!(!e.contains("hunter2"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    /// The step's timeout bounds the whole exchange: a receiver that accepts and never
    /// answers makes the attempt a retryable failure once it passed.
    #[tokio::test]
    async fn a_receiver_that_never_answers_times_out_as_retryable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket); // read nothing, answer nothing
            }
        });
        let caller = loopback_caller(5);
        let started = std::time::Instant::now();
        let outcome = caller
            .call(
                RenderedRequest {
                    timeout: Duration::from_millis(200),
                    ..request(format!("http://127.0.0.1:{port}/silent"))
                },
                "whsec_x",
            )
            .await;
        match outcome {
            StepOutcome::Retryable { error, .. } => {
                assert!(error.contains("timed out after 200 ms"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
