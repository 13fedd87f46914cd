//! Integration tests: the real server on a random port, real RocksDB in a temp dir, spoken to
//! over HTTP. One binary, one module per area.

mod actions;
mod admin;
mod auth;
mod binary;
mod due_work;
mod errors;
mod executions;
mod helpers;
mod ingest;
mod limits;
mod ratelimit;
mod workflows;
