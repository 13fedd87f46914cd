//! PostgreSQL, the store for several daemons sharing one system of record
//! (`[storage] backend = "postgres"`). The only module that imports `tokio_postgres`.
//!
//! * `schema`: versioned migrations, applied at open under an advisory lock.
//! * `writer`: every write goes through one connection in group commits — the writes waiting
//!   when a transaction starts share it, and each is acknowledged once `COMMIT` returned (with
//!   a synchronous standby, once two machines have it).
//! * `reads`: lists, records, due work and the catalog, on a few pooled connections (a
//!   tokio-postgres client pipelines concurrent queries over its connection).
//! * Shards and fencing (`lease`): the work is divided into 16 shards by workflow, each with
//!   a lease row and an epoch; a daemon takes its share of the shards with epoch + 1, and
//!   every progress write checks, in its transaction, that its shard's epoch is still the
//!   one it claimed under, and fails with `StoreError::Fenced` otherwise. A daemon paused
//!   past a takeover cannot overwrite work.
//!
//! Connections follow a failover by themselves: the URL may name several hosts with
//! `target_session_attrs=read-write`, and a broken connection is opened again on next use.

mod jobs;
pub mod lease;
mod quota;
mod reads;
mod replies;
pub mod schema;
mod trait_impl;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

use crate::store::StoreError;

/// Connections for reads.
const READ_CONNECTIONS: usize = 4;

/// A connection that broke or could not be opened, and the server's transient refusals (a
/// shutting-down or read-only server during a failover, a deadlock or serialization failure,
/// exhausted resources) are `Unavailable`: nothing was written and the same request may
/// succeed a moment later. Any other error the server answered with is `Db`.
pub(crate) fn db_error(e: tokio_postgres::Error) -> StoreError {
    use std::error::Error as _;
    let transient_state = e.code().is_some_and(|c| {
        let c = c.code();
        c.starts_with("08")
            || c.starts_with("40")
            || c.starts_with("53")
            || matches!(c, "57P01" | "57P02" | "57P03" | "25006")
    });
    let connection_level = e.is_closed()
        || transient_state
        || e.source()
            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
    // The server's own message ("db error" alone says nothing).
    let said = e.as_db_error().map_or_else(
        || e.to_string(),
        |d| format!("{}: {}", d.code().code(), d.message()),
    );
    if connection_level {
        StoreError::Unavailable(format!("postgres: {said}"))
    } else {
        StoreError::Db(format!("postgres: {said}"))
    }
}

/// How to connect: the parsed URL, with the password from a file when one is configured.
pub fn connection_config(url: &str, password: Option<&str>) -> Result<Config, StoreError> {
    let mut config: Config = url
        .parse()
        .map_err(|e| StoreError::Db(format!("[storage] postgres_url: {e}")))?;
    if let Some(pw) = password {
        config.password(pw);
    }
    if config.get_application_name().is_none() {
        config.application_name("botcadence");
    }
    // A host that vanished without a reset (power loss, a moved address) is noticed within
    // seconds, not after TCP's retransmissions, so requests get their 503 in time.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    config.keepalives(true);
    config.keepalives_idle(std::time::Duration::from_secs(10));
    Ok(config)
}

async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(db_error)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

/// A few shared connections, each opened again when found closed.
struct Readers {
    config: Config,
    slots: Vec<Mutex<Option<Arc<Client>>>>,
    next: AtomicUsize,
}

impl Readers {
    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let started = std::time::Instant::now();
        let c = Arc::new(connect(&self.config).await?);
        metrics::histogram!("botcadence_store_pool_wait_seconds")
            .record(started.elapsed().as_secs_f64());
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Drops a connection that stopped answering, so later reads open a fresh one instead of
    /// queueing behind it (a client pipelines its queries in order).
    async fn discard(&self, client: &Arc<Client>) {
        for slot in &self.slots {
            let mut slot = slot.lock().await;
            if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, client)) {
                *slot = None;
            }
        }
    }
}

#[derive(Clone)]
pub struct PgStore {
    readers: Arc<Readers>,
    writer: writer::Writer,
    lease: Arc<lease::LeaseState>,
}

impl PgStore {
    /// Connects, applies missing migrations, and takes its share of the shards that no live
    /// daemon holds (then renews, takes and hands back shards in the background).
    pub async fn open(
        config: Config,
        max_batch: usize,
        queue_capacity: usize,
        lease_time: std::time::Duration,
    ) -> Result<PgStore, StoreError> {
        let mut admin = connect(&config).await?;
        schema::migrate(&mut admin).await?;
        let owner = format!(
            "{}:{}:{:08x}",
            crate::store::host_name(),
            std::process::id(),
            rand::random::<u32>()
        );
        let state = lease::LeaseState::new(owner, lease_time);
        lease::round(&admin, &state).await?;
        drop(admin);
        lease::spawn(config.clone(), state.clone());
        let readers = Arc::new(Readers {
            config: config.clone(),
            slots: (0..READ_CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        });
        let writer = writer::Writer::spawn(config, max_batch, queue_capacity);
        tracing::info!(
            owner = %state.owner(),
            shards = ?state.workable(),
            "postgres store opened"
        );
        Ok(PgStore {
            readers,
            writer,
            lease: state,
        })
    }

    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        self.readers.client().await
    }
}

/// What `check-config` reports of a database: reachable, and at which schema version.
pub async fn check(config: &Config) -> Result<String, String> {
    let client = connect(config).await.map_err(|e| e.to_string())?;
    let version = schema::version(&client).await.map_err(|e| e.to_string())?;
    let latest = schema::latest();
    match version {
        v if v == latest => Ok(format!("postgres reachable, schema version {v} (current)")),
        v if v < latest => Ok(format!(
            "postgres reachable, schema version {v}: the daemon migrates it to {latest} when it starts"
        )),
        v => Err(format!(
            "the database's schema is version {v}, newer than this build's {latest}"
        )),
    }
}
