//! Execution history: `GET /v1/workflows/{id}/executions` (newest first, filtered, paginated,
//! served from the store's index), `GET /v1/executions/{id}`, `POST /v1/executions/{id}/replay`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::views;
use super::workflows::owned_workflow;
use crate::actors::Job;
use crate::engine::runner::pending_steps;
use crate::model::{Execution, ExecutionStatus, ExecutionTrigger, WorkflowStatus};
use crate::store::{ExecutionQuery, WriteOutcome};
use crate::timefmt::{now_us, parse_rfc3339};

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

pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let wf = owned_workflow(&state, &auth, &path)?;
    let page = Page::from_query(&query)?;
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
    let from_ms = time_param(&query, "from")?;
    let to_ms = time_param(&query, "to")?;
    if let (Some(f), Some(t)) = (from_ms, to_ms) {
        if f > t {
            return Err(ApiError::field(
                "from",
                "invalid",
                "'from' must not be later than 'to'",
            ));
        }
    }
    let q = ExecutionQuery {
        status,
        from_ms,
        to_ms,
        offset: page.offset(),
        limit: page.per_page,
    };
    let workflow_id = wf.id.clone();
    let (data, total) = state
        .store
        .read(move |s| s.list_executions(&workflow_id, &q))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
    })))
}

/// The caller's execution, or 404.
async fn owned_execution(
    state: &AppState,
    auth: &Authed,
    id: String,
) -> Result<Execution, ApiError> {
    state
        .store
        .read(move |s| s.execution(&id))
        .await?
        .filter(|e| e.account_id == auth.account.id)
        .ok_or_else(|| ApiError::not_found("Execution"))
}

pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let exec = owned_execution(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::execution(&exec)))
}

pub async fn replay(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let original = owned_execution(&state, &auth, path.into_inner()).await?;
    let wf = owned_workflow(&state, &auth, &original.workflow_id)?;
    if wf.status != WorkflowStatus::Active {
        return Err(ApiError::Conflict {
            code: "workflow_inactive",
            message: "The workflow is not active; activate it to replay executions".into(),
        });
    }
    let received_us = now_us();
    let slot = state
        .engine
        .admission()
        .try_admit(received_us)
        .ok_or_else(ApiError::busy)?;
    let execution = Execution {
        id: crate::ids::execution_id(received_us),
        account_id: auth.account.id.clone(),
        workflow_id: wf.id.clone(),
        status: ExecutionStatus::Queued,
        trigger: ExecutionTrigger {
            hook_id: original.trigger.hook_id.clone(),
            event: original.trigger.event.clone(),
            received_at: received_us / 1000,
        },
        input: original.input.clone(),
        steps: pending_steps(wf.actions.iter().map(|a| a.kind.as_str())),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error: None,
        resume_at: None,
        replay_of: Some(original.id.clone()),
    };
    match state.store.accept_execution(&execution, None).await? {
        WriteOutcome::Written | WriteOutcome::Duplicate(_) => {}
    }
    let body: Value = views::execution(&execution);
    state.engine.submit(Job { execution, slot });
    Ok(HttpResponse::Created().json(body))
}
