//! Wiring: open the store → load the catalog → start the engine and recover pending work →
//! bind the listener → serve. `Application` is what `serve` runs and what tests start on
//! port 0 with a temporary data directory.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio_util::sync::CancellationToken;

use crate::actors::admission::Admission;
use crate::actors::{Engine, EngineLimits};
use crate::api::{self, AppState};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::credentials::{display_prefix, generate_api_key, generate_signing_secret, hash_api_key};
use crate::model::{Account, ApiKey, Plan};
use crate::ratelimit::RateLimiter;
use crate::steps::ActionDeps;
use crate::steps::email::Mailer;
use crate::steps::http::HttpCaller;
use crate::steps::template::Renderer;
use crate::store::{RocksStore, SharedStore, StoreError};
use crate::timefmt::now_ms;

/// With socket activation, how long a stopping daemon lets connections it accepted send their
/// request before it stops serving.
const ACCEPTED_GRACE: Duration = Duration::from_millis(250);

/// How often a daemon on a shared database re-reads the catalog.
const CATALOG_REFRESH: Duration = Duration::from_secs(1);

/// Writes queued for the writer thread before `submit` answers Busy.
const WRITE_QUEUE_CAPACITY: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// The configured store: RocksDB under `[storage] data_dir`, or PostgreSQL.
async fn open_store(settings: &Settings) -> Result<SharedStore, StartError> {
    if settings.storage.is_postgres() {
        #[cfg(feature = "postgres")]
        {
            let config = crate::store::postgres::connection_config(
                &settings.storage.postgres_url,
                settings.postgres_password.as_ref().map(|s| s.0.as_str()),
            )?;
            let store = crate::store::postgres::PgStore::open(
                config,
                settings.storage.max_batch,
                WRITE_QUEUE_CAPACITY,
                Duration::from_millis(settings.storage.postgres_lease_ms),
            )
            .await?;
            return Ok(Arc::new(store));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(StartError::Other(
            "this build has no PostgreSQL support (the `postgres` feature)".into(),
        ));
    }
    let storage = settings.storage.clone();
    // The writer thread exits when the last store handle is dropped; nothing to join here.
    let (store, _writer) = tokio::task::spawn_blocking(move || {
        RocksStore::open_with_floor(
            &storage.data_dir,
            storage.wal_dir(),
            storage.durability(),
            storage.max_batch,
            WRITE_QUEUE_CAPACITY,
            storage.min_free_bytes,
        )
    })
    .await
    .map_err(|e| StartError::Other(format!("opening the store: {e}")))??;
    Ok(Arc::new(store))
}

/// The default account and key created on the first start of a data directory.
pub struct FirstStart {
    pub account_id: String,
    pub api_key: String,
}

pub struct Application {
    addr: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
    first_start: Option<FirstStart>,
    /// The listener came from systemd, which keeps it open across restarts.
    socket_activated: bool,
    /// Where SIGHUP re-reads the configuration from.
    reload: Option<(Option<std::path::PathBuf>, crate::config::CliOverrides)>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        Self::build_on(settings, None).await
    }

    /// Builds the daemon on `listener` when given (the socket systemd passed), else on a
    /// socket bound to `[server] listen`.
    pub async fn build_on(
        settings: Settings,
        listener: Option<TcpListener>,
    ) -> Result<Application, StartError> {
        let settings = Arc::new(settings);
        let store = open_store(&settings).await?;

        let first_start = initialise_if_new(&store).await?;
        let catalog = Arc::new(Catalog::from_snapshot(store.load_catalog().await?));
        record_current_versions(store.as_ref(), &catalog).await?;

        let mailer = Mailer::from_settings(
            &settings.smtp,
            settings.smtp_password.as_ref().map(|s| s.0.as_str()),
        )
        .map_err(StartError::Other)?;
        if mailer.is_recording() {
            tracing::warn!(
                "no [smtp] host configured: emails are recorded in execution steps, not sent"
            );
        }
        let deps = Arc::new(ActionDeps {
            renderer: Renderer::new(
                settings.engine.template_fuel,
                settings.engine.template_max_bytes,
                settings.engine.template_max_memory_bytes,
            ),
            mailer,
            http: HttpCaller::new(
                settings.http_actions.allowed_nets(),
                settings.http_actions.max_redirects,
                settings.http_actions.max_response_bytes,
            ),
            default_http_timeout: Duration::from_millis(settings.http_actions.default_timeout_ms),
            max_http_timeout: Duration::from_millis(settings.http_actions.max_timeout_ms),
        });
        let admission = Admission::new(
            settings.engine.max_pending,
            settings.engine.max_pending_per_account,
        );
        let shutdown = CancellationToken::new();
        let engine = Engine::start(
            store.clone(),
            catalog.clone(),
            deps.clone(),
            admission,
            EngineLimits {
                concurrency: settings.engine.workflow_concurrency,
                workers: settings.engine.workers,
                actor_idle: Duration::from_secs(settings.engine.actor_idle_secs),
                sync_waiting_per_account: settings.webhooks.max_sync_waiting_per_account,
            },
            shutdown.clone(),
        )
        .map_err(|e| StartError::Other(format!("starting the runner threads: {e}")))?;
        let unfinished = store.due_backlog().await?;
        if unfinished > 0 {
            tracing::info!(
                unfinished,
                "resuming executions that had not finished, from the due index"
            );
        }

        let socket_activated = listener.is_some();
        let listener = match listener {
            Some(l) => l,
            None => {
                TcpListener::bind(&settings.server.listen).map_err(|source| StartError::Bind {
                    addr: settings.server.listen.clone(),
                    source,
                })?
            }
        };
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Other(e.to_string()))?;
        let public_url = settings.public_url(addr);

        // On a shared database the plan windows are shared too: each account's limits hold
        // across every daemon (`ratelimit::cluster`).
        let limiter = Arc::new(if settings.storage.is_postgres() {
            RateLimiter::shared(store.clone())
        } else {
            RateLimiter::new()
        });
        let jobs = crate::jobs::JobRunner::new(crate::jobs::JobContext {
            store: store.clone(),
            engine: engine.clone(),
            catalog: catalog.clone(),
            limiter: limiter.clone(),
            deps: deps.clone(),
            settings: settings.clone(),
            shutdown: shutdown.clone(),
        });
        let state = web::Data::new(AppState {
            admin_token: settings.admin_token.clone(),
            settings: settings.clone(),
            store: store.clone(),
            catalog,
            engine: engine.clone(),
            deps,
            limiter,
            jobs,
            public_url,
            shutdown: shutdown.clone(),
            metrics: crate::metrics::install(),
            bodies: api::body_guard::BodyBudget::new(
                settings.server.max_body_memory_bytes,
                settings.webhooks.max_body_memory_per_account_bytes,
                std::time::Duration::from_secs(settings.server.body_read_timeout_secs),
                settings
                    .webhooks
                    .max_body_bytes
                    .max(settings.server.max_api_body_bytes),
            ),
            idempotency: Default::default(),
            dashboard: Default::default(),
        });
        let app_state = state.clone();
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let server = HttpServer::new(move || {
            let state = app_state.clone();
            // Runs on each HTTP worker's own thread: large bodies it freed go back to the
            // system within 10 s instead of staying with the worker for good.
            actix_web::rt::spawn(async {
                loop {
                    actix_web::rt::time::sleep(std::time::Duration::from_secs(10)).await;
                    crate::alloc_budget::release_if_large_frees();
                }
            });
            App::new()
                .wrap(from_fn(api::middleware::observe))
                .configure(move |cfg| api::routes(cfg, state))
        })
        .workers(workers)
        .client_request_timeout(std::time::Duration::from_millis(
            settings.server.header_read_timeout_ms,
        ))
        .max_connections(settings.server.max_connections_per_worker)
        .disable_signals()
        .shutdown_timeout(settings.engine.shutdown_timeout_secs)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .run();

        spawn_background(&state);
        if socket_activated {
            tracing::info!("listening on http://{addr} (socket passed by systemd)");
        } else {
            tracing::info!("listening on http://{addr}");
        }
        Ok(Application {
            addr,
            server,
            state,
            first_start,
            socket_activated,
            reload: None,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// The default key, when this start initialised the data directory.
    pub fn first_start(&self) -> Option<&FirstStart> {
        self.first_start.as_ref()
    }

    /// SIGHUP re-reads the configuration from `config` with these command-line overrides.
    pub fn reload_from(
        &mut self,
        config: Option<std::path::PathBuf>,
        overrides: crate::config::CliOverrides,
    ) {
        self.reload = Some((config, overrides));
    }

    /// Serves until SIGTERM/SIGINT, then drains and returns; SIGHUP re-reads the configuration.
    /// `signals` are installed before the daemon was built: one sent as soon as it logs
    /// `listening on` is handled, not left to its default action (SIGHUP would end it).
    pub async fn run_until_signal(self, signals: Signals) -> std::io::Result<()> {
        let handle = self.server.handle();
        let state = self.state.clone();
        crate::systemd::notify_ready();
        let server = tokio::spawn(self.server);
        wait_for_signal(signals, &state.settings, self.reload.as_ref()).await;
        if self.socket_activated {
            // systemd holds the socket: stop accepting first, so that connections arriving
            // from now on wait in its backlog for the next process instead of being answered
            // 503 by this one. A connection accepted a moment ago may not have sent its
            // request yet, and stopping would close it unanswered: give those time to become
            // requests in flight, then finish everything in flight.
            handle.pause().await;
            tokio::time::sleep(ACCEPTED_GRACE).await;
            handle.stop(true).await;
        }
        shutdown(&state, &handle).await;
        let _ = server.await;
        Ok(())
    }

    /// Serves until the returned future is dropped; for tests.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The signals the daemon acts on, caught from the moment this is built (inside the runtime).
/// Built by the `serve` command only: installing them in a test process would stop Ctrl-C
/// from ending it.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Returns when SIGTERM or SIGINT arrives: a start that hangs (an unreachable database)
    /// can still be stopped.
    pub async fn stop_requested(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

async fn wait_for_signal(
    signals: Signals,
    running: &Settings,
    reload: Option<&(Option<std::path::PathBuf>, crate::config::CliOverrides)>,
) {
    let Signals {
        mut term,
        mut int,
        mut hup,
    } = signals;
    loop {
        tokio::select! {
            _ = term.recv() => return tracing::info!("SIGTERM received; draining"),
            _ = int.recv() => return tracing::info!("SIGINT received; draining"),
            _ = hup.recv() => match reload {
                Some((config, overrides)) => reload_config(running, config.as_deref(), overrides),
                None => tracing::warn!("SIGHUP received, but there is no configuration to re-read"),
            },
        }
    }
}

/// SIGHUP: re-reads the configuration. `[log] level` takes effect at once; any other change is
/// reported as needing a restart (the running daemon keeps its settings). A file that does not
/// load is reported and changes nothing.
fn reload_config(
    running: &Settings,
    config: Option<&std::path::Path>,
    overrides: &crate::config::CliOverrides,
) {
    let fresh = match Settings::load(config, overrides) {
        Ok(s) => s,
        Err(e) => {
            return tracing::error!(
                problems = %e.to_string().trim_end(),
                "SIGHUP: the configuration does not load; nothing changed"
            );
        }
    };
    if fresh.log.level != running.log.level {
        match crate::telemetry::set_level(&fresh.log.level) {
            Ok(()) => tracing::warn!(level = %fresh.log.level, "SIGHUP: [log] level applied"),
            Err(e) => tracing::warn!(error = %e, "SIGHUP: [log] level not applied"),
        }
    }
    let restart: Vec<&str> = running
        .restart_only_differences(&fresh)
        .into_iter()
        .collect();
    if restart.is_empty() {
        tracing::info!("SIGHUP: configuration re-read");
    } else {
        tracing::warn!(
            changed = %restart.join(", "),
            "SIGHUP: these settings changed and take effect after a restart"
        );
    }
}

/// Graceful shutdown: refuse new events (503 + Retry-After), let running executions finish
/// within the timeout, stop the HTTP server, flush the WAL.
pub async fn shutdown(state: &AppState, server: &ServerHandle) {
    crate::systemd::notify_stopping();
    state.shutdown.cancel();
    let timeout = Duration::from_secs(state.settings.engine.shutdown_timeout_secs);
    let left = state.engine.drain(timeout).await;
    if left > 0 {
        tracing::warn!(
            left,
            "executions still running at the shutdown timeout; they resume on the next start"
        );
    }
    server.stop(true).await;
    match state.store.close().await {
        Ok(()) => tracing::info!("write-ahead log flushed; stopped"),
        Err(e) => tracing::error!(error = %e, "flushing the write-ahead log failed"),
    }
}

/// Creates the `default` account and its first key on an empty data directory, and prints
/// the key once on stdout.
async fn initialise_if_new(store: &SharedStore) -> Result<Option<FirstStart>, StartError> {
    if store.is_initialised().await? {
        return Ok(None);
    }
    let now = now_ms();
    let account = Account {
        id: crate::ids::account_id(),
        name: "default".into(),
        plan: Plan::Free,
        limits: None,
        signing_secret: generate_signing_secret(),
        created_at: now,
        updated_at: now,
    };
    let secret = generate_api_key();
    let key = ApiKey {
        id: crate::ids::api_key_id(),
        account_id: account.id.clone(),
        name: "default".into(),
        prefix: display_prefix(&secret),
        hash: hash_api_key(&secret),
        created_at: now,
    };
    store.initialise(&account, &key).await?;
    tracing::info!(account_id = %account.id, key_id = %key.id, "first start: created the default account and API key (printed on stdout)");
    Ok(Some(FirstStart {
        account_id: account.id,
        api_key: secret,
    }))
}

/// Workflows stored before versions existed have no version record: their current
/// definition becomes that version (only the version is written, never the workflow, so a
/// daemon starting beside others cannot undo their changes).
async fn record_current_versions(
    store: &dyn crate::store::Store,
    catalog: &Catalog,
) -> Result<(), crate::store::StoreError> {
    for wf in catalog.all_workflows() {
        if store
            .workflow_version(wf.id.clone(), wf.version)
            .await?
            .is_none()
        {
            store
                .record_workflow_version(&wf.current_version(wf.updated_at))
                .await?;
        }
    }
    Ok(())
}

fn spawn_background(state: &web::Data<AppState>) {
    // Bulk and shadow replays: resumes the stored running ones (after a restart, or when
    // this daemon takes the work over).
    tokio::spawn(state.jobs.clone().supervise());
    // Retention: delete old finished executions and expired idempotency keys.
    let s = state.clone();
    tokio::spawn(async move {
        let interval = s.settings.retention.sweep_interval();
        let max_age = s.settings.retention.max_age();
        let dedupe = Duration::from_secs(s.settings.webhooks.dedupe_window_secs);
        loop {
            tokio::select! {
                () = s.shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let now = now_ms();
            let cutoff = now - max_age.as_millis() as i64;
            let dedupe_cutoff = now - dedupe.as_millis() as i64;
            let replies_cutoff = now - api::idempotency::REPLY_TTL_MS;
            match s.store.purge(cutoff, dedupe_cutoff, replies_cutoff).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "retention: old executions deleted"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention sweep failed"),
            }
        }
    });
    // On a shared database, what other daemons change in the catalog (accounts, keys,
    // workflows, hooks) reaches this one within a second: a small full read of four tables,
    // never on the event path.
    if state.settings.storage.is_postgres() {
        let s = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = s.shutdown.cancelled() => return,
                    () = tokio::time::sleep(CATALOG_REFRESH) => {}
                }
                // Read under the catalog's write lock: a local change committed between the
                // read and the apply would otherwise be undone by an older snapshot (a revoked
                // key coming back).
                let _guard = s.catalog.write_lock().await;
                match s.store.load_catalog().await {
                    Ok(snapshot) => {
                        let changes = s.catalog.sync_with(snapshot);
                        for id in &changes.changed_workflows {
                            s.engine.workflow_changed(id);
                        }
                        for id in &changes.deleted_workflows {
                            s.engine.workflow_deleted(id);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "refreshing the catalog failed"),
                }
            }
        });
    }
    // Rate-limit buckets of idle accounts, and the metrics recorder's upkeep.
    let s = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = s.shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
            s.limiter.evict_idle(now_ms());
        }
    });
    if let Some(handle) = state.metrics.clone() {
        let shutdown = state.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                handle.run_upkeep();
            }
        });
    }
    if let Some(interval) = crate::systemd::watchdog_interval() {
        tokio::spawn(crate::systemd::watchdog(
            interval,
            state.store.clone(),
            state.engine.clone(),
            state.shutdown.clone(),
        ));
    }
}
