//! Authentication extractors: `Authed` (an account's API key, `/v1`) and `Admin` (the operator
//! token, `/admin/v1`). `Authed` also counts the request against the account's plan limits and
//! leaves the quota in the request's extensions for the `X-RateLimit-*` headers.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::credentials::{hash_api_key, looks_like_api_key};
use crate::model::Account;
use crate::ratelimit::effective_limits;
use crate::timefmt::now_ms;

/// The account behind a valid API key.
#[derive(Clone)]
pub struct Authed {
    pub account: Arc<Account>,
}

fn state(req: &HttpRequest) -> &web::Data<AppState> {
    req.app_data::<web::Data<AppState>>()
        .expect("AppState is registered on the App before any route")
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn authenticate(req: &HttpRequest) -> Result<Authed, ApiError> {
    let state = state(req);
    let Some(token) = bearer(req) else {
        return Err(ApiError::Unauthorized(
            "Missing or malformed Authorization header; expected 'Bearer YOUR_API_KEY'".into(),
        ));
    };
    if !looks_like_api_key(token) {
        return Err(ApiError::Unauthorized("Invalid API key".into()));
    }
    let key = state
        .catalog
        .api_key_by_hash(&hash_api_key(token))
        .ok_or_else(|| ApiError::Unauthorized("Invalid API key".into()))?;
    let account = state
        .catalog
        .account(&key.account_id)
        .ok_or_else(|| ApiError::Unauthorized("Invalid API key".into()))?;

    let now = now_ms();
    state.catalog.touch_api_key(&key.id, now);
    let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
    let quota = state.limiter.check_api(&account.id, &limits, now);
    req.extensions_mut().insert(quota);
    if !quota.allowed {
        let kind = quota.refused_by.map_or("minute", |k| k.as_str());
        metrics::counter!("botcadence_ratelimit_rejections_total", "plan" => account.plan.as_str(), "kind" => kind)
            .increment(1);
        return Err(ApiError::RateLimited {
            message: format!(
                "Rate limit exceeded ({kind} limit of the {} plan)",
                account.plan.as_str()
            ),
            retry_after: quota.retry_after_secs,
        });
    }
    Ok(Authed { account })
}

/// Authenticates a request (and counts it against the plan) once: a later call, such as the
/// handler's `Authed` after the idempotency middleware's, gets the same answer without
/// counting again.
pub fn authenticate_once(req: &HttpRequest) -> Result<Authed, ApiError> {
    if let Some(authed) = req.extensions().get::<Authed>() {
        return Ok(authed.clone());
    }
    let authed = authenticate(req)?;
    req.extensions_mut().insert(authed.clone());
    Ok(authed)
}

impl FromRequest for Authed {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate_once(req))
    }
}

/// Whether `given` is the operator token. Digests are compared, so the time taken says
/// nothing about either length.
pub fn is_admin_token(expected: &crate::config::Secret, given: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.0.as_bytes());
    !given.is_empty() && bool::from(a.ct_eq(&b))
}

/// The operator, authenticated by the admin token.
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let Some(expected) = &state.admin_token else {
            // Disabled: the operator API does not exist.
            return ready(Err(ApiError::NotFound(
                "The operator API is disabled (no admin token configured)".into(),
            )));
        };
        if is_admin_token(expected, bearer(req).unwrap_or_default()) {
            ready(Ok(Admin))
        } else {
            ready(Err(ApiError::Unauthorized("Invalid admin token".into())))
        }
    }
}
