//! Workflow definitions, parsed and validated: the trigger, each action's typed config and its
//! retry policy. Validation names the offending field so the API can say which one.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::retry::RetryPolicy;
use super::template::Renderer;
use crate::model::{Action, Trigger};

/// A validation failure, pointing at one field (`actions[0].config.to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    /// `required`, `invalid` or `template`.
    pub issue: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>) -> FieldError {
        let field = field.into();
        FieldError {
            message: format!("The '{field}' field is required"),
            field,
            issue: "required",
        }
    }

    pub fn invalid(field: impl Into<String>, why: impl std::fmt::Display) -> FieldError {
        let field = field.into();
        FieldError {
            message: format!("The '{field}' field is invalid: {why}"),
            field,
            issue: "invalid",
        }
    }

    fn template(field: String, why: impl std::fmt::Display) -> FieldError {
        FieldError {
            message: format!("The '{field}' field is not a valid template: {why}"),
            field,
            issue: "template",
        }
    }
}

/// A JSON number that is a whole, non-negative number: `5` and `5.0` alike (JSON does not
/// tell them apart, and many clients write every number as a float).
pub fn whole_number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64 / 2.0)
            .map(|f| f as u64)
    })
}

/// The action types a workflow may use.
pub const ACTION_TYPES: [&str; 5] = ["send_email", "http_request", "delay", "filter", "transform"];

/// Longest `delay` accepted. A waiting execution costs one stored due entry, and retention
/// only removes finished executions, so a long delay is safe to keep.
pub const MAX_DELAY: Duration = Duration::from_secs(365 * 86_400);

#[derive(Debug, Clone, PartialEq)]
pub struct SendEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub from: Option<String>,
    pub cc: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    SendEmail(SendEmail),
    HttpRequest(HttpRequest),
    Delay { seconds: u64 },
    Filter { condition: String },
    Transform { set: BTreeMap<String, Value> },
}

impl ActionSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ActionSpec::SendEmail(_) => "send_email",
            ActionSpec::HttpRequest(_) => "http_request",
            ActionSpec::Delay { .. } => "delay",
            ActionSpec::Filter { .. } => "filter",
            ActionSpec::Transform { .. } => "transform",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    pub action: ActionSpec,
    pub retry: RetryPolicy,
}

pub fn validate_trigger(trigger: &Value) -> Result<Trigger, FieldError> {
    let obj = trigger
        .as_object()
        .ok_or_else(|| FieldError::invalid("trigger", "must be an object"))?;
    let kind = match obj.get("type") {
        None | Some(Value::Null) => return Err(FieldError::required("trigger.type")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(FieldError::invalid("trigger.type", "must be a string")),
    };
    if kind != "webhook" {
        return Err(FieldError::invalid(
            "trigger.type",
            format!("unknown trigger type '{kind}' (known: webhook)"),
        ));
    }
    let event = match obj.get("event") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 200 => Some(s.clone()),
        Some(_) => {
            return Err(FieldError::invalid(
                "trigger.event",
                "must be a non-empty string of at most 200 characters",
            ));
        }
    };
    Ok(Trigger { kind, event })
}

