//! The HTTP API: routes, shared state, and the middleware every request passes through
//! (request id, metrics, the JSON envelope for errors). One file per resource.
//!
//! Invariants: handlers speak to the store only through its async interface (`store::Store`);
//! every error is an `ApiError`; no handler holds a catalog or rate-limit map guard across an
//! `.await`.

pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod body_guard;
pub mod docs;
pub mod error;
pub mod executions;
pub mod health;
pub mod idempotency;
pub mod ingest;
pub mod middleware;
pub mod openapi;
pub mod openapi_actions;
pub mod openapi_jobs;
pub mod pagination;
pub mod replays;
pub mod request;
pub mod sync_reply;
pub mod versions;
pub mod views;
pub mod webhooks;
pub mod workflows;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use actix_web::web;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::actors::Engine;
use crate::catalog::Catalog;
use crate::config::{Secret, Settings};
use crate::ratelimit::RateLimiter;
use crate::steps::ActionDeps;
use crate::store::SharedStore;

/// Everything handlers share.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: SharedStore,
    pub catalog: Arc<Catalog>,
    pub engine: Engine,
    pub deps: Arc<ActionDeps>,
    pub limiter: Arc<RateLimiter>,
    pub public_url: String,
    pub admin_token: Option<Secret>,
    /// The one shutdown signal, cancelled on SIGTERM: ingest answers 503 while running work
    /// drains, and every background loop, the refill and the actors stop on it.
    pub shutdown: CancellationToken,
    pub metrics: Option<PrometheusHandle>,
    /// Time and memory request bodies may take (`body_guard`).
    pub bodies: body_guard::BodyBudget,
    /// Bulk and shadow replays running in this process (`jobs`).
    pub jobs: std::sync::Arc<crate::jobs::JobRunner>,
    /// Idempotency keys whose first request is running (`idempotency`).
    pub idempotency: idempotency::InFlight,
    /// The dashboard's sessions and sign-in attempts.
    pub dashboard: crate::dashboard::Dashboard,
}

/// Registers every route on an actix `App`.
pub fn routes(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    let api_limit = state.settings.server.max_api_body_bytes;
    let json = web::JsonConfig::default()
        .limit(api_limit)
        .error_handler(move |err, req| error::json_error(err, req, api_limit));
    let query = web::QueryConfig::default().error_handler(error::query_error);
    // Each resource lists the methods it allows, for the `Allow` header of its 405. HEAD is
    // answered wherever GET is (`middleware::observe`).
    let resource = |path: &str, allow: &'static str| {
        web::resource(path).default_service(web::to(move || error::method_not_allowed(allow)))
    };
    const GET: &str = "GET, HEAD";
    const GET_POST: &str = "GET, HEAD, POST";
    const POST: &str = "POST";

    cfg.app_data(state)
        .app_data(json)
        .app_data(query)
        .service(resource("/healthz", GET).route(web::get().to(health::healthz)))
        .service(resource("/readyz", GET).route(web::get().to(health::readyz)))
        .service(resource("/metrics", GET).route(web::get().to(health::metrics)))
        .service(resource("/openapi.json", GET).route(web::get().to(openapi::serve)))
        .service(resource("/docs", GET).route(web::get().to(docs::page)))
        .service(resource("/docs/redoc.standalone.js", GET).route(web::get().to(docs::redoc)))
        // A scope, not a `{hook_id}` resource: the router matches a static prefix instead of
        // running a regex on the hottest path (see `ingest::ingest`).
        .service(web::scope("/webhooks").default_service(web::to(ingest::ingest)))
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(idempotency::guard))
                // Outermost: counts the request against shared plan windows first.
                .wrap(actix_web::middleware::from_fn(auth::shared_quota))
                .service(
                    resource("/workflows", GET_POST)
                        .route(web::get().to(workflows::list))
                        .route(web::post().to(workflows::create)),
                )
                .service(
                    resource("/workflows/{id}", "GET, HEAD, PATCH, DELETE")
                        .route(web::get().to(workflows::get))
                        .route(web::patch().to(workflows::update))
                        .route(web::delete().to(workflows::delete)),
                )
                .service(
                    resource("/workflows/{id}/versions", GET).route(web::get().to(versions::list)),
                )
                .service(
                    resource("/workflows/{id}/versions/{version}", GET)
                        .route(web::get().to(versions::get)),
                )
                .service(
                    resource("/workflows/{id}/replays", POST)
                        .route(web::post().to(replays::create_replay)),
                )
                .service(
                    resource("/replays/{id}", "GET, HEAD, DELETE")
                        .route(web::get().to(replays::get_replay))
                        .route(web::delete().to(replays::cancel_replay)),
                )
                .service(
                    resource("/workflows/{id}/shadow-replays", POST)
                        .route(web::post().to(replays::create_shadow)),
                )
                .service(
                    resource("/shadow-replays/{id}", "GET, HEAD, DELETE")
                        .route(web::get().to(replays::get_shadow))
                        .route(web::delete().to(replays::cancel_shadow)),
                )
                .service(
                    resource("/shadow-replays/{id}/results", GET)
                        .route(web::get().to(replays::shadow_results)),
                )
                .service(
                    resource("/workflows/{id}/executions", GET)
                        .route(web::get().to(executions::list)),
                )
                .service(resource("/executions/{id}", GET).route(web::get().to(executions::get)))
                .service(
                    resource("/executions/{id}/replay", POST)
                        .route(web::post().to(executions::replay)),
                )
                .service(
                    resource("/webhooks", GET_POST)
                        .route(web::get().to(webhooks::list))
                        .route(web::post().to(webhooks::create)),
                )
                .service(
                    resource("/webhooks/{id}", "GET, HEAD, DELETE")
                        .route(web::get().to(webhooks::get))
                        .route(web::delete().to(webhooks::delete)),
                )
                .service(
                    resource("/api-keys", GET_POST)
                        .route(web::get().to(api_keys::list))
                        .route(web::post().to(api_keys::create)),
                )
                .service(
                    resource("/api-keys/{id}", "DELETE").route(web::delete().to(api_keys::delete)),
                )
                .service(
                    resource("/signing-secret", GET).route(web::get().to(api_keys::signing_secret)),
                )
                .service(
                    resource("/signing-secret/rotate", POST)
                        .route(web::post().to(api_keys::rotate_signing_secret)),
                )
                .default_service(web::to(error::not_found_route)),
        )
        .service(
            web::scope("/admin/v1")
                .service(
                    resource("/accounts", GET_POST)
                        .route(web::get().to(admin::list_accounts))
                        .route(web::post().to(admin::create_account)),
                )
                .service(
                    resource("/accounts/{id}", "GET, HEAD, PATCH")
                        .route(web::get().to(admin::get_account))
                        .route(web::patch().to(admin::update_account)),
                )
                .service(
                    resource("/accounts/{id}/api-keys", POST)
                        .route(web::post().to(admin::create_key)),
                )
                .service(
                    resource("/api-keys/{id}", "DELETE").route(web::delete().to(admin::revoke_key)),
                )
                .default_service(web::to(error::not_found_route)),
        )
        .configure(|c| crate::dashboard::routes(c, api_limit))
        .default_service(web::to(error::not_found_route));
}
