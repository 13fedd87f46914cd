//! The dashboard: server-rendered pages under `/dashboard`, served by the daemon itself with
//! every asset compiled in (no CDN, no build step beyond cargo, no script in the page that
//! the page did not get from us).
//!
//! * `session`: signing in exchanges an API key (or the operator token) for a server-side
//!   session; the cookie carries only a random id.
//! * `guard`: who is signed in, same-origin and per-session-token checks on every state change,
//!   the security headers of every answer (a strict Content-Security-Policy without inline
//!   script).
//! * `render`: the pages' templates (minijinja, HTML auto-escaping: payloads, outputs and
//!   names from outsiders are always text).
//! * One module per area: `signin`, `overview`, `workflows` (and their executions),
//!   `webhooks`, `settings` (API keys, signing secret), `operator`.
//!
//! Every change goes through the same functions as the HTTP API (`crate::api`), so the
//! dashboard validates exactly as the API does and shows the API's own error messages.
//! Nothing changes state on a GET.

mod charts;
mod guard;
mod operator;
mod overview;
mod render;
pub mod session;
mod settings;
mod signin;
mod webhooks;
mod workflows;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::Value;

pub use guard::{DashError, SignedIn};

/// What the dashboard keeps: sessions, sign-in attempts and each account's overview chart
/// (the templates are compiled in).
#[derive(Default)]
pub struct Dashboard {
    pub sessions: session::Sessions,
    pub sign_ins: session::SignInLimiter,
    pub charts: overview::ChartCache,
}

/// Registers the `/dashboard` scope; forms may be as large as an API body.
pub fn routes(cfg: &mut web::ServiceConfig, form_limit: usize) {
    let form = web::FormConfig::default()
        .limit(form_limit)
        .error_handler(|err, _| DashError::BadForm(err.to_string()).into());
    cfg.service(
        web::scope("/dashboard")
            .wrap(actix_web::middleware::from_fn(guard::security_headers))
            .app_data(form)
            .route("", web::get().to(signin::home))
            .route("/", web::get().to(signin::home))
            .route("/static/app.css", web::get().to(render::stylesheet))
            .route("/static/app.js", web::get().to(render::script))
            .route("/login", web::get().to(signin::form))
            .route("/login", web::post().to(signin::sign_in))
            .route("/logout", web::post().to(signin::sign_out))
            .route("/overview", web::get().to(overview::page))
            .route("/workflows", web::get().to(workflows::list))
            .route("/workflows", web::post().to(workflows::create))
            .route("/workflows/new", web::get().to(workflows::new_form))
            .route("/workflows/{id}", web::get().to(workflows::show))
            .route("/workflows/{id}", web::post().to(workflows::update))
            .route(
                "/workflows/{id}/status",
                web::post().to(workflows::set_status),
            )
            .route(
                "/workflows/{id}/delete",
                web::get().to(workflows::confirm_delete),
            )
            .route("/workflows/{id}/delete", web::post().to(workflows::delete))
            .route(
                "/workflows/{id}/executions",
                web::get().to(workflows::executions),
            )
            .route("/executions/{id}", web::get().to(workflows::execution))
            .route("/executions/{id}/replay", web::post().to(workflows::replay))
            .route("/webhooks", web::get().to(webhooks::list))
            .route("/webhooks", web::post().to(webhooks::create))
            .route(
                "/webhooks/{id}/delete",
                web::get().to(webhooks::confirm_delete),
            )
            .route("/webhooks/{id}/delete", web::post().to(webhooks::delete))
            .route("/settings", web::get().to(settings::page))
            .route("/settings/keys", web::post().to(settings::create_key))
            .route(
                "/settings/keys/{id}/revoke",
                web::post().to(settings::revoke_key),
            )
            .route(
                "/settings/signing-secret",
                web::get().to(settings::signing_secret),
            )
            .route(
                "/settings/signing-secret/rotate",
                web::post().to(settings::rotate_signing_secret),
            )
            .route("/operator", web::get().to(operator::accounts))
            .route("/operator/accounts/{id}", web::get().to(operator::account))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(DashError::NotFound)
            })),
    );
}

/// The JSON body of an answer from one of the API's own handlers.
async fn json_of(res: HttpResponse) -> Value {
    let bytes = actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// 303 to another dashboard page (after a form: the browser then GETs it).
fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/dashboard")),
        ))
        .finish()
}
