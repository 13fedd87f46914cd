//! Execution history: `GET /v1/workflows/{id}/executions` (newest first, filtered, paginated,
//! served from the store's index), `GET /v1/executions/{id}`, `POST /v1/executions/{id}/replay`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::views;
use super::workflows::owned_workflow;
use crate::actors::intake::{self, Accepted, NewExecution};
use crate::model::{Execution, ExecutionStatus, WorkflowStatus};
use crate::store::ExecutionQuery;
use crate::timefmt::parse_rfc3339;

fn time_param(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => parse_rfc3339(raw).map(Some).ok_or_else(|| {
            ApiError::field(
                name,
                "invalid",
                format!("The '{name}' parameter must be an RFC 3339 date-time such as 2025-12-30T14:30:00Z"),
            )
        }),
    }
}

#[utoipa::path(get, path = "/v1/workflows/{id}/executions", tag = "executions", operation_id = "listExecutions",
    params(("id" = String, Path, description = "Workflow id"),
           ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "1-based page"), ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1–100, default 20"),
           ("status" = Option<super::openapi::ExecutionStatus>, Query, description = "Only executions in this status"),
           ("from" = Option<String>, Query, format = DateTime, description = "RFC 3339: received at or after"),
           ("to" = Option<String>, Query, format = DateTime, description = "RFC 3339: received at or before")),
    responses((status = 200, description = "Newest first", body = super::openapi::ExecutionList)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let wf = owned_workflow(&state, &auth, &path)?;
    let (page, q) = execution_query(&query)?;
    let workflow_id = wf.id.clone();
    let (data, total) = state.store.list_executions(workflow_id, q).await?;
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
    })))
}

/// The page and filters of an execution list from its query string (`page`, `per_page`,
/// `status`, `from`, `to`), each checked and named when wrong.
pub fn execution_query(
    query: &HashMap<String, String>,
) -> Result<(Page, ExecutionQuery), ApiError> {
    let page = Page::from_query(query)?;
    let status = match query.get("status") {
        None => None,
        Some(s) => Some(ExecutionStatus::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "invalid",
                "The 'status' parameter must be one of queued, running, success, failed",
            )
        })?),
    };
    // `from` later than `to` is an empty window: an empty page, as any filter matching
    // nothing (each bound alone is valid, so the pair is not a client error).
    let from_ms = time_param(query, "from")?;
    let to_ms = time_param(query, "to")?;
    let q = ExecutionQuery {
        status,
        from_ms,
        to_ms,
        offset: page.offset(),
        limit: page.per_page,
    };
    Ok((page, q))
}

/// The caller's execution, or 404.
pub async fn owned_execution(
    state: &AppState,
    auth: &Authed,
    id: String,
) -> Result<Execution, ApiError> {
    state
        .store
        .execution(id)
        .await?
        .filter(|e| e.account_id == auth.account.id)
        .ok_or_else(|| ApiError::not_found("Execution"))
}

#[utoipa::path(get, path = "/v1/executions/{id}", tag = "executions", operation_id = "getExecution",
    params(("id" = String, Path, description = "Execution id")),
    responses((status = 200, description = "The execution with its steps", body = super::openapi::Execution)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let exec = owned_execution(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::execution(&exec)))
}

#[utoipa::path(post, path = "/v1/executions/{id}/replay", tag = "executions", operation_id = "replayExecution",
    params(("id" = String, Path, description = "Execution id")),
    responses((status = 201, description = "A new execution of the same input", body = super::openapi::Execution),
              (status = 409, description = "The workflow is not active (`workflow_inactive`), or the Idempotency-Key was used for a different request or is still running (`conflict`)", body = super::openapi::ErrorEnvelope)))]
pub async fn replay(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let execution = replay_execution(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::Created().json(views::execution(&execution)))
}

/// Runs an execution's input again as a new execution of the same (active) workflow.
pub async fn replay_execution(
    state: &AppState,
    auth: &Authed,
    id: String,
) -> Result<Execution, ApiError> {
    let original = owned_execution(state, auth, id).await?;
    let wf = owned_workflow(state, auth, &original.workflow_id)?;
    if wf.status != WorkflowStatus::Active {
        return Err(ApiError::Conflict {
            code: "workflow_inactive",
            message: "The workflow is not active; activate it to replay executions".into(),
        });
    }
    let input_bytes = serde_json::to_vec(&original.input).map_or(usize::MAX, |v| v.len());
    let accepted = intake::accept(
        &state.engine,
        state.store.as_ref(),
        NewExecution {
            workflow: &wf,
            hook_id: original.trigger.hook_id.as_deref(),
            event: &original.trigger.event,
            input: original.input.clone(),
            input_bytes,
            replay_of: Some(original.id.clone()),
            idempotency: None,
            keep_record: true,
        },
    )
    .await?;
    let Accepted::Stored {
        record: Some(execution),
        ..
    } = accepted
    else {
        return Err(ApiError::Internal(
            "a replay without an idempotency key was taken for a duplicate".into(),
        ));
    };
    Ok(*execution)
}
