//! How fast a bulk replay may start executions: never faster than half of the account's
//! ingest rate, taking each one from the account's ingest quota like a webhook event, and
//! only while the account's unfinished executions fill less than half of its admission room.
//! Live events therefore always find half the rate and half the room free.

use std::time::{Duration, Instant};

use super::JobContext;
use crate::ratelimit::effective_limits;
use crate::timefmt::now_ms;

pub struct Pace {
    tokens: f64,
    last: Instant,
}

/// The longest single wait, so cancels and shutdowns are seen promptly.
const MAX_WAIT: Duration = Duration::from_millis(250);

impl Pace {
    pub fn new() -> Pace {
        Pace {
            tokens: 1.0,
            last: Instant::now(),
        }
    }

    /// Waits until the account may take one more replayed execution. False when shutting
    /// down (or the account is gone).
    pub async fn admit(&mut self, ctx: &JobContext, account_id: &str) -> bool {
        loop {
            let Some(account) = ctx.catalog.account(account_id) else {
                return false;
            };
            let limits = effective_limits(account.plan, account.limits, &ctx.settings.plans);
            let rate = (limits.webhooks_per_second as f64 / 2.0).max(1.0);
            let now = Instant::now();
            // At most a tenth of a second of burst.
            self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * rate)
                .min((rate / 10.0).max(1.0));
            self.last = now;
            let admission = ctx.engine.admission();
            let wait = if self.tokens < 1.0 {
                Duration::from_secs_f64((1.0 - self.tokens) / rate)
            } else if admission.pending_of(account_id) * 2 >= admission.max_per_account() {
                Duration::from_millis(100)
            } else {
                match ctx
                    .limiter
                    .check_ingest_everywhere(account_id, &limits, now_ms())
                    .await
                {
                    Ok(()) => {
                        self.tokens -= 1.0;
                        return true;
                    }
                    Err(secs) => Duration::from_secs(secs),
                }
            };
            tokio::select! {
                () = ctx.shutdown.cancelled() => return false,
                () = tokio::time::sleep(wait.min(MAX_WAIT)) => {}
            }
        }
    }
}
