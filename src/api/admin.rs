//! The operator API (`/admin/v1`), enabled only when an admin token is configured: accounts,
//! their plans and custom limits, and their API keys.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::api_keys::{issue_key, key_name, revoke};
use super::auth::Admin;
use super::error::ApiError;
use super::request::{CreateAccount, UpdateAccount, is_visible_name, typed};
use super::views;
use crate::model::{Account, Limits, Plan};
use crate::ratelimit::effective_limits;
use crate::timefmt::now_ms;

fn view(state: &AppState, a: &Account) -> Value {
    views::account(a, effective_limits(a.plan, a.limits, &state.settings.plans))
}

/// An account's name: present, not blank, at most 200 characters.
fn checked_name(name: Option<String>) -> Result<String, ApiError> {
    match name {
        None => Err(ApiError::required("name")),
        Some(s) if is_visible_name(&s) && s.chars().count() <= 200 => Ok(s),
        Some(_) => Err(ApiError::field(
            "name",
            "invalid",
            "The 'name' field must be a non-empty string of at most 200 characters",
        )),
    }
}

fn check_limits_plan(plan: Plan, limits: &Option<Limits>) -> Result<(), ApiError> {
    if limits.is_some() && plan != Plan::Enterprise {
        return Err(ApiError::field(
            "limits",
            "invalid",
            "Custom limits apply to Enterprise accounts only",
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/admin/v1/accounts", tag = "admin", operation_id = "createAccount",
    request_body = super::openapi::CreateAccount,
    responses((status = 201, description = "Created", body = super::openapi::Account)))]
pub async fn create_account(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateAccount = typed(body.into_inner())?;
    let name = checked_name(body.name)?;
    let plan = body.plan.unwrap_or(Plan::Free);
    let limits = body
        .limits
        .map(|patch| patch.0.over(state.settings.plans.enterprise));
    check_limits_plan(plan, &limits)?;
    let now = now_ms();
    let account = Account {
        id: crate::ids::account_id(),
        name,
        plan,
        limits,
        signing_secret: crate::credentials::generate_signing_secret(),
        created_at: now,
        updated_at: now,
    };
    let _guard = state.catalog.write_lock().await;
    state.store.put_account(&account).await?;
    let body = view(&state, &account);
    tracing::info!(account_id = %account.id, plan = account.plan.as_str(), "account created");
    state.catalog.put_account(account);
    Ok(HttpResponse::Created().json(body))
}

#[utoipa::path(get, path = "/admin/v1/accounts", tag = "admin", operation_id = "listAccounts",
    responses((status = 200, description = "Every account", body = super::openapi::AccountList)))]
pub async fn list_accounts(state: web::Data<AppState>, _admin: Admin) -> HttpResponse {
    let data: Vec<Value> = state
        .catalog
        .accounts()
        .iter()
        .map(|a| view(&state, a))
        .collect();
    HttpResponse::Ok().json(json!({"data": data, "total": data.len()}))
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}", tag = "admin", operation_id = "getAccount",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = super::openapi::Account)))]
pub async fn get_account(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .catalog
        .account(&path)
        .ok_or_else(|| ApiError::not_found("Account"))?;
    Ok(HttpResponse::Ok().json(view(&state, &a)))
}

#[utoipa::path(patch, path = "/admin/v1/accounts/{id}", tag = "admin", operation_id = "updateAccount",
    params(("id" = String, Path, description = "Account id")),
    request_body = super::openapi::UpdateAccount,
    responses((status = 200, description = "Updated", body = super::openapi::Account),
              (status = 409, description = "Custom limits for an account that is not on the Enterprise plan", body = super::openapi::ErrorEnvelope)))]
pub async fn update_account(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body: UpdateAccount = typed(body.into_inner())?;
    let _guard = state.catalog.write_lock().await;
    let mut account = state
        .catalog
        .account(&path)
        .map(|a| (*a).clone())
        .ok_or_else(|| ApiError::not_found("Account"))?;
    if let Some(name) = body.name {
        account.name = checked_name(Some(name))?;
    }
    if let Some(plan) = body.plan {
        account.plan = plan;
    }
    match &body.limits {
        Some(Some(_)) if body.plan.is_none() && account.plan != Plan::Enterprise => {
            // Valid on its own; refused because of what the account is now.
            return Err(ApiError::Conflict {
                code: "conflict",
                message: "Custom limits apply to Enterprise accounts only; this account is not \
                          one (send \"plan\": \"enterprise\" with the limits)"
                    .into(),
            });
        }
        Some(Some(patch)) => {
            let base = account.limits.unwrap_or(state.settings.plans.enterprise);
            account.limits = Some(patch.0.over(base));
        }
        Some(None) => account.limits = None,
        // Leaving Enterprise drops the custom numbers.
        None if account.plan != Plan::Enterprise => account.limits = None,
        None => {}
    }
    check_limits_plan(account.plan, &account.limits)?;
    account.updated_at = now_ms().max(account.updated_at + 1);
    state.store.put_account(&account).await?;
    let body = view(&state, &account);
    tracing::info!(account_id = %account.id, plan = account.plan.as_str(), "account updated");
    state.catalog.put_account(account);
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(post, path = "/admin/v1/accounts/{id}/api-keys", tag = "admin", operation_id = "createAccountApiKey",
    params(("id" = String, Path, description = "Account id")),
    request_body(content = Option<super::openapi::CreateApiKey>, description = "Optional"),
    responses((status = 201, description = "Created; `key` is shown only here", body = super::openapi::ApiKey)))]
pub async fn create_key(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let name = key_name(Some(&body))?;
    let created = issue_key(&state, &path, name).await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(delete, path = "/admin/v1/api-keys/{id}", tag = "admin", operation_id = "revokeApiKey",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 204, description = "Revoked at once")))]
pub async fn revoke_key(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    revoke(&state, &path, None).await?;
    Ok(HttpResponse::NoContent().finish())
}
