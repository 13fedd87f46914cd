//! Plan windows shared by every daemon (`quota_windows`): one row per account and window
//! kind, updated in one statement so that concurrent daemons never grant more than the
//! window's limit between them. Times are the database's, so daemons' clocks need not agree.

use std::time::Duration;

use super::{PgStore, db_error};
use crate::store::{QuotaGrant, QuotaRequest, StoreError};

/// In one statement: a new row, or a window that ended (rolled over to a fresh one), or
/// a share of what is left. `last_grant` carries the share back out of the update, where
/// RETURNING sees only the new row. SET expressions read the row as it was.
const TAKE: &str = "
    WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now)
    INSERT INTO quota_windows AS q (account_id, kind, window_start_ms, used, last_grant)
    SELECT $1::text, $2::text, CASE WHEN $3::bool THEN t.now - t.now % $4::bigint ELSE t.now END,
           LEAST($5::bigint, $6::bigint), LEAST($5::bigint, $6::bigint)
    FROM t
    ON CONFLICT (account_id, kind) DO UPDATE SET
        window_start_ms = CASE WHEN q.window_start_ms + $4 <= EXCLUDED.window_start_ms
                               THEN EXCLUDED.window_start_ms ELSE q.window_start_ms END,
        last_grant = CASE WHEN q.window_start_ms + $4 <= EXCLUDED.window_start_ms
                          THEN LEAST($5, $6)
                          ELSE LEAST($5, GREATEST($6 - q.used, 0)) END,
        used = CASE WHEN q.window_start_ms + $4 <= EXCLUDED.window_start_ms
                    THEN LEAST($5, $6)
                    ELSE q.used + LEAST($5, GREATEST($6 - q.used, 0)) END
    RETURNING last_grant, used, window_start_ms,
              (extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// Longest a take may wait. It is on the path of every API request and event: a database
/// that cannot commit (a primary whose synchronous standby is gone, under strict synchronous
/// mode) must not hold requests; the caller counts on this daemon alone meanwhile.
const TAKE_TIMEOUT: Duration = Duration::from_secs(2);

impl PgStore {
    pub(super) async fn take_quota(&self, r: QuotaRequest) -> Result<QuotaGrant, StoreError> {
        let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
        let (window_ms, want, limit) = (r.window_ms.max(1), clamp(r.want), clamp(r.limit));
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &r.account_id,
            &r.kind,
            &r.aligned,
            &window_ms,
            &want,
            &limit,
        ];
        let client = self.client().await?;
        let take = client.query_one(TAKE, &params);
        let row = match tokio::time::timeout(TAKE_TIMEOUT, take).await {
            Ok(row) => row.map_err(db_error)?,
            Err(_) => {
                self.readers.discard(&client).await;
                return Err(StoreError::Unavailable(format!(
                    "postgres: no answer to a quota take within {TAKE_TIMEOUT:?}"
                )));
            }
        };
        Ok(QuotaGrant {
            granted: row.get::<_, i64>(0).max(0) as u64,
            used: row.get::<_, i64>(1).max(0) as u64,
            window_start_ms: row.get(2),
            now_ms: row.get(3),
        })
    }
}
