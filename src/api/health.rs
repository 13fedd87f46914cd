//! `/healthz` (the process answers), `/readyz` (the store still writes and the dispatcher is
//! alive), and
//! `/metrics` (Prometheus text), all without auth.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "getHealth",
    responses((status = 200, description = "The process answers", body = super::openapi::Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "getReadiness",
    responses((status = 200, description = "The store writes and the engine answers", body = super::openapi::Health),
              (status = 503, description = "Not ready, and why", body = super::openapi::ErrorEnvelope,
               headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::Unavailable {
            message: "Shutting down".into(),
            retry_after: 5,
        });
    }
    let store = state.store.probe_write(Duration::from_secs(2)).await;
    let engine_ok = state.engine.ping(Duration::from_secs(2)).await;
    match (store, engine_ok) {
        (Ok(()), true) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        (store, engine_ok) => {
            let store = match store {
                Ok(()) => "writes".to_string(),
                Err(e) => format!("does not write: {e}"),
            };
            Err(ApiError::Unavailable {
                message: format!(
                    "Not ready (store: {store}; engine: {})",
                    if engine_ok { "alive" } else { "not answering" }
                ),
                retry_after: 5,
            })
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "getMetrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // The store's figures and /proc are read off the async threads.
    let stats = state.store.stats().await.unwrap_or_default();
    let process = tokio::task::spawn_blocking(crate::process_metrics::read)
        .await
        .unwrap_or_default();
    crate::metrics::refresh_gauges(&state, stats);
    let mut body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    body.push_str(&crate::process_metrics::render(&process));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
