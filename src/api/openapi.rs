//! The API described: OpenAPI 3.1, generated from the handlers' `#[utoipa::path]` annotations
//! and the schemas below, served at `GET /openapi.json` and committed as `openapi.json` (a
//! test fails when they differ, so every API change shows up as a reviewed diff).
//!
//! The schemas here describe the JSON the handlers write (they build it with `views`), so
//! they are documentation types, never serialised. What every operation shares is added in
//! one place ([`Shared`]): the security scheme, the error envelope for every status a client
//! can cause, the `X-RateLimit-*` headers of `/v1` and the `Retry-After` of 429 and 503.

use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// The error envelope every 4xx and 5xx answer carries.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(ToSchema)]
pub struct ErrorBody {
    /// Machine-readable: `invalid_request`, `unauthorized`, `signature_invalid`, `not_found`,
    /// `method_not_allowed`, `workflow_inactive`, `conflict`, `request_timeout`,
    /// `payload_too_large`, `unsupported_media_type`, `rate_limited`, `unavailable`,
    /// `internal_error`.
    pub code: String,
    pub message: String,
    /// For a field error: `{"field": "actions[0].config.url", "issue": "required"}`.
    pub details: Option<ErrorDetails>,
}

#[derive(ToSchema)]
pub struct ErrorDetails {
    pub field: String,
    /// `required`, `invalid`, `unknown` or `template`.
    pub issue: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum WorkflowStatus {
    Draft,
    Active,
    Paused,
}

#[derive(ToSchema)]
pub struct Trigger {
    pub r#type: TriggerType,
    /// Only events of this name start the workflow; any event when absent.
    #[schema(min_length = 1, max_length = 200)]
    pub event: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum TriggerType {
    Webhook,
}

/// A workflow action; its schema (one per type) is written out in `openapi_actions`, which
/// replaces this placeholder in the document.
#[derive(ToSchema)]
pub struct Action {
    pub r#type: String,
}

#[derive(ToSchema)]
pub struct Workflow {
    #[schema(example = "wf_000661a8dafdb586817fab93")]
    pub id: String,
    pub name: String,
    pub status: WorkflowStatus,
    /// Grows by one with every change to `trigger` or `actions`; see
    /// `GET /v1/workflows/{id}/versions`.
    #[schema(minimum = 1)]
    pub version: u64,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `POST /v1/workflows`.
#[derive(ToSchema)]
pub struct CreateWorkflow {
    /// Not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\s\u0000-\u001f\u007f-\u009f\ufeff]"
    )]
    pub name: String,
    pub trigger: Trigger,
    #[schema(min_items = 1, max_items = 100)]
    pub actions: Vec<Action>,
    /// `draft` when absent.
    pub status: Option<WorkflowStatus>,
}

/// `PATCH /v1/workflows/{id}`: any of the fields; no others.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflow {
    /// Not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\s\u0000-\u001f\u007f-\u009f\ufeff]"
    )]
    pub name: Option<String>,
    pub trigger: Option<Trigger>,
    #[schema(min_items = 1, max_items = 100)]
    pub actions: Option<Vec<Action>>,
    pub status: Option<WorkflowStatus>,
}

#[derive(ToSchema)]
pub struct WorkflowList {
    pub data: Vec<Workflow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Success,
    Failed,
}

#[derive(ToSchema)]
pub struct ExecutionTrigger {
    pub hook_id: Option<String>,
    pub event: String,
    #[schema(format = DateTime)]
    pub received_at: String,
}

#[derive(ToSchema)]
pub struct StepRecord {
    pub index: u64,
    pub r#type: String,
    /// `pending`, `running`, `success`, `failed`, `skipped`.
    pub status: String,
    pub attempts: u64,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub output: Option<Value>,
    pub error: Option<String>,
}

