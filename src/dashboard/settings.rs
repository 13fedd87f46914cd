//! Settings: API keys (Generate New Key, shown once; list with prefixes and last use;
//! revoke) and the signing secret (show, rotate).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::guard::{DashError, SignedIn};
use super::session::Principal;
use super::{json_of, render, see_other};
use crate::api::AppState;
use crate::api::api_keys;
use crate::api::views;
use crate::timefmt::rfc3339;

fn current_key(signed: &SignedIn) -> Option<&str> {
    match &signed.session.principal {
        Principal::Account { key_id, .. } => Some(key_id),
        Principal::Operator { .. } => None,
    }
}

/// An account's keys as the settings and operator pages list them.
pub fn key_rows(state: &AppState, account_id: &str, current: Option<&str>) -> Vec<Value> {
    let mut keys = state.catalog.api_keys_of(account_id);
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    keys.iter()
        .map(|k| {
            let mut v = views::api_key(k);
            v["last_used"] = json!(state.catalog.api_key_last_used(&k.id).map(rfc3339));
            v["current"] = json!(current == Some(k.id.as_str()));
            v
        })
        .collect()
}

fn settings_html(
    state: &AppState,
    signed: &SignedIn,
    new_key: Option<Value>,
) -> Result<String, DashError> {
    let account = &signed.account()?.account;
    Ok(render::page_html(
        Some(signed),
        "/dashboard/settings",
        "Settings",
        "settings.html",
        &json!({
            "keys": key_rows(state, &account.id, current_key(signed)),
            "new_key": new_key,
            "csrf": signed.session.csrf_token,
        }),
    ))
}

pub async fn page(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, DashError> {
    Ok(render::html(
        actix_web::http::StatusCode::OK,
        settings_html(&state, &signed, None)?,
    ))
}

/// Generates a key and shows it in the answer to the POST itself, once.
pub async fn create_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let account_id = signed.account()?.account.id.clone();
    let name = form.get("name").cloned().unwrap_or_default();
    let name_json = serde_json::to_vec(&json!({ "name": name })).unwrap_or_default();
    let name = api_keys::key_name(Some(&web::Bytes::from(name_json)))?;
    let mut created = api_keys::issue_key(&state, &account_id, name).await?;
    created["curl"] = json!(format!(
        "curl {}/v1/workflows -H \"Authorization: Bearer {}\"",
        state.public_url,
        created["key"].as_str().unwrap_or_default()
    ));
    Ok(render::html(
        actix_web::http::StatusCode::CREATED,
        settings_html(&state, &signed, Some(created))?,
    ))
}

pub async fn revoke_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let account_id = signed.account()?.account.id.clone();
    if current_key(&signed) == Some(path.as_str()) {
        return Err(DashError::Forbidden(
            "This session was opened with that key: sign out first, or revoke it from another session."
                .into(),
        ));
    }
    api_keys::revoke(&state, &path, Some(&account_id)).await?;
    Ok(see_other("/dashboard/settings"))
}

pub async fn signing_secret(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, DashError> {
    let account_id = &signed.account()?.account.id;
    // Read fresh: the session's copy may predate a rotation.
    let account = state
        .catalog
        .account(account_id)
        .ok_or(DashError::NotFound)?;
    Ok(render::page(
        Some(&signed),
        "/dashboard/settings",
        "Signing secret",
        "signing_secret.html",
        &json!({
            "secret": account.signing_secret.expose(),
            "csrf": signed.session.csrf_token,
        }),
    ))
}

pub async fn rotate_signing_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let authed = signed.account()?.clone();
    let res = api_keys::rotate_signing_secret(state.clone(), authed).await?;
    json_of(res).await;
    Ok(see_other("/dashboard/settings/signing-secret"))
}
