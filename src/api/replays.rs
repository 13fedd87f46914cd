//! Bulk replays (`/v1/workflows/{id}/replays`, `/v1/replays/{id}`) and shadow replays
//! (`/v1/workflows/{id}/shadow-replays`, `/v1/shadow-replays/{id}[/results]`): the HTTP side
//! of `jobs`. Creating one checks the filter (and the draft), stores the job and starts it;
//! everything after runs in the background, paced, and reports through these reads.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::request::typed;
use super::workflows::{checked_actions, owned_workflow};
use crate::jobs::{self, MAX_RUNNING_PER_ACCOUNT};
use crate::model::{
    BackgroundJob, ExecutionStatus, JobKind, JobStatus, ReplayFilter, ShadowDraft, Workflow,
    WorkflowStatus,
};
use crate::steps::spec::validate_trigger;
use crate::timefmt::{now_ms, parse_rfc3339, rfc3339};

const DEFAULT_REPLAY_LIMIT: u64 = 10_000;
const MAX_REPLAY_LIMIT: u64 = 100_000;
const DEFAULT_SHADOW_LIMIT: u64 = 1_000;
const MAX_SHADOW_LIMIT: u64 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateReplay {
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u64>,
    dry_run: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateShadowReplay {
    definition: Option<Value>,
    version: Option<u64>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    trigger: Option<Value>,
    actions: Option<Value>,
}

/// A body that may be empty (then `{}`).
fn object_or_empty(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))
}

fn time_field(name: &str, raw: Option<String>) -> Result<Option<i64>, ApiError> {
    raw.map(|raw| {
        parse_rfc3339(&raw).ok_or_else(|| {
            ApiError::field(
                name,
                "invalid",
                format!(
                    "The '{name}' field must be an RFC 3339 date-time such as 2025-12-30T14:30:00Z"
                ),
            )
        })
    })
    .transpose()
}

/// The filter of a new job: finished statuses only, `to` frozen at now (the job's own new
/// executions must never come back into its walk), `limit` within bounds.
fn filter(
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u64>,
    (default, max): (u64, u64),
) -> Result<ReplayFilter, ApiError> {
    let status = match status.as_deref() {
        None => None,
        Some("success") => Some(ExecutionStatus::Success),
        Some("failed") => Some(ExecutionStatus::Failed),
        Some(_) => {
            return Err(ApiError::field(
                "status",
                "invalid",
                "The 'status' field must be \"success\" or \"failed\" (running executions are never replayed)",
            ));
        }
    };
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            "invalid",
            format!("The 'limit' field must be an integer between 1 and {max}"),
        ));
    }
    let now = now_ms();
    let from = time_field("from", from)?;
    let to = time_field("to", to)?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::field(
            "to",
            "invalid",
            "The 'to' field must not be before 'from'",
        ));
    }
    Ok(ReplayFilter {
        status,
        from,
        to: Some(to.map_or(now, |t| t.min(now))),
        limit,
    })
}

/// A job of the caller's of this kind, or 404.
async fn owned_job(
    state: &AppState,
    auth: &Authed,
    id: String,
    kind: JobKind,
) -> Result<BackgroundJob, ApiError> {
    state
        .store
        .job(id)
        .await?
        .filter(|j| j.account_id == auth.account.id && j.kind == kind)
        .ok_or_else(|| {
            ApiError::not_found(match kind {
                JobKind::Replay => "Replay",
                JobKind::ShadowReplay => "Shadow replay",
            })
        })
}

/// Stores and starts a new job, unless the account already has its share running (a
/// cancelled job counts until it has stopped).
async fn start(state: &AppState, job: BackgroundJob) -> Result<BackgroundJob, ApiError> {
    let _one_at_a_time = state.jobs.creating.lock().await;
    let running = state
        .store
        .unfinished_jobs()
        .await?
        .iter()
        .filter(|j| j.account_id == job.account_id)
        .count();
    if running >= MAX_RUNNING_PER_ACCOUNT {
        return Err(ApiError::RateLimited {
            message: format!(
                "This account already has {running} replays running (at most {MAX_RUNNING_PER_ACCOUNT}); wait for one to finish or cancel it"
            ),
            retry_after: 5,
        });
    }
    state.store.put_job(&job, &[]).await?;
    state.jobs.start(job.clone());
    tracing::info!(job_id = %job.id, workflow_id = %job.workflow_id, kind = ?job.kind, matched = job.matched, "job created");
    Ok(job)
}

