//! `send_email`: SMTP through lettre, or — with no relay configured — a recorder that keeps
//! the rendered message in the step output so a first run works on a bare machine.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};

use super::StepOutcome;
use crate::config::SmtpSettings;

/// A rendered email, ready to send.
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub from: Option<String>,
    pub to: String,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        default_from: String,
    },
    /// No relay configured: messages are recorded, not sent.
    Recording { default_from: String },
}

impl Mailer {
    pub fn from_settings(smtp: &SmtpSettings, password: Option<&str>) -> Result<Mailer, String> {
        if smtp.host.is_empty() {
            return Ok(Mailer::Recording {
                default_from: smtp.from.clone(),
            });
        }
        let builder = match smtp.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| format!("smtp: {e}"))?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| format!("smtp: {e}"))?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(smtp.timeout_secs)));
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.clone(),
                password.unwrap_or_default().to_string(),
            ));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            default_from: smtp.from.clone(),
        })
    }

    pub fn is_recording(&self) -> bool {
        matches!(self, Mailer::Recording { .. })
    }

    pub async fn send(&self, email: RenderedEmail) -> StepOutcome {
        let default_from = match self {
            Mailer::Smtp { default_from, .. } | Mailer::Recording { default_from } => default_from,
        };
        let from = email
            .from
            .clone()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| default_from.clone());
        let message = match build_message(&from, &email) {
            Ok(m) => m,
            Err(e) => return StepOutcome::Failed(e),
        };
        let summary = json!({
            "from": from,
            "to": email.to,
            "cc": email.cc,
            "subject": email.subject,
        });
        match self {
            Mailer::Recording { .. } => {
                let mut out = summary;
                out["delivered"] = Value::Bool(false);
                out["body"] = Value::String(email.body);
                out["note"] = Value::String("no [smtp] host configured: recorded, not sent".into());
                StepOutcome::Done(out)
            }
            Mailer::Smtp { transport, .. } => match transport.send(message).await {
                Ok(response) => {
                    let mut out = summary;
                    out["delivered"] = Value::Bool(true);
                    out["smtp_response"] =
                        Value::String(response.message().collect::<Vec<_>>().join(" "));
                    StepOutcome::Done(out)
                }
                Err(e) if e.is_permanent() => StepOutcome::Failed(format!("smtp: {e}")),
                Err(e) => StepOutcome::Retryable {
                    error: format!("smtp: {e}"),
                    retry_after: None,
                },
            },
        }
    }
}

fn build_message(from: &str, email: &RenderedEmail) -> Result<Message, String> {
    let parse = |field: &str, addr: &str| -> Result<Mailbox, String> {
        addr.trim()
            .parse::<Mailbox>()
            .map_err(|e| format!("{field}: '{addr}' is not an email address ({e})"))
    };
    let mut builder = Message::builder()
        .from(parse("from", from)?)
        .subject(email.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    let mut any_to = false;
    for to in email.to.split(',').filter(|s| !s.trim().is_empty()) {
        builder = builder.to(parse("to", to)?);
        any_to = true;
    }
    if !any_to {
        return Err("to: no recipient (the rendered value is empty)".into());
    }
    for cc in email
        .cc
        .iter()
        .flat_map(|c| c.split(','))
        .filter(|s| !s.trim().is_empty())
    {
        builder = builder.cc(parse("cc", cc)?);
    }
    builder.body(email.body.clone()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to: &str) -> RenderedEmail {
        RenderedEmail {
            from: None,
            to: to.into(),
            cc: vec!["c@example.com".into()],
            subject: "Welcome!".into(),
            body: "Thanks for joining!".into(),
        }
    }

    #[tokio::test]
    async fn the_recorder_keeps_the_rendered_message() {
        let mailer = Mailer::Recording {
            default_from: "bot@example.com".into(),
        };
        let StepOutcome::Done(out) = mailer.send(email("ada@example.com")).await else {
            panic!("recording never fails on a valid message")
        };
        assert_eq!(out["to"], "ada@example.com");
        assert_eq!(out["delivered"], false);
        assert_eq!(out["body"], "Thanks for joining!");
    }

    #[tokio::test]
    async fn invalid_addresses_fail_without_retry() {
        let mailer = Mailer::Recording {
            default_from: "bot@example.com".into(),
        };
        assert!(matches!(
            mailer.send(email("not an address")).await,
            StepOutcome::Failed(_)
        ));
        assert!(matches!(
            mailer.send(email("")).await,
            StepOutcome::Failed(_)
        ));
    }
}
