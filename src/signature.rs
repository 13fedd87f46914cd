//! HMAC-SHA256 signatures: signing outgoing bodies and verifying incoming webhooks.
//! Pure functions, no IO. Comparisons use the MAC's constant-time verify, never `==`.
//!
//! Two schemes, both ways:
//! * `X-Botcadence-Signature`: lowercase hex HMAC-SHA256 of the body, keyed with the secret's
//!   text exactly as shown (`whsec_…` included), which is what the reference's
//!   `verifySignature` computes.
//! * [Standard Webhooks](https://www.standardwebhooks.com/): `webhook-id`,
//!   `webhook-timestamp`, `webhook-signature` (space-separated `v1,<base64>` entries), the MAC
//!   of `id.timestamp.body` keyed with the **base64-decoded** bytes after `whsec_`, as the
//!   specification and its official libraries do.
//!
//! Secrets issued before secrets were base64 (`whsec_` + 48 hex digits) decode as base64 too,
//! so the official libraries work with them unchanged; for those secrets a Standard Webhooks
//! signature keyed with the secret's text after `whsec_` (how earlier versions read it) is
//! also accepted, so senders written against earlier versions keep working.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying our signature, both ways.
pub const SIGNATURE_HEADER: &str = "X-Botcadence-Signature";

/// Prefix of every secret we issue, as Standard Webhooks writes them.
pub const SECRET_PREFIX: &str = "whsec_";

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// Lowercase hex HMAC-SHA256 of `body` under `secret`: the value of `X-Botcadence-Signature`,
/// as the reference's `verifySignature` computes it.
pub fn sign_hex(secret: &str, body: &[u8]) -> String {
    hex_signature(mac(secret.as_bytes()), body)
}

