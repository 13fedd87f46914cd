//! The operator API (`/admin/v1`), enabled only when an admin token is configured: accounts,
//! their plans and custom limits, and their API keys.

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::AppState;
use super::api_keys::{issue_key, key_name, revoke};
use super::auth::Admin;
use super::error::ApiError;
use super::views;
use crate::model::{Account, Limits, Plan};
use crate::ratelimit::effective_limits;
use crate::timefmt::now_ms;

fn view(state: &AppState, a: &Account) -> Value {
    views::account(a, effective_limits(a.plan, a.limits, &state.settings.plans))
}

fn parse_plan(v: &Value) -> Result<Plan, ApiError> {
    v.as_str().and_then(Plan::parse).ok_or_else(|| {
        ApiError::field(
            "plan",
            "invalid",
            "The 'plan' field must be one of \"free\", \"pro\", \"enterprise\"",
        )
    })
}

/// Custom limits: any of the three numbers; the others come from the Enterprise defaults.
fn parse_limits(v: &Value, base: Limits) -> Result<Option<Limits>, ApiError> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::field(
                "limits",
                "invalid",
                "The 'limits' field must be an object",
            ));
        }
    };
    let mut limits = base;
    for (k, v) in obj {
        let n = v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::field(
                &format!("limits.{k}"),
                "invalid",
                format!("The 'limits.{k}' field must be a positive integer"),
            )
        })?;
        match k.as_str() {
            "requests_per_minute" => limits.requests_per_minute = n,
            "requests_per_day" => limits.requests_per_day = n,
            "webhooks_per_second" => limits.webhooks_per_second = n,
            _ => {
                return Err(ApiError::field(
                    &format!("limits.{k}"),
                    "unknown",
                    "Known limits: requests_per_minute, requests_per_day, webhooks_per_second",
                ));
            }
        }
    }
    Ok(Some(limits))
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::invalid("The request body must be a JSON object"))
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

pub async fn create_account(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let obj = object(&body)?;
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => s.clone(),
        None | Some(Value::Null) => return Err(ApiError::required("name")),
        Some(_) => {
            return Err(ApiError::field(
                "name",
                "invalid",
                "The 'name' field must be a non-empty string",
            ));
        }
    };
    let plan = match obj.get("plan") {
        None | Some(Value::Null) => Plan::Free,
        Some(p) => parse_plan(p)?,
    };
    let limits = match obj.get("limits") {
        None => None,
        Some(v) => parse_limits(v, state.settings.plans.enterprise)?,
    };
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

pub async fn list_accounts(state: web::Data<AppState>, _admin: Admin) -> HttpResponse {
    let data: Vec<Value> = state
        .catalog
        .accounts()
        .iter()
        .map(|a| view(&state, a))
        .collect();
    HttpResponse::Ok().json(json!({"data": data, "total": data.len()}))
}

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

pub async fn update_account(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let obj = object(&body)?;
    let _guard = state.catalog.write_lock().await;
    let mut account = state
        .catalog
        .account(&path)
        .map(|a| (*a).clone())
        .ok_or_else(|| ApiError::not_found("Account"))?;
    for (k, v) in obj {
        match k.as_str() {
            "name" => {
                account.name = v
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| {
                        ApiError::field(
                            "name",
                            "invalid",
                            "The 'name' field must be a non-empty string",
                        )
                    })?
                    .to_string()
            }
            "plan" => account.plan = parse_plan(v)?,
            "limits" => {
                let base = account.limits.unwrap_or(state.settings.plans.enterprise);
                account.limits = parse_limits(v, base)?;
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown",
                    format!("The '{other}' field cannot be updated (known: name, plan, limits)"),
                ));
            }
        }
    }
    if account.plan != Plan::Enterprise && !obj.contains_key("limits") {
        // Leaving Enterprise drops the custom numbers.
        account.limits = None;
    }
    check_limits_plan(account.plan, &account.limits)?;
    account.updated_at = now_ms().max(account.updated_at + 1);
    state.store.put_account(&account).await?;
    let body = view(&state, &account);
    tracing::info!(account_id = %account.id, plan = account.plan.as_str(), "account updated");
    state.catalog.put_account(account);
    Ok(HttpResponse::Ok().json(body))
}

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

pub async fn revoke_key(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    revoke(&state, &path, None).await?;
    Ok(HttpResponse::NoContent().finish())
}
