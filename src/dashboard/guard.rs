//! Who is signed in, whether a state change really comes from our own page, and the headers
//! every dashboard answer carries.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};

use super::render;
use super::session::{Principal, Session};
use crate::api::AppState;
use crate::api::auth::Authed;
use crate::api::error::ApiError;
use crate::ratelimit::effective_limits;
use crate::timefmt::now_ms;

pub const COOKIE: &str = "bc_session";

/// Scripts, styles and images only from this daemon, no inline script, never in a frame,
/// forms only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Why a dashboard request did not get its page.
#[derive(Debug)]
pub enum DashError {
    /// Not signed in, or the session ended: to the sign-in page.
    SignIn,
    /// Signed in, but this is not for this session (an operator page for an account, a form
    /// from another origin or with a wrong token).
    Forbidden(String),
    NotFound,
    RateLimited(u64),
    BadForm(String),
    /// What the API's own functions answered.
    Api(ApiError),
}

impl std::fmt::Display for DashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl From<ApiError> for DashError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(_) => DashError::NotFound,
            other => DashError::Api(other),
        }
    }
}

impl ResponseError for DashError {
    fn status_code(&self) -> StatusCode {
        match self {
            DashError::SignIn => StatusCode::SEE_OTHER,
            DashError::Forbidden(_) => StatusCode::FORBIDDEN,
            DashError::NotFound => StatusCode::NOT_FOUND,
            DashError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            DashError::BadForm(_) => StatusCode::BAD_REQUEST,
            DashError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let DashError::SignIn = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/dashboard/login"))
                .finish();
        }
        let message = match self {
            DashError::SignIn => unreachable!("answered above"),
            DashError::Forbidden(m) | DashError::BadForm(m) => m.clone(),
            DashError::NotFound => {
                "There is nothing here, or it belongs to another account.".into()
            }
            DashError::RateLimited(secs) => {
                format!("Too many requests; try again in {secs} s.")
            }
            DashError::Api(e) => e.message(),
        };
        let mut res = HttpResponse::build(self.status_code());
        if let DashError::RateLimited(secs) = self {
            res.insert_header((header::RETRY_AFTER, *secs));
        }
        res.content_type("text/html; charset=utf-8")
            .body(render::error_page(self.status_code().as_u16(), &message))
    }
}

