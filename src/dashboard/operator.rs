//! The operator's view: accounts, their plans and limits (custom or the plan's), their keys.
//! Read-only: plans and limits change through the operator API and the CLI.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::guard::{DashError, SignedIn};
use super::render;
use super::settings::key_rows;
use crate::api::AppState;
use crate::api::views;
use crate::ratelimit::effective_limits;

pub async fn accounts(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, DashError> {
    signed.require_operator()?;
    let rows: Vec<Value> = state
        .catalog
        .accounts()
        .iter()
        .map(|a| {
            let mut v =
                views::account(a, effective_limits(a.plan, a.limits, &state.settings.plans));
            v["keys"] = json!(state.catalog.api_keys_of(&a.id).len());
            v
        })
        .collect();
    Ok(render::page(
        Some(&signed),
        "/dashboard/operator",
        "Accounts",
        "operator.html",
        &json!({ "accounts": rows }),
    ))
}

pub async fn account(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashError> {
    signed.require_operator()?;
    let a = state.catalog.account(&path).ok_or(DashError::NotFound)?;
    let view = views::account(
        &a,
        effective_limits(a.plan, a.limits, &state.settings.plans),
    );
    Ok(render::page(
        Some(&signed),
        "/dashboard/operator",
        &a.name,
        "account.html",
        &json!({
            "a": view,
            "keys": key_rows(&state, &a.id, None),
            "workflows": state.catalog.workflows_of(&a.id).len(),
        }),
    ))
}