fn new_job(
    kind: JobKind,
    wf: &Workflow,
    filter: ReplayFilter,
    matched: u64,
    draft: Option<ShadowDraft>,
) -> BackgroundJob {
    let now = now_ms();
    let prefix = match kind {
        JobKind::Replay => "rpl",
        JobKind::ShadowReplay => "shr",
    };
    BackgroundJob {
        id: crate::ids::time_ordered(prefix, crate::timefmt::now_us()),
        account_id: wf.account_id.clone(),
        workflow_id: wf.id.clone(),
        kind,
        status: JobStatus::Running,
        filter,
        draft,
        matched,
        replayed: 0,
        skipped: 0,
        changed: 0,
        unchanged: 0,
        cursor: None,
        created_at: now,
        updated_at: now,
        finished_at: None,
        error: None,
        cancel_requested: false,
    }
}

fn filter_view(f: &ReplayFilter) -> Value {
    json!({
        "status": f.status,
        "from": f.from.map(rfc3339),
        "to": f.to.map(rfc3339),
        "limit": f.limit,
    })
}

fn replay_view(j: &BackgroundJob) -> Value {
    json!({
        "id": j.id,
        "workflow_id": j.workflow_id,
        "status": j.visible_status(),
        "filter": filter_view(&j.filter),
        "matched": j.matched,
        "replayed": j.replayed,
        "skipped": j.skipped,
        "created_at": rfc3339(j.created_at),
        "updated_at": rfc3339(j.updated_at),
        "finished_at": j.finished_at.map(rfc3339),
        "error": j.error,
    })
}

fn shadow_view(j: &BackgroundJob) -> Value {
    let draft = j.draft.as_ref();
    json!({
        "id": j.id,
        "workflow_id": j.workflow_id,
        "status": j.visible_status(),
        "version": draft.and_then(|d| d.version),
        "definition": {
            "trigger": draft.map(|d| &d.trigger),
            "actions": draft.map(|d| &d.actions),
        },
        "filter": filter_view(&j.filter),
        "summary": {
            "matched": j.matched,
            "compared": j.changed + j.unchanged,
            "changed": j.changed,
            "unchanged": j.unchanged,
        },
        "created_at": rfc3339(j.created_at),
        "updated_at": rfc3339(j.updated_at),
        "finished_at": j.finished_at.map(rfc3339),
        "error": j.error,
    })
}

#[utoipa::path(post, path = "/v1/workflows/{id}/replays", tag = "replays", operation_id = "createReplay",
    params(("id" = String, Path, description = "Workflow id")),
    request_body = super::openapi_jobs::CreateReplay,
    responses((status = 202, description = "Started: follow it at `GET /v1/replays/{id}`", body = super::openapi_jobs::Replay),
              (status = 200, description = "`dry_run`: how many executions it would run; nothing started", body = super::openapi_jobs::ReplayCount),
              (status = 409, description = "The workflow is not active (`workflow_inactive`), or the Idempotency-Key was used for a different request or is still running (`conflict`)", body = super::openapi::ErrorEnvelope)))]
pub async fn create_replay(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: CreateReplay = typed(object_or_empty(&body)?)?;
    let wf = owned_workflow(&state, &auth, &path)?;
    let filter = filter(
        body.status,
        body.from,
        body.to,
        body.limit,
        (DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT),
    )?;
    let matched = jobs::count(&state.store, &wf.id, &filter).await?;
    if body.dry_run == Some(true) {
        return Ok(HttpResponse::Ok().json(json!({"count": matched})));
    }
    if wf.status != WorkflowStatus::Active {
        return Err(ApiError::Conflict {
            code: "workflow_inactive",
            message: "The workflow is not active; activate it to replay executions".into(),
        });
    }
    let job = start(&state, new_job(JobKind::Replay, &wf, filter, matched, None)).await?;
    Ok(HttpResponse::Accepted().json(replay_view(&job)))
}

#[utoipa::path(get, path = "/v1/replays/{id}", tag = "replays", operation_id = "getReplay",
    params(("id" = String, Path, description = "Replay id")),
    responses((status = 200, description = "The replay and its progress", body = super::openapi_jobs::Replay)))]
pub async fn get_replay(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &auth, path.into_inner(), JobKind::Replay).await?;
    Ok(HttpResponse::Ok().json(replay_view(&job)))
}

#[utoipa::path(delete, path = "/v1/replays/{id}", tag = "replays", operation_id = "cancelReplay",
    params(("id" = String, Path, description = "Replay id")),
    responses((status = 200, description = "Cancelled (executions it started already run on); a finished replay is returned as it is", body = super::openapi_jobs::Replay)))]
pub async fn cancel_replay(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = cancel(&state, &auth, path.into_inner(), JobKind::Replay).await?;
    Ok(HttpResponse::Ok().json(replay_view(&job)))
}

