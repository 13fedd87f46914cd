//! Shard leases on a shared database: the work is divided into [`SHARDS`] shards by workflow
//! (`store::shard_of`), each run by the one daemon holding its lease; every daemon accepts
//! events and serves the API.
//!
//! * Each shard has a row in `leases` (`shard-0` …) naming its holder, its epoch and when it
//!   expires, by the database's clock (one clock for every daemon: theirs may disagree).
//! * Every daemon keeps a `members` row alive with the same expiry. Its fair share is
//!   ⌈shards ÷ live members⌉: it takes free or expired shards up to that share, and hands
//!   back what it holds beyond it (a daemon joined), so the shards spread over the daemons.
//! * A daemon renews its shards every `lease_ms / 4`. It considers a shard its own only until
//!   `lease_ms * 3 / 4` after the start of its last successful renewal, by its own monotonic
//!   clock, which is before the row can expire: past that, it claims no new work there.
//! * Anyone finding a shard expired takes it with epoch + 1. Progress writes of the old
//!   holder carry the old epoch and are refused in their own transaction (`writer`).
//! * Handing a shard back drains it first: for one lease length this daemon starts nothing
//!   new there but keeps the lease (steps in flight that end within it finish and record),
//!   then releases it for another daemon to take on its next round. A step still running
//!   past that (a slow HTTP call) may run again on the new holder: at least once, as after
//!   a crash; its late record is refused by the epoch.
//! * A clean shutdown releases every shard at once; after a `kill -9` the others wait for the
//!   rows to expire: at most `lease_ms` plus one renewal interval.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Config};

use super::{connect, db_error};
use crate::store::{Lease, SHARDS, StoreError};

const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// The `leases` row of a shard.
pub fn row_name(shard: u16) -> String {
    format!("shard-{shard}")
}

fn shard_of_row(name: &str) -> Option<u16> {
    name.strip_prefix("shard-")?
        .parse()
        .ok()
        .filter(|s| *s < SHARDS)
}

#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: u64,
    valid_until: Instant,
    /// Being handed back since then: no new work starts here.
    draining_since: Option<Instant>,
}

/// This daemon's view of its shards, shared with the store.
pub struct LeaseState {
    owner: String,
    lease: Duration,
    held: Mutex<BTreeMap<u16, Held>>,
    /// Set by a clean shutdown's release: no round takes anything afterwards.
    closed: AtomicBool,
    /// Held by a round and by the release: a round running when the daemon stops cannot
    /// renew what the release just let go.
    round_lock: tokio::sync::Mutex<()>,
    /// Shards taken since the start (`Store::shards_taken`).
    taken: AtomicU64,
}

