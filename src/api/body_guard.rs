//! What a request body may cost before any handler sees it: time and memory.
//!
//! * **Time**: the whole body must arrive within `[server] body_read_timeout_secs` of the
//!   first moment the handler had to wait for it (the headers have actix's
//!   `client_request_timeout`). A body trickled byte by byte gets 408 and its connection is
//!   closed, instead of holding a worker's connection forever.
//! * **Memory**: bodies held at once, all requests together, are bounded by
//!   `[server] max_body_memory_bytes`. A request with a `Content-Length` reserves it before
//!   its body is read; a chunked one reserves each chunk as it arrives. When the budget is
//!   spent the request gets 503 with `Retry-After` (before its body is read, when the length
//!   is known), and the reservation is returned when the response is ready, so a burst of
//!   large bodies cannot grow the process without bound.
//! * **Per account**: webhook bodies also count against their account's share,
//!   `[webhooks] max_body_memory_per_account_bytes` ([`BodyCharge`]), so one account's
//!   burst is refused (503, for that account only) long before it could spend the budget of
//!   everyone.
//!
//! The request middleware calls [`BodyBudget::guard`] for every route but ingest, which
//! charges and times its own body ([`BodyBudget::charge_for`]): it is the hottest path, and
//! there a body that came with its headers costs no wrapper or timer. Requests without a body
//! (no `Content-Length`, or 0, and no `Transfer-Encoding`) pass untouched.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::time::Sleep;

use super::error::ApiError;

/// A byte budget: what is held, against a capacity. Plain atomics: taken and returned on
/// every request with a body, the hottest path there is.
struct Budget {
    held: AtomicUsize,
    capacity: usize,
}

impl Budget {
    /// Takes `n` bytes, or nothing when they do not fit.
    fn take(self: &Arc<Self>, n: usize) -> Option<Held> {
        let before = self.held.fetch_add(n, Ordering::AcqRel);
        if before + n > self.capacity {
            self.held.fetch_sub(n, Ordering::AcqRel);
            return None;
        }
        Some(Held {
            budget: self.clone(),
            bytes: n,
        })
    }
}

/// Bytes taken from a budget, returned on drop.
pub struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Held {
    /// Takes `n` more bytes from the same budget; false (and nothing taken) when they do not
    /// fit.
    fn grow(&mut self, n: usize) -> bool {
        match self.budget.take(n) {
            Some(more) => {
                self.bytes += more.bytes;
                std::mem::forget(more);
                true
            }
            None => false,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// The shared byte budget for bodies in memory, each account's share of webhook bodies, and
/// how long a body may take.
pub struct BodyBudget {
    budget: Arc<Budget>,
    accounts: AccountBodies,
    read_timeout: Duration,
    /// Largest body any route reads: a longer `Content-Length` is refused by the route
    /// (413) without reading, so it is not reserved.
    largest_body: usize,
}

impl BodyBudget {
    pub fn new(
        capacity: usize,
        per_account: usize,
        read_timeout: Duration,
        largest_body: usize,
    ) -> BodyBudget {
        BodyBudget {
            budget: Arc::new(Budget {
                held: AtomicUsize::new(0),
                capacity,
            }),
            accounts: AccountBodies::new(per_account),
            read_timeout,
            largest_body,
        }
    }

    /// Bytes of bodies held right now.
    pub fn in_use(&self) -> usize {
        self.budget.held.load(Ordering::Relaxed)
    }

    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// An empty charge for a webhook body of `account`, grown as the body is read (ingest
    /// reads its own body: see `guard`).
    pub fn charge_for(&self, account: &str) -> BodyCharge {
        BodyCharge {
            daemon: Held {
                budget: self.budget.clone(),
                bytes: 0,
            },
            account: self.accounts.start(account),
        }
    }

    /// Called by the request middleware before routing: reserves what a known length needs
    /// (or refuses, before the body is read) and gives the request a payload with a
    /// deadline (reserving chunk by chunk when the length is unknown). What it returns must
    /// be kept until the response is ready. Requests without a body pass untouched.
    pub fn guard(&self, req: &mut ServiceRequest) -> Result<Option<Held>, ApiError> {
        if req.path().starts_with("/webhooks/") {
            return Ok(None); // Ingest charges and times its body itself (`charge_for`).
        }
        let headers = req.headers();
        let chunked = headers.contains_key(TRANSFER_ENCODING);
        let length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        if length.unwrap_or(0) == 0 && !chunked {
            return Ok(None);
        }
        let held = match length.filter(|n| !chunked && *n <= self.largest_body) {
            Some(n) => Some(self.budget.take(n).ok_or_else(full)?),
            None => None,
        };
        let per_chunk = (length.is_none() || chunked).then(|| Held {
            budget: self.budget.clone(),
            bytes: 0,
        });
        let guarded = GuardedPayload {
            inner: req.take_payload(),
            timeout: self.read_timeout,
            sleep: None,
            per_chunk,
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(guarded),
        });
        Ok(held)
    }
}

fn full() -> ApiError {
    metrics::counter!("botcadence_engine_admission_refusals_total", "scope" => "body_memory")
        .increment(1);
    ApiError::Unavailable {
        message: "The daemon holds as many request bodies in memory as it may; retry shortly"
            .into(),
        retry_after: 1,
    }
}

struct GuardedPayload {
    inner: Payload,
    timeout: Duration,
    /// Armed the first time the body is not there yet (a body that came with its headers
    /// never needs one): the rest must arrive within `timeout` of that moment.
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the length was not known: each chunk's bytes, held until the payload is dropped.
    per_chunk: Option<Held>,
}

impl Stream for GuardedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(held) = &mut this.per_chunk {
                    if !held.grow(chunk.len()) {
                        return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                            std::io::ErrorKind::OutOfMemory,
                            "the memory for request bodies is spent",
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("not all of it within {} s", this.timeout.as_secs()),
                    )))));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

