//! Request bodies as types. Each body the API accepts is a struct deserialised with
//! `serde_path_to_error`, so a wrong value is reported at its path (`limits.requests_per_day`,
//! `verify`) in the envelope's `details.field`, with serde's own description of what was
//! expected. What a type cannot say (a name's length, cross-field rules) is checked after.
//! `null` counts as absent everywhere, as the API always treated it.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use crate::model::{HookVerify, Plan, WorkflowStatus};

/// The body as `T`, or a 400 naming the field that failed.
pub fn typed<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid("The request body must be a JSON object"));
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let cause = e.into_inner().to_string();
        let within = |field: &str| {
            if path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        // serde's wording for the two cases a client must tell apart.
        if let Some(field) = quoted_after(&cause, "missing field `") {
            ApiError::required(&within(field))
        } else if cause.starts_with("unknown field `") {
            // The path already ends with the unknown field's name.
            ApiError::field(
                &path,
                "unknown",
                format!("The '{path}' field is not known: {cause}"),
            )
        } else {
            ApiError::field(
                &path,
                "invalid",
                format!("The '{path}' field is invalid: {cause}"),
            )
        }
    })
}

/// The name between backquotes after `prefix` in a serde message.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

/// `POST /v1/workflows`.
#[derive(Debug, Deserialize)]
pub struct CreateWorkflow {
    pub name: Option<String>,
    pub trigger: Option<Value>,
    pub actions: Option<Value>,
    pub status: Option<WorkflowStatus>,
}

/// `PATCH /v1/workflows/{id}`: only these fields may change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflow {
    pub name: Option<String>,
    pub trigger: Option<Value>,
    pub actions: Option<Value>,
    pub status: Option<WorkflowStatus>,
}

/// `POST /v1/api-keys` and `POST /admin/v1/accounts/{id}/api-keys` (the body is optional).
#[derive(Debug, Deserialize)]
pub struct CreateKey {
    pub name: Option<String>,
}

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize)]
pub struct CreateHook {
    pub workflow_id: Option<String>,
    pub event: Option<String>,
    pub verify: Option<HookVerify>,
}

/// Custom limits: any of the three numbers (the others come from the Enterprise defaults),
/// each a positive integer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    pub requests_per_minute: Option<std::num::NonZeroU64>,
    pub requests_per_day: Option<std::num::NonZeroU64>,
    pub webhooks_per_second: Option<std::num::NonZeroU64>,
}

impl LimitsPatch {
    pub fn over(&self, base: crate::model::Limits) -> crate::model::Limits {
        crate::model::Limits {
            requests_per_minute: self
                .requests_per_minute
                .map_or(base.requests_per_minute, |n| n.get()),
            requests_per_day: self
                .requests_per_day
                .map_or(base.requests_per_day, |n| n.get()),
            webhooks_per_second: self
                .webhooks_per_second
                .map_or(base.webhooks_per_second, |n| n.get()),
        }
    }
}

/// `POST /admin/v1/accounts`.
#[derive(Debug, Deserialize)]
pub struct CreateAccount {
    pub name: Option<String>,
    pub plan: Option<Plan>,
    pub limits: Option<LimitsPatch>,
}

/// `PATCH /admin/v1/accounts/{id}`. `limits: null` clears custom limits, so it is told apart
/// from an absent `limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    pub plan: Option<Plan>,
    #[serde(default, deserialize_with = "present")]
    pub limits: Option<Option<LimitsPatch>>,
}

/// `Some(None)` for an explicit `null`, `None` (by `default`) when the field is absent.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(e: ApiError) -> (String, String) {
        let body = e.body();
        (
            body["error"]["details"]["field"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            body["error"]["details"]["issue"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[test]
    fn failures_name_the_field_and_the_kind_of_problem() {
        let e = typed::<CreateHook>(json!({"workflow_id": 5})).unwrap_err();
        assert_eq!(field_of(e), ("workflow_id".into(), "invalid".into()));
        let e = typed::<CreateHook>(json!({"workflow_id": "wf", "verify": "md5"})).unwrap_err();
        assert_eq!(field_of(e), ("verify".into(), "invalid".into()));
        let e = typed::<CreateAccount>(json!({"name": "a", "limits": {"requests_per_day": 0}}))
            .unwrap_err();
        assert_eq!(
            field_of(e),
            ("limits.requests_per_day".into(), "invalid".into())
        );
        let e =
            typed::<CreateAccount>(json!({"name": "a", "limits": {"per_hour": 3}})).unwrap_err();
        assert_eq!(field_of(e), ("limits.per_hour".into(), "unknown".into()));
        let e = typed::<UpdateWorkflow>(json!({"owner": "x"})).unwrap_err();
        assert_eq!(field_of(e), ("owner".into(), "unknown".into()));
        assert!(typed::<CreateHook>(json!([1])).is_err());
    }

    #[test]
    fn null_is_absent_and_an_explicit_null_limit_is_told_apart() {
        let hook: CreateHook = typed(json!({"workflow_id": "wf", "verify": null})).unwrap();
        assert!(hook.verify.is_none());
        let cleared: UpdateAccount = typed(json!({"limits": null})).unwrap();
        assert!(matches!(cleared.limits, Some(None)));
        let untouched: UpdateAccount = typed(json!({"name": "n"})).unwrap();
        assert!(untouched.limits.is_none());
    }
}
