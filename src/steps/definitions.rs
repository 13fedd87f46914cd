//! Parsed workflow definitions, shared by ingest and the workflow actors so a definition is
//! parsed once per version, not once per event.
//!
//! Entries are keyed by workflow id and checked against `updated_at`, which strictly
//! increases with every change: a stale entry is simply reparsed on its next use.

use std::sync::Arc;

use dashmap::DashMap;

use crate::fasthash::FastState;

use super::runner::inline_prefix;
use super::spec::{ActionSpec, StepSpec, parse_step};
use super::template::{Renderer, count_templates};
use crate::model::{Action, Workflow};

/// One version of a workflow, ready to run.
#[derive(Debug)]
pub struct Definition {
    /// The workflow version it was parsed from (0: none, the workflow is gone).
    pub version: u64,
    /// The parsed steps, or why they cannot run (a definition saved by an older version that
    /// no longer parses).
    pub steps: Result<Arc<Vec<StepSpec>>, String>,
    /// The steps up to the end or to a leading `delay` are free of effects outside the daemon
    /// (filter, transform) and small (at most [`MAX_INLINE_RENDERS`] renders): they can run
    /// on the HTTP worker before the event is acknowledged (see `runner::run_inline`).
    /// Anything bigger queues, behind admission and `workflow_concurrency`, so one tenant's
    /// heavy transforms cannot stall ingest.
    pub inline: bool,
    /// Renders the run in place does at most (when `inline`).
    pub inline_renders: usize,
}

impl Definition {
    /// Whether an event of `input_bytes` may run in place: the cost of a render grows with
    /// the input it can loop over, so only small inputs qualify when there is any render;
    /// a run that only reaches a leading `delay` costs a copy of the input, whatever it holds.
    pub fn runs_inline(&self, input_bytes: usize) -> bool {
        self.inline
            && input_bytes
                <= if self.inline_renders == 0 {
                    MAX_INLINE_INPUT_BYTES_UNRENDERED
                } else {
                    MAX_INLINE_INPUT_BYTES
                }
    }
}

/// Largest event that runs in place when the run renders templates.
pub const MAX_INLINE_INPUT_BYTES: usize = 16 << 10;
/// Largest event that runs in place when the run renders nothing (a leading `delay`).
pub const MAX_INLINE_INPUT_BYTES_UNRENDERED: usize = 256 << 10;

/// Renders (templated strings and filter conditions) a run may do to qualify for running on
/// the HTTP worker; each is bounded by `[engine] template_fuel`.
pub const MAX_INLINE_RENDERS: usize = 8;

#[derive(Default)]
pub struct Definitions {
    parsed: DashMap<String, (i64, Arc<Definition>), FastState>,
    /// Older versions still needed by executions that started on them, parsed on first use.
    older: DashMap<(String, u64), Arc<Definition>, FastState>,
}

/// Older versions kept parsed at most; more are simply parsed again.
const MAX_OLDER_VERSIONS: usize = 256;

impl Definitions {
    /// The definition of this version of `workflow`, parsed on first use.
    pub fn get(&self, workflow: &Workflow, renderer: &Renderer) -> Arc<Definition> {
        if let Some(entry) = self.parsed.get(&workflow.id) {
            if entry.0 == workflow.updated_at {
                return entry.1.clone();
            }
        }
        let definition = Arc::new(parse(workflow, renderer));
        self.parsed.insert(
            workflow.id.clone(),
            (workflow.updated_at, definition.clone()),
        );
        definition
    }

    /// The definition of `workflow` as it was at an older version (`workflow` is that
    /// version already: `Workflow::at_version`).
    /// An older version parsed before, if it still is.
    pub fn cached_older(&self, workflow_id: &str, version: u64) -> Option<Arc<Definition>> {
        self.older
            .get(&(workflow_id.to_string(), version))
            .map(|d| d.clone())
    }

