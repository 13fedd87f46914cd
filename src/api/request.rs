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
/// A name must show something: at least one character that is neither whitespace nor a control
/// character (nor the invisible U+FEFF). `NAME_PATTERN` says the same in the OpenAPI document,
/// written so ECMAScript's and Python's `\s` (which differ at U+0085, U+FEFF, U+001C..U+001F)
/// agree on it.
pub fn is_visible_name(s: &str) -> bool {
    s.chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && c != '\u{FEFF}')
}

/// The JSON Schema `pattern` of `is_visible_name`.
pub const NAME_PATTERN: &str = r"[^\s\u0000-\u001f\u007f-\u009f\ufeff]";

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
    pub response: Option<HookResponseRequest>,
}

/// A hook's `response`: `{"mode": "sync", "timeout_ms": 5000, "step": 1}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookResponseRequest {
    pub mode: crate::model::ResponseMode,
    pub timeout_ms: Option<u64>,
    pub step: Option<usize>,
}

/// Custom limits: any of the three numbers (the others come from the Enterprise defaults),
/// each a whole number from 1 to [`MAX_LIMIT`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    #[serde(default, deserialize_with = "limit")]
    pub requests_per_minute: Option<std::num::NonZeroU64>,
    #[serde(default, deserialize_with = "limit")]
    pub requests_per_day: Option<std::num::NonZeroU64>,
    #[serde(default, deserialize_with = "limit")]
    pub webhooks_per_second: Option<std::num::NonZeroU64>,
}

/// The largest custom limit: far above what a machine can serve, and well inside the range
/// every client's integers hold (JSON Schema's `int64`, JavaScript's safe integers).
pub const MAX_LIMIT: u64 = 1_000_000_000_000;

/// A limit: `null` (absent) or a whole number in 1..=MAX_LIMIT (`5.0` counts as 5).
fn limit<'de, D>(d: D) -> Result<Option<std::num::NonZeroU64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    crate::steps::spec::whole_number(&v)
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .and_then(std::num::NonZeroU64::new)
        .map(Some)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid value: {v}, expected a whole number from 1 to {MAX_LIMIT}"
            ))
        })
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

/// A nested body that must be a JSON object. serde's derived structs also take an array of
/// the fields in order (`"limits": [1, 2, 3]`), which the API does not accept.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapOnly<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MapOnly<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(MapOnly(std::marker::PhantomData))
    }
}

/// `POST /admin/v1/accounts`.
#[derive(Debug, Deserialize)]
pub struct CreateAccount {
    pub name: Option<String>,
    pub plan: Option<Plan>,
    pub limits: Option<Object<LimitsPatch>>,
}

/// `PATCH /admin/v1/accounts/{id}`. `limits: null` clears custom limits, so it is told apart
/// from an absent `limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    pub plan: Option<Plan>,
    #[serde(default, deserialize_with = "present")]
    pub limits: Option<Option<Object<LimitsPatch>>>,
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

    #[test]
    fn a_name_needs_a_visible_character() {
        for blank in [
            "",
            " \t\n",
            "\u{85}",
            "\u{FEFF}",
            "\u{1C}\u{1F}",
            "\u{A0}\u{3000}",
            "\u{7F}",
        ] {
            assert!(!is_visible_name(blank), "{blank:?}");
        }
        for name in ["a", " Orders ", "\u{85}x", "日本"] {
            assert!(is_visible_name(name), "{name:?}");
        }
    }

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
        let e = typed::<CreateAccount>(json!({"name": "a", "limits": [1, 2, 3]})).unwrap_err();
        assert_eq!(field_of(e), ("limits".into(), "invalid".into()));
        let e = typed::<UpdateAccount>(json!({"limits": [null, null]})).unwrap_err();
        assert_eq!(field_of(e), ("limits".into(), "invalid".into()));
        let ok = typed::<CreateAccount>(json!({"name": "a", "limits": {"requests_per_day": 5.0}}))
            .unwrap();
        assert_eq!(ok.limits.unwrap().0.requests_per_day.unwrap().get(), 5);
        let e = typed::<CreateAccount>(
            json!({"name": "a", "limits": {"requests_per_day": 1_000_000_000_001u64}}),
        )
        .unwrap_err();
        assert_eq!(
            field_of(e),
            ("limits.requests_per_day".into(), "invalid".into())
        );
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
