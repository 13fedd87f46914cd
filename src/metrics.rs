//! Every metric, described once; the Prometheus recorder; the gauges refreshed at each
//! scrape. Rendered by our own `/metrics` route (no second listener).
//!
//! Names follow `botcadence_<area>_<what>_<unit>[_total]`; label values come from closed sets
//! (route pattern, method, status class, action type, plan, outcome), never ids or raw paths.

use std::sync::OnceLock;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::api::AppState;
use crate::store::StoreStats;

/// Histogram buckets, in seconds: from 50 µs (an in-memory step) to 30 s (a slow HTTP call).
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0, 30.0,
];
/// Group-commit batch sizes.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the global recorder once per process and returns its handle.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(
                            "botcadence_store_write_batch_size".into(),
                        ),
                        BATCH_BUCKETS,
                    )
                })
                .map(|b| b.build_recorder());
            let recorder = match recorder {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "metrics recorder could not be built");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
                return None;
            }
            describe();
            zero_counters();
            gauge!("botcadence_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            crate::process_metrics::record_start();
            gauge!("botcadence_store_disk_full").set(0.0);
            Some(handle)
        })
        .clone()
}

fn describe() {
    describe_counter!(
        "botcadence_http_requests_total",
        "HTTP requests by route pattern, method and status class."
    );
    describe_histogram!(
        "botcadence_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by route pattern and method."
    );
    describe_counter!(
        "botcadence_webhook_events_total",
        "Webhook events received, by outcome."
    );
    describe_counter!(
        "botcadence_engine_executions_total",
        "Executions finished, by status."
    );
    describe_histogram!(
        "botcadence_engine_execution_duration_seconds",
        Unit::Seconds,
        "Execution duration from start to finish, by status."
    );
    describe_counter!(
        "botcadence_engine_action_attempts_total",
        "Action attempts by action type and outcome."
    );
    describe_histogram!(
        "botcadence_engine_action_duration_seconds",
        Unit::Seconds,
        "Action attempt duration by action type and outcome."
    );
    describe_gauge!(
        "botcadence_engine_executions_pending",
        "Executions admitted and not finished nor suspended: what ingest admission counts."
    );
    describe_gauge!(
        "botcadence_engine_oldest_pending_age_seconds",
        Unit::Seconds,
        "Age of the oldest pending execution."
    );
    describe_counter!(
        "botcadence_engine_admission_refusals_total",
        "New executions refused admission, by scope: account (that account at max_pending_per_account: 429) or daemon (max_pending: 503)."
    );
    describe_gauge!(
        "botcadence_engine_due_backlog",
        "Executions in the store's due index: accepted and not finished (waiting, delayed or running)."
    );
    describe_gauge!(
        "botcadence_engine_oldest_due_age_seconds",
        Unit::Seconds,
        "How long the earliest due execution has been due (0 when nothing is overdue)."
    );
    describe_gauge!(
        "botcadence_engine_ready_queue_depth",
        "Executions held in memory by the engine: handed to workflow actors, queued or running."
    );
    describe_gauge!(
        "botcadence_engine_workflow_actors",
        "Workflow actors alive."
    );
    describe_gauge!(
        "botcadence_engine_sync_answers_waiting",
        "Answers of synchronous hooks waiting for their executions to finish."
    );
    describe_counter!(
        "botcadence_engine_actor_restarts_total",
        "Workflow actors restarted after they stopped."
    );
    describe_counter!(
        "botcadence_ratelimit_rejections_total",
        "Requests refused by plan limits, by plan and kind (minute, day, ingest)."
    );
    describe_gauge!(
        "botcadence_store_size_bytes",
        Unit::Bytes,
        "RocksDB size: SST files plus memtables."
    );
    describe_gauge!(
        "botcadence_store_memory_bytes",
        Unit::Bytes,
        "Memory RocksDB holds, by kind: memtables, block_cache (data, index and filter blocks), table_readers."
    );
    describe_gauge!(
        "botcadence_store_write_stalled",
        "1 while RocksDB delays or stops writes."
    );
    describe_histogram!(
        "botcadence_store_write_batch_size",
        "Writes combined into one group commit."
    );
    describe_histogram!(
        "botcadence_store_write_duration_seconds",
        Unit::Seconds,
        "Duration of one group commit, fsync included."
    );
    describe_gauge!(
        "botcadence_store_disk_full",
        "1 while writes are refused because the data directory's filesystem is below [storage] min_free_bytes."
    );
    describe_gauge!(
        "botcadence_store_free_bytes",
        Unit::Bytes,
        "Free bytes on the filesystem of the data directory (or the WAL directory, whichever is less), as last checked by the writer."
    );
    describe_gauge!(
        "botcadence_http_body_memory_bytes",
        Unit::Bytes,
        "Bytes of request bodies reserved right now, against [server] max_body_memory_bytes."
    );
    describe_gauge!("botcadence_build_info", "Build information; always 1.");
}

