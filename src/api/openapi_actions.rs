//! The schema of a workflow action, one per type, exactly as `steps::spec` validates it.
//!
//! Written as JSON Schema rather than derived: the validator accepts several shapes per field
//! (`cc` a string or a list, `backoff` a number or `"500ms"`, `null` for any optional field),
//! and a client generating requests from the document must meet the same rules the server
//! checks — neither stricter (valid workflows documented as invalid) nor looser.
//!
//! Strings that are templates carry `format: "template"` (minijinja syntax, checked when the
//! workflow is written); a filter's condition carries `format: "template-expression"`. Both
//! are annotations: JSON Schema validators ignore formats they do not know.

use serde_json::{Value, json};

use crate::steps::retry::{MAX_ATTEMPTS, MAX_BACKOFF};
use crate::steps::spec::MAX_DELAY;

/// The daemon's default `[http_actions] max_timeout_ms`; a daemon configured lower refuses
/// longer timeouts with 400 naming the field.
const DEFAULT_MAX_TIMEOUT_MS: u64 = 60_000;

/// The schemas to add under `components.schemas`: `Action` (a oneOf by `type`) and the parts
/// it refers to.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Action", action()),
        ("SendEmailAction", send_email()),
        ("HttpRequestAction", http_request()),
        ("DelayAction", delay()),
        ("FilterAction", filter()),
        ("TransformAction", transform()),
        ("RetryPolicy", retry()),
        ("TemplateValue", template_value()),
    ]
}

fn action() -> Value {
    json!({
        "description": "One step of a workflow. `type` selects the shape of `config`.",
        "oneOf": [
            {"$ref": "#/components/schemas/SendEmailAction"},
            {"$ref": "#/components/schemas/HttpRequestAction"},
            {"$ref": "#/components/schemas/DelayAction"},
            {"$ref": "#/components/schemas/FilterAction"},
            {"$ref": "#/components/schemas/TransformAction"}
        ],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                "send_email": "#/components/schemas/SendEmailAction",
                "http_request": "#/components/schemas/HttpRequestAction",
                "delay": "#/components/schemas/DelayAction",
                "filter": "#/components/schemas/FilterAction",
                "transform": "#/components/schemas/TransformAction"
            }
        }
    })
}

/// An action object: `type`, its `config` and the optional `retry`.
fn action_of(kind: &str, description: &str, config: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": ["type", "config"],
        "properties": {
            "type": {"type": "string", "const": kind},
            "config": config,
            "retry": {
                "oneOf": [{"$ref": "#/components/schemas/RetryPolicy"}, {"type": "null"}]
            }
        }
    })
}

fn template(description: &str) -> Value {
    json!({"type": "string", "format": "template", "description": description})
}

fn optional(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

fn send_email() -> Value {
    action_of(
        "send_email",
        "Sends an email through the daemon's SMTP relay.",
        json!({
            "type": "object",
            "required": ["to", "subject", "body"],
            "properties": {
                "to": template("Recipient address, e.g. `{{payload.email}}`."),
                "subject": template("Subject line."),
                "body": template("Plain-text body."),
                "from": optional(template("Sender; the daemon's `[smtp] from` when absent.")),
                "cc": optional(json!({
                    "oneOf": [
                        {"type": "string", "format": "template"},
                        {"type": "array", "items": {"type": "string", "format": "template"}}
                    ]
                }))
            }
        }),
    )
}

fn http_request() -> Value {
    let methods: Vec<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
        .iter()
        .flat_map(|m| [m.to_string(), m.to_ascii_lowercase()])
        .collect();
    action_of(
        "http_request",
        "Calls an HTTP endpoint, signed with the account's signing secret.",
        json!({
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {
                    "type": "string",
                    "format": "template",
                    "pattern": "^https?://|\\{\\{",
                    "description": "An `http://` or `https://` URL, or a template containing \
                                    `{{ }}` that renders to one. Internal addresses are refused \
                                    when the step runs."
                },
                "method": optional(json!({
                    "type": "string",
                    "enum": methods,
                    "description": "`POST` when absent; case does not matter."
                })),
                "headers": optional(json!({
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "template"}
                })),
                "body": {
                    "$ref": "#/components/schemas/TemplateValue",
                    "description": "Sent as JSON; every string in it is a template."
                },
                "timeout_ms": optional(json!({
                    "type": "integer",
                    "minimum": 1,
                    "maximum": DEFAULT_MAX_TIMEOUT_MS,
                    "description": "At most the daemon's `[http_actions] max_timeout_ms` \
                                    (60000 by default)."
                }))
            }
        }),
    )
}

