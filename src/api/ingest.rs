//! `POST /webhooks/{hook_id}`: the hot path. Answers 202 only after the event is durable
//! (per `[storage] durability`).
//!
//! Order of checks: hook exists → workflow active → quota has room (not yet taken) → body
//! size (the body's time and memory are bounded by `body_guard`) → signature → depth → JSON →
//! quota token taken →
//! draining → idempotency key length → (small pure workflow: run it here | otherwise:
//! capacity, i.e. an admission slot) → durable write (with the idempotency check inside the
//! writer) → 202, and a queued execution is handed to the engine. Nothing is stored unless
//! every check passed; nothing is acknowledged unless it was stored.
//!
//! A small workflow made only of pure steps (filter, transform) runs to its end before the
//! write, and the event is stored with its finished execution in one write: the reply then
//! says `success` or `failed` instead of `queued`. The run has no effect outside this request,
//! so a failed write loses nothing that was acknowledged.

use std::time::Duration;

use actix_web::http::header::{CONTENT_LENGTH, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::AppState;
use super::body_guard::BodyCharge;
use super::error::{ApiError, payload_error, too_large};
use super::sync_reply;
use crate::actors::intake::{self, Accepted, Idempotency, NewExecution};
use crate::model::{Account, HookVerify, ResponseMode, WorkflowStatus};
use crate::ratelimit::effective_limits;
use crate::signature::{SIGNATURE_HEADER, verify_hex, verify_standard_webhook};
use crate::timefmt::now_ms;

/// The deepest event accepted. Below serde_json's own limit (128) with room to spare, because
/// the event comes back inside other objects — the execution record, `GET
/// /v1/executions/{id}`, step outputs — and a client whose JSON parser stops at 128 levels
/// (serde_json's default, for one) must still be able to read what was accepted.
pub const MAX_EVENT_DEPTH: usize = 100;

/// Whether a JSON text nests arrays and objects more than `max` levels deep. A byte scan that
/// skips strings: it runs before the parse, so a too-deep body costs no parsing.
fn nested_deeper_than(json: &[u8], max: usize) -> bool {
    if json.len() <= max {
        return false; // Each level takes an opening byte: a short body cannot be that deep.
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Longest idempotency key remembered.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

fn outcome(label: &'static str) {
    if label == "accepted" {
        // The hot one, registered once (see `api::middleware::ingest_series`).
        static ACCEPTED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
        ACCEPTED
            .get_or_init(
                || metrics::counter!("botcadence_webhook_events_total", "outcome" => "accepted"),
            )
            .increment(1);
    } else {
        metrics::counter!("botcadence_webhook_events_total", "outcome" => label).increment(1);
    }
}

/// `{"execution_id": …, "status": …}`, written directly: the answer to every accepted event,
/// and building a JSON value to serialise it cost more than the rest of the reply. Neither
/// field can need escaping (ids are `[a-z0-9_]`, statuses fixed words); debug builds check.
fn accepted_body(execution_id: &str, status: &str) -> String {
    debug_assert!(
        execution_id
            .bytes()
            .chain(status.bytes())
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    );
    let mut body = String::with_capacity(execution_id.len() + status.len() + 32);
    body.push_str(r#"{"execution_id":""#);
    body.push_str(execution_id);
    body.push_str(r#"","status":""#);
    body.push_str(status);
    body.push_str(r#""}"#);
    body
}

fn over_quota(account: &Account, retry_after: u64) -> ApiError {
    metrics::counter!("botcadence_ratelimit_rejections_total", "plan" => account.plan.as_str(), "kind" => "ingest")
        .increment(1);
    ApiError::RateLimited {
        message: format!(
            "Webhook quota of the {} plan exceeded",
            account.plan.as_str()
        ),
        retry_after,
    }
}

/// Header names as constants: looking one up by `&str` parses and lower-cases the name on
/// every call, which cost ~450 instructions per lookup on the hottest path.
mod names {
    use actix_web::http::header::HeaderName;

    pub const SIGNATURE: HeaderName = HeaderName::from_static("x-botcadence-signature");
    pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
    pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
    pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
    pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
}

fn header<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the body within `limit` and within `[server] body_read_timeout_secs` of the first
/// wait for it, counting it against body memory, the account's share and the daemon's
/// (`charge`: the whole `Content-Length` up front, or chunk by chunk without one). Ingest does
/// this itself rather than through the generic payload wrapper of `body_guard`: it is the
/// hottest path, and a body that came with its headers here costs no timer, box or wrapper.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    read_timeout: std::time::Duration,
    charge: &mut BodyCharge,
) -> Result<web::Bytes, ApiError> {
    let length = header(req, &CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = length {
        if len > limit {
            return Err(too_large(limit));
        }
        charge.grow(len)?;
    }
    let mut body = web::BytesMut::with_capacity(length.unwrap_or(0));
    let mut deadline = BodyDeadline::new(read_timeout);
    loop {
        let next = std::future::poll_fn(|cx| deadline.poll_next(&mut payload, cx)).await?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| payload_error(&e, limit))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        if length.is_none() {
            charge.grow(chunk.len())?;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The time a body may take. The timer is armed only at the second time the body is not
/// there: actix polls a handler before feeding it the body that came with the headers, so
/// the first wait is nearly always over within the same turn (the task wakes itself once to
/// look again); arming a timer for it cost ~900 instructions per event. A client that really
/// stalls gets the timer on that second look.
struct BodyDeadline {
    timeout: std::time::Duration,
    looked_again: bool,
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl BodyDeadline {
    fn new(timeout: std::time::Duration) -> BodyDeadline {
        BodyDeadline {
            timeout,
            looked_again: false,
            timer: None,
        }
    }

    fn poll_next(
        &mut self,
        payload: &mut web::Payload,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Option<Result<web::Bytes, actix_web::error::PayloadError>>, ApiError>>
    {
        use std::task::Poll;
        if let Poll::Ready(next) = payload.poll_next_unpin(cx) {
            return Poll::Ready(Ok(next));
        }
        if !self.looked_again {
            self.looked_again = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let timeout = self.timeout;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(ApiError::RequestTimeout(format!(
                "The request body did not arrive within {} s",
                timeout.as_secs()
            )))),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn check_signature(
    state: &AppState,
    req: &HttpRequest,
    secret: &str,
    body: &[u8],
) -> Result<(), ApiError> {
    if let Some(sig) = header(req, &names::SIGNATURE) {
        return if verify_hex(secret, body, sig) {
            Ok(())
        } else {
            Err(ApiError::SignatureInvalid(format!(
                "The {SIGNATURE_HEADER} header does not match the body"
            )))
        };
    }
    if let (Some(id), Some(ts), Some(sig)) = (
        header(req, &names::WEBHOOK_ID),
        header(req, &names::WEBHOOK_TIMESTAMP),
        header(req, &names::WEBHOOK_SIGNATURE),
    ) {
        let tolerance = state.settings.webhooks.timestamp_tolerance_secs;
        // abs_diff: the timestamp is the sender's, any i64 must be safe to compare.
        let fresh = ts
            .parse::<i64>()
            .is_ok_and(|t| (now_ms() / 1000).abs_diff(t) <= tolerance);
        if !fresh {
            return Err(ApiError::SignatureInvalid(
                "The webhook-timestamp header is missing, malformed or outside the tolerance"
                    .into(),
            ));
        }
        return if verify_standard_webhook(secret, id, ts, body, sig) {
            Ok(())
        } else {
            Err(ApiError::SignatureInvalid(
                "The webhook-signature header does not match the body".into(),
            ))
        };
    }
    Err(ApiError::SignatureInvalid(format!(
        "This webhook requires a signature: send {SIGNATURE_HEADER} (hex HMAC-SHA256 of the body)"
    )))
}

/// `POST /webhooks/{hook_id}`; any other method is 405, any deeper path 404.
#[utoipa::path(post, path = "/webhooks/{hook_id}", tag = "events", operation_id = "postEvent",
    params(("hook_id" = String, Path, description = "Webhook id"),
           ("X-Botcadence-Signature" = Option<String>, Header, description = "Hex HMAC-SHA256 of the body keyed with the hook's secret (hooks with verify = hmac_sha256)"),
           ("webhook-id" = Option<String>, Header, description = "Standard Webhooks message id (also an idempotency key)"),
           ("webhook-timestamp" = Option<String>, Header, description = "Standard Webhooks timestamp, unix seconds, within 5 minutes"),
           ("webhook-signature" = Option<String>, Header, description = "Standard Webhooks `v1,<base64>` signatures, space-separated"),
           ("Idempotency-Key" = Option<String>, Header, description = "Seen again within 24 h: 200 with the original execution")),
    request_body(content = serde_json::Value, description = "The event: any JSON value (at most 100 levels deep)"),
    responses((status = 202, description = "Stored; queued, or already finished when the workflow is pure", body = super::openapi::Accepted),
              (status = 200, description = "A duplicate (the original execution), or a synchronous hook's execution finished in time, with its result", body = super::openapi::Accepted),
              (status = 401, description = "Signature missing or wrong", body = super::openapi::ErrorEnvelope),
              (status = 408, description = "The body did not arrive in time", body = super::openapi::ErrorEnvelope),
              (status = 409, description = "The workflow is not active", body = super::openapi::ErrorEnvelope),
              (status = 413, description = "The body is too large", body = super::openapi::ErrorEnvelope),
              (status = 429, description = "Ingest quota or the account's pending bound", body = super::openapi::ErrorEnvelope,
               headers(("Retry-After" = u64, description = "Seconds to wait"))))
)]
pub async fn ingest(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let hook_id = req.path().strip_prefix("/webhooks/").unwrap_or_default();
    if hook_id.is_empty() || hook_id.contains('/') {
        return Err(ApiError::NotFound("No such route".into()));
    }
    if req.method() != actix_web::http::Method::POST {
        return Err(ApiError::MethodNotAllowed { allow: "POST" });
    }
    let result = accept(&state, &req, hook_id, payload).await;
    if let Err(e) = &result {
        outcome(match e {
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { .. } => "inactive",
            ApiError::PayloadTooLarge(_) => "too_large",
            ApiError::SignatureInvalid(_) => "signature_invalid",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "overloaded",
            _ => "invalid",
        });
    }
    result
}

async fn accept(
    state: &AppState,
    req: &HttpRequest,
    hook_id: &str,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let hook = state
        .catalog
        .hook(hook_id)
        .ok_or_else(|| ApiError::not_found("Webhook"))?;
    let workflow = state
        .catalog
        .workflow(&hook.workflow_id)
        .ok_or_else(|| ApiError::not_found("Webhook"))?;
    if workflow.status != WorkflowStatus::Active {
        return Err(ApiError::Conflict {
            code: "workflow_inactive",
            message: format!(
                "The workflow is {:?}; only active workflows accept events",
                workflow.status
            )
            .to_lowercase(),
        });
    }
    let received_ms = now_ms();
    let account = state.catalog.account(&hook.account_id);
    if let Some(account) = &account {
        // Over quota: answered before the body is read (the token is taken further down).
        let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
        if let Err(wait) = state.limiter.peek_ingest(&account.id, &limits, received_ms) {
            return Err(over_quota(account, wait));
        }
    }
    // Held until the reply: the body and what is built from it live that long.
    let mut charge = state.bodies.charge_for(&hook.account_id);
    let body = read_body(
        req,
        payload,
        state.settings.webhooks.max_body_bytes,
        state.bodies.read_timeout(),
        &mut charge,
    )
    .await?;
    if hook.verify == HookVerify::HmacSha256 {
        check_signature(state, req, hook.secret.expose(), &body)?;
    }
    if nested_deeper_than(&body, MAX_EVENT_DEPTH) {
        return Err(ApiError::invalid(format!(
            "The request body is nested more than {MAX_EVENT_DEPTH} levels deep"
        )));
    }
    let input: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;

    if let Some(account) = &account {
        let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
        if let Err(wait) = state
            .limiter
            .check_ingest_everywhere(&account.id, &limits, received_ms)
            .await
        {
            return Err(over_quota(account, wait));
        }
    }
    if state.shutdown.is_cancelled() {
        return Err(ApiError::Unavailable {
            message: "The daemon is shutting down; retry shortly".into(),
            retry_after: 5,
        });
    }
    let idempotency_key = header(req, &names::IDEMPOTENCY_KEY)
        .or_else(|| header(req, &names::WEBHOOK_ID))
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if idempotency_key.is_some_and(|k| k.len() > MAX_IDEMPOTENCY_KEY_LEN) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "invalid",
            format!(
                "The Idempotency-Key header is longer than {MAX_IDEMPOTENCY_KEY_LEN} characters"
            ),
        ));
    }
    let accepted = intake::accept(
        &state.engine,
        state.store.as_ref(),
        NewExecution {
            workflow: &workflow,
            hook_id: Some(&hook.id),
            event: &hook.event,
            input,
            input_bytes: body.len(),
            replay_of: None,
            idempotency: idempotency_key.map(|key| Idempotency {
                hook_id: &hook.id,
                key,
                window_ms: state.settings.webhooks.dedupe_window_secs as i64 * 1000,
            }),
            keep_record: false,
        },
    )
    .await?;
    match accepted {
        Accepted::Stored {
            execution_id,
            status,
            ..
        } => {
            outcome("accepted");
            // Waiting holds the connection only: the body and its memory charge go now.
            drop(charge);
            drop(body);
            if let Some(r) = hook.response.filter(|r| r.mode == ResponseMode::Sync)
                && let Some(done) = sync_reply::wait_finished(
                    state,
                    &workflow.account_id,
                    &execution_id,
                    Duration::from_millis(r.timeout_ms),
                )
                .await
            {
                return Ok(HttpResponse::Ok().json(sync_reply::body(&done, r.step)));
            }
            Ok(HttpResponse::Accepted()
                .content_type("application/json")
                .body(accepted_body(&execution_id, status.as_str())))
        }
        Accepted::Duplicate {
            execution_id,
            status,
        } => {
            outcome("duplicate");
            Ok(HttpResponse::Ok().json(json!({
                "execution_id": execution_id,
                "status": status.as_str(),
                "duplicate": true,
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings_only() {
        assert!(!nested_deeper_than(br#"{"a":[1,{"b":"[[[["}]}"#, 3));
        assert!(nested_deeper_than(br#"{"a":[1,{"b":[[]]}]}"#, 4));
        assert!(!nested_deeper_than(br#"{"a":"\"[[[[[","b":[]}"#, 2));
        let at = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert!(!nested_deeper_than(at(100).as_bytes(), 100));
        assert!(nested_deeper_than(at(101).as_bytes(), 100));
    }

    #[test]
    fn the_accepted_body_is_the_json_serde_would_write() {
        let id = crate::ids::execution_id(1_000);
        assert_eq!(
            accepted_body(&id, "success"),
            serde_json::to_string(&json!({"execution_id": id, "status": "success"})).unwrap()
        );
    }
}
