//! Workflow logic as plain code: parsing definitions, rendering templates, running actions,
//! deciding retries, and stepping an execution forward. No actix, no RocksDB: the actors hand
//! in a [`runner::Checkpoint`] that persists progress.

pub mod definitions;
pub mod email;
pub mod http;
pub mod retry;
pub mod runner;
pub mod spec;
pub mod ssrf;
pub mod template;

use std::time::Duration;

use serde_json::{Map, Value, json};

use email::{Mailer, RenderedEmail};
use http::{HttpCaller, RenderedRequest};
use spec::ActionSpec;
use template::Renderer;

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
pub struct EngineDeps {
    pub renderer: Renderer,
    pub mailer: Mailer,
    pub http: HttpCaller,
    pub default_http_timeout: Duration,
    pub max_http_timeout: Duration,
}

/// The template context of an execution: the payload's top-level keys, `payload`, `event`
/// (the event name), `execution` (`id`, `workflow_id`), `steps` (earlier outputs by index)
/// and `vars` (values set by `transform`, also available at the top level).
pub fn template_context(exec: &Execution) -> Value {
    let mut ctx = match &exec.input {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let mut vars = Map::new();
    let mut outputs = Vec::with_capacity(exec.steps.len());
    for step in &exec.steps {
        outputs.push(step.output.clone().unwrap_or(Value::Null));
        if step.kind == "transform" && step.status == StepStatus::Success {
            if let Some(Value::Object(set)) = &step.output {
                vars.extend(set.clone());
            }
        }
    }
    for (k, v) in &vars {
        ctx.insert(k.clone(), v.clone());
    }
    ctx.insert("payload".into(), exec.input.clone());
    ctx.insert("event".into(), Value::String(exec.trigger.event.clone()));
    ctx.insert(
        "execution".into(),
        json!({"id": exec.id, "workflow_id": exec.workflow_id}),
    );
    ctx.insert("steps".into(), Value::Array(outputs));
    ctx.insert("vars".into(), Value::Object(vars));
    Value::Object(ctx)
}

/// Runs one attempt of one action.
pub async fn execute_action(
    action: &ActionSpec,
    ctx: &Value,
    deps: &EngineDeps,
    signing_secret: &str,
    now_ms: i64,
) -> StepOutcome {
    let r = &deps.renderer;
    macro_rules! render {
        ($e:expr) => {
            match r.render($e, ctx) {
                Ok(v) => v,
                Err(e) => return StepOutcome::Failed(e.to_string()),
            }
        };
    }
    match action {
        ActionSpec::SendEmail(e) => {
            let email = RenderedEmail {
                from: match &e.from {
                    Some(f) => Some(render!(f)),
                    None => None,
                },
                to: render!(&e.to),
                cc: {
                    let mut cc = Vec::with_capacity(e.cc.len());
                    for c in &e.cc {
                        cc.push(render!(c));
                    }
                    cc
                },
                subject: render!(&e.subject),
                body: render!(&e.body),
            };
            // Boxed: the SMTP future is large, and inline it would make every execution's
            // future (moved on each spawn) as large, even for a transform-only workflow.
            Box::pin(deps.mailer.send(email)).await
        }
        ActionSpec::HttpRequest(h) => {
            let mut headers = Vec::with_capacity(h.headers.len());
            for (k, v) in &h.headers {
                headers.push((k.clone(), render!(v)));
            }
            let body = match &h.body {
                Some(b) => match r.render_value(b, ctx) {
                    Ok(v) => Some(v),
                    Err(e) => return StepOutcome::Failed(e.to_string()),
                },
                None => None,
            };
            let (body, json_body) = http::body_bytes(body.as_ref());
            let timeout = h
                .timeout_ms
                .map_or(deps.default_http_timeout, Duration::from_millis)
                .min(deps.max_http_timeout);
            let request = RenderedRequest {
                method: h.method.clone(),
                url: render!(&h.url),
                headers,
                body,
                json_body,
                timeout,
            };
            Box::pin(deps.http.call(request, signing_secret)).await
        }
        ActionSpec::Delay { seconds } => StepOutcome::Suspend {
            until_ms: now_ms + (*seconds as i64) * 1000,
        },
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
                    Err(e) => return StepOutcome::Failed(format!("set.{k}: {e}")),
                }
            }
            StepOutcome::Done(Value::Object(out))
        }
    }
}
