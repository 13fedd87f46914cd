//! `Idempotency-Key` on `/v1` POSTs: a client that retries a request it got no answer to (a
//! dropped connection, a timeout) gets the first answer again instead of creating a second
//! workflow, webhook, API key or replay, or rotating the signing secret twice.
//!
//! * The key: 1–255 visible ASCII characters (`!` to `~`); anything else is a 400
//!   `invalid_request` naming the `Idempotency-Key` header.
//! * Scope: the account of the API key, so two keys of one account share their idempotency
//!   keys and two accounts never see each other's. A request that does not authenticate
//!   gets its 401 (or 429) as it would without the header.
//! * What was asked: SHA-256 of the method, the path and the body. The same key asking the
//!   same thing within 24 h gets the stored status and body again, with
//!   `Idempotent-Replayed: true`, and nothing runs; the same key asking something else is a
//!   409 `conflict`, and so is a second request while the first with that key still runs.
//! * Only successes (2xx) are remembered: an error changed nothing, so retrying it — a 429
//!   or 503 after its `Retry-After`, a 400 corrected — runs the request again.
//! * The answer is written to the store (`replies`), durably, before it is sent, and the
//!   retention sweep deletes it after 24 h. It is stored under a hash of account and key, and
//!   its body is sealed with a keystream derived from the key itself, which is not stored: a
//!   copy of the data directory does not reveal an API key created with an Idempotency-Key.
//! * Across daemons on one database the key is also claimed in the store before the request
//!   runs (`Store::claim_reply`): a second daemon answers 409 while the first runs. A claim
//!   left by a daemon that died holds for at most `store::REPLY_CLAIM_MS` (60 s).
//! * The one window not covered: the created object and its answer are two writes (a few
//!   milliseconds apart). A crash between them leaves the object without its answer, and the
//!   client, which never got one, creates it again when it retries after the restart.

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{Error, HttpResponse, ResponseError};
use dashmap::DashSet;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::{ApiError, payload_error, too_large};
use crate::store::{ReplyClaim, StoredReply};
use crate::timefmt::now_ms;

pub const HEADER: &str = "idempotency-key";
/// Set on an answer that is the stored answer of an earlier request with the same key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long an answer is kept and a key keeps its meaning.
pub const REPLY_TTL_MS: i64 = 24 * 3600 * 1000;
pub const MAX_KEY_LEN: usize = 255;

/// Keys whose first request is running now (hashed with their account): a second request
/// with one of them is refused instead of running alongside. Bounded by the requests in
/// flight.
#[derive(Default)]
pub struct InFlight(DashSet<String>);

/// Removes a key from [`InFlight`] when its request ends, however it ends.
struct Running<'a> {
    set: &'a InFlight,
    key: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.set.0.remove(&self.key);
    }
}

/// A key claimed in the store (`Store::claim_reply`) for a request that runs now: given up
/// when dropped still armed, so that a failed request's key can be used again at once.
struct Claim {
    store: crate::store::SharedStore,
    key: Option<String>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(error) = store.release_reply(key).await {
                    tracing::warn!(%error, "could not release an Idempotency-Key claim");
                }
            });
        }
    }
}

/// The header's value, when the request has one: checked, not yet trusted to be new.
fn idempotency_key(req: &ServiceRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(HEADER)?;
    let valid = value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.len() <= MAX_KEY_LEN)
        .filter(|v| v.bytes().all(|b| b.is_ascii_graphic()));
    Some(valid.map(str::to_string).ok_or_else(|| {
        ApiError::field(
            "Idempotency-Key",
            "invalid",
            format!(
                "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ),
        )
    }))
}

/// Where an account's answer to `key` is stored: neither can be read back from it.
fn storage_key(account_id: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(account_id.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    hex::encode(h.finalize())
}

/// What a request asks: its method, path and body.
fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// Seals (or, applied again, opens) a stored body: XOR with HMAC-SHA256(k, block number)
/// blocks, k = HMAC-SHA256(Idempotency-Key, account). Only a caller holding the key can
/// derive the stream.
fn seal(account_id: &str, key: &str, body: &[u8]) -> Vec<u8> {
    type HmacSha256 = Hmac<Sha256>;
    let mut derive = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    derive.update(b"botcadence reply v1\0");
    derive.update(account_id.as_bytes());
    let stream_key = derive.finalize().into_bytes();
    let mut out = Vec::with_capacity(body.len());
    for (block, chunk) in body.chunks(32).enumerate() {
        let mut mac = HmacSha256::new_from_slice(&stream_key).expect("HMAC takes any key");
        mac.update(&(block as u64).to_be_bytes());
        let pad = mac.finalize().into_bytes();
        out.extend(chunk.iter().zip(pad.iter()).map(|(b, p)| b ^ p));
    }
    out
}

fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let (req, _) = req.into_parts();
    ServiceResponse::new(req, error.error_response())
}