impl LeaseState {
    pub fn new(owner: String, lease: Duration) -> Arc<LeaseState> {
        Arc::new(LeaseState {
            owner,
            lease,
            held: Mutex::new(BTreeMap::new()),
            closed: AtomicBool::new(false),
            round_lock: tokio::sync::Mutex::new(()),
            taken: AtomicU64::new(0),
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u16, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shard's lease, while it is certainly still ours and not being handed back.
    pub fn current(&self, shard: u16) -> Option<Lease> {
        let held = *self.lock().get(&shard)?;
        (Instant::now() < held.valid_until && held.draining_since.is_none()).then(|| Lease {
            owner: self.owner.clone(),
            shard,
            epoch: held.epoch,
        })
    }

    /// The shards new work may start on here (what the due reads look at).
    pub fn workable(&self) -> Vec<i16> {
        let now = Instant::now();
        self.lock()
            .iter()
            .filter(|(_, h)| now < h.valid_until && h.draining_since.is_none())
            .map(|(s, _)| *s as i16)
            .collect()
    }

    /// Shards taken since the start.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Acquire)
    }

    fn held_epochs(&self) -> Vec<(u16, u64)> {
        self.lock().iter().map(|(s, h)| (*s, h.epoch)).collect()
    }

    fn publish(&self, held: &BTreeMap<u16, Held>) {
        metrics::gauge!("botcadence_store_leases_held").set(held.len() as f64);
        for shard in 0..SHARDS {
            let value = if held.contains_key(&shard) { 1.0 } else { 0.0 };
            metrics::gauge!("botcadence_store_shard_held", "shard" => shard.to_string()).set(value);
        }
    }
}

/// Keeps this daemon's `members` row alive; returns how many daemons are live.
async fn heartbeat(client: &Client, state: &LeaseState) -> Result<u64, StoreError> {
    let lease_ms = state.lease.as_millis() as i64;
    client
        .execute(
            &format!(
                "INSERT INTO members (owner, expires_at_ms) VALUES ($1, {NOW_MS} + $2)
                 ON CONFLICT (owner) DO UPDATE SET expires_at_ms = EXCLUDED.expires_at_ms"
            ),
            &[&state.owner, &lease_ms],
        )
        .await
        .map_err(db_error)?;
    // Daemons gone for a day are forgotten (the table stays as small as the cluster).
    client
        .execute(
            &format!("DELETE FROM members WHERE expires_at_ms < {NOW_MS} - 86400000"),
            &[],
        )
        .await
        .map_err(db_error)?;
    let live: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM members WHERE expires_at_ms >= {NOW_MS}"),
            &[],
        )
        .await
        .map_err(db_error)?
        .get(0);
    Ok(live.max(1) as u64)
}

/// Extends the shards we hold; returns those still ours.
async fn renew(
    client: &Client,
    state: &LeaseState,
    held: &[(u16, u64)],
) -> Result<Vec<u16>, StoreError> {
    let lease_ms = state.lease.as_millis() as i64;
    let names: Vec<String> = held.iter().map(|(s, _)| row_name(*s)).collect();
    let epochs: Vec<i64> = held.iter().map(|(_, e)| *e as i64).collect();
    let rows = client
        .query(
            &format!(
                "WITH locked AS (
                     SELECT name FROM leases WHERE name = ANY($1) ORDER BY name FOR UPDATE)
                 UPDATE leases l SET expires_at_ms = {NOW_MS} + $3
                 FROM unnest($1::text[], $2::bigint[]) AS h(name, epoch)
                 WHERE l.name = h.name AND l.epoch = h.epoch AND l.owner = $4
                   AND l.name IN (SELECT name FROM locked)
                 RETURNING l.name"
            ),
            &[&names, &epochs, &lease_ms, &state.owner],
        )
        .await
        .map_err(db_error)?;
    Ok(rows.iter().filter_map(|r| shard_of_row(r.get(0))).collect())
}

/// Takes up to `wanted` free or expired shards: (shard, epoch) of each taken.
async fn take(
    client: &Client,
    state: &LeaseState,
    wanted: usize,
) -> Result<Vec<(u16, u64)>, StoreError> {
    let lease_ms = state.lease.as_millis() as i64;
    let rows = client
        .query(
            &format!(
                "UPDATE leases SET owner = $1, epoch = epoch + 1, expires_at_ms = {NOW_MS} + $2
                 WHERE name IN (
                     SELECT name FROM leases
                     WHERE name LIKE 'shard-%' AND expires_at_ms < {NOW_MS}
                     ORDER BY name LIMIT $3 FOR UPDATE SKIP LOCKED)
                   AND expires_at_ms < {NOW_MS}
                 RETURNING name, epoch"
            ),
            &[&state.owner, &lease_ms, &(wanted as i64)],
        )
        .await
        .map_err(db_error)?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((shard_of_row(r.get(0))?, r.get::<_, i64>(1) as u64)))
        .collect())
}

