//! An account's own API keys (`/v1/api-keys`, the dashboard's "Generate New Key") and its
//! signing secret for outgoing calls (`/v1/signing-secret`).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::request::{CreateKey, typed};
use super::views;
use crate::credentials::{display_prefix, generate_api_key, generate_signing_secret, hash_api_key};
use crate::model::ApiKey;
use crate::timefmt::now_ms;

/// Creates, stores and returns a key; the secret is in the returned JSON only.
pub async fn issue_key(
    state: &AppState,
    account_id: &str,
    name: String,
) -> Result<Value, ApiError> {
    let secret = generate_api_key();
    let key = ApiKey {
        id: crate::ids::api_key_id(),
        account_id: account_id.to_string(),
        name,
        prefix: display_prefix(&secret),
        hash: hash_api_key(&secret),
        created_at: now_ms(),
    };
    let _guard = state.catalog.write_lock().await;
    if state.catalog.account(account_id).is_none() {
        return Err(ApiError::not_found("Account"));
    }
    state.store.put_api_key(&key).await?;
    let mut body = views::api_key(&key);
    body["key"] = Value::String(secret);
    tracing::info!(key_id = %key.id, account_id, "API key created");
    state.catalog.put_api_key(key);
    Ok(body)
}

/// Reads the optional `name` of a key request (the body itself may be absent).
pub fn key_name(body: Option<&web::Bytes>) -> Result<String, ApiError> {
    let Some(bytes) = body.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) else {
        return Ok(String::new());
    };
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
    // `null` (or no body) is a key without a name.
    if v.is_null() {
        return Ok(String::new());
    }
    let body: CreateKey = typed(v)?;
    match body.name {
        None => Ok(String::new()),
        Some(s) if s.chars().count() <= 200 => Ok(s),
        Some(_) => Err(ApiError::field(
            "name",
            "invalid",
            "The 'name' field must be a string of at most 200 characters",
        )),
    }
}

#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", operation_id = "createApiKey",
    request_body(content = Option<super::openapi::CreateApiKey>, description = "Optional"),
    responses((status = 201, description = "Created; `key` is shown only here", body = super::openapi::ApiKey)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authed,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let name = key_name(Some(&body))?;
    let created = issue_key(&state, &auth.account.id, name).await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", operation_id = "listApiKeys",
    responses((status = 200, description = "The account's keys (prefixes only)", body = super::openapi::ApiKeyList)))]
pub async fn list(state: web::Data<AppState>, auth: Authed) -> Result<HttpResponse, ApiError> {
    let keys = state.catalog.api_keys_of(&auth.account.id);
    let data: Vec<Value> = keys.iter().map(|k| views::api_key(k)).collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "total": data.len()})))
}

#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", operation_id = "deleteApiKey",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 204, description = "Revoked at once")))]
pub async fn delete(
    state: web::Data<AppState>,
    auth: Authed,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    revoke(&state, &path, Some(&auth.account.id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes a key at once. `owner`: only if it belongs to this account.
pub async fn revoke(state: &AppState, id: &str, owner: Option<&str>) -> Result<(), ApiError> {
    let _guard = state.catalog.write_lock().await;
    let key = state
        .catalog
        .api_key(id)
        .filter(|k| owner.is_none_or(|o| k.account_id == o))
        .ok_or_else(|| ApiError::not_found("API key"))?;
    state.store.delete_api_key(&key.id).await?;
    state.catalog.remove_api_key(&key.id);
    tracing::info!(key_id = %key.id, account_id = %key.account_id, "API key revoked");
    Ok(())
}

#[utoipa::path(get, path = "/v1/signing-secret", tag = "api-keys", operation_id = "getSigningSecret",
    responses((status = 200, description = "The account's signing secret", body = super::openapi::SigningSecret)))]
pub async fn signing_secret(auth: Authed) -> HttpResponse {
    HttpResponse::Ok().json(json!({"secret": auth.account.signing_secret}))
}

#[utoipa::path(post, path = "/v1/signing-secret/rotate", tag = "api-keys", operation_id = "rotateSigningSecret",
    responses((status = 200, description = "The new secret (the old one stops signing at once)", body = super::openapi::SigningSecret)))]
pub async fn rotate_signing_secret(
    state: web::Data<AppState>,
    auth: Authed,
) -> Result<HttpResponse, ApiError> {
    let _guard = state.catalog.write_lock().await;
    let mut account = state
        .catalog
        .account(&auth.account.id)
        .map(|a| (*a).clone())
        .ok_or_else(|| ApiError::not_found("Account"))?;
    account.signing_secret = generate_signing_secret();
    account.updated_at = now_ms().max(account.updated_at + 1);
    state.store.put_account(&account).await?;
    let secret = account.signing_secret.clone();
    state.catalog.put_account(account);
    tracing::info!(account_id = %auth.account.id, "signing secret rotated");
    Ok(HttpResponse::Ok().json(json!({"secret": secret})))
}
