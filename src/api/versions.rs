//! `/v1/workflows/{id}/versions`: every definition a workflow has had, newest first.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::pagination::Page;
use super::workflows::owned_workflow;
use crate::model::WorkflowVersion;

pub fn view(v: &WorkflowVersion) -> Value {
    serde_json::to_value(v).expect("versions serialise")
}

#[utoipa::path(get, path = "/v1/workflows/{id}/versions", tag = "workflows", operation_id = "listWorkflowVersions",
    params(("id" = String, Path, description = "Workflow id"),
           ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "1-based page"),
           ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1–100, default 20")),
    responses((status = 200, description = "The workflow's versions, newest first", body = super::openapi_jobs::WorkflowVersionList)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::from_query(&query)?;
    let wf = owned_workflow(&state, &auth, &path)?;
    // Versions are 1..=current and never removed while the workflow exists: the page is a
    // range of numbers counted down from the current one.
    let total = wf.version;
    let skipped = page.offset() as u64;
    let data = if skipped >= total {
        Vec::new()
    } else {
        state
            .store
            .workflow_versions(wf.id.clone(), total - skipped, page.per_page)
            .await?
    };
    Ok(HttpResponse::Ok().json(json!({
        "data": data.iter().map(view).collect::<Vec<_>>(),
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
    })))
}

#[utoipa::path(get, path = "/v1/workflows/{id}/versions/{version}", tag = "workflows", operation_id = "getWorkflowVersion",
    params(("id" = String, Path, description = "Workflow id"),
           ("version" = u64, Path, minimum = 1, description = "Version number")),
    responses((status = 200, description = "That version's definition", body = super::openapi_jobs::WorkflowVersion)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let wf = owned_workflow(&state, &auth, &id)?;
    let version = version
        .parse::<u64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| {
            ApiError::field(
                "version",
                "invalid",
                "The version must be a positive integer",
            )
        })?;
    let found = match version {
        v if v > wf.version => None,
        v => state.store.workflow_version(wf.id.clone(), v).await?,
    };
    let found = found.ok_or_else(|| ApiError::not_found("Workflow version"))?;
    Ok(HttpResponse::Ok().json(view(&found)))
}
