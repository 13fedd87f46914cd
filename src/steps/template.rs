//! Templates (`{{user.email}}`) with minijinja: checked when a workflow is saved, rendered with
//! a fuel budget (bounded time), a memory budget (what a render may hold while it runs:
//! counted by the global allocator, `alloc_budget`, and asked by the vendored minijinja after
//! every instruction) and an output cap (bounded size).
//!
//! Two things keep a render cheap whatever the payload's size: compiled templates are kept,
//! keyed by their source (an event's render is a lookup plus the run, not a parse), and a
//! template only receives the top-level variables whose names appear in it, converted on
//! demand from [`Variables`] — `{{user.name}}` never converts the rest of a 64 KiB payload.
//! "Appear" is taken literally (every identifier-like word of the source): a variable can only
//! be reached through its name, so this is never less than what the template reads, which
//! minijinja's own `undeclared_variables` is not (`{% set n = n | default(1) %}` reads `n`).

use crate::fasthash::FastMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

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

/// What templates can see, looked up by top-level name.
pub trait Variables {
    fn variable(&self, name: &str) -> Option<TemplateValue>;

    /// The variable as plain JSON, when it is one (lets a template that only interpolates
    /// skip the conversion to template values; see [`Piece`]).
    fn json(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// A JSON object's keys are the variables (tests, benchmarks, tools).
impl Variables for Value {
    fn variable(&self, name: &str) -> Option<TemplateValue> {
        self.get(name).map(TemplateValue::from_serialize)
    }

    fn json(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// A template made only of literal text and `{{ name.field.field }}` interpolations — the
/// common `Hi {{user.name}}` — is rendered without the template engine when every value it
/// names is a string or an integer, which print the same either way; anything else (a
/// filter, a missing field, a float, an object) goes through minijinja as usual.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Path(Vec<String>),
}

/// The pieces of `source` when it is such a template.
fn simple_pieces(source: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let open = rest.find("{{").unwrap_or(rest.len());
        let text = &rest[..open];
        if text.contains("{%") || text.contains("{#") {
            return None;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_string()));
        }
        rest = &rest[open..];
        if rest.is_empty() {
            break;
        }
        let close = rest.find("}}")?;
        let inner = rest[2..close].trim_matches(' ');
        let path: Vec<String> = inner.split('.').map(str::to_string).collect();
        let is_ident = |s: &String| {
            s.chars()
                .next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && s.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        };
        if !path.iter().all(is_ident) {
            return None;
        }
        pieces.push(Piece::Path(path));
        rest = &rest[close + 2..];
    }
    Some(pieces)
}

/// Renders simple pieces, or None when a value is not a string or an integer.
fn render_simple(pieces: &[Piece], vars: &(dyn Variables + Sync)) -> Option<String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Path(path) => {
                let mut value = vars.json(&path[0])?;
                for field in &path[1..] {
                    value = value.as_object()?.get(field)?;
                }
                match value {
                    Value::String(s) => out.push_str(s),
                    Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
                    _ => return None,
                }
            }
        }
    }
    Some(out)
}

/// Templates kept at most, and their total source size; past either the cache starts over
/// (old workflow versions' templates would otherwise stay for ever).
const MAX_CACHED: usize = 10_000;
const MAX_CACHED_BYTES: usize = 16 << 20;

/// Renders templates against an execution's variables. Cheap to share.
pub struct Renderer {
    compiled: RwLock<Compiled>,
    max_bytes: usize,
    max_memory: usize,
}

/// The names a cached template may read (see the module doc), and its pieces when it only
/// interpolates.
#[derive(Clone)]
struct Cached {
    names: Arc<[String]>,
    simple: Option<Arc<[Piece]>>,
}

struct Compiled {
    /// Also holds the compiled templates, each named by its own source.
    env: Environment<'static>,
    /// What is known of each cached template, by source.
    names: FastMap<String, Cached>,
    /// Total length of the cached sources.
    bytes: usize,
}

