//! Signing in and out. The form posts the key once; the answer sets the session cookie and
//! sends the browser on (303), so the key is in no page and no browser history.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::guard::{self, DashError, SignedIn, operator_token_hash, session_cookie};
use super::render;
use super::session::Principal;
use crate::api::AppState;
use crate::credentials::{hash_api_key, looks_like_api_key};
use crate::timefmt::now_ms;

/// `/dashboard`: the overview when signed in (the accounts list for the operator), else the
/// sign-in form.
pub async fn home(signed: Result<SignedIn, DashError>) -> HttpResponse {
    match signed {
        Ok(s) if s.is_operator() => super::see_other("/dashboard/operator"),
        Ok(_) => super::see_other("/dashboard/overview"),
        Err(_) => super::see_other("/dashboard/login"),
    }
}

fn login_page(status: StatusCode, error: Option<&str>) -> HttpResponse {
    render::html(
        status,
        render::page_html(
            None,
            "",
            "Sign in",
            "login.html",
            &minijinja::context! { error => error },
        ),
    )
}

pub async fn form() -> HttpResponse {
    login_page(StatusCode::OK, None)
}

/// Who a presented secret is: an account through one of its API keys, or the operator.
fn principal_of(state: &AppState, secret: &str, now: i64) -> Option<Principal> {
    if looks_like_api_key(secret) {
        let key = state.catalog.api_key_by_hash(&hash_api_key(secret))?;
        state.catalog.account(&key.account_id)?;
        state.catalog.touch_api_key(&key.id, now);
        return Some(Principal::Account {
            account_id: key.account_id.clone(),
            key_id: key.id.clone(),
        });
    }
    let expected = state.admin_token.as_ref()?;
    crate::api::auth::is_admin_token(expected, secret).then(|| Principal::Operator {
        token_hash: operator_token_hash(&expected.0),
    })
}

pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    if !guard::same_origin(&req) {
        return Err(DashError::Forbidden(
            "Sign in from the dashboard's own page.".into(),
        ));
    }
    let now = now_ms();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if let Err(wait) = state.dashboard.sign_ins.attempt(&address, now) {
        metrics::counter!("botcadence_dashboard_sign_ins_total", "result" => "rate_limited")
            .increment(1);
        return Err(DashError::RateLimited(wait));
    }
    let secret = form.get("key").map(|k| k.trim()).unwrap_or_default();
    let Some(principal) = principal_of(&state, secret, now) else {
        metrics::counter!("botcadence_dashboard_sign_ins_total", "result" => "refused")
            .increment(1);
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            Some("That is not a valid API key or operator token."),
        ));
    };
    let to = match principal {
        Principal::Operator { .. } => "/dashboard/operator",
        Principal::Account { .. } => "/dashboard/overview",
    };
    let id = state.dashboard.sessions.open(principal, now);
    metrics::counter!("botcadence_dashboard_sign_ins_total", "result" => "ok").increment(1);
    let mut res = super::see_other(to);
    res.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&session_cookie(&req, Some(&id)))
            .expect("a session id is hex"),
    );
    Ok(res)
}

pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    state.dashboard.sessions.close(signed.cookie());
    let mut res = super::see_other("/dashboard/login");
    res.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&session_cookie(&req, None)).expect("static cookie"),
    );
    Ok(res)
}
