//! The schema, versioned and embedded: applied at open, in order, each migration in its own
//! transaction, under an advisory lock so that daemons starting at once apply each exactly
//! once (the second waits, then finds nothing left to do).

use tokio_postgres::Client;

use crate::store::StoreError;

use super::db_error;

/// Arbitrary, fixed: the advisory lock key all daemons take while migrating.
const MIGRATION_LOCK: i64 = 0x626f_7463_6164_656e; // "botcaden"

/// Every migration, oldest first; a released one is never edited, only followed.
pub const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE accounts (id text PRIMARY KEY, value bytea NOT NULL);
    CREATE TABLE api_keys (id text PRIMARY KEY, value bytea NOT NULL);
    CREATE TABLE workflows (id text PRIMARY KEY, value bytea NOT NULL);
    CREATE TABLE hooks (id text PRIMARY KEY, value bytea NOT NULL);
    CREATE TABLE meta (name text PRIMARY KEY, value bytea NOT NULL);
    -- One row per execution: the record (our codec), the list's summary, and the columns the
    -- lists and the due index are read by. Ids begin with their creation time in hex, so
    -- "newest first" is id order and a time window is an id range.
    CREATE TABLE executions (
        id text PRIMARY KEY,
        account_id text NOT NULL,
        workflow_id text NOT NULL,
        status text NOT NULL,
        due_at_ms bigint,
        record bytea NOT NULL,
        summary bytea NOT NULL
    );
    CREATE INDEX executions_by_workflow ON executions (workflow_id, id);
    CREATE INDEX executions_by_status ON executions (workflow_id, status, id);
    -- The due index: unfinished executions only, by account and due time.
    CREATE INDEX executions_due ON executions (account_id, due_at_ms, id)
        WHERE due_at_ms IS NOT NULL;
    CREATE TABLE dedupe (
        hook_id text NOT NULL,
        key text NOT NULL,
        execution_id text NOT NULL,
        at_ms bigint NOT NULL,
        PRIMARY KEY (hook_id, key)
    );
    CREATE INDEX dedupe_by_age ON dedupe (at_ms);
    CREATE TABLE replies (key text PRIMARY KEY, value bytea NOT NULL, at_ms bigint NOT NULL);
    CREATE INDEX replies_by_age ON replies (at_ms);
    -- Who may write executions' progress, and under which epoch (fencing).
    CREATE TABLE leases (name text PRIMARY KEY, owner text NOT NULL, epoch bigint NOT NULL);
    "#,
    ),
    (
        2,
        r#"
    -- Leases expire unless renewed (by the database's clock), so a standby daemon takes the
    -- work over when its holder dies.
    ALTER TABLE leases ADD COLUMN expires_at_ms bigint NOT NULL DEFAULT 0;
    "#,
    ),
    (
        3,
        r#"
    -- Execution ids are compared and ordered as bytes (time-ordered hex, range bounds with
    -- '~'): under a linguistic collation ('en_US.UTF-8') '_' and '~' do not sort by byte.
    ALTER TABLE executions ALTER COLUMN id TYPE text COLLATE "C";
    "#,
    ),
    (
        4,
        r#"
    -- Every version a workflow ran, immutable once written.
    CREATE TABLE workflow_versions (
        workflow_id text NOT NULL,
        version bigint NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (workflow_id, version)
    );
    -- Bulk and shadow replays. A cancel request is its own column: the job's progress
    -- writes replace `value` and `status` and never undo it.
    CREATE TABLE jobs (
        id text COLLATE "C" PRIMARY KEY,
        status text NOT NULL,
        created_at_ms bigint NOT NULL,
        value bytea NOT NULL,
        cancel_requested boolean NOT NULL DEFAULT false
    );
    CREATE INDEX jobs_running ON jobs (id) WHERE status = 'running';
    CREATE TABLE job_results (
        job_id text COLLATE "C" NOT NULL,
        changed boolean NOT NULL,
        execution_id text COLLATE "C" NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (job_id, execution_id)
    );
    -- Changed results first, then by execution.
    CREATE INDEX job_results_listed ON job_results (job_id, changed DESC, execution_id);
    "#,
    ),
    (
        5,
        r#"
    -- Plan windows shared by every daemon: what was granted of each account's current
    -- minute, day and ingest second (daemons take chunks, see `quota.rs`).
    CREATE TABLE quota_windows (
        account_id text NOT NULL,
        kind text NOT NULL,
        window_start_ms bigint NOT NULL,
        used bigint NOT NULL,
        last_grant bigint NOT NULL,
        PRIMARY KEY (account_id, kind)
    );
    "#,
    ),
    (
        6,
        r#"
    -- Work is divided into 16 shards by workflow (`store::shard_of`: the first byte of the
    -- SHA-256 of the workflow's id, modulo 16), each with its own lease row and epoch.
    ALTER TABLE executions ADD COLUMN shard smallint;
    UPDATE executions SET shard = get_byte(sha256(convert_to(workflow_id, 'UTF8')), 0) % 16;
    ALTER TABLE executions ALTER COLUMN shard SET NOT NULL;
    INSERT INTO leases (name, owner, epoch, expires_at_ms)
        SELECT 'shard-' || s, '', 0, 0 FROM generate_series(0, 15) AS s
        ON CONFLICT (name) DO NOTHING;
    -- The one lease of earlier versions is retired for good: a daemon of an earlier version
    -- still running can neither take it again nor write progress under it.
    INSERT INTO leases (name, owner, epoch, expires_at_ms)
        VALUES ('store', 'retired at schema 6', 1, 9223372036854775807)
        ON CONFLICT (name) DO UPDATE
            SET owner = 'retired at schema 6', epoch = leases.epoch + 1,
                expires_at_ms = 9223372036854775807;
    -- Daemons alive, by the same clock as the leases: each takes its share of the shards.
    CREATE TABLE members (owner text PRIMARY KEY, expires_at_ms bigint NOT NULL);
    "#,
    ),
    (
        7,
        r#"
    -- A workflow's `updated_at`, for compare-and-set updates from daemons' cached catalogs
    -- (NULL for rows written before: any update of those goes through once).
    ALTER TABLE workflows ADD COLUMN updated_at_ms bigint;
    "#,
    ),
];

/// The version this build expects.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Applies what is missing. Returns the version the database is at afterwards.
pub async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_error)?;
    let result = apply(client).await;
    // Released even when a migration failed (the session ending would release it too).
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

async fn apply(client: &mut Client) -> Result<i32, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS botcadence_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(db_error)?;
    let mut current = version(client).await?;
    if current > latest() {
        return Err(StoreError::Db(format!(
            "the database's schema is version {current}, newer than this build's {}: run a newer botcadence",
            latest()
        )));
    }
    let start = current;
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > start) {
        let tx = client.transaction().await.map_err(db_error)?;
        tx.batch_execute(sql).await.map_err(db_error)?;
        tx.execute("INSERT INTO botcadence_schema (version) VALUES ($1)", &[v])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(version = v, "database schema migrated");
        current = *v;
    }
    Ok(current)
}

/// The schema version the database is at (0: none yet).
pub async fn version(client: &Client) -> Result<i32, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('botcadence_schema') IS NOT NULL", &[])
        .await
        .map_err(db_error)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM botcadence_schema",
            &[],
        )
        .await
        .map_err(db_error)?;
    Ok(row.get(0))
}
