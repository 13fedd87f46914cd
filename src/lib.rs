//! Botcadence: a self-hosted workflow-automation daemon.
//!
//! Webhook events are stored durably (`store`), then routed by the dispatcher to one actor per
//! workflow (`actors`), which runs the workflow's actions (`engine`) and records every step.
//! The REST API (`api`) serves workflows, webhooks and execution history; `startup` wires the
//! parts together and `config` describes every setting. See ARCHITECTURE.md for the map.

pub mod actors;
pub mod api;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod engine;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod model;
pub mod ratelimit;
pub mod signature;
pub mod startup;
pub mod store;
pub mod systemd;
pub mod telemetry;
pub mod timefmt;
