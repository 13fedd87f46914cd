//! The work lease on a shared database: one daemon at a time runs executions; the others
//! accept events and serve the API, and take the work over when the holder stops renewing.
//!
//! * The `store` row of `leases` names the holder, its epoch and when the lease expires, by
//!   the database's clock (one clock for every daemon: theirs may disagree).
//! * The holder renews every `lease_ms / 4`. It considers the lease its own only until
//!   `lease_ms * 3 / 4` after the start of its last successful renewal, by its own monotonic
//!   clock, which is before the row can expire: past that, it claims no new work.
//! * Anyone finding the row expired takes it with epoch + 1. Progress writes of the old
//!   holder carry the old epoch and are refused in their own transaction (`writer`).
//! * A clean shutdown releases the row at once; after a `kill -9` the others wait for it to
//!   expire: at most `lease_ms` plus one renewal interval.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Config};

use super::{connect, db_error};
use crate::store::{Lease, StoreError};

const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: u64,
    valid_until: Instant,
}

/// This daemon's view of the lease, shared with the store.
pub struct LeaseState {
    owner: String,
    lease: Duration,
    held: Mutex<Option<Held>>,
}

impl LeaseState {
    pub fn new(owner: String, lease: Duration) -> Arc<LeaseState> {
        Arc::new(LeaseState {
            owner,
            lease,
            held: Mutex::new(None),
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lease, while it is certainly still ours.
    pub fn current(&self) -> Option<Lease> {
        let held = (*self.lock())?;
        (Instant::now() < held.valid_until).then(|| Lease {
            owner: self.owner.clone(),
            epoch: held.epoch,
        })
    }

    fn held_epoch(&self) -> Option<u64> {
        self.lock().map(|h| h.epoch)
    }

    fn set(&self, epoch: Option<u64>, renewed_at: Instant) {
        let valid_until = renewed_at + self.lease * 3 / 4;
        *self.lock() = epoch.map(|epoch| Held { epoch, valid_until });
        metrics::gauge!("botcadence_store_lease_held").set(if epoch.is_some() { 1.0 } else { 0.0 });
    }
}

/// Takes the lease if it is free or expired: Some(epoch) when taken.
async fn take(client: &Client, state: &LeaseState) -> Result<Option<u64>, StoreError> {
    let lease_ms = state.lease.as_millis() as i64;
    let sql = format!(
        "INSERT INTO leases (name, owner, epoch, expires_at_ms) VALUES ('store', $1, 1, {NOW_MS} + $2)
         ON CONFLICT (name) DO UPDATE
            SET owner = $1, epoch = leases.epoch + 1, expires_at_ms = {NOW_MS} + $2
            WHERE leases.expires_at_ms < {NOW_MS}
         RETURNING epoch"
    );
    let row = client
        .query_opt(&sql, &[&state.owner, &lease_ms])
        .await
        .map_err(db_error)?;
    Ok(row.map(|r| r.get::<_, i64>(0) as u64))
}

/// Extends the lease we hold: false when it is no longer ours.
async fn renew(client: &Client, state: &LeaseState, epoch: u64) -> Result<bool, StoreError> {
    let lease_ms = state.lease.as_millis() as i64;
    let sql = format!(
        "UPDATE leases SET expires_at_ms = {NOW_MS} + $3
         WHERE name = 'store' AND owner = $1 AND epoch = $2"
    );
    let n = client
        .execute(&sql, &[&state.owner, &(epoch as i64), &lease_ms])
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

/// One round: renew what we hold, or try to take it.
pub async fn round(client: &Client, state: &LeaseState) -> Result<(), StoreError> {
    let started = Instant::now();
    match state.held_epoch() {
        Some(epoch) => {
            if renew(client, state, epoch).await? {
                state.set(Some(epoch), started);
            } else {
                tracing::warn!(epoch, "the work lease was taken over by another daemon");
                state.set(None, started);
            }
        }
        None => {
            if let Some(epoch) = take(client, state).await? {
                tracing::info!(epoch, owner = %state.owner, "took the work lease");
                metrics::counter!("botcadence_store_lease_takeovers_total").increment(1);
                state.set(Some(epoch), started);
            }
        }
    }
    Ok(())
}

/// Renews or takes the lease every quarter of its length, for as long as the process runs.
pub fn spawn(config: Config, state: Arc<LeaseState>) {
    tokio::spawn(async move {
        let mut client: Option<Client> = None;
        loop {
            let every = state.lease / 4;
            if client.as_ref().is_none_or(|c| c.is_closed()) {
                client = connect(&config).await.ok();
            }
            if let Some(c) = &client
                && let Err(e) = round(c, &state).await
            {
                tracing::warn!(error = %e, "renewing the work lease failed");
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Gives the lease up at once (a clean shutdown), so another daemon need not wait for it to
/// expire.
pub async fn release(client: &Client, state: &LeaseState) -> Result<(), StoreError> {
    if let Some(epoch) = state.held_epoch() {
        client
            .execute(
                "UPDATE leases SET expires_at_ms = 0
                 WHERE name = 'store' AND owner = $1 AND epoch = $2",
                &[&state.owner, &(epoch as i64)],
            )
            .await
            .map_err(db_error)?;
        state.set(None, Instant::now());
    }
    Ok(())
}
