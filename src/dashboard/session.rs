//! Dashboard sessions: an API key (or the operator token) is exchanged once for a random
//! session id carried in an `HttpOnly`, `SameSite=Strict` cookie. Only the id's SHA-256 is
//! kept, in memory: a restart signs everyone out, and a copy of the process's memory cannot be
//! replayed as a cookie. The key itself is never kept, in the page or anywhere else.
//!
//! A session ends at the first of: sign-out, `IDLE_MS` without a request, `MAX_AGE_MS` after
//! sign-in, the revocation of the API key it was opened with (checked on every request against
//! the catalog), or a change of the operator token. Sessions are bounded in all
//! (`MAX_SESSIONS`) and per account (`MAX_PER_ACCOUNT`): the oldest goes first.

use std::sync::Mutex;

use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::fasthash::FastState;

/// A session unused for this long has ended.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// No session lives longer than this, however active.
pub const MAX_AGE_MS: i64 = 12 * 3600 * 1000;
pub const MAX_SESSIONS: usize = 10_000;
pub const MAX_PER_ACCOUNT: usize = 20;

/// Who a session acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An account, through the API key the session was opened with.
    Account { account_id: String, key_id: String },
    /// The operator; `token_hash` is the SHA-256 of the token used, so a changed token ends
    /// the session.
    Operator { token_hash: [u8; 32] },
}

#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    /// Sent back with every form; compared in constant time.
    pub csrf_token: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
}

impl Session {
    fn expired(&self, now_ms: i64) -> bool {
        now_ms - self.last_seen_ms > IDLE_MS || now_ms - self.created_ms > MAX_AGE_MS
    }

    /// Whether `given` is this session's form token.
    pub fn csrf_matches(&self, given: &str) -> bool {
        let a = Sha256::digest(given.as_bytes());
        let b = Sha256::digest(self.csrf_token.as_bytes());
        bool::from(a.ct_eq(&b))
    }

    pub fn account_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::Account { account_id, .. } => Some(account_id),
            Principal::Operator { .. } => None,
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

#[derive(Default)]
pub struct Sessions {
    by_hash: DashMap<String, Session, FastState>,
    /// Serialises sign-ins, so the bounds are checked and enforced as one step.
    opening: Mutex<()>,
}

impl Sessions {
    /// Opens a session; returns the id for the cookie (the only place it exists in clear).
    pub fn open(&self, principal: Principal, now_ms: i64) -> String {
        let _one_at_a_time = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        self.by_hash.retain(|_, s| !s.expired(now_ms));
        let account = match &principal {
            Principal::Account { account_id, .. } => Some(account_id.clone()),
            Principal::Operator { .. } => None,
        };
        let same_owner: Vec<(String, i64)> = self
            .by_hash
            .iter()
            .filter(|e| e.account_id().map(str::to_string) == account)
            .map(|e| (e.key().clone(), e.created_ms))
            .collect();
        if same_owner.len() >= MAX_PER_ACCOUNT {
            self.evict_oldest(same_owner, MAX_PER_ACCOUNT - 1);
        }
        if self.by_hash.len() >= MAX_SESSIONS {
            let all = self
                .by_hash
                .iter()
                .map(|e| (e.key().clone(), e.created_ms))
                .collect();
            self.evict_oldest(all, MAX_SESSIONS - 1);
        }
        let id = random_hex(32);
        self.by_hash.insert(
            hash_id(&id),
            Session {
                principal,
                csrf_token: random_hex(32),
                created_ms: now_ms,
                last_seen_ms: now_ms,
            },
        );
        id
    }

    fn evict_oldest(&self, mut candidates: Vec<(String, i64)>, keep: usize) {
        candidates.sort_by_key(|(_, created)| *created);
        let excess = candidates.len().saturating_sub(keep);
        for (hash, _) in candidates.into_iter().take(excess) {
            self.by_hash.remove(&hash);
        }
    }

    /// The live session with this cookie value, touched; an expired one is removed.
    pub fn get(&self, id: &str, now_ms: i64) -> Option<Session> {
        let hash = hash_id(id);
        let mut entry = self.by_hash.get_mut(&hash)?;
        if entry.expired(now_ms) {
            drop(entry);
            self.by_hash.remove(&hash);
            return None;
        }
        entry.last_seen_ms = now_ms;
        Some(entry.clone())
    }

