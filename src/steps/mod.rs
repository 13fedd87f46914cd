//! Workflow logic as plain code: parsing definitions, rendering templates, running actions,
//! deciding retries, and stepping an execution forward. No actix, no RocksDB: the actors hand
//! in a [`runner::Checkpoint`] that persists progress.

pub mod definitions;
pub mod email;
pub mod http;
pub mod retry;
pub mod runner;
pub mod shadow;
pub mod spec;
pub mod ssrf;
pub mod template;

use std::time::Duration;

use serde_json::{Map, Value, json};

use email::{Mailer, RenderedEmail};
use http::{HttpCaller, RenderedRequest};
use minijinja::Value as TemplateValue;
use spec::ActionSpec;
use template::{Renderer, Variables};

use crate::model::{Execution, StepStatus};

/// What one attempt of one action came to.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Finished; the output is recorded and visible to later steps.
    Done(Value),
    /// Failed in a way another attempt may fix (network, 5xx, 429).
    Retryable {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Failed for good (bad address, 4xx, refused destination).
    Failed(String),
    /// Failed for good, with a response worth recording.
    FailedWithOutput(String, Value),
    /// Wait until this time (unix ms), then continue with the next step.
    Suspend { until_ms: i64 },
    /// A filter said no: the execution ends successfully, the remaining steps are skipped.
    Stop(Value),
}

/// What actions need from the outside world.
pub struct ActionDeps {
    pub renderer: Renderer,
    pub mailer: Mailer,
    pub http: HttpCaller,
    pub default_http_timeout: Duration,
    pub max_http_timeout: Duration,
}

/// The template variables of an execution: the payload's top-level keys, `payload`, `event`
/// (the event name), `execution` (`id`, `workflow_id`), `steps` (earlier outputs by index)
/// and `vars` (values set by `transform`, also available at the top level, where they hide
/// payload keys of the same name; the built-in names hide both). Borrowed from the
/// execution: a variable is converted only when a template names it.
pub struct TemplateContext<'a> {
    exec: &'a Execution,
    /// Outputs of the finished `transform` steps, in step order.
    transforms: Vec<&'a Map<String, Value>>,
}

pub fn template_context(exec: &Execution) -> TemplateContext<'_> {
    let transforms = exec
        .steps
        .iter()
        .filter(|s| s.kind == "transform" && s.status == StepStatus::Success)
        .filter_map(|s| match &s.output {
            Some(Value::Object(set)) => Some(set),
            _ => None,
        })
        .collect();
    TemplateContext { exec, transforms }
}

impl TemplateContext<'_> {
    /// What `transform` steps set; a later step's value wins.
    fn vars(&self) -> Map<String, Value> {
        let mut vars = Map::new();
        for set in &self.transforms {
            vars.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        vars
    }
}

impl Variables for TemplateContext<'_> {
    fn variable(&self, name: &str) -> Option<TemplateValue> {
        let exec = self.exec;
        Some(match name {
            "payload" => TemplateValue::from_serialize(&exec.input),
            "event" => TemplateValue::from(exec.trigger.event.as_str()),
            "execution" => TemplateValue::from_iter([
                ("id", exec.id.as_str()),
                ("workflow_id", exec.workflow_id.as_str()),
            ]),
            "steps" => TemplateValue::from_serialize(
                exec.steps
                    .iter()
                    .map(|s| s.output.as_ref().unwrap_or(&Value::Null))
                    .collect::<Vec<_>>(),
            ),
            "vars" => TemplateValue::from_serialize(self.vars()),
            _ => TemplateValue::from_serialize(self.json(name)?),
        })
    }

    /// A transform's output or a field of the event; the names with a meaning of their own
    /// (`payload`, `event`, …) are not plain JSON here.
    fn json(&self, name: &str) -> Option<&Value> {
        if matches!(name, "payload" | "event" | "execution" | "steps" | "vars") {
            return None;
        }
        let set = self.transforms.iter().rev().find_map(|set| set.get(name));
        set.or_else(|| self.exec.input.as_object()?.get(name))
    }
}