/// The error a handler reports when the guard cut its body short.
pub fn is_budget_error(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::OutOfMemory)
}

pub fn budget_error() -> ApiError {
    full()
}

/// Bytes of webhook bodies each account holds right now: one budget per account, created on
/// its first body and kept (accounts are few; a request only reads the map).
struct AccountBodies {
    budgets: dashmap::DashMap<String, Arc<Budget>, crate::fasthash::FastState>,
    per_account: usize,
}

impl AccountBodies {
    fn new(per_account: usize) -> AccountBodies {
        AccountBodies {
            budgets: dashmap::DashMap::with_hasher(Default::default()),
            per_account,
        }
    }

    fn start(&self, account: &str) -> Held {
        let budget = match self.budgets.get(account) {
            Some(b) => b.clone(),
            None => self
                .budgets
                .entry(account.to_string())
                .or_insert_with(|| {
                    Arc::new(Budget {
                        held: AtomicUsize::new(0),
                        capacity: self.per_account,
                    })
                })
                .clone(),
        };
        Held { budget, bytes: 0 }
    }
}

/// What one webhook body holds, of the daemon's budget and of its account's share; returned
/// on drop.
pub struct BodyCharge {
    daemon: Held,
    account: Held,
}

impl BodyCharge {
    /// Adds `n` bytes, or refuses (503) when the account's share or the daemon's budget
    /// would be exceeded.
    pub fn grow(&mut self, n: usize) -> Result<(), ApiError> {
        if n == 0 {
            return Ok(());
        }
        if !self.account.grow(n) {
            metrics::counter!("botcadence_engine_admission_refusals_total", "scope" => "account_body_memory")
                .increment(1);
            return Err(ApiError::Unavailable {
                message:
                    "This account has as many webhook bodies in memory as it may; retry shortly"
                        .into(),
                retry_after: 1,
            });
        }
        if !self.daemon.grow(n) {
            return Err(full());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_past_its_capacity_and_gets_bytes_back_on_drop() {
        let budget = Arc::new(Budget {
            held: AtomicUsize::new(0),
            capacity: 100,
        });
        let mut a = budget.take(60).unwrap();
        assert!(budget.take(41).is_none());
        assert!(!a.grow(41));
        assert!(a.grow(40));
        assert_eq!(budget.held.load(Ordering::Relaxed), 100);
        drop(a);
        assert_eq!(budget.held.load(Ordering::Relaxed), 0);
        assert!(budget.take(100).is_some());
    }
}
