//! Counting what one piece of work allocates on its thread, so a template render can be held
//! to a memory budget (`[engine] template_max_memory_bytes`).
//!
//! [`Counting`] wraps the global allocator. While a [`scope`] is open on a thread, every
//! allocation and free made on that thread moves the scope's count of live bytes; outside a
//! scope the wrapper adds one thread-local read per call. minijinja (vendored with a memory
//! probe, `vendor/README.md`) asks [`may_allocate`] after every instruction and before
//! building large values, and fails the render when the budget would be exceeded. So a render
//! holds at most about its budget (plus the one value being built when the count crossed it),
//! and what it built is freed when the render fails.
//!
//! The count is only known where `Counting` is the global allocator (the daemon, the test
//! binaries and the fuzz targets install it). Elsewhere only the checks minijinja makes before
//! allocating hold.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

/// The global allocator wrapper.
pub struct Counting<A>(pub A);

#[derive(Clone, Copy)]
struct Scope {
    active: bool,
    live: isize,
    limit: isize,
}

const OFF: Scope = Scope {
    active: false,
    live: 0,
    limit: 0,
};

thread_local! {
    // `const`, `Copy` and no destructor: reading it never allocates, which an allocator must
    // not do.
    static SCOPE: Cell<Scope> = const { Cell::new(OFF) };
    /// Bytes of large blocks this thread freed since it last handed memory back.
    static LARGE_FREED: Cell<usize> = const { Cell::new(0) };
}

/// A block this large is worth handing back when freed; small ones are reused at once.
const LARGE_BLOCK: usize = 64 << 10;
/// Handing memory back is worth its cost once a thread freed this much in large blocks.
const WORTH_RELEASING: usize = 1 << 20;

#[inline]
fn note_free(size: usize) {
    if size >= LARGE_BLOCK {
        let _ = LARGE_FREED.try_with(|f| f.set(f.get().saturating_add(size)));
    }
}

/// How to hand freed memory back to the system at once (mimalloc keeps freed pages a while).
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Installs how to return freed memory to the system; called by the binary.
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// How often an idle thread hands its freed memory back (`release_if_due`).
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The clock is read once every this many calls: threads go idle many times per event under
/// load, and a clock read each time cost more than the rest of the check.
const CHECK_EVERY_CALLS: u32 = 64;

thread_local! {
    static LAST_RELEASE: Cell<Option<std::time::Instant>> = const { Cell::new(None) };
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

/// Returns this thread's freed memory to the system if it has not done so for a while (checked
/// every 64th call). Called when a thread goes idle (tokio's `on_thread_park`, the writer with
/// an empty queue; each HTTP worker has a timer of its own): the
/// allocator keeps what a thread freed for that thread's reuse, so after a burst of large
/// bodies an idle thread would otherwise hold its peak for good.
pub fn release_if_due() {
    let calls = CALLS.with(|c| {
        let n = c.get().wrapping_add(1);
        c.set(n);
        n
    });
    if calls % CHECK_EVERY_CALLS != 0 {
        return;
    }
    let now = std::time::Instant::now();
    let due = LAST_RELEASE.with(|last| {
        let due = last
            .get()
            .is_none_or(|at| now.duration_since(at) >= RELEASE_EVERY);
        if due {
            last.set(Some(now));
        }
        due
    });
    if due {
        release_if_large_frees();
    }
}

/// Hands this thread's freed memory back if it freed at least 1 MiB in large blocks since it
/// last did: after a burst of large bodies, not on every quiet moment of ordinary traffic.
pub fn release_if_large_frees() {
    if LARGE_FREED.with(|f| f.get()) >= WORTH_RELEASING {
        LARGE_FREED.with(|f| f.set(0));
        release_freed_memory();
    }
}

/// After work was stopped for going over its budget: return what it built to the system now,
/// so the process's resident memory falls back instead of keeping the peak.
pub fn release_freed_memory() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

#[inline]
fn note(delta: isize) {
    // `try_with`: never panic inside the allocator, even while the thread is being torn down.
    let _ = SCOPE.try_with(|s| {
        let mut scope = s.get();
        if scope.active {
            scope.live += delta;
            s.set(scope);
        }
    });
}

// SAFETY: every call is forwarded to the wrapped allocator unchanged; only a thread-local
// counter is updated beside it.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as is.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
        note_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
            if p != ptr {
                note_free(layout.size());
            }
        }
        p
    }
}

/// While alive, counts this thread's allocations against `limit` bytes.
pub struct ScopeGuard {
    previous: Scope,
}

pub fn scope(limit: usize) -> ScopeGuard {
    let previous = SCOPE.with(|s| {
        s.replace(Scope {
            active: true,
            live: 0,
            limit: limit.min(isize::MAX as usize) as isize,
        })
    });
    ScopeGuard { previous }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.previous));
    }
}

/// Bytes allocated and not yet freed on this thread since the open scope began (0 without one).
pub fn live_bytes() -> isize {
    SCOPE.with(|s| s.get().live)
}

/// Whether the open scope (if any) may hold `additional` more bytes.
pub fn may_allocate(additional: usize) -> bool {
    SCOPE.with(|s| {
        let scope = s.get();
        !scope.active
            || scope
                .live
                .saturating_add(additional.min(isize::MAX as usize) as isize)
                <= scope.limit
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_answers_against_its_limit_and_restores_the_previous_one() {
        assert!(may_allocate(usize::MAX), "no scope: no limit");
        let outer = scope(100);
        assert!(may_allocate(100));
        assert!(!may_allocate(101));
        {
            let _inner = scope(10);
            assert!(!may_allocate(11));
        }
        assert!(may_allocate(100), "the outer scope is back");
        drop(outer);
        assert!(may_allocate(usize::MAX));
    }
}
