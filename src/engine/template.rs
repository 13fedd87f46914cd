//! Templates (`{{user.email}}`) with minijinja: checked when a workflow is saved, rendered with
//! a fuel budget (bounded time) and an output cap (bounded size).
//!
//! Compiled templates are kept, keyed by their source, so an event's render is a lookup plus
//! the run, not a parse: the same few templates render for every event of a workflow.

use std::sync::RwLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value as TemplateValue};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template syntax: {0}")]
    Syntax(String),
    #[error("template failed: {0}")]
    Render(String),
    #[error("rendered value is larger than {0} bytes")]
    TooLarge(usize),
}

/// Compiled templates kept at most; past this the cache starts over (old workflow versions'
/// templates would otherwise stay for ever).
const MAX_CACHED_TEMPLATES: usize = 10_000;

/// Renders templates against an execution's context. Cheap to share.
pub struct Renderer {
    /// Also holds the compiled templates, each named by its own source.
    env: RwLock<Compiled>,
    max_bytes: usize,
}

struct Compiled {
    env: Environment<'static>,
    count: usize,
}

impl Renderer {
    pub fn new(fuel: u64, max_bytes: usize) -> Renderer {
        let mut env = Environment::new();
        env.set_fuel(Some(fuel));
        // `{{user.missing.field}}` renders empty instead of failing the execution: payloads
        // from third parties often lack optional fields.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Templates are named by their source; without this a source ending in ".html" would
        // turn HTML escaping on.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        Renderer {
            env: RwLock::new(Compiled { env, count: 0 }),
            max_bytes,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Compiled> {
        // Poisoning needs a panic while the lock is held; the data stays valid regardless.
        self.env.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails when `source` is not a valid template.
    pub fn check(&self, source: &str) -> Result<(), TemplateError> {
        if !is_template(source) {
            return Ok(());
        }
        self.read()
            .env
            .template_from_str(source)
            .map(|_| ())
            .map_err(|e| TemplateError::Syntax(describe(&e)))
    }

    /// Fails when `expr` is not a valid expression (filter conditions).
    pub fn check_expression(&self, expr: &str) -> Result<(), TemplateError> {
        self.read()
            .env
            .compile_expression(strip_braces(expr))
            .map(|_| ())
            .map_err(|e| TemplateError::Syntax(describe(&e)))
    }

    pub fn render(&self, source: &str, ctx: &Value) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        self.render_with(source, &TemplateValue::from_serialize(ctx))
    }

    fn render_with(&self, source: &str, ctx: &TemplateValue) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        self.compile(source)?;
        let compiled = self.read();
        let out = match compiled.env.get_template(source) {
            Ok(template) => template.render(ctx),
            // Dropped by a concurrent cache reset: render it uncached this once.
            Err(_) => compiled.env.render_str(source, ctx),
        }
        .map_err(|e| TemplateError::Render(describe(&e)))?;
        if out.len() > self.max_bytes {
            return Err(TemplateError::TooLarge(self.max_bytes));
        }
        Ok(out)
    }

    /// Makes sure `source` is compiled and cached.
    fn compile(&self, source: &str) -> Result<(), TemplateError> {
        if self.read().env.get_template(source).is_ok() {
            return Ok(());
        }
        let mut compiled = self.env.write().unwrap_or_else(|e| e.into_inner());
        if compiled.count >= MAX_CACHED_TEMPLATES {
            compiled.env.clear_templates();
            compiled.count = 0;
        }
        compiled
            .env
            .add_template_owned(source.to_string(), source.to_string())
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        compiled.count += 1;
        Ok(())
    }

    /// Renders every string inside a JSON value (objects and arrays are walked).
    pub fn render_value(&self, value: &Value, ctx: &Value) -> Result<Value, TemplateError> {
        // One conversion of the context for every string in the value.
        self.render_value_with(value, &TemplateValue::from_serialize(ctx))
    }

