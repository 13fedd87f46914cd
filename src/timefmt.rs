//! Wall-clock helpers: timestamps are carried as unix milliseconds and rendered as RFC 3339 UTC.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the unix epoch, now.
pub fn now_ms() -> i64 {
    since_epoch().as_millis() as i64
}

/// Microseconds since the unix epoch, now. Execution ids are ordered by this.
pub fn now_us() -> i64 {
    since_epoch().as_micros() as i64
}

/// The system clock as a duration since the epoch (zero before it): read several times per
/// event, so without the calendar arithmetic of a full date-time.
fn since_epoch() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with a `Z` suffix and whole seconds, as the reference shows
/// (`2025-12-30T10:00:00Z`). Milliseconds are kept when non-zero so that
/// sub-second ordering stays visible (trailing zeros trimmed, as `time` does: `.05`).
///
/// Written by hand for years 1970–9999: every stored record carries several timestamps and
/// the general formatter cost ~900 instructions each on the ingest path.
pub fn rfc3339(ms: i64) -> String {
    let mut buf = [0u8; RFC3339_MAX];
    match format_fast(ms, &mut buf) {
        Some(text) => text.to_string(),
        None => rfc3339_general(ms),
    }
}

/// Longest text [`format_fast`] writes: `9999-12-31T23:59:59.999Z`.
const RFC3339_MAX: usize = 24;

/// Writes [`rfc3339`]'s text into `buf` for times in 1970–9999 (None outside).
fn format_fast(ms: i64, buf: &mut [u8; RFC3339_MAX]) -> Option<&str> {
    /// 9999-12-31T23:59:59.999Z
    const LAST_FAST_MS: i64 = 253_402_300_799_999;
    if !(0..=LAST_FAST_MS).contains(&ms) {
        return None;
    }
    let secs = ms / 1000;
    let milli = (ms % 1000) as u32;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = (secs % 86_400) as u32;
    put2(buf, 0, year / 100);
    put2(buf, 2, year % 100);
    buf[4] = b'-';
    put2(buf, 5, month);
    buf[7] = b'-';
    put2(buf, 8, day);
    buf[10] = b'T';
    put2(buf, 11, of_day / 3600);
    buf[13] = b':';
    put2(buf, 14, of_day % 3600 / 60);
    buf[16] = b':';
    put2(buf, 17, of_day % 60);
    let mut len = 19;
    if milli != 0 {
        buf[19] = b'.';
        buf[20] = b'0' + (milli / 100) as u8;
        buf[21] = b'0' + (milli / 10 % 10) as u8;
        buf[22] = b'0' + (milli % 10) as u8;
        len = 23;
        // Trailing zeros trimmed, as `time` does (`.05`, not `.050`).
        while buf[len - 1] == b'0' {
            len -= 1;
        }
    }
    buf[len] = b'Z';
    std::str::from_utf8(&buf[..=len]).ok()
}

/// Two decimal digits of `value` (< 100) at `at`.
fn put2(buf: &mut [u8], at: usize, value: u32) {
    buf[at] = b'0' + (value / 10) as u8;
    buf[at + 1] = b'0' + (value % 10) as u8;
}

/// Serialises `ms` as RFC 3339 without a heap allocation on the common path. A record's
/// timestamps mostly fall in the same millisecond (received, started, each step, completed),
/// so the last text formatted on this thread is reused when it matches.
fn serialize_ms<S: serde::Serializer>(ms: i64, s: S) -> Result<S::Ok, S::Error> {
    thread_local! {
        static LAST: std::cell::Cell<(i64, [u8; RFC3339_MAX], usize)> =
            const { std::cell::Cell::new((i64::MIN, [0; RFC3339_MAX], 0)) };
    }
    let (last_ms, mut buf, mut len) = LAST.get();
    if last_ms != ms {
        match format_fast(ms, &mut buf) {
            Some(text) => len = text.len(),
            None => return s.serialize_str(&rfc3339_general(ms)),
        }
        LAST.set((ms, buf, len));
    }
    match std::str::from_utf8(&buf[..len]) {
        Ok(text) => s.serialize_str(text),
        Err(_) => s.serialize_str(&rfc3339_general(ms)),
    }
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// `civil_from_days`), for days ≥ 0.
fn civil_from_days(days: i64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

/// The general formatter, for times outside 1970–9999.
fn rfc3339_general(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let dt = if ms % 1000 == 0 {
        dt
    } else {
        dt.replace_millisecond((ms.rem_euclid(1000)) as u16)
            .unwrap_or(dt)
    };
    dt.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Parses an RFC 3339 timestamp into unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|dt| (dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Serde adapter: unix milliseconds in memory and on disk, RFC 3339 on the wire.
pub mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        super::serialize_ms(*ms, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("invalid RFC 3339 time"))
    }
}

/// Same as [`rfc3339_ms`] for optional timestamps.
pub mod rfc3339_ms_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::serialize_ms(*ms, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => super::parse_rfc3339(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("invalid RFC 3339 time")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_render_like_the_reference() {
        assert_eq!(rfc3339(1_767_088_800_000), "2025-12-30T10:00:00Z");
    }

    #[test]
    fn the_hand_written_formatter_agrees_with_the_general_one() {
        // Epoch, leap days, century and 400-year leap rules, year ends, every millisecond
        // pattern, the last supported instant, and a spread in between.
        let mut samples = vec![
            0,
            1,
            10,
            100,
            999,
            951_782_400_000,     // 2000-02-29
            4_107_456_000_000,   // 2100-02-28
            4_107_542_400_000,   // 2100-03-01
            1_767_225_599_999,   // 2025-12-31T23:59:59.999
            253_402_300_799_999, // 9999-12-31T23:59:59.999
        ];
        let mut ms: i64 = 12_345;
        while ms < 253_402_300_799_999 {
            samples.push(ms);
            ms += 86_399_017; // a day less a bit, so time of day and milliseconds vary
        }
        for ms in samples {
            assert_eq!(rfc3339(ms), rfc3339_general(ms), "at {ms} ms");
        }
    }

    #[test]
    fn serialised_timestamps_match_whether_or_not_the_last_one_is_reused() {
        #[derive(serde::Serialize)]
        struct Two {
            #[serde(with = "rfc3339_ms")]
            a: i64,
            #[serde(with = "rfc3339_ms")]
            b: i64,
            #[serde(with = "rfc3339_ms")]
            c: i64,
        }
        let text = serde_json::to_string(&Two {
            a: 1_767_088_800_123,
            b: 1_767_088_800_123,
            c: 1_767_088_800_000,
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"a":"2025-12-30T10:00:00.123Z","b":"2025-12-30T10:00:00.123Z","c":"2025-12-30T10:00:00Z"}"#
        );
    }

    #[test]
    fn rendering_and_parsing_round_trip_milliseconds() {
        let ms = 1_767_088_800_123;
        assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
    }
}
