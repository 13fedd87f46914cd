//! Steps an execution forward from its first unfinished step to a terminal status or a
//! suspension (a `delay`, or a wait between retries of [`HAND_BACK_WAIT`] or more). Progress is
//! persisted through a [`Checkpoint`] after every step that has effects outside the daemon
//! (email, HTTP, delay), so a restart never repeats a finished step; pure steps (filter,
//! transform) are simply recomputed. A suspension is persisted with the time it ends and the
//! run returns: the wait costs a stored due time, not a task.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use rand::Rng;
use serde_json::json;

use super::spec::{ACTION_TYPES, ActionSpec, StepSpec};
use super::{ActionDeps, StepOutcome, execute_action, template_context};
use crate::model::{Execution, ExecutionStatus, Persisted, StepRecord, StepStatus};
use crate::timefmt::now_ms;

/// Persists an execution's progress. `previous` is what was last persisted of it.
pub trait Checkpoint: Send + Sync {
    fn save(
        &self,
        exec: &Execution,
        previous: Persisted,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// Waits between retries this long or longer are handed back to the store (the execution is
/// suspended until then) instead of being slept through in memory.
pub const HAND_BACK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How far an execution got when run in place by [`run_inline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlineRun {
    Finished(ExecutionStatus),
    /// Stopped at a `delay` ending at `until_ms`.
    Suspended {
        until_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunResult {
    /// Success or failed, persisted.
    Finished(ExecutionStatus),
    /// Waiting for a `delay` or a retry; persisted; run again at `until_ms`.
    Suspended { until_ms: i64 },
    /// Progress could not be persisted; the execution stays pending and resumes on restart.
    NotPersisted(String),
}

/// Step records for a new execution of these steps.
pub fn initial_steps(steps: &[StepSpec]) -> Vec<StepRecord> {
    pending_steps(steps.iter().map(|s| s.action.kind()))
}

/// Pending step records, one per action type, in order.
pub fn pending_steps<'a>(kinds: impl Iterator<Item = &'a str>) -> Vec<StepRecord> {
    kinds
        .enumerate()
        .map(|(index, kind)| StepRecord {
            index,
            kind: kind.to_string(),
            status: StepStatus::Pending,
            attempts: 0,
            started_at: None,
            completed_at: None,
            duration_ms: None,
            output: None,
            error: None,
        })
        .collect()
}

/// The metrics of one action type's attempts with one outcome.
struct AttemptSeries {
    attempts: metrics::Counter,
    duration: metrics::Histogram,
}

/// Registered once per action type and outcome: a labelled lookup per attempt cost more
/// than the recording. A kind missing from `ACTION_TYPES` (none is) would be looked up by
/// its labels on every attempt, never refused.
fn record_attempt(kind: &'static str, ok: bool, seconds: f64) {
    static SERIES: std::sync::OnceLock<Vec<[AttemptSeries; 2]>> = std::sync::OnceLock::new();
    let series = SERIES.get_or_init(|| {
        ACTION_TYPES
            .iter()
            .map(|&action| [false, true].map(|ok| attempt_series(action, ok)))
            .collect()
    });
    let registered = ACTION_TYPES.iter().position(|&k| k == kind);
    let looked_up;
    let series = match registered {
        Some(index) => &series[index][usize::from(ok)],
        None => {
            looked_up = attempt_series(kind, ok);
            &looked_up
        }
    };
    series.attempts.increment(1);
    series.duration.record(seconds);
}

fn attempt_series(action: &'static str, ok: bool) -> AttemptSeries {
    let outcome = if ok { "success" } else { "error" };
    AttemptSeries {
        attempts: metrics::counter!("botcadence_engine_action_attempts_total", "action" => action, "outcome" => outcome),
        duration: metrics::histogram!("botcadence_engine_action_duration_seconds", "action" => action, "outcome" => outcome),
    }
}

fn has_effects(action: &ActionSpec) -> bool {
    matches!(
        action,
        ActionSpec::SendEmail(_) | ActionSpec::HttpRequest(_) | ActionSpec::Delay { .. }
    )
}

/// How many leading steps a run in place touches, when it can happen at all: the steps up to
/// the end or to the first `delay`, all of them pure (filter, transform). Such a run sends
/// nothing anywhere, so it can happen before the event is stored with nothing to undo if the
/// write fails. None when an effect (email, HTTP) comes before any `delay`.
pub fn inline_prefix(steps: &[StepSpec]) -> Option<usize> {
    for (i, step) in steps.iter().enumerate() {
        match step.action {
            ActionSpec::Delay { .. } => return Some(i + 1),
            ref action if has_effects(action) => return None,
            _ => {}
        }
    }
    Some(steps.len())
}

/// A checkpoint that keeps nothing: the caller stores the execution itself.
struct KeptByCaller;

impl Checkpoint for KeptByCaller {
    async fn save(&self, _: &Execution, _: Persisted) -> Result<(), String> {
        Ok(())
    }
}

/// Runs a new execution on the calling thread as far as it goes without effects (see
/// [`inline_prefix`]): to its end, or to a leading `delay`. Nothing is persisted; the caller
/// stores the result. Returns None, leaving `exec` as new, when the steps do not allow it or
/// the run panicked (the caller then queues it, and the workflow actor's supervision records
/// the failure).
///
/// Pure steps and a delay never wait on anything — no I/O, no timer: a pure step fails for
/// good rather than with a retryable error — so the run completes on its first poll.
pub fn run_inline(
    exec: &mut Execution,
    steps: &[StepSpec],
    deps: &ActionDeps,
) -> Option<InlineRun> {
    inline_prefix(steps)?;
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run(exec, steps, deps, "", &KeptByCaller).now_or_never()
    }));
    match ran {
        Ok(Some(RunResult::Finished(status))) => Some(InlineRun::Finished(status)),
        Ok(Some(RunResult::Suspended { until_ms })) => Some(InlineRun::Suspended { until_ms }),
        _ => {
            reset(exec, steps);
            None
        }
    }
}

/// Back to a new, queued execution of `steps`.
fn reset(exec: &mut Execution, steps: &[StepSpec]) {
    exec.status = ExecutionStatus::Queued;
    exec.steps = initial_steps(steps);
    exec.started_at = None;
    exec.completed_at = None;
    exec.duration_ms = None;
    exec.error = None;
    exec.resume_at = None;
}

/// Runs `exec` (whose persisted status is `exec.status`) against `steps`.
pub async fn run<C: Checkpoint>(
    exec: &mut Execution,
    steps: &[StepSpec],
    deps: &ActionDeps,
    signing_secret: &str,
    checkpoint: &C,
) -> RunResult {
    let mut stored = exec.persisted();
    if exec.steps.len() != steps.len() {
        exec.steps = initial_steps(steps);
    }
    let started = now_ms();
    if exec.started_at.is_none() {
        exec.started_at = Some(started);
    }
    exec.status = ExecutionStatus::Running;

    // Coming back from a delay.
    if let Some(until) = exec.resume_at {
        let now = now_ms();
        if now < until {
            return RunResult::Suspended { until_ms: until };
        }
        if let Some(step) = exec
            .steps
            .iter_mut()
            .find(|s| s.kind == "delay" && s.status == StepStatus::Running)
        {
            complete(
                step,
                StepStatus::Success,
                Some(json!({"resumed_at": crate::timefmt::rfc3339(now)})),
                None,
                now,
            );
        }
        exec.resume_at = None;
    }

    let first = exec
        .steps
        .iter()
        .position(|s| matches!(s.status, StepStatus::Pending | StepStatus::Running))
        .unwrap_or(steps.len());

    let mut failure: Option<String> = None;
    let mut stopped = false;
    for (i, spec) in steps.iter().enumerate().skip(first) {
        let kind = spec.action.kind();
        {
            let step = &mut exec.steps[i];
            step.status = StepStatus::Running;
            step.started_at = Some(now_ms());
            step.error = None;
        }
        let outcome = loop {
            exec.steps[i].attempts += 1;
            let attempt = exec.steps[i].attempts;
            let ctx = template_context(exec);
            let t0 = Instant::now();
            let outcome =
                execute_action(&spec.action, &ctx, deps, signing_secret, i, now_ms()).await;
            let ok = matches!(
                outcome,
                StepOutcome::Done(_) | StepOutcome::Stop(_) | StepOutcome::Suspend { .. }
            );
            record_attempt(kind, ok, t0.elapsed().as_secs_f64());
            match outcome {
                StepOutcome::Retryable { error, retry_after }
                    if attempt < spec.retry.max_attempts =>
                {
                    let unit: f64 = rand::thread_rng().r#gen();
                    let wait = spec.retry.wait_before(attempt + 1, retry_after, unit);
                    tracing::info!(execution_id = %exec.id, step = i, attempt, error = %error, wait_ms = wait.as_millis() as u64, "step failed, retrying");
                    exec.steps[i].error = Some(error);
                    if wait >= HAND_BACK_WAIT {
                        // The step stays running; the next run picks it up at its next
                        // attempt once the wait is over.
                        let until_ms = now_ms() + wait.as_millis() as i64;
                        exec.resume_at = Some(until_ms);
                        if let Err(e) = checkpoint.save(exec, stored).await {
                            return RunResult::NotPersisted(e);
                        }
                        return RunResult::Suspended { until_ms };
                    }
                    tokio::time::sleep(wait).await;
                }
                other => break other,
            }
        };
        let now = now_ms();
        match outcome {
            StepOutcome::Done(output) => complete(
                &mut exec.steps[i],
                StepStatus::Success,
                Some(output),
                None,
                now,
            ),
            StepOutcome::Stop(output) => {
                complete(
                    &mut exec.steps[i],
                    StepStatus::Success,
                    Some(output),
                    None,
                    now,
                );
                stopped = true;
            }
            StepOutcome::Suspend { until_ms } => {
                exec.resume_at = Some(until_ms);
                if let Err(e) = checkpoint.save(exec, stored).await {
                    return RunResult::NotPersisted(e);
                }
                return RunResult::Suspended { until_ms };
            }
            StepOutcome::Retryable { error, .. } | StepOutcome::Failed(error) => {
                complete(
                    &mut exec.steps[i],
                    StepStatus::Failed,
                    None,
                    Some(error.clone()),
                    now,
                );
                failure = Some(format!("step {i} ({kind}) failed: {error}"));
            }
            StepOutcome::FailedWithOutput(error, output) => {
                complete(
                    &mut exec.steps[i],
                    StepStatus::Failed,
                    Some(output),
                    Some(error.clone()),
                    now,
                );
                failure = Some(format!("step {i} ({kind}) failed: {error}"));
            }
        }
        if failure.is_some() || stopped {
            break;
        }
        if has_effects(&spec.action) && i + 1 < steps.len() {
            if let Err(e) = checkpoint.save(exec, stored).await {
                return RunResult::NotPersisted(e);
            }
            stored = exec.persisted();
        }
    }

    for step in exec
        .steps
        .iter_mut()
        .filter(|s| s.status == StepStatus::Pending)
    {
        step.status = StepStatus::Skipped;
    }
    let now = now_ms();
    exec.status = if failure.is_some() {
        ExecutionStatus::Failed
    } else {
        ExecutionStatus::Success
    };
    exec.error = failure;
    exec.completed_at = Some(now);
    exec.duration_ms = exec.started_at.map(|s| now - s);
    match checkpoint.save(exec, stored).await {
        Ok(()) => RunResult::Finished(exec.status),
        Err(e) => RunResult::NotPersisted(e),
    }
}

/// Marks an execution failed without running it further (a panic, a deleted workflow).
pub fn fail_now(exec: &mut Execution, error: String) {
    let now = now_ms();
    for step in exec.steps.iter_mut() {
        match step.status {
            StepStatus::Pending => step.status = StepStatus::Skipped,
            StepStatus::Running => {
                complete(step, StepStatus::Failed, None, Some(error.clone()), now)
            }
            _ => {}
        }
    }
    exec.status = ExecutionStatus::Failed;
    exec.error = Some(error);
    exec.resume_at = None;
    exec.started_at.get_or_insert(now);
    exec.completed_at = Some(now);
    exec.duration_ms = exec.started_at.map(|s| now - s);
}

fn complete(
    step: &mut StepRecord,
    status: StepStatus,
    output: Option<serde_json::Value>,
    error: Option<String>,
    now: i64,
) {
    step.status = status;
    step.completed_at = Some(now);
    step.duration_ms = step.started_at.map(|s| now - s);
    step.output = output;
    step.error = error;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, ExecutionTrigger};
    use crate::steps::email::Mailer;
    use crate::steps::http::HttpCaller;
    use crate::steps::spec::parse_step;
    use crate::steps::template::Renderer;
    use serde_json::{Value, json};
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct Saved(Mutex<Vec<(Persisted, ExecutionStatus, usize)>>);

    impl Checkpoint for Saved {
        async fn save(&self, exec: &Execution, previous: Persisted) -> Result<(), String> {
            let done = exec
                .steps
                .iter()
                .filter(|s| s.status == StepStatus::Success)
                .count();
            self.0.lock().unwrap().push((previous, exec.status, done));
            Ok(())
        }
    }

    fn deps() -> ActionDeps {
        ActionDeps {
            renderer: Renderer::new(10_000, 1 << 20, 16 << 20),
            mailer: Mailer::Recording {
                default_from: "bot@example.com".into(),
            },
            http: HttpCaller::new(vec![], 5, 1024),
            default_http_timeout: Duration::from_secs(1),
            max_http_timeout: Duration::from_secs(1),
        }
    }

    fn steps(actions: Value) -> Vec<StepSpec> {
        let actions: Vec<Action> = serde_json::from_value(actions).unwrap();
        let r = Renderer::new(10_000, 1 << 20, 16 << 20);
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| parse_step(i, a, &r).unwrap())
            .collect()
    }

    fn execution(input: Value) -> Execution {
        Execution {
            id: "exec_1".into(),
            account_id: "acct_1".into(),
            workflow_id: "wf_1".into(),
            workflow_version: Some(1),
            status: ExecutionStatus::Queued,
            trigger: ExecutionTrigger {
                hook_id: None,
                event: "user.created".into(),
                received_at: 0,
            },
            input,
            steps: vec![],
            started_at: None,
            completed_at: None,
            duration_ms: None,
            error: None,
            resume_at: None,
            replay_of: None,
        }
    }

    #[tokio::test]
    async fn transforms_feed_later_steps_and_the_execution_succeeds() {
        let steps = steps(json!([
            {"type": "transform", "config": {"set": {"greeting": "Hi {{user.name}}"}}},
            {"type": "send_email", "config": {"to": "{{user.email}}", "subject": "{{greeting}}", "body": "run {{execution.id}} for {{event}}"}}
        ]));
        let mut exec = execution(json!({"user": {"name": "Ada", "email": "ada@example.com"}}));
        let saved = Saved::default();
        let result = run(&mut exec, &steps, &deps(), "whsec_x", &saved).await;
        assert_eq!(result, RunResult::Finished(ExecutionStatus::Success));
        let email = exec.steps[1].output.as_ref().unwrap();
        assert_eq!(email["subject"], "Hi Ada");
        assert_eq!(email["body"], "run exec_1 for user.created");
        assert_eq!(exec.steps[1].attempts, 1);
        assert!(exec.duration_ms.is_some());
    }

    #[tokio::test]
    async fn a_false_filter_ends_in_success_and_skips_the_rest() {
        let steps = steps(json!([
            {"type": "filter", "config": {"condition": "amount > 100"}},
            {"type": "transform", "config": {"set": {"x": "1"}}}
        ]));
        let mut exec = execution(json!({"amount": 5}));
        let result = run(&mut exec, &steps, &deps(), "s", &Saved::default()).await;
        assert_eq!(result, RunResult::Finished(ExecutionStatus::Success));
        assert_eq!(exec.steps[1].status, StepStatus::Skipped);
    }

    #[tokio::test]
    async fn a_delay_suspends_then_resumes_without_repeating_finished_steps() {
        let steps = steps(json!([
            {"type": "send_email", "config": {"to": "a@example.com", "subject": "s", "body": "b"}},
            {"type": "delay", "config": {"seconds": 0}},
            {"type": "transform", "config": {"set": {"x": "1"}}}
        ]));
        let mut exec = execution(json!({}));
        let saved = Saved::default();
        let RunResult::Suspended { .. } = run(&mut exec, &steps, &deps(), "s", &saved).await else {
            panic!("a delay suspends the execution")
        };
        assert_eq!(exec.steps[0].status, StepStatus::Success);
        assert!(exec.resume_at.is_some());
        let result = run(&mut exec, &steps, &deps(), "s", &saved).await;
        assert_eq!(result, RunResult::Finished(ExecutionStatus::Success));
        assert_eq!(exec.steps[0].attempts, 1, "the email is not sent twice");
        assert_eq!(exec.steps[1].status, StepStatus::Success);
        assert!(exec.resume_at.is_none());
    }

    #[tokio::test]
    async fn refused_destinations_fail_without_retries() {
        let steps = steps(json!([
            {"type": "http_request", "config": {"url": "http://127.0.0.1:9/x", "method": "POST"}},
            {"type": "transform", "config": {"set": {"x": "1"}}}
        ]));
        let mut exec = execution(json!({}));
        let result = run(&mut exec, &steps, &deps(), "s", &Saved::default()).await;
        assert_eq!(result, RunResult::Finished(ExecutionStatus::Failed));
        assert_eq!(exec.steps[0].attempts, 1);
        assert!(exec.error.as_ref().unwrap().contains("SSRF"));
        assert_eq!(exec.steps[1].status, StepStatus::Skipped);
    }

    #[test]
    fn pure_steps_run_to_the_end_in_place_and_effects_are_left_alone() {
        let pure = steps(json!([
            {"type": "filter", "config": {"condition": "amount > 1"}},
            {"type": "transform", "config": {"set": {"x": "{{amount}}"}}}
        ]));
        let mut exec = execution(json!({"amount": 5}));
        assert_eq!(
            run_inline(&mut exec, &pure, &deps()),
            Some(InlineRun::Finished(ExecutionStatus::Success))
        );
        assert_eq!(exec.steps[1].output, Some(json!({"x": "5"})));
        assert!(exec.completed_at.is_some());

        let failing = steps(
            json!([{"type": "transform", "config": {"set": {"x": "{% for i in range(1000000) %}{{ i }}{% endfor %}"}}}]),
        );
        let mut exec = execution(json!({}));
        assert_eq!(
            run_inline(&mut exec, &failing, &deps()),
            Some(InlineRun::Finished(ExecutionStatus::Failed))
        );
        assert_eq!(exec.steps[0].attempts, 1, "a pure step is not retried");

        let effects = steps(json!([
            {"type": "transform", "config": {"set": {"x": "1"}}},
            {"type": "send_email", "config": {"to": "a@example.com", "subject": "s", "body": "b"}}
        ]));
        let mut exec = execution(json!({}));
        assert_eq!(run_inline(&mut exec, &effects, &deps()), None);
        assert_eq!(exec.status, ExecutionStatus::Queued);
        assert!(exec.started_at.is_none(), "untouched");

        let delayed = steps(json!([
            {"type": "transform", "config": {"set": {"x": "1"}}},
            {"type": "delay", "config": {"seconds": 60}},
            {"type": "send_email", "config": {"to": "a@example.com", "subject": "s", "body": "b"}}
        ]));
        let mut exec = execution(json!({}));
        let Some(InlineRun::Suspended { until_ms }) = run_inline(&mut exec, &delayed, &deps())
        else {
            panic!("a leading delay suspends the run in place")
        };
        assert!(until_ms >= now_ms() + 59_000);
        assert_eq!(exec.resume_at, Some(until_ms));
        assert_eq!(exec.steps[0].status, StepStatus::Success);
        assert_eq!(exec.steps[2].status, StepStatus::Pending, "the email waits");
    }

    #[test]
    fn failing_now_marks_the_running_step() {
        let mut exec = execution(json!({}));
        exec.steps = initial_steps(&steps(
            json!([{"type": "transform", "config": {"set": {"x": "1"}}}]),
        ));
        exec.steps[0].status = StepStatus::Running;
        fail_now(&mut exec, "panic: boom".into());
        assert_eq!(exec.status, ExecutionStatus::Failed);
        assert_eq!(exec.steps[0].status, StepStatus::Failed);
    }
}