/// Reads the whole body (bounded by the API body limit), leaving it in place for the
/// handler. The original payload is returned too: it holds the body's memory reservation
/// (`body_guard`) and must live as long as the request.
async fn buffer_body(req: &mut ServiceRequest, limit: usize) -> Result<(Bytes, Payload), ApiError> {
    let mut original = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = original.next().await {
        let chunk = chunk.map_err(|e| payload_error(&e, limit))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let replay = body.clone();
    req.set_payload(Payload::Stream {
        payload: Box::pin(futures_util::stream::once(async move { Ok(replay) })),
    });
    Ok((body, original))
}

fn replayed(req: ServiceRequest, stored: &StoredReply, body: Vec<u8>) -> ServiceResponse<BoxBody> {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header((CONTENT_TYPE, "application/json"));
    res.insert_header((
        HeaderName::from_static(REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    ));
    let (req, _) = req.into_parts();
    ServiceResponse::new(req, res.body(body))
}

/// The middleware on `/v1`: POSTs with an `Idempotency-Key` go through here.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::POST {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let key = match idempotency_key(&req) {
        None => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        Some(Err(e)) => return Ok(refuse(req, e)),
        Some(Ok(key)) => key,
    };
    let state = req
        .app_data::<Data<AppState>>()
        .cloned()
        .expect("AppState is registered on the App before any route");
    // Authenticated (and counted against the plan) once here; the handler's `Authed` reuses it.
    let account_id = match super::auth::authenticate_once(req.request()) {
        Ok(authed) => authed.account.id.clone(),
        Err(e) => return Ok(refuse(req, e)),
    };
    let limit = state.settings.server.max_api_body_bytes;
    let (body, _reservation) = match buffer_body(&mut req, limit).await {
        Ok(read) => read,
        Err(e) => return Ok(refuse(req, e)),
    };
    let asked = fingerprint(req.method(), req.path(), &body);
    let stored_under = storage_key(&account_id, &key);

    if !state.idempotency.0.insert(stored_under.clone()) {
        return Ok(refuse(
            req,
            ApiError::Conflict {
                code: "conflict",
                message: "A request with this Idempotency-Key is still running; retry after it has answered".into(),
            },
        ));
    }
    let _running = Running {
        set: &state.idempotency,
        key: stored_under.clone(),
    };
    match state
        .store
        .claim_reply(stored_under.clone(), now_ms())
        .await
    {
        Ok(ReplyClaim::Running) => {
            return Ok(refuse(
                req,
                ApiError::Conflict {
                    code: "conflict",
                    message: "A request with this Idempotency-Key is still running; retry after it has answered".into(),
                },
            ));
        }
        Ok(ReplyClaim::Stored(stored)) if stored.at_ms >= now_ms() - REPLY_TTL_MS => {
            if stored.fingerprint != asked {
                return Ok(refuse(
                    req,
                    ApiError::Conflict {
                        code: "conflict",
                        message: "This Idempotency-Key was already used for a different request (another path or body)".into(),
                    },
                ));
            }
            let body = seal(&account_id, &key, &stored.sealed_body);
            metrics::counter!("botcadence_idempotent_replays_total").increment(1);
            return Ok(replayed(req, &stored, body));
        }
        Ok(_) => {}
        Err(e) => return Ok(refuse(req, e.into())),
    }

    // Released unless an answer replaces it: after an error, or when this request is dropped.
    let mut claim = Claim {
        store: state.store.clone(),
        key: Some(stored_under.clone()),
    };
    let res = next.call(req).await?.map_into_boxed_body();
    if !res.status().is_success() {
        // Given up before answering: a corrected retry right after this answer may run.
        if let Some(key) = claim.key.take()
            && let Err(error) = state.store.release_reply(key).await
        {
            tracing::warn!(%error, "could not release an Idempotency-Key claim");
        }
        return Ok(res);
    }
    claim.key = None;
    let (http_req, res) = res.into_parts();
    let status = res.status();
    let (head, body) = res.into_parts();
    let body = to_bytes(body)
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let reply = StoredReply {
        fingerprint: asked,
        status: status.as_u16(),
        sealed_body: seal(&account_id, &key, &body),
        at_ms: now_ms(),
    };
    // Written by a task of its own: dropping this request (a broken connection, a shutdown)
    // must not leave the object without its answer.
    let store = state.store.clone();
    let write = tokio::spawn(async move { store.put_stored_reply(&stored_under, &reply).await });
    if let Ok(Err(e)) = write.await {
        // What was asked is done and the answer goes out; only a retry of it is unprotected.
        tracing::warn!(error = %e, "could not store the answer to an idempotent request");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_twice_gives_the_body_back_and_needs_the_key() {
        let body = br#"{"id":"key_1","key":"bc_live_secret_that_must_not_be_stored_in_clear"}"#;
        let sealed = seal("acct_1", "k-1", body);
        assert_ne!(&sealed[..], &body[..]);
        assert!(!sealed.windows(7).any(|w| w == b"bc_live"));
        assert_eq!(seal("acct_1", "k-1", &sealed), body);
        assert_ne!(seal("acct_1", "k-2", &sealed), body);
        assert_ne!(seal("acct_2", "k-1", &sealed), body);
    }

    #[test]
    fn a_fingerprint_covers_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/v1/workflows", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/v1/workflows", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/webhooks", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/workflows", b"{ }"));
        // The separator keeps path and body apart.
        assert_ne!(
            fingerprint(&Method::POST, "/v1/a", b"b"),
            fingerprint(&Method::POST, "/v1/ab", b"")
        );
    }

    #[test]
    fn storage_keys_differ_per_account() {
        assert_ne!(storage_key("acct_1", "k"), storage_key("acct_2", "k"));
        assert_eq!(storage_key("acct_1", "k").len(), 64);
    }
}
