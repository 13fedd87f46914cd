//! Workflows (list, create and edit in a JSON editor, activate / pause, delete) and their
//! executions (filtered pages, the detail of one, replay). Every change is made by the API's
//! own functions, so the editor shows the API's validation errors, naming the field.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::guard::{DashError, SignedIn};
use super::render::html;
use super::{json_of, render, see_other};
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::{executions as api_executions, views, workflows as api_workflows};
use crate::model::Workflow;

const NEW_WORKFLOW: &str = r#"{
  "name": "Welcome email",
  "status": "draft",
  "trigger": {"type": "webhook", "event": "user.created"},
  "actions": [
    {
      "type": "send_email",
      "config": {
        "to": "{{user.email}}",
        "subject": "Welcome!",
        "body": "Hello {{user.name}}"
      }
    }
  ]
}"#;

/// What the editor shows after the API refused a definition.
fn editor_error(e: &ApiError) -> Value {
    let details = e.details().cloned().unwrap_or(Value::Null);
    json!({
        "message": e.message(),
        "field": details.get("field").cloned().unwrap_or(Value::Null),
        "issue": details.get("issue").cloned().unwrap_or(Value::Null),
    })
}

fn editor(
    signed: &SignedIn,
    action: &str,
    definition: &str,
    error: Option<Value>,
    submit: &str,
) -> String {
    // Rendered on its own and inserted into the page as our own markup.
    let context = minijinja::context! {
        action => action,
        definition => definition,
        error => error,
        submit => submit,
        csrf => signed.session.csrf_token.clone(),
    };
    render::fragment("editor.html", &context)
}

/// A definition as the editor shows it: the fields a create or PATCH takes.
fn definition_of(w: &Workflow) -> String {
    let v = views::workflow(w);
    let body = json!({
        "name": v["name"],
        "status": v["status"],
        "trigger": v["trigger"],
        "actions": v["actions"],
    });
    serde_json::to_string_pretty(&body).unwrap_or_default()
}

fn parse_definition(text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::invalid(format!("The definition is not valid JSON: {e}")))
}

pub async fn list(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, DashError> {
    let account = &signed.account()?.account;
    let mut workflows = state.catalog.workflows_of(&account.id);
    workflows.sort_by_key(|w| std::cmp::Reverse(w.updated_at));
    let rows: Vec<Value> = workflows.iter().map(|w| views::workflow(w)).collect();
    Ok(render::page(
        Some(&signed),
        "/dashboard/workflows",
        "Workflows",
        "workflows.html",
        &json!({ "workflows": rows }),
    ))
}

fn new_page(signed: &SignedIn, definition: &str, error: Option<Value>) -> String {
    let form = editor(
        signed,
        "/dashboard/workflows",
        definition,
        error,
        "Create workflow",
    );
    render::page_html(
        Some(signed),
        "/dashboard/workflows",
        "New workflow",
        "new_workflow.html",
        &minijinja::context! { editor => render::trusted_html(form) },
    )
}

pub async fn new_form(signed: SignedIn) -> Result<HttpResponse, DashError> {
    signed.account()?;
    Ok(html(StatusCode::OK, new_page(&signed, NEW_WORKFLOW, None)))
}

pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let authed = signed.account()?.clone();
    let text = form.get("definition").cloned().unwrap_or_default();
    let created = match parse_definition(&text) {
        Ok(body) => api_workflows::create(state.clone(), authed, web::Json(body)).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(res) => {
            let body = json_of(res).await;
            let id = body["id"].as_str().unwrap_or_default();
            Ok(see_other(&format!("/dashboard/workflows/{id}")))
        }
        Err(e) => Ok(html(
            actix_web::ResponseError::status_code(&e),
            new_page(&signed, &text, Some(editor_error(&e))),
        )),
    }
}

fn workflow_page(
    state: &AppState,
    signed: &SignedIn,
    workflow: &Workflow,
    definition: &str,
    error: Option<Value>,
) -> String {
    let hooks: Vec<Value> = state
        .catalog
        .hooks_of(&workflow.account_id)
        .iter()
        .filter(|h| h.workflow_id == workflow.id)
        .map(|h| views::hook(h, &state.public_url))
        .collect();
    let form = editor(
        signed,
        &format!("/dashboard/workflows/{}", workflow.id),
        definition,
        error,
        "Save changes",
    );
    let context = minijinja::context! {
        workflow => views::workflow(workflow),
        hooks => hooks,
        csrf => signed.session.csrf_token.clone(),
        editor => render::trusted_html(form),
    };
    render::page_html(
        Some(signed),
        "/dashboard/workflows",
        &workflow.name,
        "workflow.html",
        &context,
    )
}

pub async fn show(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashError> {
    let wf = api_workflows::owned_workflow(&state, signed.account()?, &path)?;
    Ok(html(
        StatusCode::OK,
        workflow_page(&state, &signed, &wf, &definition_of(&wf), None),
    ))
}

pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let authed = signed.account()?;
    let wf = api_workflows::owned_workflow(&state, authed, &path)?;
    let text = form.get("definition").cloned().unwrap_or_default();
    let updated = match parse_definition(&text) {
        Ok(body) => api_workflows::update_workflow(&state, authed, &wf.id, body).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(wf) => Ok(see_other(&format!("/dashboard/workflows/{}", wf.id))),
        Err(ApiError::NotFound(_)) => Err(DashError::NotFound),
        Err(e) => Ok(html(
            actix_web::ResponseError::status_code(&e),
            workflow_page(&state, &signed, &wf, &text, Some(editor_error(&e))),
        )),
    }
}

