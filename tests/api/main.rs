//! Integration tests: the real server on a random port, real RocksDB in a temp dir, spoken to
//! over HTTP. One binary, one module per area.

/// The daemon's allocator, counting per thread: template memory budgets are enforced here as
/// in the binary.
#[global_allocator]
static ALLOCATOR: botcadence::alloc_budget::Counting<std::alloc::System> =
    botcadence::alloc_budget::Counting(std::alloc::System);

mod actions;
mod admin;
mod auth;
mod binary;
mod dashboard;
mod due_work;
mod errors;
mod executions;
mod helpers;
mod idempotency;
mod ingest;
mod limits;
mod ratelimit;
mod replays;
mod sync_hooks;
mod versions;
mod workflows;