/// The session cookie's value, if the request has one.
fn cookie_value(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Whether a `Secure` cookie reaches the server again: over https, and on the loopback
/// (`http://127.0.0.1`, `localhost`, `[::1]`), which browsers treat as a secure context.
fn secure_context(req: &HttpRequest) -> bool {
    let info = req.connection_info();
    if info.scheme() == "https" {
        return true;
    }
    let host = info.host();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "[::1]")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Set-Cookie` that opens (`Some(id)`) or clears (`None`) a session. `Secure` wherever
/// the browser will still send it back (see [`secure_context`]): over https, and on the
/// loopback even over http.
pub fn session_cookie(req: &HttpRequest, id: Option<&str>) -> String {
    let secure = if secure_context(req) { "; Secure" } else { "" };
    match id {
        Some(id) => format!(
            "{COOKIE}={id}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            super::session::MAX_AGE_MS / 1000
        ),
        None => format!("{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

pub fn operator_token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether a state-changing request comes from a page of this daemon: its `Origin` is ours, or,
/// without one, the browser says the request is same-origin. A request with neither is
/// refused (every browser we serve sends at least one).
pub fn same_origin(req: &HttpRequest) -> bool {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let info = req.connection_info();
        let ours = format!("{}://{}", info.scheme(), info.host());
        return origin.to_str().is_ok_and(|o| o == ours);
    }
    req.headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "same-origin")
}

/// A signed-in session, checked: still open, its key not revoked (or the operator token
/// unchanged), and the account within its plan's request limits (every page counts as one
/// API request, so the dashboard is no way around them).
pub struct SignedIn {
    pub session: Session,
    cookie: String,
    authed: Option<Authed>,
}

impl SignedIn {
    /// The account this session acts for; an operator session has none.
    pub fn account(&self) -> Result<&Authed, DashError> {
        self.authed.as_ref().ok_or_else(|| {
            DashError::Forbidden(
                "This page belongs to an account; the operator view is under /dashboard/operator."
                    .into(),
            )
        })
    }

    pub fn is_operator(&self) -> bool {
        matches!(self.session.principal, Principal::Operator { .. })
    }

    pub fn require_operator(&self) -> Result<(), DashError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(DashError::Forbidden(
                "The operator view needs the operator token.".into(),
            ))
        }
    }

    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// A form's state change is allowed: same origin and this session's form token.
    pub fn check_form(
        &self,
        req: &HttpRequest,
        form: &HashMap<String, String>,
    ) -> Result<(), DashError> {
        if !same_origin(req) {
            return Err(DashError::Forbidden(
                "Cross-origin requests cannot change anything here.".into(),
            ));
        }
        let token = form.get("csrf").map(String::as_str).unwrap_or_default();
        if !self.session.csrf_matches(token) {
            return Err(DashError::Forbidden(
                "The form has expired; reload the page and try again.".into(),
            ));
        }
        Ok(())
    }
}

fn signed_in(req: &HttpRequest) -> Result<SignedIn, DashError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered on the App before any route");
    let cookie = cookie_value(req).ok_or(DashError::SignIn)?;
    let now = now_ms();
    let sessions = &state.dashboard.sessions;
    let session = sessions.get(&cookie, now).ok_or(DashError::SignIn)?;
    let authed = match &session.principal {
        Principal::Account { account_id, key_id } => {
            let key_alive = state
                .catalog
                .api_key(key_id)
                .is_some_and(|k| k.account_id == *account_id);
            let account = state.catalog.account(account_id).filter(|_| key_alive);
            let Some(account) = account else {
                sessions.close(&cookie);
                return Err(DashError::SignIn);
            };
            let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
            let quota = state.limiter.check_api(&account.id, &limits, now);
            if !quota.allowed {
                return Err(DashError::RateLimited(quota.retry_after_secs));
            }
            Some(Authed { account })
        }
        Principal::Operator { token_hash } => {
            let current = state
                .admin_token
                .as_ref()
                .map(|t| operator_token_hash(&t.0));
            if current.as_ref() != Some(token_hash) {
                sessions.close(&cookie);
                return Err(DashError::SignIn);
            }
            None
        }
    };
    Ok(SignedIn {
        session,
        cookie,
        authed,
    })
}

impl FromRequest for SignedIn {
    type Error = DashError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req))
    }
}

/// The headers of every dashboard answer: the Content-Security-Policy, no framing, no
/// sniffing, no caching of pages (they hold account data).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_asset = req.path().starts_with("/dashboard/static/");
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "cache-control",
            if is_asset {
                "public, max-age=3600"
            } else {
                "no-store"
            },
        ),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; bc_session=abc; b=2"))
            .to_http_request();
        assert_eq!(cookie_value(&req).as_deref(), Some("abc"));
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "xbc_session=abc"))
            .to_http_request();
        assert_eq!(cookie_value(&req), None);
    }

    #[test]
    fn only_our_origin_may_change_state() {
        let ours = TestRequest::post()
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::ORIGIN, "http://127.0.0.1:8080"))
            .to_http_request();
        assert!(same_origin(&ours));
        let theirs = TestRequest::post()
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::ORIGIN, "http://evil.example"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert!(!same_origin(&theirs), "a wrong Origin decides");
        let fetch_only = TestRequest::post()
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert!(same_origin(&fetch_only));
        let cross = TestRequest::post()
            .insert_header(("sec-fetch-site", "cross-site"))
            .to_http_request();
        assert!(!same_origin(&cross));
        assert!(!same_origin(&TestRequest::post().to_http_request()));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_where_it_comes_back() {
        let plain = TestRequest::default()
            .insert_header((header::HOST, "botcadence.example:8080"))
            .to_http_request();
        let c = session_cookie(&plain, Some("id"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        assert!(
            !c.contains("Secure"),
            "plain http elsewhere cannot carry a Secure cookie"
        );
        let https = TestRequest::default()
            .uri("https://example.com/dashboard")
            .to_http_request();
        assert!(session_cookie(&https, Some("id")).ends_with("; Secure"));
        let lookalike = TestRequest::default()
            .insert_header((header::HOST, "127.example.com"))
            .to_http_request();
        assert!(!session_cookie(&lookalike, Some("id")).contains("Secure"));
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "localhost",
        ] {
            let loopback = TestRequest::default()
                .insert_header((header::HOST, host))
                .to_http_request();
            assert!(
                session_cookie(&loopback, Some("id")).ends_with("; Secure"),
                "{host}"
            );
        }
    }
}