#[derive(ToSchema)]
pub struct Execution {
    #[schema(example = "exec_000661a8dafdb586817fab93e77bfe96")]
    pub id: String,
    pub workflow_id: String,
    /// The workflow version it runs (it finishes on it even when the workflow changes
    /// meanwhile). Absent on executions recorded before workflows had versions.
    #[schema(minimum = 1)]
    pub workflow_version: Option<u64>,
    pub status: ExecutionStatus,
    pub trigger: ExecutionTrigger,
    /// The event's payload, as received.
    pub input: Value,
    pub steps: Vec<StepRecord>,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// While a `delay` (or a long wait between retries) holds it: when it continues.
    #[schema(format = DateTime)]
    pub resume_at: Option<String>,
    /// The execution this one replays.
    pub replay_of: Option<String>,
}

/// One execution in a list: no input, no step outputs.
#[derive(ToSchema)]
pub struct ExecutionSummary {
    pub id: String,
    pub workflow_id: String,
    pub status: ExecutionStatus,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

#[derive(ToSchema)]
pub struct ExecutionList {
    pub data: Vec<ExecutionSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// The answer to an accepted event: 202 once stored; 200 for a duplicate, or for a
/// synchronous hook whose execution finished within its `timeout_ms` (then with `result`).
#[derive(ToSchema)]
pub struct Accepted {
    pub execution_id: String,
    pub status: ExecutionStatus,
    /// Present (true) when an `Idempotency-Key` or `webhook-id` was seen before (200).
    pub duplicate: Option<bool>,
    /// Synchronous hooks: the output of the step the hook names, else of the last
    /// `transform` (null when there is none).
    pub result: Option<serde_json::Value>,
    /// Synchronous hooks: why the execution failed, when it did.
    pub error: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum HookVerify {
    None,
    HmacSha256,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ResponseMode {
    Async,
    Sync,
}

/// How the hook answers whoever posts an event: `async` (the default) answers 202 once the
/// event is stored; `sync` waits for the execution to finish and answers 200 with its result,
/// or 202 as usual when it takes longer than `timeout_ms`.
#[derive(ToSchema)]
pub struct HookResponse {
    pub mode: ResponseMode,
    /// Milliseconds, 1–30000; 10000 when absent.
    #[schema(minimum = 1, maximum = 30000)]
    pub timeout_ms: Option<u64>,
    /// The step (0-based) whose output is the result; the last `transform`'s when absent.
    #[schema(minimum = 0)]
    pub step: Option<u64>,
}

#[derive(ToSchema)]
pub struct Webhook {
    pub id: String,
    /// Where events are posted.
    pub url: String,
    pub workflow_id: String,
    pub event: String,
    pub verify: HookVerify,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Only in the answer to its creation: shown once.
    pub secret: Option<String>,
    /// Present when the hook was created with one.
    pub response: Option<HookResponse>,
}

#[derive(ToSchema)]
pub struct CreateWebhook {
    #[schema(min_length = 1)]
    pub workflow_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub event: String,
    /// `none` when absent.
    pub verify: Option<HookVerify>,
    /// `async` when absent.
    pub response: Option<HookResponse>,
}

#[derive(ToSchema)]
pub struct WebhookList {
    pub data: Vec<Webhook>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub account_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Only in the answer to its creation: shown once.
    pub key: Option<String>,
}

#[derive(ToSchema)]
pub struct CreateApiKey {
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

#[derive(ToSchema)]
pub struct ApiKeyList {
    pub data: Vec<ApiKey>,
    pub total: u64,
}

#[derive(ToSchema)]
pub struct SigningSecret {
    /// `whsec_` + base64: signs outgoing `http_request` calls (`X-Botcadence-Signature`, and
    /// the Standard Webhooks headers).
    pub secret: String,
}

#[derive(ToSchema)]
pub struct Limits {
    pub requests_per_minute: u64,
    pub requests_per_day: u64,
    pub webhooks_per_second: u64,
}

/// Custom limits (Enterprise accounts only); each replaces the plan's.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub requests_per_minute: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub requests_per_day: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub webhooks_per_second: Option<u64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Enterprise,
}

#[derive(ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    /// The limits in force.
    pub limits: Limits,
    /// Custom limits (Enterprise only), or null.
    pub custom_limits: Option<Limits>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub struct AccountList {
    pub data: Vec<Account>,
    pub total: u64,
}

#[derive(ToSchema)]
pub struct CreateAccount {
    /// Not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\s\u0000-\u001f\u007f-\u009f\ufeff]"
    )]
    pub name: String,
    pub plan: Option<Plan>,
    pub limits: Option<LimitsPatch>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// Not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\s\u0000-\u001f\u007f-\u009f\ufeff]"
    )]
    pub name: Option<String>,
    pub plan: Option<Plan>,
    /// `null` clears custom limits.
    pub limits: Option<LimitsPatch>,
}

