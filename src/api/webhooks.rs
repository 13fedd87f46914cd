//! `/v1/webhooks`: create (the URL is the credential; the secret is shown once), list, get,
//! delete.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::request::{CreateHook, typed};
use super::views;
use super::workflows::owned_workflow;
use crate::model::{Hook, HookResponse, HookVerify};
use crate::timefmt::now_ms;

fn owned_hook(state: &AppState, auth: &Authed, id: &str) -> Result<std::sync::Arc<Hook>, ApiError> {
    state
        .catalog
        .hook(id)
        .filter(|h| h.account_id == auth.account.id)
        .ok_or_else(|| ApiError::not_found("Webhook"))
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", operation_id = "createWebhook",
    request_body = super::openapi::CreateWebhook,
    responses((status = 201, description = "Created; `secret` is shown only here", body = super::openapi::Webhook)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authed,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateHook = typed(body.into_inner())?;
    let workflow_id = body
        .workflow_id
        .ok_or_else(|| ApiError::required("workflow_id"))?;
    let event = match body.event {
        None => return Err(ApiError::required("event")),
        Some(s) if !s.is_empty() && s.chars().count() <= 200 => s,
        Some(_) => {
            return Err(ApiError::field(
                "event",
                "invalid",
                "The 'event' field must be a non-empty string of at most 200 characters",
            ));
        }
    };
    let verify = body.verify.unwrap_or(HookVerify::None);
    let workflow = owned_workflow(&state, &auth, &workflow_id)?;
    let response = body
        .response
        .map(|r| checked_response(r, workflow.actions.len()))
        .transpose()?;
    let hook = Hook {
        id: crate::ids::hook_id(),
        account_id: auth.account.id.clone(),
        workflow_id: workflow.id.clone(),
        event,
        secret: crate::credentials::generate_signing_secret(),
        verify,
        created_at: now_ms(),
        response,
    };
    let _guard = state.catalog.write_lock().await;
    if state.catalog.workflow(&workflow.id).is_none() {
        return Err(ApiError::not_found("Workflow"));
    }
    state.store.put_hook(&hook).await?;
    let mut body = views::hook(&hook, &state.public_url);
    body["secret"] = Value::String(hook.secret.expose().to_string());
    state.catalog.put_hook(hook);
    Ok(HttpResponse::Created().json(body))
}

/// Longest a synchronous hook may hold its caller.
pub const MAX_SYNC_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_SYNC_TIMEOUT_MS: u64 = 10_000;

/// A hook's `response`, within bounds; `step` must name one of the workflow's steps.
fn checked_response(
    r: super::request::HookResponseRequest,
    steps: usize,
) -> Result<HookResponse, ApiError> {
    let timeout_ms = r.timeout_ms.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS);
    if !(1..=MAX_SYNC_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(ApiError::field(
            "response.timeout_ms",
            "invalid",
            format!("The 'response.timeout_ms' field must be from 1 to {MAX_SYNC_TIMEOUT_MS}"),
        ));
    }
    if r.step.is_some_and(|s| s >= steps) {
        return Err(ApiError::field(
            "response.step",
            "invalid",
            format!(
                "The 'response.step' field must name one of the workflow's {steps} steps (0-based)"
            ),
        ));
    }
    Ok(HookResponse {
        mode: r.mode,
        timeout_ms,
        step: r.step,
    })
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", operation_id = "listWebhooks",
    params(("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "1-based page"), ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
           ("workflow_id" = Option<String>, Query, description = "Only the webhooks of this workflow")),
    responses((status = 200, description = "The account's webhooks", body = super::openapi::WebhookList)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::from_query(&query)?;
    let mut hooks = state.catalog.hooks_of(&auth.account.id);
    if let Some(wf) = query.get("workflow_id") {
        hooks.retain(|h| &h.workflow_id == wf);
    }
    let data: Vec<Value> = hooks
        .iter()
        .skip(page.offset())
        .take(page.per_page)
        .map(|h| views::hook(h, &state.public_url))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        "total": hooks.len(),
        "page": page.page,
        "per_page": page.per_page,
    })))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "getWebhook",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook (without its secret)", body = super::openapi::Webhook)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let hook = owned_hook(&state, &auth, &path)?;
    Ok(HttpResponse::Ok().json(views::hook(&hook, &state.public_url)))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "deleteWebhook",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    delete_hook(&state, &auth, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a webhook of the caller's.
pub async fn delete_hook(state: &AppState, auth: &Authed, id: &str) -> Result<(), ApiError> {
    let _guard = state.catalog.write_lock().await;
    let hook = owned_hook(state, auth, id)?;
    state.store.delete_hook(&hook.id).await?;
    state.catalog.remove_hook(&hook.id);
    Ok(())
}
