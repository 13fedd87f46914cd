//! A memory budget for renders (added to this vendored copy; see `vendor/README.md`).
//!
//! minijinja bounds a render's time with fuel, but not what it allocates: a short template
//! that concatenates a string with itself a few levels deep builds hundreds of megabytes in a
//! few instructions. The embedding program installs a probe that knows how many bytes the
//! current render holds (the daemon counts them in its global allocator); the VM asks it
//! after every instruction, and the operations that can build a large value in one step ask
//! it with the size they are about to allocate, before allocating. Without a probe nothing
//! changes.

use std::sync::OnceLock;

use crate::error::{Error, ErrorKind};

/// Answers whether the current render may hold `additional` more bytes.
pub type MemoryProbe = fn(additional: usize) -> bool;

static PROBE: OnceLock<MemoryProbe> = OnceLock::new();

/// Installs the process-wide probe (once; later calls are ignored).
pub fn set_memory_probe(probe: MemoryProbe) {
    let _ = PROBE.set(probe);
}

/// Fails when the probe says `additional` more bytes would exceed the render's budget.
pub(crate) fn reserve(additional: usize) -> Result<(), Error> {
    match PROBE.get() {
        Some(probe) if !probe(additional) => Err(Error::new(
            ErrorKind::InvalidOperation,
            "the template exceeded its memory budget",
        )),
        _ => Ok(()),
    }
}

/// A string that asks the budget before it grows: for values whose printed size is only known
/// while they are printed. Writing fails once the budget would be exceeded.
pub(crate) struct BudgetedString(pub(crate) String);

impl std::fmt::Write for BudgetedString {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let missing = s.len().saturating_sub(self.0.capacity() - self.0.len());
        // Growing allocates about the current capacity again (or what is missing, if more).
        if missing > 0 && reserve(self.0.capacity().max(missing)).is_err() {
            return Err(std::fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}