/// An email step's fields rendered for this execution.
pub fn render_email(
    e: &spec::SendEmail,
    ctx: &TemplateContext<'_>,
    r: &Renderer,
) -> Result<RenderedEmail, String> {
    let render = |t: &str| r.render(t, ctx).map_err(|e| e.to_string());
    let mut cc = Vec::with_capacity(e.cc.len());
    for c in &e.cc {
        cc.push(render(c)?);
    }
    Ok(RenderedEmail {
        from: e.from.as_deref().map(render).transpose()?,
        to: render(&e.to)?,
        cc,
        subject: render(&e.subject)?,
        body: render(&e.body)?,
    })
}

/// An `http_request` step rendered for this execution: what would be sent; `step` names the
/// message (every attempt of one step carries the same `webhook-id`).
pub fn render_request(
    h: &spec::HttpRequest,
    ctx: &TemplateContext<'_>,
    deps: &ActionDeps,
    step: usize,
) -> Result<RenderedRequest, String> {
    let r = &deps.renderer;
    let mut headers = Vec::with_capacity(h.headers.len());
    for (k, v) in &h.headers {
        headers.push((k.clone(), r.render(v, ctx).map_err(|e| e.to_string())?));
    }
    let body = match &h.body {
        Some(b) => Some(r.render_value(b, ctx).map_err(|e| e.to_string())?),
        None => None,
    };
    let (body, json_body) = http::body_bytes(body.as_ref());
    let timeout = h
        .timeout_ms
        .map_or(deps.default_http_timeout, Duration::from_millis)
        .min(deps.max_http_timeout);
    Ok(RenderedRequest {
        method: h.method.clone(),
        url: r.render(&h.url, ctx).map_err(|e| e.to_string())?,
        headers,
        body,
        json_body,
        timeout,
        message_id: format!("msg_{}_{step}", ctx.exec.id),
    })
}

/// Runs one attempt of a step that touches nothing outside the daemon (`filter`,
/// `transform`); None for the others.
pub fn execute_pure(
    action: &ActionSpec,
    ctx: &TemplateContext<'_>,
    r: &Renderer,
) -> Option<StepOutcome> {
    Some(match action {
        ActionSpec::Filter { condition } => match r.condition(condition, ctx) {
            Ok(true) => StepOutcome::Done(json!({"passed": true})),
            Ok(false) => StepOutcome::Stop(json!({"passed": false})),
            Err(e) => StepOutcome::Failed(e.to_string()),
        },
        ActionSpec::Transform { set } => {
            let mut out = Map::new();
            for (k, v) in set {
                match r.render_value(v, ctx) {
                    Ok(v) => {
                        out.insert(k.clone(), v);
                    }
                    Err(e) => return Some(StepOutcome::Failed(format!("set.{k}: {e}"))),
                }
            }
            StepOutcome::Done(Value::Object(out))
        }
        _ => return None,
    })
}

/// Runs one attempt of one action; `step` is its index in the workflow (it names the
/// outgoing message, so every attempt of one step carries the same `webhook-id`).
pub async fn execute_action(
    action: &ActionSpec,
    ctx: &TemplateContext<'_>,
    deps: &ActionDeps,
    signing_secret: &str,
    step: usize,
    now_ms: i64,
) -> StepOutcome {
    match action {
        ActionSpec::SendEmail(e) => match render_email(e, ctx, &deps.renderer) {
            // Boxed: the SMTP future is large, and inline it would make every execution's
            // future (moved on each spawn) as large, even for a transform-only workflow.
            Ok(email) => Box::pin(deps.mailer.send(email)).await,
            Err(e) => StepOutcome::Failed(e),
        },
        ActionSpec::HttpRequest(h) => match render_request(h, ctx, deps, step) {
            Ok(request) => Box::pin(deps.http.call(request, signing_secret)).await,
            Err(e) => StepOutcome::Failed(e),
        },
        ActionSpec::Delay { seconds } => StepOutcome::Suspend {
            until_ms: now_ms + (*seconds as i64) * 1000,
        },
        pure => execute_pure(pure, ctx, &deps.renderer).expect("filter and transform are pure"),
    }
}