#[derive(ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Botcadence API",
        description = "Workflow automation: workflows, webhooks and their executions. Errors \
                       are `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    servers((url = "http://127.0.0.1:8080", description = "A daemon on this machine (its [server] listen address)")),
    paths(
        super::workflows::list,
        super::workflows::create,
        super::workflows::get,
        super::workflows::update,
        super::workflows::delete,
        super::versions::list,
        super::versions::get,
        super::replays::create_replay,
        super::replays::get_replay,
        super::replays::cancel_replay,
        super::replays::create_shadow,
        super::replays::get_shadow,
        super::replays::cancel_shadow,
        super::replays::shadow_results,
        super::executions::list,
        super::executions::get,
        super::executions::replay,
        super::webhooks::list,
        super::webhooks::create,
        super::webhooks::get,
        super::webhooks::delete,
        super::api_keys::list,
        super::api_keys::create,
        super::api_keys::delete,
        super::api_keys::signing_secret,
        super::api_keys::rotate_signing_secret,
        super::ingest::ingest,
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        super::admin::list_accounts,
        super::admin::create_account,
        super::admin::get_account,
        super::admin::update_account,
        super::admin::create_key,
        super::admin::revoke_key,
        serve,
    ),
    components(schemas(ErrorEnvelope, ErrorBody, ErrorDetails)),
    modifiers(&Shared),
    tags(
        (name = "workflows", description = "Workflows: a trigger and the actions it runs"),
        (name = "executions", description = "What each event did, step by step; replays"),
        (name = "replays", description = "Bulk replays of past executions, and shadow replays that try a draft on them with nothing sent"),
        (name = "webhooks", description = "The URLs that receive events for a workflow"),
        (name = "api-keys", description = "API keys and the account's signing secret"),
        (name = "events", description = "Posting events to a webhook"),
        (name = "health", description = "Liveness, readiness, metrics and this document"),
        (name = "admin", description = "Operator API (admin token)")
    )
)]
pub struct ApiDoc;

/// The document, as served and committed.
pub fn document() -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("the document has schemas");
    for (name, schema) in super::openapi_actions::schemas() {
        schemas.insert(name.to_string(), schema);
    }
    custom_limits_need_enterprise(schemas);
    serde_json::to_string_pretty(&doc).expect("the document serialises")
}

/// Custom limits need the Enterprise plan: on creation `plan` must say so; on an update that
/// names a plan, that plan (one that names none is checked against the account: 409).
fn custom_limits_need_enterprise(schemas: &mut serde_json::Map<String, Value>) {
    let limits_given =
        serde_json::json!({"required": ["limits"], "properties": {"limits": {"type": "object"}}});
    schemas["CreateAccount"]["if"] = limits_given.clone();
    schemas["CreateAccount"]["then"] =
        serde_json::json!({"required": ["plan"], "properties": {"plan": {"const": "enterprise"}}});
    let mut plan_given = limits_given;
    plan_given["required"] = serde_json::json!(["limits", "plan"]);
    plan_given["properties"]["plan"] = serde_json::json!({"type": "string"});
    schemas["UpdateAccount"]["if"] = plan_given;
    schemas["UpdateAccount"]["then"] =
        serde_json::json!({"properties": {"plan": {"const": "enterprise"}}});
}

