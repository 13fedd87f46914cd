//! What wraps every request: a request id (accepted from `X-Request-Id` when sane, else
//! generated) on the tracing span and the response, HTTP metrics labelled by route pattern,
//! and the `X-RateLimit-*` headers for authenticated requests.

use std::time::Instant;

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use rand::RngCore;
use tracing::Instrument;

use super::error::{ApiError, BUSY_RETRY_AFTER_SECS};
use crate::ratelimit::Quota;

pub const REQUEST_ID: &str = "x-request-id";

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut id = String::with_capacity(16);
            crate::ids::push_hex(&mut id, rand::thread_rng().next_u64());
            id
        })
}

fn method_label(m: &actix_web::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn status_index(code: u16) -> usize {
    match code {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

fn status_class(code: u16) -> &'static str {
    STATUS_CLASSES[status_index(code)]
}

const INGEST_ROUTE: &str = "/webhooks/{hook_id}";

/// The ingest route's series, registered once: building a labelled key for every request
/// (allocating and hashing its labels) cost more than recording the value.
struct IngestSeries {
    requests: [metrics::Counter; 5],
    duration: metrics::Histogram,
}

fn ingest_series() -> &'static IngestSeries {
    static SERIES: std::sync::OnceLock<IngestSeries> = std::sync::OnceLock::new();
    SERIES.get_or_init(|| IngestSeries {
        requests: STATUS_CLASSES.map(|class| {
            metrics::counter!("botcadence_http_requests_total", "route" => INGEST_ROUTE, "method" => "POST", "status" => class)
        }),
        duration: metrics::histogram!("botcadence_http_request_duration_seconds", "route" => INGEST_ROUTE, "method" => "POST"),
    })
}

/// The route pattern for metric labels. Webhook ingest (the hot path) is recognised by
/// prefix: actix's `match_pattern` re-runs the router's regexes, which costs more than the
/// rest of this middleware.
fn route_pattern(req: &ServiceRequest) -> String {
    let path = req.path();
    if path.starts_with("/webhooks/") && path[10..].bytes().all(|b| b != b'/') {
        return INGEST_ROUTE.into();
    }
    req.match_pattern().unwrap_or_else(|| "unmatched".into())
}

pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = method_label(req.method());
    let route = route_pattern(&req);
    let span = tracing::info_span!("request", request_id = %id, method, route = %route);
    // HEAD is GET without the body (RFC 9110 §9.3.2): routed as a GET; the HTTP layer, which
    // remembers the request was HEAD, sends the headers (Content-Length included) only.
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    // The body's time and memory (`body_guard`); what is held is returned with the response.
    let bodies = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .cloned();
    let guarded = match &bodies {
        Some(state) => state.bodies.guard(&mut req),
        None => Ok(None),
    };
    let mut res = match guarded {
        Ok(held) => {
            let res = next.call(req).instrument(span.clone()).await?;
            drop(held);
            envelope_errors(res)
        }
        Err(refused) => {
            let (req, _) = req.into_parts();
            ServiceResponse::new(req, refused.error_response())
        }
    };

    let status = res.status().as_u16();
    let quota = res.request().extensions().get::<Quota>().copied();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static(REQUEST_ID), v);
    }
    if let Some(q) = quota {
        headers.insert(
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(q.limit),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(q.remaining),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(q.reset_unix),
        );
    }
    let elapsed = started.elapsed();
    if route == INGEST_ROUTE && method == "POST" {
        let series = ingest_series();
        series.requests[status_index(status)].increment(1);
        series.duration.record(elapsed.as_secs_f64());
    } else {
        metrics::counter!("botcadence_http_requests_total", "route" => route.clone(), "method" => method, "status" => status_class(status))
            .increment(1);
        metrics::histogram!("botcadence_http_request_duration_seconds", "route" => route.clone(), "method" => method)
            .record(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(
                status,
                elapsed_us = elapsed.as_micros() as u64,
                "request failed"
            );
        } else {
            tracing::debug!(
                status,
                elapsed_us = elapsed.as_micros() as u64,
                "request finished"
            );
        }
    });
    Ok(res)
}

/// Safety net for errors raised outside our handlers (actix's own extractors and routing):
/// any error response that is not already our JSON envelope is replaced by one.
fn envelope_errors<B: MessageBody + 'static>(res: ServiceResponse<B>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    // JSON is the API's envelope already; HTML is a dashboard page explaining the error.
    let is_ours = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return res.map_into_boxed_body();
    }
    let api = match status.as_u16() {
        404 => ApiError::NotFound("No such route".into()),
        // Every 405 comes from our routes with its `Allow`; this one cannot know the methods.
        405 => ApiError::MethodNotAllowed { allow: "" },
        413 => ApiError::PayloadTooLarge("The request body is too large".into()),
        415 => ApiError::UnsupportedMediaType("Unsupported content type".into()),
        429 => ApiError::RateLimited {
            message: "Too many requests".into(),
            retry_after: BUSY_RETRY_AFTER_SECS,
        },
        503 => ApiError::busy(),
        400..=499 => ApiError::invalid("The request could not be understood"),
        _ => ApiError::Internal(format!("unhandled error response with status {status}")),
    };
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, api.error_response())
}
