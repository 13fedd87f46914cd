//! The dashboard's templates, compiled into the binary (`assets/dashboard/`), rendered with
//! minijinja and HTML auto-escaping: whatever comes from outside (payloads, outputs, names,
//! error messages) is text, never markup. Only what this module itself marks safe — a
//! rendered page inside the layout, a chart we drew — is inserted as HTML.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::guard::SignedIn;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../assets/dashboard/layout.html"),
    ),
    (
        "error.html",
        include_str!("../../assets/dashboard/error.html"),
    ),
    (
        "login.html",
        include_str!("../../assets/dashboard/login.html"),
    ),
    (
        "overview.html",
        include_str!("../../assets/dashboard/overview.html"),
    ),
    (
        "workflows.html",
        include_str!("../../assets/dashboard/workflows.html"),
    ),
    (
        "workflow.html",
        include_str!("../../assets/dashboard/workflow.html"),
    ),
    (
        "editor.html",
        include_str!("../../assets/dashboard/editor.html"),
    ),
    (
        "new_workflow.html",
        include_str!("../../assets/dashboard/new_workflow.html"),
    ),
    (
        "confirm.html",
        include_str!("../../assets/dashboard/confirm.html"),
    ),
    (
        "executions.html",
        include_str!("../../assets/dashboard/executions.html"),
    ),
    (
        "execution.html",
        include_str!("../../assets/dashboard/execution.html"),
    ),
    (
        "webhooks.html",
        include_str!("../../assets/dashboard/webhooks.html"),
    ),
    (
        "settings.html",
        include_str!("../../assets/dashboard/settings.html"),
    ),
    (
        "signing_secret.html",
        include_str!("../../assets/dashboard/signing_secret.html"),
    ),
    (
        "operator.html",
        include_str!("../../assets/dashboard/operator.html"),
    ),
    (
        "account.html",
        include_str!("../../assets/dashboard/account.html"),
    ),
];

const STYLESHEET: &str = include_str!("../../assets/dashboard/app.css");
const SCRIPT: &str = include_str!("../../assets/dashboard/app.js");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Every template is HTML: escape everything, whatever the name.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("dashboard template {name}: {e}"));
        }
        env
    })
}

/// Renders one template to a string (a template error is ours: it shows as such, escaped).
fn render(name: &str, context: &impl Serialize) -> String {
    let env = environment();
    env.get_template(name)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| {
            tracing::error!(template = name, error = %e, "dashboard template failed");
            format!(
                "<p class=\"error\">This page could not be drawn ({}).</p>",
                html_escape(&e.to_string())
            )
        })
}

/// A template rendered on its own, to be inserted into a page with [`trusted_html`].
pub fn fragment(template: &str, context: &impl Serialize) -> String {
    render(template, context)
}

/// Text as HTML text (for the few strings built outside templates), escaped exactly as the
/// templates escape.
pub fn html_escape(s: &str) -> String {
    minijinja::HtmlEscape(s).to_string()
}

/// HTML that goes into a template as is: only for markup this module's callers built
/// themselves (a rendered template, a chart).
pub fn trusted_html(html: String) -> Value {
    Value::from_safe_string(html)
}

/// The navigation of a session: an account's pages, or the operator's.
fn nav(signed: &SignedIn) -> Vec<serde_json::Value> {
    let items: &[(&str, &str)] = if signed.is_operator() {
        &[("/dashboard/operator", "Accounts")]
    } else {
        &[
            ("/dashboard/overview", "Overview"),
            ("/dashboard/workflows", "Workflows"),
            ("/dashboard/webhooks", "Webhooks"),
            ("/dashboard/settings", "Settings"),
        ]
    };
    items
        .iter()
        .map(|(href, label)| serde_json::json!({"href": href, "label": label}))
        .collect()
}

/// A whole page: `template` rendered with `context`, inside the layout.
pub fn page_html(
    signed: Option<&SignedIn>,
    current: &str,
    title: &str,
    template: &str,
    context: &impl Serialize,
) -> String {
    let content = render(template, context);
    let layout = minijinja::context! {
        title => title,
        content => trusted_html(content),
        nav => signed.map(nav),
        csrf => signed.map(|s| s.session.csrf_token.clone()),
        current => current,
    };
    render("layout.html", &layout)
}

/// An HTML answer with this status.
pub fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub fn page(
    signed: Option<&SignedIn>,
    current: &str,
    title: &str,
    template: &str,
    context: &impl Serialize,
) -> HttpResponse {
    html(
        actix_web::http::StatusCode::OK,
        page_html(signed, current, title, template, context),
    )
}

pub fn error_page(status: u16, message: &str) -> String {
    let title = match status {
        403 => "Not allowed",
        404 => "Not found",
        429 => "Slow down",
        400..=499 => "That did not work",
        _ => "Something went wrong",
    };
    page_html(
        None,
        "",
        title,
        "error.html",
        &minijinja::context! { message => message },
    )
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }

    #[test]
    fn outsiders_text_is_escaped_in_every_place_it_can_appear() {
        let hostile = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
        let html = error_page(400, hostile);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        let escaped = html_escape(hostile);
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('"'));
    }
}
