//! API keys and secrets: generation and hashing. Keys are shown once and stored only as SHA-256.

use rand::RngCore;

use crate::model::SecretText;
use sha2::{Digest, Sha256};

/// Every API key starts with this, so leaked keys are easy to recognise and scan for.
pub const API_KEY_PREFIX: &str = "bc_live_";

/// Random bytes in an API key: 256 bits.
const API_KEY_RANDOM_BYTES: usize = 32;

/// A fresh API key: `bc_live_` followed by 256 random bits in lowercase hex.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; API_KEY_RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{API_KEY_PREFIX}{}", hex::encode(bytes))
}

/// Lowercase hex SHA-256 of a key; the only form in which keys are stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether a bearer token has the shape of one of our keys (checked before any lookup).
pub fn looks_like_api_key(token: &str) -> bool {
    token.strip_prefix(API_KEY_PREFIX).is_some_and(|rest| {
        rest.len() == API_KEY_RANDOM_BYTES * 2 && rest.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The part of a key that may be shown again (in key lists): prefix and four hex digits.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 4).collect()
}

/// Random bytes in a signing secret: 192 bits (Standard Webhooks allows 24 to 64).
const SIGNING_SECRET_BYTES: usize = 24;

/// A signing secret for webhook and outgoing-call signatures, in the Standard Webhooks form:
/// `whsec_` + standard base64 of 192 random bits (the decoded bytes are the MAC key).
pub fn generate_signing_secret() -> SecretText {
    let mut bytes = [0u8; SIGNING_SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretText::new(format!(
        "{}{}",
        crate::signature::SECRET_PREFIX,
        crate::signature::base64_encode(&bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_have_the_prefix_and_256_random_bits() {
        let key = generate_api_key();
        assert!(key.starts_with("bc_live_"));
        assert_eq!(key.len(), 8 + 64);
        assert!(looks_like_api_key(&key));
        assert_ne!(key, generate_api_key());
    }

    #[test]
    fn hashing_is_sha256_hex() {
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn signing_secrets_are_standard_webhooks_secrets() {
        let secret = generate_signing_secret().expose().to_string();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret.len(), 6 + 32, "{secret}");
        assert_eq!(
            crate::signature::standard_key(&secret).len(),
            SIGNING_SECRET_BYTES
        );
        assert_ne!(secret, generate_signing_secret().expose());
        assert_eq!(
            format!("{:?}", generate_signing_secret()),
            "SecretText(***)"
        );
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        assert!(!looks_like_api_key("bc_live_short"));
        assert!(!looks_like_api_key("Bearer bc_live_"));
        assert!(!looks_like_api_key(&format!("bc_test_{}", "a".repeat(64))));
    }
}
