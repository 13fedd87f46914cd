//! What a request body may cost before any handler sees it: time and memory.
//!
//! * **Time**: the whole body must arrive within `[server] body_read_timeout_secs` of the
//!   headers (the headers have actix's `client_request_timeout`). A body trickled byte by byte
//!   gets 408 and its connection is closed, instead of holding a worker's connection forever.
//! * **Memory**: bodies held at once, all requests together, are bounded by
//!   `[server] max_body_memory_bytes`. A request with a `Content-Length` reserves it before
//!   its body is read; a chunked one reserves each chunk as it arrives. When the budget is
//!   spent the request gets 503 with `Retry-After` (before its body is read, when the length
//!   is known), and the reservation is returned when the response is ready, so a burst of
//!   large bodies cannot grow the process without bound.
//!
//! * **Per account**: webhook bodies also count against their account's share,
//!   `[webhooks] max_body_memory_per_account_bytes` ([`AccountBodies`]), so one account's
//!   burst is refused (503, for that account only) long before it could spend the budget of
//!   everyone.
//!
//! Requests without a body (no `Content-Length`, or 0, and no `Transfer-Encoding`) pass
//! untouched. The timer is armed only when the body is not already there, so a small body
//! that arrived with its headers costs no timer.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, ResponseError, web};
use futures_util::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::AppState;
use super::error::ApiError;

/// The shared byte budget for bodies in memory.
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    capacity: usize,
    read_timeout: Duration,
}

impl BodyBudget {
    pub fn new(capacity: usize, read_timeout: Duration) -> BodyBudget {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(capacity.min(Semaphore::MAX_PERMITS))),
            capacity,
            read_timeout,
        }
    }

    /// Bytes of bodies held right now.
    pub fn in_use(&self) -> usize {
        self.capacity.saturating_sub(self.bytes.available_permits())
    }

    /// Reserves `n` bytes, or None when they do not fit now.
    fn reserve(&self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok()?;
        self.bytes.clone().try_acquire_many_owned(n).ok()
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

/// What one request holds of the budget; returned when the last holder (the middleware, after
/// the response, or the payload stream) drops it.
#[derive(Default)]
struct Reservation(Mutex<Option<OwnedSemaphorePermit>>);

impl Reservation {
    fn add(&self, permit: OwnedSemaphorePermit) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match held.as_mut() {
            Some(p) => p.merge(permit),
            None => *held = Some(permit),
        }
    }
}

/// The middleware: reserve what a known length needs (or refuse), then hand the handler a
/// payload with a deadline (and per-chunk reservations when the length is unknown).
pub async fn guard_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = req.headers().contains_key(TRANSFER_ENCODING);
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if length.unwrap_or(0) == 0 && !chunked {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let budget = &state.bodies;
    let reservation = Arc::new(Reservation::default());
    if let Some(n) = length.filter(|_| !chunked) {
        // A length above any limit is refused by the handler as 413 without reading; only
        // a body that may be read is reserved.
        let cap = state
            .settings
            .webhooks
            .max_body_bytes
            .max(state.settings.server.max_api_body_bytes);
        if n <= cap {
            match budget.reserve(n) {
                Some(permit) => reservation.add(permit),
                None => {
                    let (req, _) = req.into_parts();
                    return Ok(ServiceResponse::new(req, full().error_response()));
                }
            }
        }
    }
    let payload = req.take_payload();
    let guarded = GuardedPayload {
        inner: payload,
        deadline: Instant::now() + budget.read_timeout,
        timeout: budget.read_timeout,
        sleep: None,
        per_chunk: (length.is_none() || chunked).then(|| (state.clone(), reservation.clone())),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(guarded),
    });
    let res = next.call(req).await?;
    drop(reservation);
    Ok(res.map_into_boxed_body())
}

struct GuardedPayload {
    inner: Payload,
    deadline: Instant,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the length was not known: where each chunk's bytes are reserved.
    per_chunk: Option<(web::Data<AppState>, Arc<Reservation>)>,
}

impl Stream for GuardedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some((state, reservation)) = &this.per_chunk {
                    match state.bodies.reserve(chunk.len()) {
                        Some(permit) => reservation.add(permit),
                        None => {
                            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                                std::io::ErrorKind::OutOfMemory,
                                "the memory for request bodies is spent",
                            )))));
                        }
                    }
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
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

/// Bytes of webhook bodies each account holds right now.
pub struct AccountBodies {
    held: Arc<dashmap::DashMap<String, usize, crate::fasthash::FastState>>,
    per_account: usize,
}

impl AccountBodies {
    pub fn new(per_account: usize) -> AccountBodies {
        AccountBodies {
            held: Arc::new(dashmap::DashMap::with_hasher(Default::default())),
            per_account,
        }
    }

    /// An empty reservation for `account`, grown as its body arrives.
    pub fn start(&self, account: &str) -> AccountReservation {
        AccountReservation {
            held: self.held.clone(),
            account: account.to_string(),
            bytes: 0,
            limit: self.per_account,
        }
    }
}

/// What one request holds of its account's share; returned on drop.
pub struct AccountReservation {
    held: Arc<dashmap::DashMap<String, usize, crate::fasthash::FastState>>,
    account: String,
    bytes: usize,
    limit: usize,
}

impl AccountReservation {
    /// Adds `n` bytes, or refuses (503) when the account's share would be exceeded.
    pub fn grow(&mut self, n: usize) -> Result<(), ApiError> {
        if n == 0 {
            return Ok(());
        }
        let mut held = self.held.entry(self.account.clone()).or_insert(0);
        if *held + n > self.limit {
            metrics::counter!("botcadence_engine_admission_refusals_total", "scope" => "account_body_memory")
                .increment(1);
            return Err(ApiError::Unavailable {
                message:
                    "This account has as many webhook bodies in memory as it may; retry shortly"
                        .into(),
                retry_after: 1,
            });
        }
        *held += n;
        self.bytes += n;
        Ok(())
    }
}

impl Drop for AccountReservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        // Remove the entry at zero, so the map holds only accounts with bodies in flight.
        self.held.remove_if_mut(&self.account, |_, held| {
            *held = held.saturating_sub(self.bytes);
            *held == 0
        });
    }
}
