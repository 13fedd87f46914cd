//! What the fuzz targets (`fuzz/`) run, one function per target, shared with the stable test
//! that replays their corpus (`tests/fuzz_corpus.rs`), so every input the fuzzer ever kept is
//! checked on every `cargo test`. Each takes arbitrary bytes, feeds them to one parser the
//! outside world reaches, and checks what must hold whatever the input: no panic, and the
//! function's own invariants (a budget respected, a round trip exact).
//!
//! Everything here builds without RocksDB (`--no-default-features`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::model::Execution;
use crate::steps::spec::{parse_step, validate_actions, validate_trigger};
use crate::steps::template::Renderer;

/// A renderer with small budgets, so a run stays fast whatever the template.
fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(5_000, 64 << 10, 1 << 20))
}

/// A workflow definition as the API receives it: `{"trigger": …, "actions": […]}`. Whatever
/// the validator accepts must also parse for running, step by step.
pub fn workflow_definition(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = validate_trigger(body.get("trigger").unwrap_or(&Value::Null));
    if let Ok(actions) = validate_actions(body.get("actions").unwrap_or(&body), renderer()) {
        for (i, action) in actions.iter().enumerate() {
            parse_step(i, action, renderer()).expect("a validated action parses for running");
        }
    }
}

/// A template (the bytes up to the first NUL) rendered against JSON variables (the rest): a
/// template that checks may still fail to render, but never panics, and what it renders fits
/// the output cap.
pub fn template(data: &[u8]) {
    let (source, vars) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(source) = std::str::from_utf8(source) else {
        return;
    };
    let vars = serde_json::from_slice::<Value>(vars).unwrap_or(Value::Null);
    let r = renderer();
    if r.check(source).is_ok() {
        if let Ok(out) = r.render(source, &vars) {
            assert!(out.len() <= 64 << 10, "the output cap holds");
        }
    }
    if r.check_expression(source).is_ok() {
        let _ = r.condition(source, &vars);
    }
}

/// Signature headers as a sender controls them: lines of secret, `webhook-id`,
/// `webhook-timestamp`, `webhook-signature` / `X-Botcadence-Signature`, then the body.
/// Verification never panics, and what we sign we verify.
pub fn signature_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(5, '\n');
    let secret = lines.next().unwrap_or_default();
    let id = lines.next().unwrap_or_default();
    let timestamp = lines.next().unwrap_or_default();
    let header = lines.next().unwrap_or_default();
    let body = lines.next().unwrap_or_default().as_bytes();
    use crate::signature::*;
    let _ = verify_standard_webhook(secret, id, timestamp, body, header);
    let _ = verify_hex(secret, body, header);
    let signed = sign_standard_webhook(secret, id, timestamp, body);
    assert!(verify_standard_webhook(
        secret, id, timestamp, body, &signed
    ));
    assert!(verify_hex(secret, body, &sign_hex(secret, body)));
}

/// A query string of the execution list (`page`, `per_page`, `status`, `from`, `to`, …):
/// either a 4xx naming a parameter or a page that can be served.
pub fn query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = actix_web::web::Query::<HashMap<String, String>>::from_query(text) else {
        return;
    };
    match crate::api::executions::execution_query(&params) {
        Ok((page, q)) => {
            assert!(page.page >= 1 && (1..=100).contains(&page.per_page));
            assert_eq!(q.offset, page.offset());
        }
        Err(e) => {
            use actix_web::ResponseError;
            assert!(e.status_code().is_client_error(), "{e}");
        }
    }
}

/// A stored record as the store reads it back: decoding never panics, and what decodes
/// encodes and decodes to the same record.
pub fn record_codec(data: &[u8]) {
    let Ok(execution) = crate::store::codec::decode::<Execution>(data) else {
        return;
    };
    let again = crate::store::codec::encode(&execution);
    let back: Execution =
        crate::store::codec::decode(&again).expect("a record we wrote decodes again");
    assert_eq!(
        serde_json::to_value(&back).ok(),
        serde_json::to_value(&execution).ok(),
        "the round trip is exact"
    );
}
