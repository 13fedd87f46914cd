//! Retry policy of one action: how many attempts, how long to wait between them.
//!
//! Defaults: `send_email` and `http_request` make up to 3 attempts starting 1 s apart;
//! `delay`, `filter` and `transform` have nothing to retry (1 attempt). Waits grow
//! exponentially (×2 per attempt, at most 60 s) with "equal jitter" (between half and all of
//! the exponential value) so that many failing executions do not retry in lockstep; a
//! `Retry-After` from the server is honoured up to 5 minutes.

use std::time::Duration;

use serde_json::Value;

use super::spec::{ActionSpec, whole_number};

pub const DEFAULT_NETWORK_ATTEMPTS: u32 = 3;
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_ATTEMPTS: u32 = 10;
/// Largest exponential wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Largest `Retry-After` we wait for before trying again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Duration,
}

impl RetryPolicy {
    pub fn default_for(action: &ActionSpec) -> RetryPolicy {
        match action {
            ActionSpec::SendEmail(_) | ActionSpec::HttpRequest(_) => RetryPolicy {
                max_attempts: DEFAULT_NETWORK_ATTEMPTS,
                backoff: DEFAULT_BACKOFF,
            },
            _ => RetryPolicy {
                max_attempts: 1,
                backoff: DEFAULT_BACKOFF,
            },
        }
    }

    /// Reads `retry: {max_attempts, backoff}`; `backoff` is milliseconds or a string such as
    /// `"500ms"`, `"2s"`.
    pub fn parse(raw: Option<&Value>, action: &ActionSpec) -> Result<RetryPolicy, String> {
        let mut policy = Self::default_for(action);
        let Some(raw) = raw else {
            return Ok(policy);
        };
        let obj = raw
            .as_object()
            .ok_or("must be an object {max_attempts, backoff}")?;
        for key in obj.keys() {
            if key != "max_attempts" && key != "backoff" {
                return Err(format!(
                    "unknown key '{key}' (known: max_attempts, backoff)"
                ));
            }
        }
        if let Some(v) = obj.get("max_attempts") {
            policy.max_attempts = whole_number(v)
                .filter(|n| (1..=u64::from(MAX_ATTEMPTS)).contains(n))
                .ok_or(format!("max_attempts must be between 1 and {MAX_ATTEMPTS}"))?
                as u32;
        }
        if let Some(v) = obj.get("backoff") {
            policy.backoff = parse_backoff(v)
                .filter(|d| *d <= MAX_BACKOFF)
                .ok_or("backoff must be milliseconds (number) or a duration like \"500ms\" or \"2s\", at most 60s")?;
        }
        Ok(policy)
    }

    /// Wait before attempt `next_attempt` (2 for the first retry). `unit` is a random number
    /// in [0, 1) supplying the jitter.
    pub fn wait_before(
        &self,
        next_attempt: u32,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Duration {
        let exponent = next_attempt.saturating_sub(2).min(20);
        let exp = self
            .backoff
            .saturating_mul(1u32 << exponent)
            .min(MAX_BACKOFF);
        let jittered = exp.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0));
        match retry_after {
            Some(ra) => jittered.max(ra.min(MAX_RETRY_AFTER)),
            None => jittered,
        }
    }
}

fn parse_backoff(v: &Value) -> Option<Duration> {
    if let Some(ms) = whole_number(v) {
        return Some(Duration::from_millis(ms));
    }
    let s = v.as_str()?.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse().ok().map(Duration::from_millis);
    }
    if let Some(secs) = s.strip_suffix('s') {
        return secs.trim().parse().ok().map(Duration::from_secs);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http() -> ActionSpec {
        ActionSpec::HttpRequest(super::super::spec::HttpRequest {
            method: "POST".into(),
            url: "http://x".into(),
            headers: Default::default(),
            body: None,
            timeout_ms: None,
        })
    }

    #[test]
    fn network_actions_retry_three_times_by_default() {
        let p = RetryPolicy::parse(None, &http()).unwrap();
        assert_eq!(p.max_attempts, 3);
        let p = RetryPolicy::parse(None, &ActionSpec::Delay { seconds: 1 }).unwrap();
        assert_eq!(p.max_attempts, 1);
    }

    #[test]
    fn waits_grow_exponentially_within_jitter_bounds() {
        let p = RetryPolicy {
            max_attempts: 5,
            backoff: Duration::from_millis(100),
        };
        assert_eq!(p.wait_before(2, None, 1.0), Duration::from_millis(100));
        assert_eq!(p.wait_before(3, None, 1.0), Duration::from_millis(200));
        assert_eq!(p.wait_before(4, None, 0.0), Duration::from_millis(200));
        assert_eq!(p.wait_before(30, None, 1.0), MAX_BACKOFF);
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            backoff: Duration::from_millis(100),
        };
        assert_eq!(
            p.wait_before(2, Some(Duration::from_secs(7)), 1.0),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.wait_before(2, Some(Duration::from_secs(9999)), 1.0),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn backoff_accepts_numbers_and_strings() {
        let p = RetryPolicy::parse(
            Some(&json!({"max_attempts": 4, "backoff": "250ms"})),
            &http(),
        )
        .unwrap();
        assert_eq!((p.max_attempts, p.backoff), (4, Duration::from_millis(250)));
        let p = RetryPolicy::parse(Some(&json!({"backoff": 2000})), &http()).unwrap();
        assert_eq!(p.backoff, Duration::from_secs(2));
        assert!(RetryPolicy::parse(Some(&json!({"tries": 4})), &http()).is_err());
    }
}