fn delay() -> Value {
    action_of(
        "delay",
        "Waits before the next step; the wait is stored, so it survives restarts.",
        json!({
            "type": "object",
            "required": ["seconds"],
            "properties": {
                "seconds": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY.as_secs()}
            }
        }),
    )
}

fn filter() -> Value {
    action_of(
        "filter",
        "Stops the execution (as a success) unless the condition holds.",
        json!({
            "type": "object",
            "required": ["condition"],
            "properties": {
                "condition": {
                    "type": "string",
                    "format": "template-expression",
                    "description": "An expression such as `payload.amount > 100`, with or \
                                    without `{{ }}`."
                }
            }
        }),
    )
}

fn transform() -> Value {
    action_of(
        "transform",
        "Computes values the later steps read as `steps.N.<key>`.",
        json!({
            "type": "object",
            "required": ["set"],
            "properties": {
                "set": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"$ref": "#/components/schemas/TemplateValue"}
                }
            }
        }),
    )
}

fn retry() -> Value {
    let max_ms = MAX_BACKOFF.as_millis() as u64;
    let max_s = MAX_BACKOFF.as_secs();
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "How often a failing step is tried, and the wait before the first retry \
                        (doubling after, with jitter).",
        "properties": {
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": MAX_ATTEMPTS},
            "backoff": {
                "oneOf": [
                    {"type": "integer", "minimum": 0, "maximum": max_ms,
                     "description": "Milliseconds."},
                    {"type": "string",
                     "pattern": backoff_pattern(max_ms, max_s),
                     "description": "A duration such as `\"500ms\"` or `\"2s\"`."}
                ]
            }
        }
    })
}

/// `"<n>ms"` up to 60000 or `"<n>s"` up to 60 (leading zeros and surrounding spaces allowed,
/// as the parser allows them).
fn backoff_pattern(max_ms: u64, max_s: u64) -> String {
    assert_eq!(
        (max_ms, max_s),
        (60_000, 60),
        "the backoff pattern spells out the 60 s maximum"
    );
    r"^\s*\+?0*([0-9]{1,4}|[1-5][0-9]{4}|60000)\s*ms\s*$|^\s*\+?0*([0-9]|[1-5][0-9]|60)\s*s\s*$"
        .to_string()
}

/// Any JSON whose strings are templates: an `http_request` body, a `transform` value.
fn template_value() -> Value {
    json!({
        "description": "Any JSON value; every string in it is a template.",
        "oneOf": [
            {"type": "string", "format": "template"},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": {"$ref": "#/components/schemas/TemplateValue"}},
            {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/TemplateValue"}}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The backoff pattern accepts exactly what the retry parser accepts.
    #[test]
    fn backoff_pattern_matches_the_parser() {
        let re = regex_lite::Regex::new(&backoff_pattern(60_000, 60)).unwrap();
        let http = crate::steps::spec::ActionSpec::Filter {
            condition: "true".into(),
        };
        for text in [
            "0ms", "500ms", "60000ms", "60001ms", "2s", " 2 s ", "60s", "61s", "007s", "+5s", "1m",
            "s", "ms", "5", "-1s", "100000ms",
        ] {
            let parsed =
                crate::steps::retry::RetryPolicy::parse(Some(&json!({ "backoff": text })), &http)
                    .is_ok();
            assert_eq!(re.is_match(text), parsed, "{text:?}");
        }
    }
}
