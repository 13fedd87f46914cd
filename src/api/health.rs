//! `/healthz` (the process answers), `/readyz` (store open and dispatcher alive), and
//! `/metrics` (Prometheus text), all without auth.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(Ordering::Acquire) {
        return Err(ApiError::Unavailable {
            message: "Shutting down".into(),
            retry_after: 5,
        });
    }
    let store_ok = state.store.read(|s| s.ping()).await.is_ok();
    let engine_ok = state.engine.ping(Duration::from_secs(2)).await;
    if store_ok && engine_ok {
        Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
    } else {
        Err(ApiError::Unavailable {
            message: format!("Not ready (store: {store_ok}, engine: {engine_ok})"),
            retry_after: 5,
        })
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // RocksDB properties and /proc are read on the blocking pool, off the async threads.
    let (store_stats, process) = state
        .store
        .read(|s| {
            Ok((
                (s.size_bytes(), s.write_stalled(), s.memory()),
                crate::metrics::process_stats(),
            ))
        })
        .await
        .unwrap_or_default();
    crate::metrics::refresh_gauges(&state, store_stats, process);
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
