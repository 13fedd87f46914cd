//! Claims on Idempotency-Keys shared by every daemon: a request with a key first inserts an
//! empty row for it in `replies`; a second daemon finding that row (younger than
//! `REPLY_CLAIM_MS`) answers 409 while the first runs. The answer replaces the empty value;
//! a request that failed deletes its claim; a claim left by a daemon that died is taken over
//! once it is older than `REPLY_CLAIM_MS`, and a stored answer once it is older than a day
//! (its key's meaning has expired, `api::idempotency::REPLY_TTL_MS`).

use super::{PgStore, db_error};
use crate::store::{REPLY_CLAIM_MS, ReplyClaim, StoreError, codec};

/// Answers are kept this long; an older one no longer holds its key.
const ANSWER_MS: i64 = 24 * 3600 * 1000;

const CLAIM: &str = "
    INSERT INTO replies (key, value, at_ms) VALUES ($1, '\\x', $2)
    ON CONFLICT (key) DO UPDATE SET value = '\\x', at_ms = $2
        WHERE (replies.value = '\\x' AND replies.at_ms < $2 - $3)
           OR (replies.value <> '\\x' AND replies.at_ms < $2 - $4)
    RETURNING 1";

impl PgStore {
    pub(super) async fn claim_reply(
        &self,
        key: String,
        now_ms: i64,
    ) -> Result<ReplyClaim, StoreError> {
        let client = self.client().await?;
        let claimed = client
            .query_opt(CLAIM, &[&key, &now_ms, &REPLY_CLAIM_MS, &ANSWER_MS])
            .await
            .map_err(db_error)?;
        if claimed.is_some() {
            return Ok(ReplyClaim::Claimed);
        }
        // Held: by a running request (empty), or by its answer. Gone meanwhile (retention,
        // a released claim): the caller may simply try again; say it runs.
        match self.stored_reply_bytes(&key).await? {
            Some(bytes) if !bytes.is_empty() => codec::decode(&bytes)
                .map(ReplyClaim::Stored)
                .map_err(|error| StoreError::Corrupt {
                    family: "replies",
                    error,
                }),
            _ => Ok(ReplyClaim::Running),
        }
    }

    pub(super) async fn release_reply(&self, key: String) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM replies WHERE key = $1 AND value = '\\x'",
                &[&key],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