    pub fn get_older(&self, workflow: &Workflow, renderer: &Renderer) -> Arc<Definition> {
        let key = (workflow.id.clone(), workflow.version);
        if let Some(found) = self.older.get(&key) {
            return found.clone();
        }
        let definition = Arc::new(parse(workflow, renderer));
        if self.older.len() >= MAX_OLDER_VERSIONS {
            self.older.clear();
        }
        self.older.insert(key, definition.clone());
        definition
    }

    /// Drops a deleted workflow's entry.
    pub fn forget(&self, workflow_id: &str) {
        self.parsed.remove(workflow_id);
        self.older.retain(|(id, _), _| id != workflow_id);
    }
}

/// The steps of these actions, or why one of them cannot run.
pub fn parse_steps(actions: &[Action], renderer: &Renderer) -> Result<Vec<StepSpec>, String> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| parse_step(i, a, renderer).map_err(|e| e.message))
        .collect()
}

fn parse(workflow: &Workflow, renderer: &Renderer) -> Definition {
    let steps = parse_steps(&workflow.actions, renderer);
    let inline_renders = steps
        .as_ref()
        .ok()
        .and_then(|s| inline_prefix(s).map(|n| renders(&s[..n])));
    Definition {
        version: workflow.version,
        steps: steps.map(Arc::new),
        inline: inline_renders.is_some_and(|n| n <= MAX_INLINE_RENDERS),
        inline_renders: inline_renders.unwrap_or(usize::MAX),
    }
}

/// Renders a run of these steps does at most.
fn renders(steps: &[StepSpec]) -> usize {
    steps
        .iter()
        .map(|s| match &s.action {
            ActionSpec::Filter { .. } => 1,
            ActionSpec::Transform { set } => set.values().map(count_templates).sum(),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Trigger, WorkflowStatus};
    use serde_json::json;

    fn workflow(updated_at: i64, actions: serde_json::Value) -> Workflow {
        Workflow {
            id: "wf_1".into(),
            account_id: "acct_1".into(),
            name: "w".into(),
            status: WorkflowStatus::Active,
            version: 1,
            trigger: serde_json::from_value::<Trigger>(
                json!({"type": "webhook", "event": "user.created"}),
            )
            .unwrap(),
            actions: serde_json::from_value::<Vec<Action>>(actions).unwrap(),
            created_at: 0,
            updated_at,
        }
    }

    #[test]
    fn a_definition_is_reused_until_the_workflow_changes() {
        let renderer = Renderer::new(10_000, 1 << 20, 16 << 20);
        let defs = Definitions::default();
        let pure = json!([{"type": "transform", "config": {"set": {"x": "{{a}}"}}}]);
        let v1 = workflow(1, pure.clone());
        let first = defs.get(&v1, &renderer);
        assert!(first.inline);
        assert!(Arc::ptr_eq(&first, &defs.get(&v1, &renderer)));

        let v2 = workflow(
            2,
            json!([{"type": "send_email", "config": {"to": "a@example.com", "subject": "s", "body": "b"}}]),
        );
        let second = defs.get(&v2, &renderer);
        assert!(!second.inline, "an email is an effect");
        assert!(!Arc::ptr_eq(&first, &second));

        defs.forget("wf_1");
        assert!(!Arc::ptr_eq(&second, &defs.get(&v2, &renderer)));
    }

    #[test]
    fn big_pure_runs_are_queued_instead_of_run_on_the_http_worker() {
        let renderer = Renderer::new(10_000, 1 << 20, 16 << 20);
        let defs = Definitions::default();
        let fields = |n: usize| {
            (0..n)
                .map(|i| (format!("f{i}"), json!("{{a}}")))
                .collect::<serde_json::Map<_, _>>()
        };
        let small = json!([{"type": "transform", "config": {"set": fields(MAX_INLINE_RENDERS)}}]);
        assert!(defs.get(&workflow(1, small), &renderer).inline);
        let big = json!([
            {"type": "filter", "config": {"condition": "a"}},
            {"type": "transform", "config": {"set": fields(MAX_INLINE_RENDERS)}}
        ]);
        assert!(!defs.get(&workflow(2, big), &renderer).inline);
    }
}