impl Renderer {
    /// `max_memory`: the most a render may hold at once while it runs, in bytes.
    pub fn new(fuel: u64, max_bytes: usize, max_memory: usize) -> Renderer {
        minijinja::set_memory_probe(crate::alloc_budget::may_allocate);
        let mut env = Environment::new();
        env.set_fuel(Some(fuel));
        // `{{user.missing.field}}` renders empty instead of failing the execution: payloads
        // from third parties often lack optional fields.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Templates are named by their source; without this a source ending in ".html" would
        // turn HTML escaping on.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        Renderer {
            compiled: RwLock::new(Compiled {
                env,
                names: FastMap::default(),
                bytes: 0,
            }),
            max_bytes,
            max_memory,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Compiled> {
        // Poisoning needs a panic while the lock is held; the data stays valid regardless.
        self.compiled.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails when `source` is not a valid template.
    pub fn check(&self, source: &str) -> Result<(), TemplateError> {
        if !is_template(source) {
            return Ok(());
        }
        never_panics(|| {
            self.read()
                .env
                .template_from_str(source)
                .map(|_| ())
                .map_err(|e| TemplateError::Syntax(describe(&e)))
        })
    }

    /// Fails when `expr` is not a valid expression (filter conditions).
    pub fn check_expression(&self, expr: &str) -> Result<(), TemplateError> {
        never_panics(|| {
            self.read()
                .env
                .compile_expression(strip_braces(expr))
                .map(|_| ())
                .map_err(|e| TemplateError::Syntax(describe(&e)))
        })
    }

    pub fn render(
        &self,
        source: &str,
        vars: &(dyn Variables + Sync),
    ) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        let cached = self.cached(source)?;
        if let Some(pieces) = &cached.simple {
            if let Some(out) = render_simple(pieces, vars) {
                if out.len() > self.max_bytes {
                    return Err(TemplateError::TooLarge(self.max_bytes));
                }
                return Ok(out);
            }
        }
        let ctx = context(&cached.names, vars);
        let compiled = self.read();
        let budget = crate::alloc_budget::scope(self.max_memory);
        let out = match compiled.env.get_template(source) {
            Ok(template) => template.render(ctx),
            // Dropped by a concurrent cache reset: render it uncached this once.
            Err(_) => compiled.env.render_str(source, ctx),
        };
        drop(budget);
        let out = out.map_err(render_error)?;
        if out.len() > self.max_bytes {
            return Err(TemplateError::TooLarge(self.max_bytes));
        }
        Ok(out)
    }

    /// Renders every string inside a JSON value (objects and arrays are walked).
    pub fn render_value(
        &self,
        value: &Value,
        vars: &(dyn Variables + Sync),
    ) -> Result<Value, TemplateError> {
        Ok(match value {
            Value::String(s) => Value::String(self.render(s, vars)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.render_value(v, vars))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_value(v, vars)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Evaluates a filter condition such as `amount > 100` (or `{{ amount > 200 }}`).
    pub fn condition(
        &self,
        expr: &str,
        vars: &(dyn Variables + Sync),
    ) -> Result<bool, TemplateError> {
        let expr = strip_braces(expr);
        // Built before taking the lock: `vars` is the caller's code.
        let ctx = context(&names_in(expr), vars);
        let compiled = self.read();
        let expression = compiled
            .env
            .compile_expression(expr)
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        let budget = crate::alloc_budget::scope(self.max_memory);
        let result = expression.eval(ctx);
        drop(budget);
        result.map(|v| v.is_true()).map_err(render_error)
    }

    /// Compiles and caches `source` if needed; returns the names it may read.
    fn cached(&self, source: &str) -> Result<Cached, TemplateError> {
        if let Some(cached) = self.read().names.get(source) {
            return Ok(cached.clone());
        }
        let mut compiled = self.compiled.write().unwrap_or_else(|e| e.into_inner());
        // Another thread may have compiled it while this one waited for the lock.
        if let Some(cached) = compiled.names.get(source) {
            return Ok(cached.clone());
        }
        if compiled.names.len() >= MAX_CACHED || compiled.bytes + source.len() > MAX_CACHED_BYTES {
            compiled.env.clear_templates();
            compiled.names.clear();
            compiled.bytes = 0;
        }
        compiled
            .env
            .add_template_owned(source.to_string(), source.to_string())
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        let cached = Cached {
            names: names_in(source).into(),
            simple: simple_pieces(source).map(Into::into),
        };
        compiled.names.insert(source.to_string(), cached.clone());
        compiled.bytes += source.len();
        Ok(cached)
    }
}

/// Every identifier-like word of `source`, once each: a superset of the variables it reads.
fn names_in(source: &str) -> Vec<String> {
    let is_word = |c: char| c == '_' || c.is_alphanumeric();
    let mut seen = std::collections::HashSet::new();
    source
        .split(|c: char| !is_word(c))
        .filter(|w| w.chars().next().is_some_and(|c| !c.is_ascii_digit()))
        .filter(|w| seen.insert(*w))
        .map(str::to_string)
        .collect()
}

/// The render context: only the named variables, converted now.
fn context(names: &[String], vars: &(dyn Variables + Sync)) -> TemplateValue {
    names
        .iter()
        .filter_map(|name| vars.variable(name).map(|v| (name.as_str(), v)))
        .collect()
}

/// How many strings inside `value` are templates (each is one render).
pub fn count_templates(value: &Value) -> usize {
    match value {
        Value::String(s) => usize::from(is_template(s)),
        Value::Array(items) => items.iter().map(count_templates).sum(),
        Value::Object(map) => map.values().map(count_templates).sum(),
        _ => 0,
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

/// Checking a template runs the engine's parser on what a client sent. Should the parser
/// panic on some input (it did, see `vendor/README.md`), the client gets a syntax error
/// instead of a dropped connection.
fn never_panics(check: impl FnOnce() -> Result<(), TemplateError>) -> Result<(), TemplateError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|_| {
        Err(TemplateError::Syntax(
            "the template could not be parsed".into(),
        ))
    })
}

/// A failed render; one stopped by its memory budget also returns what it built to the system.
fn render_error(e: minijinja::Error) -> TemplateError {
    let message = describe(&e);
    if message.contains("memory budget") {
        crate::alloc_budget::release_freed_memory();
    }
    TemplateError::Render(message)
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

    #[test]
    fn interpolation_only_templates_render_the_same_without_the_engine() {
        let vars = serde_json::json!({
            "user": {"name": "Ada \"Lovelace\" <ada@example.com>", "age": 36, "score": 1.5,
                     "tags": ["a"], "admin": true, "none": null},
            "n": 18_446_744_073_709_551_615u64,
            "neg": -7
        });
        let r = Renderer::new(10_000, 1 << 20, 16 << 20);
        let cases = [
            "Hi {{user.name}}",
            "{{ user.name }} is {{user.age}}, {{n}} and {{neg}}!",
            "{{user.score}} {{user.admin}} {{user.none}} {{user.tags}} {{user.missing}} {{missing.x}}",
            "{{ user.name|upper }} {% if user.admin %}x{% endif %} {# c #}",
            "plain }} text {{user.name}}",
        ];
        for source in cases {
            let engine = {
                let compiled = r.read();
                compiled
                    .env
                    .render_str(source, context(&names_in(source), &vars))
                    .unwrap()
            };
            assert_eq!(r.render(source, &vars).unwrap(), engine, "{source}");
        }
        assert!(simple_pieces("Hi {{user.name}}").is_some());
        assert!(simple_pieces("{{ user.name|upper }}").is_none());
        assert!(simple_pieces("{% if x %}{% endif %}").is_none());
        assert!(simple_pieces("{{-x}}").is_none());
    }
    use serde_json::json;

    fn renderer() -> Renderer {
        Renderer::new(10_000, 1024, 16 << 20)
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
        let r = Renderer::new(1_000, 1 << 20, 16 << 20);
        let err = r
            .render(
                "{% for i in range(100000) %}{{ i }}{% endfor %}",
                &json!({}),
            )
            .unwrap_err();
        assert!(matches!(err, TemplateError::Render(_)), "{err:?}");
    }

    /// `{% set b = a~a~…~a %}` eight levels deep would build a 256 MiB string in a few hundred
    /// instructions (well within the fuel), and print only its length.
    pub(crate) fn template_bomb() -> String {
        let mut t = String::from("{% set a = '0123456789abcdef' %}");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let operands = [pair[0]; 8].join("~");
            t.push_str(&format!("{{% set {} = {operands} %}}", pair[1]));
        }
        t.push_str("{{ i|length }}");
        t
    }

    #[test]
    fn a_render_cannot_build_more_than_its_memory_budget() {
        let r = Renderer::new(100_000, 1 << 20, 16 << 20);
        let bomb = template_bomb();
        assert!(bomb.len() < 400, "{}", bomb.len());
        let err = r.render(&bomb, &json!({})).unwrap_err();
        assert!(
            matches!(&err, TemplateError::Render(m) if m.contains("memory budget")),
            "{err:?}"
        );
        // A bigger budget lets smaller constructions of the same kind through.
        let small = "{% set a = 'xy' %}{% set b = a~a~a~a %}{% set c = b~b~b~b %}{{ c|length }}";
        assert_eq!(r.render(small, &json!({})).unwrap(), "32");
        // One-step builders are checked before they allocate.
        for template in [
            "{{ ('x' * 10000000)|replace('x', 'yyyyyyyyyy')|length }}",
            "{{ 'a\nb\nc'|indent(100000000)|length }}",
            "{{ range(1000)|join('x' * 100000)|length }}",
        ] {
            let err = r.render(template, &json!({})).unwrap_err();
            assert!(
                matches!(&err, TemplateError::Render(m) if m.contains("memory budget")),
                "{template}: {err:?}"
            );
        }
    }

    /// `{% set ns.s = (ns, …) %}` stores a namespace inside itself; minijinja's values are
    /// reference counted, so without the vendored fix the cycle outlived every render (a leak
    /// per render, found by the fuzzer under LeakSanitizer).
    #[test]
    fn a_namespace_holding_itself_is_freed_with_its_render() {
        let template = "{% set ns = namespace(s='ab') %}{% for i in range(20) %}\
                        {% set ns.s = (ns, ns.s) %}{% endfor %}{{ ns.s|length }}";
        let mut env = Environment::new();
        env.set_fuel(Some(1_000_000));
        let render = |env: &Environment| env.render_str(template, ()).unwrap();
        assert_eq!(render(&env), "2");
        let _count = crate::alloc_budget::scope(usize::MAX);
        let after_one = {
            render(&env);
            crate::alloc_budget::live_bytes()
        };
        for _ in 0..50 {
            render(&env);
        }
        let after_fifty_one = crate::alloc_budget::live_bytes();
        assert!(
            after_fifty_one - after_one < 1024,
            "renders leaked {} bytes",
            after_fifty_one - after_one
        );
    }

    #[test]
    fn oversized_output_is_refused() {
        let r = Renderer::new(1_000_000, 10, 16 << 20);
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
        for i in 0..MAX_CACHED + 5 {
            let source = format!("{i}:{{{{ n }}}}");
            assert_eq!(
                r.render(&source, &json!({"n": "x"})).unwrap(),
                format!("{i}:x")
            );
        }
        assert!(r.read().names.len() <= MAX_CACHED);
    }

    #[test]
    fn only_the_words_of_a_template_are_looked_up() {
        struct Recording(std::sync::Mutex<Vec<String>>);
        impl Variables for Recording {
            fn variable(&self, name: &str) -> Option<TemplateValue> {
                self.0.lock().unwrap().push(name.to_string());
                (name == "user").then(|| TemplateValue::from("Ada"))
            }
        }
        let vars = Recording(Default::default());
        let r = renderer();
        assert_eq!(
            r.render("Hi {{ user }}, hi {{ user }}", &vars).unwrap(),
            "Hi Ada, hi Ada"
        );
        assert_eq!(*vars.0.lock().unwrap(), ["Hi", "user", "hi"]);
        vars.0.lock().unwrap().clear();
        assert!(!r.condition("user == 'Bob' and 2 > 1", &vars).unwrap());
        assert_eq!(*vars.0.lock().unwrap(), ["user", "Bob", "and"]);
    }

    #[test]
    fn names_read_by_set_with_and_filter_blocks_are_seen() {
        let r = renderer();
        let ctx = json!({"n": "Ada", "user": {"name": "Bob"}, "y": "b"});
        assert_eq!(
            r.render("{% set n = n | default('friend') %}Hi {{ n }}", &ctx)
                .unwrap(),
            "Hi Ada"
        );
        assert_eq!(
            r.render("{% with u = user %}{{ u.name }}{% endwith %}", &ctx)
                .unwrap(),
            "Bob"
        );
        assert_eq!(
            r.render("{% filter replace('a', y) %}a{% endfilter %}", &ctx)
                .unwrap(),
            "b"
        );
    }

    #[test]
    fn the_cache_is_bounded_by_total_source_size() {
        let r = Renderer::new(10_000, 4 << 20, 16 << 20);
        let big = "x".repeat(1 << 20);
        for i in 0..20 {
            let source = format!("{i}{big}{{{{ n }}}}");
            assert!(r.render(&source, &json!({"n": 1})).unwrap().ends_with('1'));
        }
        assert!(r.read().bytes <= MAX_CACHED_BYTES);
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
