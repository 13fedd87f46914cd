//! Value encoding: one version byte, then JSON. The version byte lets a later release change
//! the encoding of a family without a migration of everything at once.

use serde::Serialize;
use serde::de::DeserializeOwned;

const V1_JSON: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(V1_JSON);
    serde_json::to_writer(&mut out, value).expect("model types always serialise");
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        Some((&V1_JSON, json)) => serde_json::from_slice(json).map_err(|e| e.to_string()),
        Some((v, _)) => Err(format!("unknown value version {v}")),
        None => Err("empty value".into()),
    }
}
