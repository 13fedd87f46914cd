//! HMAC-SHA256 signatures: signing outgoing bodies and verifying incoming webhooks.
//! Pure functions, no IO. Comparisons use the MAC's constant-time verify, never `==`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying our signature, both ways.
pub const SIGNATURE_HEADER: &str = "X-Botcadence-Signature";

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// Lowercase hex HMAC-SHA256 of `body` under `secret`: the value of `X-Botcadence-Signature`,
/// as the reference's `verifySignature` computes it.
pub fn sign_hex(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
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

/// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): the signed
/// content is `id.timestamp.body`, the key is the secret after its `whsec_` prefix (used as
/// raw bytes here; we issue hex secrets), and the header holds space-separated `v1,<base64>`
/// entries. Returns true when any entry matches.
pub fn verify_standard_webhook(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    header.split_whitespace().any(|entry| {
        let Some(b64) = entry.strip_prefix("v1,") else {
            return false;
        };
        let Some(sig) = base64_decode(b64) else {
            return false;
        };
        standard_mac(secret, msg_id, timestamp, body)
            .verify_slice(&sig)
            .is_ok()
    })
}

/// The Standard Webhooks MAC over `id.timestamp.body`, keyed with the secret after `whsec_`.
fn standard_mac(secret: &str, msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let key = secret.strip_prefix("whsec_").unwrap_or(secret);
    let mut m = mac(key.as_bytes());
    m.update(msg_id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Signs like a Standard Webhooks sender would; used by tests and examples.
pub fn sign_standard_webhook(secret: &str, msg_id: &str, timestamp: &str, body: &[u8]) -> String {
    let m = standard_mac(secret, msg_id, timestamp, body);
    format!("v1,{}", base64_encode(&m.finalize().into_bytes()))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
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

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
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
