//! Shadow runs: a definition run over a past execution's event with every side effect
//! stubbed — `send_email` and `http_request` are rendered and recorded, never sent; a `delay`
//! is skipped — and the outcome compared with what really happened.
//!
//! Compared: the execution's status, each step's type and status, and the outputs of the
//! pure steps (`filter`, `transform`). The outputs of email and HTTP steps are not: the real
//! one is the server's answer, the shadow one the rendered message. Where the original's
//! email or HTTP step failed (the peer refused, timed out), the comparison stops there: a
//! stub always succeeds, so what came after says nothing about the draft.

use serde_json::{Value, json};

use super::spec::{ActionSpec, StepSpec};
use super::{
    ActionDeps, StepOutcome, execute_pure, render_email, render_request, template_context,
};
use crate::model::{
    Difference, Execution, ExecutionStatus, RunOutline, ShadowResult, StepOutline, StepRecord,
    StepStatus,
};

/// Largest step output kept in a result (JSON bytes); a bigger one is summarised, so a
/// shadow replay's stored results stay small whatever the payloads.
const MAX_OUTPUT_BYTES: usize = 16 << 10;

/// Runs `steps` over `exec` (a copy of the original, its steps reset) with nothing sent.
pub fn run(exec: &mut Execution, steps: &[StepSpec], deps: &ActionDeps) {
    exec.steps = super::runner::initial_steps(steps);
    exec.error = None;
    exec.resume_at = None;
    let mut failure = None;
    for (i, spec) in steps.iter().enumerate() {
        let outcome = {
            let ctx = template_context(exec);
            stubbed(&spec.action, &ctx, deps, i)
        };
        let step = &mut exec.steps[i];
        step.attempts = 1;
        let stop = match outcome {
            StepOutcome::Done(output) => {
                (step.status, step.output) = (StepStatus::Success, Some(output));
                false
            }
            StepOutcome::Stop(output) => {
                (step.status, step.output) = (StepStatus::Success, Some(output));
                true
            }
            StepOutcome::Failed(error)
            | StepOutcome::Retryable { error, .. }
            | StepOutcome::FailedWithOutput(error, _) => {
                step.status = StepStatus::Failed;
                failure = Some(format!("step {i} ({}) failed: {error}", spec.action.kind()));
                step.error = Some(error);
                true
            }
            StepOutcome::Suspend { .. } => unreachable!("a shadow run skips delays"),
        };
        if stop {
            break;
        }
    }
    for step in exec
        .steps
        .iter_mut()
        .filter(|s| s.status == StepStatus::Pending)
    {
        step.status = StepStatus::Skipped;
    }
    exec.status = if failure.is_some() {
        ExecutionStatus::Failed
    } else {
        ExecutionStatus::Success
    };
    exec.error = failure;
}

/// One step, with what would leave the daemon rendered instead of sent.
fn stubbed(
    action: &ActionSpec,
    ctx: &super::TemplateContext<'_>,
    deps: &ActionDeps,
    step: usize,
) -> StepOutcome {
    match action {
        ActionSpec::SendEmail(e) => match render_email(e, ctx, &deps.renderer) {
            Ok(m) => StepOutcome::Done(json!({
                "stubbed": true,
                "email": {"from": m.from, "to": m.to, "cc": m.cc, "subject": m.subject, "body": m.body},
            })),
            Err(e) => StepOutcome::Failed(e),
        },
        ActionSpec::HttpRequest(h) => match render_request(h, ctx, deps, step) {
            Ok(r) => {
                let body = match serde_json::from_slice::<Value>(&r.body) {
                    Ok(v) if r.json_body => v,
                    _ => Value::String(String::from_utf8_lossy(&r.body).into_owned()),
                };
                let headers: serde_json::Map<String, Value> = r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                StepOutcome::Done(json!({
                    "stubbed": true,
                    "request": {"method": r.method, "url": r.url, "headers": headers, "body": body},
                }))
            }
            Err(e) => StepOutcome::Failed(e),
        },
        ActionSpec::Delay { seconds } => {
            StepOutcome::Done(json!({"stubbed": true, "skipped_delay_seconds": seconds}))
        }
        pure => execute_pure(pure, ctx, &deps.renderer).expect("filter and transform are pure"),
    }
}

/// What a run came to, as compared and reported.
pub fn outline(exec: &Execution) -> RunOutline {
    RunOutline {
        status: exec.status,
        steps: exec.steps.iter().map(step_outline).collect(),
        error: exec.error.clone(),
    }
}

fn step_outline(s: &StepRecord) -> StepOutline {
    StepOutline {
        index: s.index,
        kind: s.kind.clone(),
        status: s.status,
        output: s.output.as_ref().map(bounded),
        error: s.error.clone(),
    }
}

/// The output itself, or a summary of its size when it is too big to keep.
fn bounded(output: &Value) -> Value {
    let bytes = serde_json::to_vec(output).map_or(usize::MAX, |v| v.len());
    if bytes <= MAX_OUTPUT_BYTES {
        output.clone()
    } else {
        json!({"truncated": true, "bytes": bytes})
    }
}

/// The result for an event the draft's trigger (`event`) would not have started.
pub fn not_triggered(original: &Execution, wanted: &str) -> ShadowResult {
    ShadowResult {
        execution_id: original.id.clone(),
        changed: true,
        differences: vec![Difference {
            path: "trigger.event".into(),
            original: json!(original.trigger.event),
            shadow: json!(wanted),
        }],
        original: outline(original),
        shadow: RunOutline {
            status: ExecutionStatus::Success,
            steps: Vec::new(),
            error: Some(format!("the draft's trigger takes '{wanted}' events only")),
        },
    }
}

fn is_pure(kind: &str) -> bool {
    matches!(kind, "filter" | "transform")
}

/// How the shadow run differs from the original, in step order.
pub fn differences(original: &RunOutline, shadow: &RunOutline) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |path: String, a: Value, b: Value| {
        if a != b {
            out.push(Difference {
                path,
                original: a,
                shadow: b,
            });
        }
    };
    // Where the original's effect failed, the stub's success tells nothing: stop there.
    let effect_failed = original.steps.iter().position(|s| {
        matches!(s.kind.as_str(), "send_email" | "http_request") && s.status == StepStatus::Failed
    });
    if effect_failed.is_none() {
        differ(
            "status".into(),
            json!(original.status),
            json!(shadow.status),
        );
    }
    let steps = effect_failed.unwrap_or(original.steps.len().max(shadow.steps.len()));
    for i in 0..steps {
        let (a, b) = (original.steps.get(i), shadow.steps.get(i));
        differ(
            format!("steps[{i}].type"),
            json!(a.map(|s| &s.kind)),
            json!(b.map(|s| &s.kind)),
        );
        differ(
            format!("steps[{i}].status"),
            json!(a.map(|s| s.status)),
            json!(b.map(|s| s.status)),
        );
        if let (Some(a), Some(b)) = (a, b)
            && a.kind == b.kind
            && is_pure(&a.kind)
        {
            differ(
                format!("steps[{i}].output"),
                json!(a.output),
                json!(b.output),
            );
        }
    }
    out
}