/// Lets shards go at once (expired by the database's clock), if still ours at those epochs.
async fn release_rows(
    client: &Client,
    state: &LeaseState,
    shards: &[(u16, u64)],
) -> Result<(), StoreError> {
    if shards.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = shards.iter().map(|(s, _)| row_name(*s)).collect();
    let epochs: Vec<i64> = shards.iter().map(|(_, e)| *e as i64).collect();
    client
        .execute(
            "WITH locked AS (
                 SELECT name FROM leases WHERE name = ANY($1) ORDER BY name FOR UPDATE)
             UPDATE leases l SET expires_at_ms = 0
             FROM unnest($1::text[], $2::bigint[]) AS h(name, epoch)
             WHERE l.name = h.name AND l.epoch = h.epoch AND l.owner = $3
               AND l.name IN (SELECT name FROM locked)",
            &[&names, &epochs, &state.owner],
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

/// One round: heartbeat, renew, release what finished draining, then take or hand back
/// shards toward the fair share.
pub async fn round(client: &Client, state: &LeaseState) -> Result<(), StoreError> {
    let _one_at_a_time = state.round_lock.lock().await;
    if state.closed.load(Ordering::Acquire) {
        return Ok(());
    }
    let started = Instant::now();
    let live = heartbeat(client, state).await?;
    let fair = (SHARDS as u64).div_ceil(live) as usize;

    let held = state.held_epochs();
    let kept = if held.is_empty() {
        Vec::new()
    } else {
        renew(client, state, &held).await?
    };
    let drained: Vec<(u16, u64)> = {
        let mut map = state.lock();
        for (shard, epoch) in &held {
            if !kept.contains(shard) {
                tracing::warn!(
                    shard,
                    epoch,
                    "a shard's lease was taken over by another daemon"
                );
                map.remove(shard);
            }
        }
        let valid_until = started + state.lease * 3 / 4;
        for shard in &kept {
            if let Some(h) = map.get_mut(shard) {
                h.valid_until = valid_until;
            }
        }
        map.iter()
            .filter(|(_, h)| {
                h.draining_since
                    .is_some_and(|at| at.elapsed() >= state.lease)
            })
            .map(|(s, h)| (*s, h.epoch))
            .collect()
    };
    if !drained.is_empty() {
        release_rows(client, state, &drained).await?;
        let mut map = state.lock();
        for (shard, _) in &drained {
            map.remove(shard);
        }
        tracing::info!(shards = ?drained.iter().map(|(s, _)| s).collect::<Vec<_>>(), "handed shards back");
    }

    let active = state
        .lock()
        .values()
        .filter(|h| h.draining_since.is_none())
        .count();
    if active < fair {
        let taken = take(client, state, fair - active).await?;
        if state.closed.load(Ordering::Acquire) {
            // Shut down while taking: let them go again at once.
            return release_rows(client, state, &taken).await;
        }
        if !taken.is_empty() {
            let valid_until = started + state.lease * 3 / 4;
            let mut map = state.lock();
            for (shard, epoch) in &taken {
                map.insert(
                    *shard,
                    Held {
                        epoch: *epoch,
                        valid_until,
                        draining_since: None,
                    },
                );
            }
            drop(map);
            state.taken.fetch_add(taken.len() as u64, Ordering::AcqRel);
            metrics::counter!("botcadence_store_lease_takeovers_total")
                .increment(taken.len() as u64);
            tracing::info!(owner = %state.owner, shards = ?taken, live, "took shard leases");
        }
    } else if active > fair {
        // A daemon joined: hand back the highest shards beyond the share.
        let mut map = state.lock();
        let extra: Vec<u16> = map
            .iter()
            .filter(|(_, h)| h.draining_since.is_none())
            .map(|(s, _)| *s)
            .rev()
            .take(active - fair)
            .collect();
        for shard in &extra {
            if let Some(h) = map.get_mut(shard) {
                h.draining_since = Some(Instant::now());
            }
        }
        tracing::info!(shards = ?extra, live, fair, "draining shards to hand them back");
    }
    let map = state.lock();
    state.publish(&map);
    Ok(())
}

/// Renews, takes and hands back shards every quarter of the lease, for as long as the
/// process runs.
pub fn spawn(config: Config, state: Arc<LeaseState>) {
    tokio::spawn(async move {
        let mut client: Option<Client> = None;
        while !state.closed.load(Ordering::Acquire) {
            let every = state.lease / 4;
            if client.as_ref().is_none_or(|c| c.is_closed()) {
                client = connect(&config).await.ok();
            }
            if let Some(c) = &client {
                // Bounded: a database that went silent (a failover) must not hold the rounds
                // for TCP's retransmission time; the connection is opened again instead.
                match tokio::time::timeout(state.lease / 2, round(c, &state)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "renewing the shard leases failed"),
                    Err(_) => {
                        tracing::warn!("renewing the shard leases timed out");
                        client = None;
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Gives every shard up at once and leaves the members (a clean shutdown), so the other
/// daemons need not wait for the leases to expire.
pub async fn release(client: &Client, state: &LeaseState) -> Result<(), StoreError> {
    state.closed.store(true, Ordering::Release);
    let _no_round = state.round_lock.lock().await;
    let held = state.held_epochs();
    release_rows(client, state, &held).await?;
    client
        .execute("DELETE FROM members WHERE owner = $1", &[&state.owner])
        .await
        .map_err(db_error)?;
    let mut map = state.lock();
    map.clear();
    state.publish(&map);
    Ok(())
}