/// Counters start at 0 for every known label set, so `rate()` and `increase()` see their
/// first event instead of a series appearing out of nowhere.
fn zero_counters() {
    use metrics::counter;
    for outcome in [
        "accepted",
        "duplicate",
        "signature_invalid",
        "not_found",
        "inactive",
        "too_large",
        "invalid",
        "overloaded",
        "rate_limited",
    ] {
        counter!("botcadence_webhook_events_total", "outcome" => outcome).absolute(0);
    }
    for status in ["success", "failed"] {
        counter!("botcadence_engine_executions_total", "status" => status).absolute(0);
    }
    counter!("botcadence_engine_actor_restarts_total").absolute(0);
    for scope in ["account", "daemon"] {
        counter!("botcadence_engine_admission_refusals_total", "scope" => scope).absolute(0);
    }
    for plan in ["free", "pro", "enterprise"] {
        for kind in ["minute", "day", "ingest"] {
            counter!("botcadence_ratelimit_rejections_total", "plan" => plan, "kind" => kind)
                .absolute(0);
        }
    }
}

/// Gauges computed on demand, just before a scrape renders.
/// `store_stats` (RocksDB's size in bytes, whether it stalls writes, its memory by kind) and
/// are read by the caller off the async threads.
pub fn refresh_gauges(state: &AppState, stats: StoreStats) {
    let admission = state.engine.admission();
    gauge!("botcadence_engine_executions_pending").set(admission.pending() as f64);
    let oldest = admission.oldest_received_us().map_or(0.0, |us| {
        ((crate::timefmt::now_us() - us).max(0) as f64) / 1e6
    });
    gauge!("botcadence_engine_oldest_pending_age_seconds").set(oldest);
    gauge!("botcadence_engine_workflow_actors").set(state.engine.actor_count() as f64);
    gauge!("botcadence_engine_due_backlog").set(stats.due_backlog as f64);
    let now = crate::timefmt::now_ms();
    let oldest_due = state
        .engine
        .earliest_due_ms()
        .filter(|at| *at <= now)
        .map_or(0.0, |at| (now - at) as f64 / 1000.0);
    gauge!("botcadence_engine_oldest_due_age_seconds").set(oldest_due);
    gauge!("botcadence_engine_ready_queue_depth").set(state.engine.held() as f64);
    gauge!("botcadence_engine_sync_answers_waiting").set(state.engine.sync_waiting() as f64);
    let memory = stats.memory;
    gauge!("botcadence_store_size_bytes").set(stats.size_bytes as f64);
    for (kind, bytes) in [
        ("memtables", memory.memtables),
        ("block_cache", memory.block_cache),
        ("table_readers", memory.table_readers),
    ] {
        gauge!("botcadence_store_memory_bytes", "kind" => kind).set(bytes as f64);
    }
    gauge!("botcadence_store_write_stalled").set(if stats.write_stalled { 1.0 } else { 0.0 });
    gauge!("botcadence_http_body_memory_bytes").set(state.bodies.in_use() as f64);
}