    /// Ends a session (sign-out, or found invalid).
    pub fn close(&self, id: &str) {
        self.by_hash.remove(&hash_id(id));
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// Sign-in attempts per client address: `BURST` at once, refilled at `PER_MINUTE`. Failed
/// and successful attempts count alike, so guessing keys through the form is as slow as
/// anything else. Addresses idle for a minute are forgotten (`MAX_TRACKED` bounds the map).
#[derive(Default)]
pub struct SignInLimiter {
    buckets: DashMap<String, (f64, i64), FastState>,
}

impl SignInLimiter {
    pub const BURST: f64 = 10.0;
    pub const PER_MINUTE: f64 = 10.0;
    const MAX_TRACKED: usize = 100_000;

    /// Takes one attempt for `addr`; Err carries the seconds to wait.
    pub fn attempt(&self, addr: &str, now_ms: i64) -> Result<(), u64> {
        if self.buckets.len() >= Self::MAX_TRACKED {
            self.buckets
                .retain(|_, (tokens, at)| now_ms - *at < 60_000 && *tokens < Self::BURST);
        }
        let mut entry = self
            .buckets
            .entry(addr.to_string())
            .or_insert((Self::BURST, now_ms));
        let (tokens, at) = *entry;
        let refilled =
            (tokens + (now_ms - at).max(0) as f64 * Self::PER_MINUTE / 60_000.0).min(Self::BURST);
        if refilled < 1.0 {
            let wait_ms = (1.0 - refilled) * 60_000.0 / Self::PER_MINUTE;
            return Err((wait_ms / 1000.0).ceil().max(1.0) as u64);
        }
        *entry = (refilled - 1.0, now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(n: usize) -> Principal {
        Principal::Account {
            account_id: format!("acct_{n}"),
            key_id: format!("key_{n}"),
        }
    }

    #[test]
    fn a_session_is_found_by_its_id_only_and_ends_when_idle_or_old() {
        let s = Sessions::default();
        let id = s.open(account(1), 0);
        assert!(
            s.by_hash.iter().all(|e| *e.key() != id),
            "only the hash is kept"
        );
        assert!(s.get(&id, 1000).is_some());
        assert!(s.get("not-the-id", 1000).is_none());
        // Touched at 1000: idle from there.
        assert!(s.get(&id, 1000 + IDLE_MS).is_some());
        assert!(s.get(&id, 1000 + 2 * IDLE_MS + 1).is_none());
        assert!(s.is_empty(), "an expired session is removed");

        let id = s.open(account(1), 0);
        let mut t = 0;
        while t < MAX_AGE_MS {
            t += IDLE_MS / 2;
            let alive = s.get(&id, t).is_some();
            assert_eq!(alive, t <= MAX_AGE_MS, "at {t}");
        }
    }

    #[test]
    fn sessions_are_bounded_per_account_oldest_first() {
        let s = Sessions::default();
        let first = s.open(account(1), 0);
        for i in 1..MAX_PER_ACCOUNT as i64 + 5 {
            s.open(account(1), i);
        }
        let other = s.open(account(2), 100);
        assert_eq!(s.len(), MAX_PER_ACCOUNT + 1);
        assert!(s.get(&first, 200).is_none(), "the oldest went");
        assert!(s.get(&other, 200).is_some(), "another account is untouched");
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let s = Sessions::default();
        let id = s.open(account(1), 0);
        let session = s.get(&id, 0).unwrap();
        assert!(session.csrf_matches(&session.csrf_token.clone()));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches(&session.csrf_token[1..]));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_address() {
        let l = SignInLimiter::default();
        for _ in 0..SignInLimiter::BURST as usize {
            assert!(l.attempt("10.0.0.1", 0).is_ok());
        }
        let wait = l.attempt("10.0.0.1", 0).unwrap_err();
        assert!((1..=6).contains(&wait), "{wait}");
        assert!(l.attempt("10.0.0.2", 0).is_ok(), "another address");
        assert!(l.attempt("10.0.0.1", 6_000).is_ok(), "refilled");
    }
}