/// The hex signature of `body` from a MAC keyed with the secret's text.
fn hex_signature(mut m: HmacSha256, body: &[u8]) -> String {
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Checks a hex signature in constant time. Empty, truncated or non-hex signatures fail.
pub fn verify_hex(secret: &str, body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut m = mac(secret.as_bytes());
    m.update(body);
    // verify_slice rejects any length other than the full 32 bytes before comparing.
    m.verify_slice(&sig).is_ok()
}

/// The Standard Webhooks key of a secret: the base64-decoded bytes after `whsec_`. A secret
/// that is not valid base64 (none we issue) is used as its text, so it still signs and
/// verifies consistently.
pub fn standard_key(secret: &str) -> Vec<u8> {
    let text = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    base64_decode(text).unwrap_or_else(|| text.as_bytes().to_vec())
}

/// Whether a secret has the form earlier versions issued (`whsec_` + 48 hex digits), whose
/// Standard Webhooks key was read as text.
fn is_legacy_hex_secret(secret: &str) -> bool {
    secret
        .strip_prefix(SECRET_PREFIX)
        .is_some_and(|t| t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a `webhook-signature` header: true when any `v1,` entry matches (several entries
/// are how a sender rotates keys; other versions, e.g. `v1a,`, are skipped).
pub fn verify_standard_webhook(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let mut keys = vec![standard_key(secret)];
    if is_legacy_hex_secret(secret) {
        keys.push(secret.as_bytes()[SECRET_PREFIX.len()..].to_vec());
    }
    let signatures: Vec<Vec<u8>> = header
        .split_whitespace()
        .filter_map(|entry| base64_decode(entry.strip_prefix("v1,")?))
        .collect();
    keys.iter().any(|key| {
        let m = standard_mac(key, msg_id, timestamp, body);
        signatures
            .iter()
            .any(|sig| m.clone().verify_slice(sig).is_ok())
    })
}

/// The Standard Webhooks MAC over `id.timestamp.body`.
fn standard_mac(key: &[u8], msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    standard_mac_keyed(mac(key), msg_id, timestamp, body)
}

/// [`standard_mac`] from an already keyed MAC.
fn standard_mac_keyed(mut m: HmacSha256, msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    for part in [msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body] {
        m.update(part);
    }
    m
}

/// A `webhook-signature` entry: `v1,<base64 MAC>`.
fn standard_entry(m: HmacSha256) -> String {
    format!("v1,{}", base64_encode(&m.finalize().into_bytes()))
}

/// The `webhook-signature` value a Standard Webhooks sender writes: `v1,<base64 MAC>`.
pub fn sign_standard_webhook(secret: &str, msg_id: &str, timestamp: &str, body: &[u8]) -> String {
    standard_entry(standard_mac(&standard_key(secret), msg_id, timestamp, body))
}

/// Both outgoing signatures of one secret, keyed once. Keying an HMAC hashes the key's
/// inner and outer pads (two SHA-256 blocks each) and the Standard Webhooks key is base64 to
/// decode first: done once per secret instead of once per request, each signature then costs
/// only the hashing of what it signs.
#[derive(Clone)]
pub struct Signer {
    hex: HmacSha256,
    standard: HmacSha256,
}

impl Signer {
    pub fn new(secret: &str) -> Signer {
        Signer {
            hex: mac(secret.as_bytes()),
            standard: mac(&standard_key(secret)),
        }
    }

    /// As [`sign_hex`].
    pub fn sign_hex(&self, body: &[u8]) -> String {
        hex_signature(self.hex.clone(), body)
    }

    /// As [`sign_standard_webhook`].
    pub fn sign_standard_webhook(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> String {
        standard_entry(standard_mac_keyed(
            self.standard.clone(),
            msg_id,
            timestamp,
            body,
        ))
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict standard base64: padding optional but never more than needed, no stray characters,
/// no leftover bits (so each value has exactly one accepted spelling).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let data = s.trim_end_matches('=');
    let padding = s.len() - data.len();
    if padding > 2 || (padding > 0 && s.len() % 4 != 0) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in data.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_keyed_signer_signs_as_the_one_shot_functions_every_time() {
        let signer = Signer::new("Jefe");
        for _ in 0..2 {
            assert_eq!(
                signer.sign_hex(b"what do ya want for nothing?"),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            );
        }
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let signer = Signer::new(secret);
        for body in [&b"{}"[..], b"", b"{\"a\":1}"] {
            assert_eq!(signer.sign_hex(body), sign_hex(secret, body));
            let header = signer.sign_standard_webhook("msg_1", "1700000000", body);
            assert!(verify_standard_webhook(
                secret,
                "msg_1",
                "1700000000",
                body,
                &header
            ));
        }
    }

    #[test]
    fn verify_accepts_the_right_signature_only() {
        let sig = sign_hex("whsec_k", b"{\"a\":1}");
        assert!(verify_hex("whsec_k", b"{\"a\":1}", &sig));
        assert!(!verify_hex("whsec_k", b"{\"a\":2}", &sig));
        assert!(!verify_hex("whsec_other", b"{\"a\":1}", &sig));
    }

    #[test]
    fn empty_truncated_and_garbage_signatures_fail() {
        let sig = sign_hex("s", b"body");
        assert!(!verify_hex("s", b"body", ""));
        assert!(!verify_hex("s", b"body", &sig[..sig.len() - 2]));
        assert!(!verify_hex("s", b"body", &sig[..2]));
        assert!(!verify_hex("s", b"body", "zz"));
    }

    #[test]
    fn standard_webhook_signatures_round_trip() {
        let header = sign_standard_webhook("whsec_abc", "msg_1", "1700000000", b"{}");
        assert!(verify_standard_webhook(
            "whsec_abc",
            "msg_1",
            "1700000000",
            b"{}",
            &header
        ));
        assert!(!verify_standard_webhook(
            "whsec_abc",
            "msg_2",
            "1700000000",
            b"{}",
            &header
        ));
        assert!(!verify_standard_webhook(
            "whsec_abc",
            "msg_1",
            "1700000000",
            b"{}",
            "v1,"
        ));
    }

    /// The example of the Standard Webhooks specification's reference libraries (the same
    /// value their own test suites check).
    #[test]
    fn standard_webhooks_are_keyed_with_the_decoded_secret() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (id, ts, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#,
        );
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign_standard_webhook(secret, id, ts, body), expected);
        assert!(verify_standard_webhook(secret, id, ts, body, expected));
        // Key rotation: several entries, any one matching is enough; other versions skipped.
        let rotated = format!("v1a,xyz v1,AAAA {expected}");
        assert!(verify_standard_webhook(secret, id, ts, body, &rotated));
        // The secret's text as the key (the old reading) is not accepted for such secrets.
        let mut m = mac(b"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        m.update(format!("{id}.{ts}.").as_bytes());
        m.update(body);
        let text_keyed = format!("v1,{}", base64_encode(&m.finalize().into_bytes()));
        assert!(!verify_standard_webhook(secret, id, ts, body, &text_keyed));
    }

    #[test]
    fn secrets_of_earlier_versions_verify_both_ways() {
        let secret = format!("whsec_{}", "0a1b2c3d".repeat(6));
        let (id, ts, body) = ("msg_1", "1700000000", b"{}");
        // Official libraries decode the hex text as base64: that is our key now.
        let official = sign_standard_webhook(&secret, id, ts, body);
        assert!(verify_standard_webhook(&secret, id, ts, body, &official));
        // Senders written against earlier versions keyed the MAC with the text.
        let mut m = mac(&secret.as_bytes()[6..]);
        m.update(format!("{id}.{ts}.").as_bytes());
        m.update(body);
        let legacy = format!("v1,{}", base64_encode(&m.finalize().into_bytes()));
        assert_ne!(legacy, official);
        assert!(verify_standard_webhook(&secret, id, ts, body, &legacy));
    }

    #[test]
    fn base64_decoding_is_strict() {
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert!(base64_decode("Zm9=").is_none(), "leftover bits");
        assert!(base64_decode("Zm8===").is_none());
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zm-8").is_none());
    }

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }
}
