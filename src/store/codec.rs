//! Value encoding: one version byte, then the value. Values are written as MessagePack with
//! field names (version 2): self-describing like JSON, so optional and defaulted fields keep
//! working, but strings are copied instead of escaped byte by byte — encoding the execution
//! record was the largest cost of storing an event. Version 1 (JSON) is still read, so a data
//! directory written before needs no migration.

use serde::Serialize;
use serde::de::DeserializeOwned;

const V1_JSON: u8 = 1;
const V2_MSGPACK: u8 = 2;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(V2_MSGPACK);
    rmp_serde::encode::write_named(&mut out, value).expect("model types always serialise");
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        Some((&V2_MSGPACK, packed)) => rmp_serde::from_slice(packed).map_err(|e| e.to_string()),
        Some((&V1_JSON, json)) => serde_json::from_slice(json).map_err(|e| e.to_string()),
        Some((v, _)) => Err(format!("unknown value version {v}")),
        None => Err("empty value".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Execution, ExecutionStatus, ExecutionTrigger};
    use serde_json::json;

    fn execution() -> Execution {
        Execution {
            id: "exec_1".into(),
            account_id: "acct_1".into(),
            workflow_id: "wf_1".into(),
            workflow_version: Some(1),
            status: ExecutionStatus::Running,
            trigger: ExecutionTrigger {
                hook_id: Some("hook_1".into()),
                event: "user.created".into(),
                received_at: 1_700_000_000_123,
            },
            input: json!({"s": "é \"quoted\" \n", "big": u64::MAX, "neg": -5, "f": 1.5,
                          "none": null, "list": [1, "two", {"three": true}]}),
            steps: vec![],
            started_at: Some(1_700_000_000_124),
            completed_at: None,
            duration_ms: None,
            error: None,
            resume_at: Some(1_700_000_060_000),
            replay_of: None,
        }
    }

    #[test]
    fn a_record_comes_back_as_it_went_in() {
        let original = execution();
        let bytes = encode(&original);
        assert_eq!(bytes[0], V2_MSGPACK);
        let back: Execution = decode(&bytes).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&original).unwrap()
        );
    }

    #[test]
    fn values_written_as_json_by_earlier_versions_are_still_read() {
        let original = execution();
        let mut v1 = vec![V1_JSON];
        v1.extend(serde_json::to_vec(&original).unwrap());
        let back: Execution = decode(&v1).unwrap();
        assert_eq!(back.input, original.input);
        assert_eq!(back.resume_at, original.resume_at);
        assert!(decode::<Execution>(&[9, 1, 2]).is_err());
    }
}