async fn cancel(
    state: &AppState,
    auth: &Authed,
    id: String,
    kind: JobKind,
) -> Result<BackgroundJob, ApiError> {
    let job = owned_job(state, auth, id, kind).await?;
    if job.status == JobStatus::Running && !job.cancel_requested {
        state.store.cancel_job(job.id.clone()).await?;
        state.jobs.cancel_here(&job.id);
        tracing::info!(job_id = %job.id, "job cancel requested");
    }
    // What is stored now: cancelled, or finished in the meantime.
    owned_job(state, auth, job.id, kind).await
}

#[utoipa::path(post, path = "/v1/workflows/{id}/shadow-replays", tag = "replays", operation_id = "createShadowReplay",
    params(("id" = String, Path, description = "Workflow id")),
    request_body = super::openapi_jobs::CreateShadowReplay,
    responses((status = 202, description = "Started: follow it at `GET /v1/shadow-replays/{id}`", body = super::openapi_jobs::ShadowReplay)))]
pub async fn create_shadow(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateShadowReplay = typed(body.into_inner())?;
    let wf = owned_workflow(&state, &auth, &path)?;
    let draft = match (body.definition, body.version) {
        (Some(definition), None) => {
            let draft: Draft = typed(definition).map_err(|e| e.within("definition"))?;
            ShadowDraft {
                version: None,
                trigger: match &draft.trigger {
                    Some(t) => {
                        validate_trigger(t).map_err(|e| ApiError::from(e).within("definition"))?
                    }
                    None => wf.trigger.clone(),
                },
                actions: match &draft.actions {
                    Some(a) => checked_actions(&state, a).map_err(|e| e.within("definition"))?,
                    None => wf.actions.clone(),
                },
            }
        }
        (None, Some(version)) => {
            let found = match version {
                0 => None,
                v if v > wf.version => None,
                v => state.store.workflow_version(wf.id.clone(), v).await?,
            };
            let v = found.ok_or_else(|| {
                ApiError::field(
                    "version",
                    "invalid",
                    format!("The workflow has no version {version}"),
                )
            })?;
            ShadowDraft {
                version: Some(v.version),
                trigger: v.trigger,
                actions: v.actions,
            }
        }
        _ => {
            return Err(ApiError::field(
                "definition",
                "required",
                "Give exactly one of 'definition' (a draft like a PATCH's body) and 'version'",
            ));
        }
    };
    let filter = filter(
        body.status,
        body.from,
        body.to,
        body.limit,
        (DEFAULT_SHADOW_LIMIT, MAX_SHADOW_LIMIT),
    )?;
    let matched = jobs::count(&state.store, &wf.id, &filter).await?;
    let job = new_job(JobKind::ShadowReplay, &wf, filter, matched, Some(draft));
    let job = start(&state, job).await?;
    Ok(HttpResponse::Accepted().json(shadow_view(&job)))
}

#[utoipa::path(get, path = "/v1/shadow-replays/{id}", tag = "replays", operation_id = "getShadowReplay",
    params(("id" = String, Path, description = "Shadow replay id")),
    responses((status = 200, description = "The shadow replay, summary counts first", body = super::openapi_jobs::ShadowReplay)))]
pub async fn get_shadow(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &auth, path.into_inner(), JobKind::ShadowReplay).await?;
    Ok(HttpResponse::Ok().json(shadow_view(&job)))
}

#[utoipa::path(delete, path = "/v1/shadow-replays/{id}", tag = "replays", operation_id = "cancelShadowReplay",
    params(("id" = String, Path, description = "Shadow replay id")),
    responses((status = 200, description = "Cancelled; a finished one is returned as it is", body = super::openapi_jobs::ShadowReplay)))]
pub async fn cancel_shadow(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = cancel(&state, &auth, path.into_inner(), JobKind::ShadowReplay).await?;
    Ok(HttpResponse::Ok().json(shadow_view(&job)))
}

#[utoipa::path(get, path = "/v1/shadow-replays/{id}/results", tag = "replays", operation_id = "listShadowReplayResults",
    params(("id" = String, Path, description = "Shadow replay id"),
           ("changed" = Option<bool>, Query, description = "Only the executions whose outcome changed"),
           ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "1-based page"),
           ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1–100, default 20")),
    responses((status = 200, description = "Per-execution results, changed ones first, then by execution id", body = super::openapi_jobs::ShadowResultList)))]
pub async fn shadow_results(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::from_query(&query)?;
    let changed_only = match query.get("changed").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::field(
                "changed",
                "invalid",
                "The 'changed' parameter must be true or false",
            ));
        }
    };
    let job = owned_job(&state, &auth, path.into_inner(), JobKind::ShadowReplay).await?;
    let data = state
        .store
        .job_results(job.id.clone(), changed_only, page.offset(), page.per_page)
        .await?;
    let total = if changed_only {
        job.changed
    } else {
        job.changed + job.unchanged
    };
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
    })))
}
