//! Webhooks: create (the URL and secret shown once, with copy buttons), list, delete.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::guard::{DashError, SignedIn};
use super::render::html;
use super::{json_of, render, see_other};
use crate::api::AppState;
use crate::api::webhooks as api_webhooks;
use crate::api::{views, workflows as api_workflows};

fn page(
    state: &AppState,
    signed: &SignedIn,
    created: Option<Value>,
    error: Option<String>,
) -> Result<String, DashError> {
    let account = &signed.account()?.account;
    let mut workflows = state.catalog.workflows_of(&account.id);
    workflows.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hooks = state.catalog.hooks_of(&account.id);
    hooks.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    let rows: Vec<Value> = hooks
        .iter()
        .map(|h| {
            let mut v = views::hook(h, &state.public_url);
            v["workflow_name"] = json!(
                state
                    .catalog
                    .workflow(&h.workflow_id)
                    .map_or_else(String::new, |w| w.name.clone())
            );
            v
        })
        .collect();
    let workflows: Vec<Value> = workflows.iter().map(|w| views::workflow(w)).collect();
    Ok(render::page_html(
        Some(signed),
        "/dashboard/webhooks",
        "Webhooks",
        "webhooks.html",
        &json!({
            "hooks": rows,
            "workflows": workflows,
            "created": created,
            "error": error,
            "csrf": signed.session.csrf_token,
        }),
    ))
}

pub async fn list(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, DashError> {
    Ok(html(
        actix_web::http::StatusCode::OK,
        page(&state, &signed, None, None)?,
    ))
}

/// Creates a hook and shows its secret in the answer to the POST itself: it is never shown
/// again, and a reload does not repeat it (the browser asks before re-sending a form).
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let authed = signed.account()?.clone();
    let body = json!({
        "workflow_id": form.get("workflow_id"),
        "event": form.get("event"),
        "verify": form.get("verify").map(String::as_str).unwrap_or("none"),
    });
    match api_webhooks::create(state.clone(), authed, web::Json(body)).await {
        Ok(res) => {
            let created = json_of(res).await;
            Ok(html(
                actix_web::http::StatusCode::CREATED,
                page(&state, &signed, Some(created), None)?,
            ))
        }
        Err(e) => Ok(html(
            actix_web::ResponseError::status_code(&e),
            page(&state, &signed, None, Some(e.message()))?,
        )),
    }
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashError> {
    let authed = signed.account()?;
    let hook = state
        .catalog
        .hook(&path)
        .filter(|h| h.account_id == authed.account.id)
        .ok_or(DashError::NotFound)?;
    let workflow = api_workflows::owned_workflow(&state, authed, &hook.workflow_id)
        .map_or_else(|_| String::new(), |w| w.name.clone());
    Ok(render::page(
        Some(&signed),
        "/dashboard/webhooks",
        "Delete webhook",
        "confirm.html",
        &minijinja::context! {
            action => format!("/dashboard/webhooks/{}/delete", hook.id),
            cancel => "/dashboard/webhooks",
            question => format!(
                "Delete the webhook {}/webhooks/{} of “{workflow}”? Events posted to it will be refused with 404.",
                state.public_url, hook.id
            ),
            confirm => "Delete webhook",
            csrf => signed.session.csrf_token.clone(),
        },
    ))
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    api_webhooks::delete_hook(&state, signed.account()?, &path).await?;
    Ok(see_other("/dashboard/webhooks"))
}