pub async fn set_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let status = form.get("status").cloned().unwrap_or_default();
    let wf =
        api_workflows::update_workflow(&state, signed.account()?, &path, json!({"status": status}))
            .await?;
    Ok(see_other(&format!("/dashboard/workflows/{}", wf.id)))
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashError> {
    let wf = api_workflows::owned_workflow(&state, signed.account()?, &path)?;
    let hooks = state.catalog.hook_ids_of_workflow(&wf.id).len();
    let question = format!(
        "Delete the workflow “{}” and its {hooks} webhook{}? Events posted to them will be refused. Its executions stay readable until retention removes them.",
        wf.name,
        if hooks == 1 { "" } else { "s" }
    );
    Ok(render::page(
        Some(&signed),
        "/dashboard/workflows",
        "Delete workflow",
        "confirm.html",
        &minijinja::context! {
            action => format!("/dashboard/workflows/{}/delete", wf.id),
            cancel => format!("/dashboard/workflows/{}", wf.id),
            question => question,
            confirm => "Delete workflow",
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
    api_workflows::delete_workflow(&state, signed.account()?, &path).await?;
    Ok(see_other("/dashboard/workflows"))
}

const PER_PAGE: usize = 25;

pub async fn executions(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    let wf = api_workflows::owned_workflow(&state, signed.account()?, &path)?;
    // Empty filter fields are "no filter", as a form sends them.
    let mut filters: HashMap<String, String> = query
        .iter()
        .filter(|(k, v)| !v.is_empty() && ["status", "from", "to", "page"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    filters.insert("per_page".into(), PER_PAGE.to_string());
    let filtered = ["status", "from", "to"]
        .iter()
        .any(|f| filters.contains_key(*f));
    let (rows, total, page, error) = match api_executions::execution_query(&filters) {
        Ok((page, q)) => {
            let (rows, total) = state
                .store
                .list_executions(wf.id.clone(), q)
                .await
                .map_err(ApiError::from)?;
            (rows, total, page.page, None)
        }
        Err(e) => (Vec::new(), 0, 1, Some(e.message())),
    };
    let pages = (total as usize).div_ceil(PER_PAGE).max(1);
    let link = |p: usize| {
        let mut q: Vec<(String, String)> = filters
            .iter()
            .filter(|(k, _)| k.as_str() != "page" && k.as_str() != "per_page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.sort();
        q.push(("page".into(), p.to_string()));
        let qs: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        format!("/dashboard/workflows/{}/executions?{}", wf.id, qs.join("&"))
    };
    let hook = state
        .catalog
        .hooks_of(&wf.account_id)
        .into_iter()
        .find(|h| h.workflow_id == wf.id);
    let curl = hook.map(|h| {
        format!(
            "curl -X POST {}/webhooks/{} -H 'Content-Type: application/json' -d '{{\"user\": {{\"email\": \"ada@example.com\", \"name\": \"Ada\"}}}}'",
            state.public_url, h.id
        )
    });
    let context = json!({
        "workflow": views::workflow(&wf),
        "executions": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "prev": (page > 1).then(|| link(page - 1)),
        "next": (page < pages).then(|| link(page + 1)),
        "filters": {
            "status": filters.get("status"),
            "from": filters.get("from"),
            "to": filters.get("to"),
        },
        "statuses": ["queued", "running", "success", "failed"],
        "filtered": filtered,
        "error": error,
        "curl": curl,
    });
    Ok(render::page(
        Some(&signed),
        "/dashboard/workflows",
        &format!("Executions: {}", wf.name),
        "executions.html",
        &context,
    ))
}

/// Query-string encoding for the few characters a filter value may hold.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn execution(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashError> {
    let authed = signed.account()?;
    let exec = api_executions::owned_execution(&state, authed, path.into_inner()).await?;
    let workflow_name = state
        .catalog
        .workflow(&exec.workflow_id)
        .map_or_else(|| "a deleted workflow".to_string(), |w| w.name.clone());
    let view = views::execution(&exec);
    let steps: Vec<Value> = view["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut s| {
            // Shown as indented JSON text (escaped by the template).
            if let Some(out) = s.get("output").filter(|o| !o.is_null()) {
                s["output"] = Value::String(serde_json::to_string_pretty(out).unwrap_or_default());
            }
            s
        })
        .collect();
    let context = json!({
        "e": view,
        "steps": steps,
        "input": serde_json::to_string_pretty(&exec.input).unwrap_or_default(),
        "workflow_name": workflow_name,
        "csrf": signed.session.csrf_token,
    });
    Ok(render::page(
        Some(&signed),
        "/dashboard/workflows",
        &format!("Execution {}", exec.id),
        "execution.html",
        &context,
    ))
}

pub async fn replay(
    state: web::Data<AppState>,
    req: HttpRequest,
    signed: SignedIn,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, DashError> {
    signed.check_form(&req, &form)?;
    let new =
        api_executions::replay_execution(&state, signed.account()?, path.into_inner()).await?;
    Ok(see_other(&format!("/dashboard/executions/{}", new.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_encoded_in_page_links() {
        assert_eq!(
            percent_encode("2026-12-01T00:00:00Z"),
            "2026-12-01T00%3A00%3A00Z"
        );
        assert_eq!(percent_encode("a&b=c"), "a%26b%3Dc");
    }

    #[test]
    fn the_new_workflow_template_is_a_valid_definition() {
        let v: Value = serde_json::from_str(NEW_WORKFLOW).unwrap();
        assert_eq!(v["trigger"]["type"], "webhook");
    }
}
