//! Object identifiers. Ids are opaque strings with a type prefix (`wf_`, `exec_`, …).
//!
//! Most ids start with the creation time in hex so that RocksDB's byte order is creation order:
//! listing workflows oldest first and executions newest first needs no sort. Webhook ids are the
//! credential of their URL, so they are pure randomness (128 bits).

use rand::RngCore;

/// Time-ordered id: prefix, 16 hex digits of microseconds since the epoch, 16 random hex digits.
/// Written without `format!`: an execution id is made for every event.
pub fn time_ordered(prefix: &str, micros: i64) -> String {
    let random = rand::thread_rng().next_u64();
    let mut id = String::with_capacity(prefix.len() + 33);
    id.push_str(prefix);
    id.push('_');
    push_hex(&mut id, micros as u64);
    push_hex(&mut id, random);
    id
}

/// 16 lower-case hex digits.
pub fn push_hex(out: &mut String, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(char::from(DIGITS[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

pub fn workflow_id() -> String {
    time_ordered("wf", crate::timefmt::now_us())
}

pub fn account_id() -> String {
    time_ordered("acct", crate::timefmt::now_us())
}

pub fn api_key_id() -> String {
    time_ordered("key", crate::timefmt::now_us())
}

pub fn execution_id(received_us: i64) -> String {
    time_ordered("exec", received_us)
}

/// Lowest execution id created at or after `micros` (ids sort by their creation time).
pub fn exec_id_floor(micros: i64) -> String {
    format!("exec_{:016x}", micros.max(0) as u64)
}

/// An id greater than every execution id created at or before `micros`.
pub fn exec_id_ceiling(micros: i64) -> String {
    // '~' sorts after every hex digit.
    format!("exec_{:016x}~", micros.max(0) as u64)
}

/// The id range `[lower, upper)` of executions created within `[from_ms, to_ms]` (both
/// ends inclusive, in ms; an absent end leaves that side open), for the lists and walks of
/// both stores.
pub fn exec_id_window(from_ms: Option<i64>, to_ms: Option<i64>) -> (String, String) {
    (
        from_ms.map_or_else(|| "exec_".to_string(), |ms| exec_id_floor(ms * 1000)),
        to_ms.map_or_else(
            || "exec_~".to_string(),
            |ms| exec_id_ceiling(ms * 1000 + 999),
        ),
    )
}

/// Webhook id: 128 random bits, because the URL carrying it is the only credential.
pub fn hook_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("hook_{}", hex::encode(bytes))
}

/// The microsecond timestamp a time-ordered id was created at, if it is one.
pub fn micros_of(id: &str) -> Option<i64> {
    let (_, rest) = id.split_once('_')?;
    let hex = rest.get(..16)?;
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_are_written_like_format_would() {
        for value in [0u64, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut out = String::new();
            push_hex(&mut out, value);
            assert_eq!(out, format!("{value:016x}"));
        }
        let id = execution_id(0x1234);
        assert_eq!(&id[..21], "exec_0000000000001234");
        assert_eq!(id.len(), 5 + 32);
    }

    #[test]
    fn execution_ids_sort_by_time() {
        let a = execution_id(1_000);
        let b = execution_id(2_000);
        assert!(a < b);
        assert_eq!(micros_of(&a), Some(1_000));
    }

    #[test]
    fn hook_ids_carry_128_random_bits() {
        let id = hook_id();
        assert_eq!(id.len(), "hook_".len() + 32);
        assert_ne!(id, hook_id());
    }
}
