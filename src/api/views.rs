//! How stored objects appear in API responses: internal fields (owner account, secrets) are
//! left out; everything else is shown as stored.

use serde_json::{Value, json};

use crate::model::{Account, ApiKey, Execution, Hook, Limits, Workflow};
use crate::timefmt::rfc3339;

fn without(mut v: Value, fields: &[&str]) -> Value {
    if let Value::Object(m) = &mut v {
        for f in fields {
            m.remove(*f);
        }
    }
    v
}

pub fn workflow(w: &Workflow) -> Value {
    without(
        serde_json::to_value(w).expect("workflows serialise"),
        &["account_id"],
    )
}

pub fn execution(e: &Execution) -> Value {
    without(
        serde_json::to_value(e).expect("executions serialise"),
        &["account_id"],
    )
}

/// A hook as listed and fetched: without its secret (shown once, at creation).
pub fn hook(h: &Hook, public_url: &str) -> Value {
    let mut v = json!({
        "id": h.id,
        "url": format!("{public_url}/webhooks/{}", h.id),
        "workflow_id": h.workflow_id,
        "event": h.event,
        "verify": h.verify,
        "created_at": rfc3339(h.created_at),
    });
    if let Some(r) = &h.response {
        v["response"] = json!(r);
    }
    v
}

pub fn api_key(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "account_id": k.account_id,
        "created_at": rfc3339(k.created_at),
    })
}

pub fn account(a: &Account, effective: Limits) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "plan": a.plan,
        "limits": effective,
        "custom_limits": a.limits,
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
    })
}