/// `GET /openapi.json`: this API's description (no auth).
#[utoipa::path(get, path = "/openapi.json", tag = "health", operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn serve() -> actix_web::HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(DOC.get_or_init(document).clone())
}

/// Adds what every operation shares.
struct Shared;

/// "listWorkflows" → "List workflows": a summary for operations whose handler has none.
fn summary_of(operation_id: &str) -> String {
    let mut out = String::with_capacity(operation_id.len() + 4);
    for (i, c) in operation_id.chars().enumerate() {
        if i == 0 {
            out.push(c.to_ascii_uppercase());
        } else if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out.replace("api key", "API key")
        .replace("open api", "OpenAPI")
}

/// An error answer in the envelope, with the `X-RateLimit-*` headers `/v1` answers carry.
fn error_response(description: &str, retry_after: bool) -> utoipa::openapi::Response {
    let mut r = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
            .build(),
    );
    if retry_after {
        r = r.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    rate_limit_headers(r).build()
}

/// The headers every `/v1` answer carries, described once.
fn rate_limit_header_specs() -> [(&'static str, utoipa::openapi::header::Header); 3] {
    let integer = |what: &str| {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer))
            .description(Some(what))
            .build()
    };
    [
        (
            "X-RateLimit-Limit",
            integer("Requests allowed in the current window"),
        ),
        (
            "X-RateLimit-Remaining",
            integer("Requests left in the current window"),
        ),
        (
            "X-RateLimit-Reset",
            integer("When the window resets, unix seconds"),
        ),
    ]
}

fn rate_limit_headers(mut r: ResponseBuilder) -> ResponseBuilder {
    for (name, header) in rate_limit_header_specs() {
        r = r.header(name, header);
    }
    r
}

/// The `Idempotency-Key` header of `/v1` POSTs (`api::idempotency`), and the
/// `Idempotent-Replayed` header of their successful answers.
fn describe_idempotency(
    parameters: &mut Option<Vec<utoipa::openapi::path::Parameter>>,
    responses: &mut std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::Response>,
    >,
) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "Makes the request safe to retry: the same key with the same request within 24 h \
             gets the first successful answer again (with `Idempotent-Replayed: true`) and \
             nothing runs twice; the same key with a different request is a 409. Only \
             successful answers are remembered. One key per logical request, e.g. a UUID.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(crate::api::idempotency::MAX_KEY_LEN))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    parameters.get_or_insert_with(Vec::new).push(key);
    for (status, response) in responses.iter_mut() {
        if let (true, utoipa::openapi::RefOr::T(r)) = (status.starts_with('2'), response) {
            r.headers.insert(
                "Idempotent-Replayed".to_string(),
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"])),
                    )
                    .description(Some(
                        "Present when this is the stored answer of an earlier request with the same Idempotency-Key",
                    ))
                    .build(),
            );
        }
    }
    responses
        .entry("409".to_string())
        .or_insert(utoipa::openapi::RefOr::Ref(Ref::new(
            "#/components/responses/IdempotencyConflict",
        )));
}

