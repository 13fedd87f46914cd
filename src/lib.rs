//! Botcadence: a self-hosted workflow-automation daemon.
//!
//! Webhook events are accepted by the intake and stored durably (`store`), then routed by the
//! dispatcher to one actor per workflow (`actors`), which runs the workflow's steps (`steps`)
//! on the runner threads and records every one. What waits (delays, retry waits, backlog)
//! waits in the store's due index, from which the refill brings it back.
//! The REST API (`api`) serves workflows, webhooks and execution history; `startup` wires the
//! parts together and `config` describes every setting. See ARCHITECTURE.md for the map.

pub mod actors;
pub mod alloc_budget;
pub mod api;
pub mod catalog;
#[cfg(feature = "rocksdb")]
pub mod cli;
pub mod config;
pub mod credentials;
pub mod dashboard;
pub mod fasthash;
pub mod fuzzing;
pub mod ids;
pub mod jobs;
pub mod steps;

pub mod metrics;
pub mod model;
pub mod process_metrics;
pub mod ratelimit;
pub mod signature;
#[cfg(feature = "rocksdb")]
pub mod startup;
pub mod store;
pub mod systemd;
pub mod telemetry;
pub mod timefmt;

/// Unit tests count allocations like the daemon does, so render budgets hold in them too.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: alloc_budget::Counting<std::alloc::System> =
    alloc_budget::Counting(std::alloc::System);
