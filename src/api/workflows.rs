//! `/v1/workflows`: list, create, get, update (PATCH), delete — as the reference shows them.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::request::{CreateWorkflow, UpdateWorkflow, is_visible_name, typed};
use super::views;
use crate::model::{Action, Workflow, WorkflowStatus};
use crate::steps::spec::{check_http_timeouts, validate_actions, validate_trigger};
use crate::timefmt::now_ms;

const MAX_NAME_LEN: usize = 200;

/// A workflow's name: present, not blank, at most `MAX_NAME_LEN` characters.
fn checked_name(name: Option<String>) -> Result<String, ApiError> {
    match name {
        None => Err(ApiError::required("name")),
        Some(s) if !is_visible_name(&s) => Err(ApiError::required("name")),
        Some(s) if s.chars().count() <= MAX_NAME_LEN => Ok(s),
        Some(_) => Err(ApiError::field(
            "name",
            "invalid",
            format!("The 'name' field must be a string of at most {MAX_NAME_LEN} characters"),
        )),
    }
}

/// The caller's workflow, or 404 (also for another account's workflow).
pub fn owned_workflow(
    state: &AppState,
    auth: &Authed,
    id: &str,
) -> Result<std::sync::Arc<Workflow>, ApiError> {
    state
        .catalog
        .workflow(id)
        .filter(|w| w.account_id == auth.account.id)
        .ok_or_else(|| ApiError::not_found("Workflow"))
}

/// The actions of a create or update: valid in themselves, and within this daemon's limits
/// (a `timeout_ms` above `[http_actions] max_timeout_ms` is refused, not silently capped).
pub fn checked_actions(state: &AppState, actions: &Value) -> Result<Vec<Action>, ApiError> {
    let parsed = validate_actions(actions, &state.deps.renderer)?;
    check_http_timeouts(&parsed, state.settings.http_actions.max_timeout_ms)?;
    Ok(parsed)
}

#[utoipa::path(get, path = "/v1/workflows", tag = "workflows", operation_id = "listWorkflows",
    params(("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "1-based page"), ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
           ("status" = Option<super::openapi::WorkflowStatus>, Query, description = "Only workflows in this status")),
    responses((status = 200, description = "The account's workflows", body = super::openapi::WorkflowList)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::from_query(&query)?;
    let mut all = state.catalog.workflows_of(&auth.account.id);
    if let Some(status) = query.get("status") {
        let status = WorkflowStatus::parse(status).ok_or_else(|| {
            ApiError::field(
                "status",
                "invalid",
                "The 'status' parameter must be one of \"draft\", \"active\", \"paused\"",
            )
        })?;
        all.retain(|w| w.status == status);
    }
    let data: Vec<Value> = all
        .iter()
        .skip(page.offset())
        .take(page.per_page)
        .map(|w| views::workflow(w))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        "total": all.len(),
        "page": page.page,
        "per_page": page.per_page,
    })))
}

#[utoipa::path(post, path = "/v1/workflows", tag = "workflows", operation_id = "createWorkflow",
    request_body = super::openapi::CreateWorkflow,
    responses((status = 201, description = "Created", body = super::openapi::Workflow)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authed,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateWorkflow = typed(body.into_inner())?;
    let name = checked_name(body.name)?;
    let trigger = validate_trigger(&body.trigger.ok_or_else(|| ApiError::required("trigger"))?)?;
    let actions = checked_actions(
        &state,
        &body.actions.ok_or_else(|| ApiError::required("actions"))?,
    )?;
    let status = body.status.unwrap_or(WorkflowStatus::Draft);
    let now = now_ms();
    let workflow = Workflow {
        id: crate::ids::workflow_id(),
        account_id: auth.account.id.clone(),
        name,
        status,
        version: 1,
        trigger,
        actions,
        created_at: now,
        updated_at: now,
    };
    let _guard = state.catalog.write_lock().await;
    state
        .store
        .put_workflow(&workflow, Some(&workflow.current_version(now)))
        .await?;
    let workflow = state.catalog.put_workflow(workflow);
    tracing::info!(workflow_id = %workflow.id, account_id = %auth.account.id, "workflow created");
    Ok(HttpResponse::Created().json(views::workflow(&workflow)))
}

#[utoipa::path(get, path = "/v1/workflows/{id}", tag = "workflows", operation_id = "getWorkflow",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "The workflow", body = super::openapi::Workflow)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wf = owned_workflow(&state, &auth, &path)?;
    Ok(HttpResponse::Ok().json(views::workflow(&wf)))
}

#[utoipa::path(patch, path = "/v1/workflows/{id}", tag = "workflows", operation_id = "updateWorkflow",
    params(("id" = String, Path, description = "Workflow id")),
    request_body = super::openapi::UpdateWorkflow,
    responses((status = 200, description = "Updated", body = super::openapi::Workflow),
              (status = 409, description = "Cluster mode: another daemon changed the workflow since this one last read it (`conflict`); nothing was changed, read it again and retry", body = super::openapi::ErrorEnvelope)))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let wf = update_workflow(&state, &auth, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::workflow(&wf)))
}

/// PATCH semantics: the fields given replace the stored ones, each validated as on create.
pub async fn update_workflow(
    state: &AppState,
    auth: &Authed,
    id: &str,
    body: Value,
) -> Result<std::sync::Arc<Workflow>, ApiError> {
    let body: UpdateWorkflow = typed(body)?;
    let _guard = state.catalog.write_lock().await;
    let before = owned_workflow(state, auth, id)?;
    let mut wf = (*before).clone();
    if let Some(name) = body.name {
        wf.name = checked_name(Some(name))?;
    }
    if let Some(trigger) = &body.trigger {
        wf.trigger = validate_trigger(trigger)?;
    }
    if let Some(actions) = &body.actions {
        wf.actions = checked_actions(state, actions)?;
    }
    if let Some(status) = body.status {
        wf.status = status;
    }
    // Strictly later than before, even within the same millisecond.
    wf.updated_at = now_ms().max(wf.updated_at + 1);
    // A new definition is a new version; a rename or a status change is not.
    let new_version = (wf.trigger != before.trigger || wf.actions != before.actions).then(|| {
        wf.version = before.version + 1;
        wf.current_version(wf.updated_at)
    });
    state
        .store
        .update_workflow(&before, &wf, new_version.as_ref())
        .await?;
    let wf = state.catalog.put_workflow(wf);
    state.engine.workflow_changed(&wf.id);
    tracing::info!(workflow_id = %wf.id, status = ?wf.status, "workflow updated");
    Ok(wf)
}

#[utoipa::path(delete, path = "/v1/workflows/{id}", tag = "workflows", operation_id = "deleteWorkflow",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 204, description = "Deleted, with its webhooks")))]
pub async fn delete(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    delete_workflow(&state, &auth, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a workflow of the caller's, with its webhooks.
pub async fn delete_workflow(state: &AppState, auth: &Authed, id: &str) -> Result<(), ApiError> {
    let _guard = state.catalog.write_lock().await;
    let wf = owned_workflow(state, auth, id)?;
    let hooks = state.catalog.hook_ids_of_workflow(&wf.id);
    state.store.delete_workflow(&wf.id, &hooks).await?;
    state.catalog.remove_workflow(&wf.id);
    state.engine.workflow_deleted(&wf.id);
    tracing::info!(workflow_id = %wf.id, hooks = hooks.len(), "workflow deleted");
    Ok(())
}