impl Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer bc_live_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token (`BOTCADENCE_ADMIN_TOKEN`)"))
                    .build(),
            ),
        );
        for (name, description, retry_after) in [
            (
                "BadRequest",
                "The request is invalid (the field is named in `details`)",
                false,
            ),
            ("Unauthorized", "Missing or invalid credentials", false),
            (
                "NotFound",
                "No such object (another account's objects are not found either)",
                false,
            ),
            (
                "MethodNotAllowed",
                "Method not allowed on this path (see `Allow`)",
                false,
            ),
            ("RequestTimeout", "The body did not arrive in time", false),
            ("PayloadTooLarge", "The body is too large", false),
            (
                "UnsupportedMediaType",
                "Content-Type must be application/json",
                false,
            ),
            ("RateLimited", "Rate limit exceeded (plan limits)", true),
            (
                "Unavailable",
                "Busy, shutting down or the disk is full; nothing was stored",
                true,
            ),
            (
                "IdempotencyConflict",
                "The Idempotency-Key was used for a different request, or its first request is still running",
                false,
            ),
        ] {
            components.responses.insert(
                name.to_string(),
                utoipa::openapi::RefOr::T(error_response(description, retry_after)),
            );
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let v1 = path.starts_with("/v1/");
            let admin = path.starts_with("/admin/");
            let ingest = path.starts_with("/webhooks/");
            for (op_is_post, op) in [
                (false, &mut item.get),
                (true, &mut item.post),
                (false, &mut item.patch),
                (false, &mut item.delete),
            ]
            .into_iter()
            .filter_map(|(post, op)| op.as_mut().map(|op| (post, op)))
            {
                if op.summary.is_none() {
                    op.summary = op.operation_id.as_deref().map(summary_of);
                }
                if !(v1 || admin) {
                    // Explicitly open: health, metrics, this document, and event ingest (whose
                    // proof is the signature headers).
                    op.security = Some(vec![
                        utoipa::openapi::security::SecurityRequirement::default(),
                    ]);
                }
                if v1 || admin {
                    let scheme = if v1 { "bearer" } else { "adminToken" };
                    op.security =
                        Some(vec![utoipa::openapi::security::SecurityRequirement::new::<
                            &str,
                            [&str; 0],
                            &str,
                        >(scheme, [])]);
                }
                let op_parameters = &mut op.parameters;
                let responses = &mut op.responses.responses;
                let mut add = |status: &str, name: &str| {
                    responses
                        .entry(status.to_string())
                        .or_insert(utoipa::openapi::RefOr::Ref(Ref::new(format!(
                            "#/components/responses/{name}"
                        ))));
                };
                if v1 || admin || ingest {
                    add("400", "BadRequest");
                    add("404", "NotFound");
                    add("405", "MethodNotAllowed");
                    add("503", "Unavailable");
                }
                if v1 || admin {
                    add("401", "Unauthorized");
                    add("408", "RequestTimeout");
                    add("413", "PayloadTooLarge");
                    add("415", "UnsupportedMediaType");
                }
                if v1 {
                    add("429", "RateLimited");
                    // Every /v1 answer carries the account's rate-limit headers.
                    for (_, response) in responses.iter_mut() {
                        if let utoipa::openapi::RefOr::T(r) = response {
                            for (name, header) in rate_limit_header_specs() {
                                r.headers.entry(name.to_string()).or_insert(header);
                            }
                        }
                    }
                }
                if v1 && op_is_post {
                    describe_idempotency(op_parameters, responses);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

    /// The committed `openapi.json` is exactly what the code generates: an API change shows
    /// up as a reviewed diff of that file. `BOTCADENCE_WRITE_OPENAPI=1 cargo test openapi`
    /// rewrites it.
    #[test]
    fn the_committed_openapi_json_is_what_the_code_describes() {
        let generated = document() + "\n";
        if std::env::var_os("BOTCADENCE_WRITE_OPENAPI").is_some() {
            std::fs::write(COMMITTED, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi.json is out of date: run BOTCADENCE_WRITE_OPENAPI=1 cargo test --release openapi and review the diff"
        );
    }

    #[test]
    fn every_route_is_described_with_an_operation_id_and_its_errors() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut ids = std::collections::HashSet::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}"));
                assert!(ids.insert(id.to_string()), "{id} twice");
                if path.starts_with("/v1/") {
                    for status in ["400", "401", "404", "429", "503"] {
                        assert!(
                            op["responses"][status].is_object(),
                            "{method} {path} {status}"
                        );
                    }
                    assert_eq!(op["security"][0]["bearer"], serde_json::json!([]));
                }
            }
        }
        assert_eq!(ids.len(), 37, "{ids:?}");
    }

    #[test]
    fn names_are_described_by_the_servers_own_pattern() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for schema in [
            "CreateWorkflow",
            "UpdateWorkflow",
            "CreateAccount",
            "UpdateAccount",
        ] {
            let pattern = &schemas[schema]["properties"]["name"]["pattern"];
            assert_eq!(pattern, crate::api::request::NAME_PATTERN, "{schema}");
        }
    }
}
