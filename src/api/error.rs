//! `ApiError`: every error the HTTP API returns, rendered as the reference's envelope
//! `{"error": {"code", "message", "details"?}}`. Internal errors are logged with their cause
//! and returned opaque. Extractor failures (bad JSON, wrong content type, oversized bodies,
//! bad query strings) are turned into the same envelope here.

use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::actors::admission::Refusal;
use crate::actors::intake::IntakeError;
use crate::steps::spec::FieldError;
use crate::store::StoreError;

/// Seconds a client should wait when the daemon is busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, Clone)]
pub enum ApiError {
    /// 400 `invalid_request`.
    InvalidRequest {
        message: String,
        details: Option<Value>,
    },
    /// 401 `unauthorized`.
    Unauthorized(String),
    /// 401 `signature_invalid`.
    SignatureInvalid(String),
    /// 404 `not_found`.
    NotFound(String),
    /// 405 `method_not_allowed`, with the methods the path does allow (the `Allow` header,
    /// RFC 9110 §15.5.6).
    MethodNotAllowed { allow: &'static str },
    /// 409 with a specific code (`workflow_inactive`, `conflict`).
    Conflict { code: &'static str, message: String },
    /// 408 `request_timeout`: the body did not arrive within `[server] body_read_timeout_secs`;
    /// the connection is closed.
    RequestTimeout(String),
    /// 413 `payload_too_large`.
    PayloadTooLarge(String),
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType(String),
    /// 429 `rate_limited`, with `Retry-After`.
    RateLimited { message: String, retry_after: u64 },
    /// 503 `unavailable`, with `Retry-After`.
    Unavailable { message: String, retry_after: u64 },
    /// 500 `internal_error`; the cause is logged, not returned.
    Internal(String),
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::InvalidRequest {
            message: message.into(),
            details: None,
        }
    }

    pub fn field(field: &str, issue: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidRequest {
            message: message.into(),
            details: Some(json!({"field": field, "issue": issue})),
        }
    }

    /// The same error about a field nested under `parent` (`actions[0].type` within
    /// `definition` is `definition.actions[0].type`).
    pub fn within(self, parent: &str) -> ApiError {
        match self {
            ApiError::InvalidRequest {
                message,
                details: Some(mut details),
            } => {
                if let Some(field) = details.get("field").and_then(Value::as_str) {
                    details["field"] = json!(format!("{parent}.{field}"));
                }
                ApiError::InvalidRequest {
                    message,
                    details: Some(details),
                }
            }
            other => other,
        }
    }

    pub fn required(field: &str) -> ApiError {
        ApiError::field(
            field,
            "required",
            format!("The '{field}' field is required"),
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn busy() -> ApiError {
        ApiError::Unavailable {
            message: "The daemon is at capacity; retry shortly".into(),
            retry_after: BUSY_RETRY_AFTER_SECS,
        }
    }

    /// The answer to a refused admission: 429 for an account at its own bound (only that
    /// account waits), 503 when the daemon as a whole is full or stopping.
    pub fn refused(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::Account { limit } => ApiError::RateLimited {
                message: format!(
                    "This account already has {limit} executions waiting to run; retry shortly"
                ),
                retry_after: BUSY_RETRY_AFTER_SECS,
            },
            Refusal::Daemon => ApiError::busy(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest { .. } => "invalid_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::SignatureInvalid(_) => "signature_invalid",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict { code, .. } => code,
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::InvalidRequest { message, .. }
            | ApiError::Unauthorized(message)
            | ApiError::SignatureInvalid(message)
            | ApiError::NotFound(message)
            | ApiError::Conflict { message, .. }
            | ApiError::RequestTimeout(message)
            | ApiError::PayloadTooLarge(message)
            | ApiError::UnsupportedMediaType(message)
            | ApiError::RateLimited { message, .. }
            | ApiError::Unavailable { message, .. } => message.clone(),
            ApiError::MethodNotAllowed { .. } => "This method is not allowed on this path".into(),
            ApiError::Internal(_) => "An internal error occurred".into(),
        }
    }

    /// The `details` of a field error (`{"field", "issue"}`).
    pub fn details(&self) -> Option<&Value> {
        match self {
            ApiError::InvalidRequest { details, .. } => details.as_ref(),
            _ => None,
        }
    }

    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.message()});
        if let ApiError::InvalidRequest {
            details: Some(d), ..
        } = self
        {
            error["details"] = d.clone();
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::SignatureInvalid(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. } => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after)));
            }
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow } if !allow.is_empty() => {
                res.insert_header((header::ALLOW, *allow));
            }
            ApiError::RequestTimeout(_) => {
                // The rest of a body that stalled cannot be told from a next request.
                res.force_close();
            }
            _ => {}
        }
        res.json(self.body())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Busy => ApiError::busy(),
            StoreError::Closed => ApiError::Unavailable {
                message: "The daemon is shutting down".into(),
                retry_after: 5,
            },
            StoreError::Unavailable(_) => ApiError::Unavailable {
                message: "The store is unreachable; nothing was stored; retry shortly".into(),
                retry_after: BUSY_RETRY_AFTER_SECS,
            },
            StoreError::DiskFull { .. } => ApiError::Unavailable {
                message: "The daemon's disk is full: nothing was stored; retry later".into(),
                retry_after: 30,
            },
            StoreError::Conflict(what) => ApiError::Conflict {
                code: "conflict",
                message: format!("{what}: nothing was changed; read it again and retry"),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> ApiError {
        match e {
            IntakeError::Refused(refusal) => ApiError::refused(refusal),
            IntakeError::Store(e) => e.into(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::field(&e.field, e.issue, e.message)
    }
}

/// Maps a body-reading failure to the envelope.
pub fn payload_error(e: &PayloadError, limit: usize) -> ApiError {
    match e {
        PayloadError::Overflow => too_large(limit),
        e if super::body_guard::is_budget_error(e) => super::body_guard::budget_error(),
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            ApiError::RequestTimeout(format!("The request body did not arrive in time: {io}"))
        }
        other => ApiError::invalid(format!("Could not read the request body: {other}")),
    }
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("The request body is larger than {limit} bytes"))
}

/// `JsonConfig` error handler: malformed JSON, wrong content type, oversized body.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest, limit: usize) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            too_large(limit)
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".into())
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::invalid(format!("The request body is not valid JSON: {e}"))
        }
        JsonPayloadError::Payload(p) => payload_error(p, limit),
        other => ApiError::invalid(format!("The request body could not be read: {other}")),
    };
    api.into()
}

/// `QueryConfig` error handler.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::invalid(format!("Invalid query string: {err}")).into()
}

/// Fallback for unknown paths.
pub async fn not_found_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("No such route".into()))
}

/// Fallback for known paths with an unsupported method.
pub async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}
