//! Authentication extractors: `Authed` (an account's API key, `/v1`) and `Admin` (the operator
//! token, `/admin/v1`). `Authed` also counts the request against the account's plan limits and
//! leaves the quota in the request's extensions for the `X-RateLimit-*` headers.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::credentials::{hash_api_key, looks_like_api_key};
use crate::model::{Account, Limits};
use crate::ratelimit::{Quota, effective_limits};
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

/// The account behind the request's API key, and its limits.
fn identify(req: &HttpRequest) -> Result<(Arc<Account>, Limits), ApiError> {
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
    state.catalog.touch_api_key(&key.id, now_ms());
    let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
    Ok((account, limits))
}

/// Lets the request through if its quota allows; leaves the quota for the headers.
fn admit(req: &HttpRequest, account: Arc<Account>, quota: Quota) -> Result<Authed, ApiError> {
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

fn authenticate(req: &HttpRequest) -> Result<Authed, ApiError> {
    let (account, limits) = identify(req)?;
    let quota = state(req).limiter.check_api(&account.id, &limits, now_ms());
    admit(req, account, quota)
}

/// What authenticating this request came to, once decided.
#[derive(Clone)]
struct Outcome(Result<Authed, ApiError>);

/// Authenticates a request (and counts it against the plan) once: a later call, such as the
/// handler's `Authed` after the idempotency middleware's, gets the same answer without
/// counting again.
pub fn authenticate_once(req: &HttpRequest) -> Result<Authed, ApiError> {
    if let Some(Outcome(decided)) = req.extensions().get::<Outcome>() {
        return decided.clone();
    }
    let decided = authenticate(req);
    req.extensions_mut().insert(Outcome(decided.clone()));
    decided
}

/// On a shared database, counts every `/v1` request against the plan windows the daemons
/// share, before anything else looks at it (an await: the window may have to be asked of the
/// database). On one daemon the counters are local and this does nothing.
pub async fn shared_quota(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // One daemon: nothing to do, not even a clone.
    if !state(req.request()).limiter.is_shared() || bearer(req.request()).is_none() {
        return next.call(req).await;
    }
    let limiter = state(req.request()).limiter.clone();
    let decided = match identify(req.request()) {
        Ok((account, limits)) => {
            let quota = limiter
                .check_api_everywhere(&account.id, &limits, now_ms())
                .await;
            admit(req.request(), account, quota)
        }
        Err(e) => Err(e),
    };
    req.extensions_mut().insert(Outcome(decided));
    next.call(req).await
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