    fn render_value_with(
        &self,
        value: &Value,
        ctx: &TemplateValue,
    ) -> Result<Value, TemplateError> {
        Ok(match value {
            Value::String(s) => Value::String(self.render_with(s, ctx)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.render_value_with(v, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_value_with(v, ctx)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Evaluates a filter condition such as `amount > 100` (or `{{ amount > 200 }}`).
    pub fn condition(&self, expr: &str, ctx: &Value) -> Result<bool, TemplateError> {
        let compiled = self.read();
        let expression = compiled
            .env
            .compile_expression(strip_braces(expr))
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        expression
            .eval(TemplateValue::from_serialize(ctx))
            .map(|v| v.is_true())
            .map_err(|e| TemplateError::Render(describe(&e)))
    }
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

fn strip_braces(expr: &str) -> &str {
    let t = expr.trim();
    t.strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .map_or(t, str::trim)
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{} ({detail})", e.kind()),
        None => e.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn renderer() -> Renderer {
        Renderer::new(10_000, 1024)
    }

    #[test]
    fn payload_fields_render_by_path() {
        let ctx = json!({"user": {"email": "ada@example.com"}});
        assert_eq!(
            renderer().render("{{user.email}}", &ctx).unwrap(),
            "ada@example.com"
        );
    }

    #[test]
    fn missing_fields_render_empty() {
        assert_eq!(
            renderer()
                .render("[{{user.nope.deeper}}]", &json!({}))
                .unwrap(),
            "[]"
        );
    }

    #[test]
    fn plain_strings_pass_through_untouched() {
        assert_eq!(
            renderer().render("Welcome!", &json!({})).unwrap(),
            "Welcome!"
        );
    }

    #[test]
    fn syntax_errors_are_found_at_check_time() {
        assert!(renderer().check("{{ user.email ").is_err());
        assert!(renderer().check("{% if %}").is_err());
        assert!(renderer().check("Hi {{ user.name }}").is_ok());
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let r = Renderer::new(1_000, 1 << 20);
        let err = r
            .render(
                "{% for i in range(100000) %}{{ i }}{% endfor %}",
                &json!({}),
            )
            .unwrap_err();
        assert!(matches!(err, TemplateError::Render(_)), "{err:?}");
    }

    #[test]
    fn oversized_output_is_refused() {
        let r = Renderer::new(1_000_000, 10);
        let err = r.render("{{ 'x' * 100 }}", &json!({})).unwrap_err();
        assert_eq!(err, TemplateError::TooLarge(10));
    }

    #[test]
    fn conditions_accept_bare_and_braced_expressions() {
        let ctx = json!({"amount": 150});
        assert!(renderer().condition("amount > 100", &ctx).unwrap());
        assert!(!renderer().condition("{{ amount > 200 }}", &ctx).unwrap());
    }

    #[test]
    fn cached_templates_render_like_fresh_ones_and_never_escape_html() {
        let r = renderer();
        let source = "<b>{{ n }}</b>.html";
        for _ in 0..3 {
            assert_eq!(
                r.render(source, &json!({"n": "<Ada>"})).unwrap(),
                "<b><Ada></b>.html"
            );
        }
        assert_eq!(r.render(source, &json!({"n": 1})).unwrap(), "<b>1</b>.html");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let r = renderer();
        for i in 0..MAX_CACHED_TEMPLATES + 5 {
            let source = format!("{i}:{{{{ n }}}}");
            assert_eq!(
                r.render(&source, &json!({"n": "x"})).unwrap(),
                format!("{i}:x")
            );
        }
        assert!(r.read().count <= MAX_CACHED_TEMPLATES);
    }

    #[test]
    fn nested_json_values_are_rendered() {
        let ctx = json!({"n": "Ada"});
        let v = renderer()
            .render_value(&json!({"a": ["{{n}}", 1], "b": {"c": "x{{n}}"}}), &ctx)
            .unwrap();
        assert_eq!(v, json!({"a": ["Ada", 1], "b": {"c": "xAda"}}));
    }
}