/// Parses the `actions` array into what the API stores, checking every action.
pub fn validate_actions(actions: &Value, renderer: &Renderer) -> Result<Vec<Action>, FieldError> {
    let items = actions
        .as_array()
        .ok_or_else(|| FieldError::invalid("actions", "must be an array"))?;
    if items.is_empty() {
        return Err(FieldError::invalid(
            "actions",
            "must hold at least one action",
        ));
    }
    if items.len() > 100 {
        return Err(FieldError::invalid("actions", "at most 100 actions"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("actions[{i}]");
        let obj = item
            .as_object()
            .ok_or_else(|| FieldError::invalid(&field, "must be an object"))?;
        let kind = match obj.get("type") {
            None | Some(Value::Null) => return Err(FieldError::required(format!("{field}.type"))),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(FieldError::invalid(
                    format!("{field}.type"),
                    "must be a string",
                ));
            }
        };
        let action = Action {
            kind,
            config: obj.get("config").cloned().unwrap_or(Value::Null),
            retry: obj.get("retry").cloned().filter(|v| !v.is_null()),
        };
        parse_step(i, &action, renderer)?;
        out.push(action);
    }
    Ok(out)
}

/// Refuses an `http_request` whose `timeout_ms` exceeds `max_ms` (the daemon's
/// `[http_actions] max_timeout_ms`), naming the field. Checked when a workflow is written;
/// at run time a timeout is still capped, in case the maximum was lowered since.
pub fn check_http_timeouts(actions: &[Action], max_ms: u64) -> Result<(), FieldError> {
    for (i, action) in actions.iter().enumerate() {
        let timeout = action.config.get("timeout_ms").and_then(whole_number);
        if action.kind == "http_request" && timeout.is_some_and(|ms| ms > max_ms) {
            return Err(FieldError::invalid(
                format!("actions[{i}].config.timeout_ms"),
                format!("must be at most {max_ms} (this daemon's [http_actions] max_timeout_ms)"),
            ));
        }
    }
    Ok(())
}

/// Parses one stored action into its typed form (also used when running).
pub fn parse_step(
    index: usize,
    action: &Action,
    renderer: &Renderer,
) -> Result<StepSpec, FieldError> {
    let base = format!("actions[{index}]");
    let cfg_field = format!("{base}.config");
    let empty = serde_json::Map::new();
    let cfg = match &action.config {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => return Err(FieldError::invalid(&cfg_field, "must be an object")),
    };
    let field = |name: &str| format!("{cfg_field}.{name}");
    let template_str = |name: &str, required: bool| -> Result<Option<String>, FieldError> {
        match cfg.get(name) {
            None | Some(Value::Null) if required => Err(FieldError::required(field(name))),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                renderer
                    .check(s)
                    .map_err(|e| FieldError::template(field(name), e))?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(FieldError::invalid(field(name), "must be a string")),
        }
    };
    let spec = match action.kind.as_str() {
        "send_email" => {
            let cc = match cfg.get("cc") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        FieldError::invalid(field("cc"), "must be a string or a list of strings")
                    })?,
                Some(_) => {
                    return Err(FieldError::invalid(
                        field("cc"),
                        "must be a string or a list of strings",
                    ));
                }
            };
            for c in &cc {
                renderer
                    .check(c)
                    .map_err(|e| FieldError::template(field("cc"), e))?;
            }
            ActionSpec::SendEmail(SendEmail {
                to: template_str("to", true)?.unwrap_or_default(),
                subject: template_str("subject", true)?.unwrap_or_default(),
                body: template_str("body", true)?.unwrap_or_default(),
                from: template_str("from", false)?,
                cc,
            })
        }
        "http_request" => {
            let method = template_str("method", false)?
                .unwrap_or_else(|| "POST".into())
                .to_ascii_uppercase();
            if !matches!(
                method.as_str(),
                "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD"
            ) {
                return Err(FieldError::invalid(
                    field("method"),
                    "must be one of GET, POST, PUT, PATCH, DELETE, HEAD",
                ));
            }
            let url = template_str("url", true)?.unwrap_or_default();
            if !(url.contains("{{") || url.starts_with("http://") || url.starts_with("https://")) {
                return Err(FieldError::invalid(
                    field("url"),
                    "must be an http:// or https:// URL",
                ));
            }
            let mut headers = BTreeMap::new();
            match cfg.get("headers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(h)) => {
                    for (k, v) in h {
                        let v = v.as_str().ok_or_else(|| {
                            FieldError::invalid(
                                format!("{}.{k}", field("headers")),
                                "must be a string",
                            )
                        })?;
                        renderer.check(v).map_err(|e| {
                            FieldError::template(format!("{}.{k}", field("headers")), e)
                        })?;
                        headers.insert(k.clone(), v.to_string());
                    }
                }
                Some(_) => return Err(FieldError::invalid(field("headers"), "must be an object")),
            }
            let body = cfg.get("body").cloned().filter(|v| !v.is_null());
            if let Some(b) = &body {
                check_value_templates(b, renderer)
                    .map_err(|e| FieldError::template(field("body"), e))?;
            }
            let timeout_ms = match cfg.get("timeout_ms") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    whole_number(v)
                        .filter(|ms| (1..=600_000).contains(ms))
                        .ok_or_else(|| {
                            FieldError::invalid(
                                field("timeout_ms"),
                                "must be a number of milliseconds between 1 and 600000",
                            )
                        })?,
                ),
            };
            ActionSpec::HttpRequest(HttpRequest {
                method,
                url,
                headers,
                body,
                timeout_ms,
            })
        }
        "delay" => {
            let seconds = match cfg.get("seconds") {
                None | Some(Value::Null) => return Err(FieldError::required(field("seconds"))),
                Some(v) => whole_number(v)
                    .filter(|s| *s <= MAX_DELAY.as_secs())
                    .ok_or_else(|| {
                        FieldError::invalid(
                            field("seconds"),
                            "must be a whole number of seconds up to 365 days",
                        )
                    })?,
            };
            ActionSpec::Delay { seconds }
        }
        "filter" => {
            let condition = match cfg.get("condition") {
                None | Some(Value::Null) => return Err(FieldError::required(field("condition"))),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(FieldError::invalid(field("condition"), "must be a string")),
            };
            renderer
                .check_expression(&condition)
                .map_err(|e| FieldError::template(field("condition"), e))?;
            ActionSpec::Filter { condition }
        }
        "transform" => {
            let set = match cfg.get("set") {
                None | Some(Value::Null) => return Err(FieldError::required(field("set"))),
                Some(Value::Object(m)) if !m.is_empty() => m.clone(),
                Some(_) => {
                    return Err(FieldError::invalid(
                        field("set"),
                        "must be a non-empty object",
                    ));
                }
            };
            for (k, v) in &set {
                check_value_templates(v, renderer)
                    .map_err(|e| FieldError::template(format!("{}.{k}", field("set")), e))?;
            }
            ActionSpec::Transform {
                set: set.into_iter().collect(),
            }
        }
        other => {
            return Err(FieldError::invalid(
                format!("{base}.type"),
                format!(
                    "unknown action type '{other}' (known: {})",
                    ACTION_TYPES.join(", ")
                ),
            ));
        }
    };
    let retry = RetryPolicy::parse(action.retry.as_ref(), &spec)
        .map_err(|why| FieldError::invalid(format!("{base}.retry"), why))?;
    Ok(StepSpec {
        action: spec,
        retry,
    })
}

