//! Seeds finished executions straight into a stopped daemon's data directory, for measuring
//! the executions list with a million executions in one workflow.
//!
//! Usage: `seed --data-dir DIR --account ACCOUNT_ID --workflow WORKFLOW_ID --count N`
//! The daemon must not be running (RocksDB allows one process). Executions are spread over
//! the last `N` seconds and written in batches through the store's own writer, so indexes and
//! counters are exactly what the daemon itself would have written.

use std::path::PathBuf;
use std::time::Instant;

use botcadence::config::Durability;
use botcadence::model::{Execution, ExecutionStatus, ExecutionTrigger, StepRecord, StepStatus};
use botcadence::store::RocksStore;
use serde_json::json;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let data_dir = PathBuf::from(arg("--data-dir").expect("--data-dir DIR"));
    let account = arg("--account").expect("--account ACCOUNT_ID");
    let workflow = arg("--workflow").expect("--workflow WORKFLOW_ID");
    let count: i64 = arg("--count").map_or(1_000_000, |c| c.parse().expect("--count N"));
    const PER_BATCH: i64 = 2_000;

    let (store, guard) = RocksStore::open(&data_dir, Durability::Wal, 1, 16)
        .expect("open the store (is the daemon stopped?)");
    let started = Instant::now();
    let now_us = botcadence::timefmt::now_us();
    let first_us = now_us - count * 1_000_000;
    let mut written = 0;
    while written < count {
        let mut ops = Vec::new();
        for i in written..(written + PER_BATCH).min(count) {
            let at_us = first_us + i * 1_000_000;
            let at_ms = at_us / 1000;
            let status = if i % 10 == 0 {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Success
            };
            let exec = Execution {
                id: botcadence::ids::execution_id(at_us),
                account_id: account.clone(),
                workflow_id: workflow.clone(),
                workflow_version: Some(1),
                status,
                trigger: ExecutionTrigger {
                    hook_id: None,
                    event: "seed".into(),
                    received_at: at_ms,
                },
                input: json!({"user": {"name": "Ada", "email": "ada@example.com"}, "n": i}),
                steps: vec![StepRecord {
                    index: 0,
                    kind: "transform".into(),
                    status: if status == ExecutionStatus::Success {
                        StepStatus::Success
                    } else {
                        StepStatus::Failed
                    },
                    attempts: 1,
                    started_at: Some(at_ms),
                    completed_at: Some(at_ms + 1),
                    duration_ms: Some(1),
                    output: Some(json!({"greeting": "hello Ada"})),
                    error: None,
                }],
                started_at: Some(at_ms),
                completed_at: Some(at_ms + 1),
                duration_ms: Some(1),
                error: (status == ExecutionStatus::Failed).then(|| "seeded failure".to_string()),
                resume_at: None,
                replay_of: None,
            };
            ops.extend(RocksStore::finished_execution_ops(&exec));
        }
        store.writer_submit_blocking(ops).expect("write a batch");
        written = (written + PER_BATCH).min(count);
    }
    store.close().expect("close the store");
    drop(store);
    guard.join();
    println!(
        "seeded {count} executions into {workflow} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