fn check_value_templates(
    v: &Value,
    renderer: &Renderer,
) -> Result<(), super::template::TemplateError> {
    match v {
        Value::String(s) => renderer.check(s),
        Value::Array(items) => items
            .iter()
            .try_for_each(|i| check_value_templates(i, renderer)),
        Value::Object(m) => m
            .values()
            .try_for_each(|i| check_value_templates(i, renderer)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r() -> Renderer {
        Renderer::new(10_000, 1 << 20, 16 << 20)
    }

    #[test]
    fn the_reference_example_is_valid() {
        let actions = json!([{"type": "send_email", "config": {"to": "{{user.email}}", "subject": "Welcome!", "body": "Thanks for joining!"}}]);
        let parsed = validate_actions(&actions, &r()).unwrap();
        assert_eq!(parsed[0].kind, "send_email");
        assert!(validate_trigger(&json!({"type": "webhook", "event": "user.created"})).is_ok());
    }

    #[test]
    fn missing_required_fields_are_named() {
        let err = validate_actions(
            &json!([{"type": "send_email", "config": {"to": "a@b.c", "body": "x"}}]),
            &r(),
        )
        .unwrap_err();
        assert_eq!(err.field, "actions[0].config.subject");
        assert_eq!(err.issue, "required");
        let err = validate_actions(&json!([{"type": "transform", "config": {"set": {"a": "1"}}}, {"type": "http_request", "config": {}}]), &r()).unwrap_err();
        assert_eq!(err.field, "actions[1].config.url");
    }

    #[test]
    fn unknown_types_and_bad_templates_are_refused() {
        let err = validate_actions(&json!([{"type": "teleport"}]), &r()).unwrap_err();
        assert_eq!(err.field, "actions[0].type");
        let err = validate_actions(&json!([{"type": "send_email", "config": {"to": "{{ user.email", "subject": "s", "body": "b"}}]), &r()).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.issue),
            ("actions[0].config.to", "template")
        );
        let err = validate_trigger(&json!({"type": "cron"})).unwrap_err();
        assert_eq!(err.field, "trigger.type");
    }

    #[test]
    fn delays_filters_and_retries_are_checked() {
        assert!(
            validate_actions(&json!([{"type": "delay", "config": {"seconds": 5}}]), &r()).is_ok()
        );
        assert!(
            validate_actions(&json!([{"type": "delay", "config": {"seconds": -1}}]), &r()).is_err()
        );
        assert!(
            validate_actions(
                &json!([{"type": "filter", "config": {"condition": "amount >"}}]),
                &r()
            )
            .is_err()
        );
        let err = validate_actions(&json!([{"type": "http_request", "config": {"url": "http://x"}, "retry": {"max_attempts": 0}}]), &r()).unwrap_err();
        assert_eq!(err.field, "actions[0].retry");
    }
}
