//! Sends one message to one channel. Errors are said in words that never hold the hook
//! URL or the SMTP password.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::message::Notice;
use crate::config::{ChannelConfig, ChannelKind, SmtpConfig, SmtpSecurity};
use crate::domain::text::bounded;

/// Longest error text kept for one attempt.
const MAX_ERROR_CHARS: usize = 300;

/// Sends messages over HTTP and SMTP, each attempt bounded by one timeout.
#[derive(Debug, Clone)]
pub struct ChannelSender {
    http: reqwest::Client,
    timeout: Duration,
}

impl ChannelSender {
    /// A sender whose every attempt ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<ChannelSender, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would send the message where the configuration did not say.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vbdash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", e.without_url()))?;
        Ok(ChannelSender { http, timeout })
    }

    /// Delivers `notice` to `channel`; the error says what failed, with no secret in it.
    pub async fn send(&self, channel: &ChannelConfig, notice: &Notice) -> Result<(), String> {
        let attempt = async {
            match &channel.kind {
                ChannelKind::Webhook { url } => {
                    self.post(url.expose(), &notice.webhook_body()).await
                }
                ChannelKind::Slack { url } => self.post(url.expose(), &notice.slack_body()).await,
                ChannelKind::Teams { url } => self.post(url.expose(), &notice.teams_body()).await,
                ChannelKind::Email(smtp) => self.mail(smtp, notice).await,
            }
        };
        // The clients have their own limits; this one also covers a server that trickles.
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result.map_err(|e| bounded(&scrub(&e, channel), MAX_ERROR_CHARS)),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(self.timeout)
            )),
        }
    }

    /// Calls `url` with `method` and an optional JSON body; for the heartbeat ping too.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| http_error(&e, self.timeout))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered HTTP {}", status.as_u16()))
        }
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<(), String> {
        self.call(reqwest::Method::POST, url, Some(body)).await
    }

    async fn mail(&self, smtp: &SmtpConfig, notice: &Notice) -> Result<(), String> {
        let (subject, text) = notice.email();
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("the sender address is not valid: {e}"))?;
        let mut builder = Message::builder().from(from).subject(subject);
        for to in &smtp.to {
            let to: Mailbox = to
                .parse()
                .map_err(|e| format!("a recipient address is not valid: {e}"))?;
            builder = builder.to(to);
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| format!("cannot build the e-mail: {e}"))?;

        let relay = match smtp.security {
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
            SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &smtp.host,
            )),
        };
        let mut relay = relay
            .map_err(|e| format!("cannot set up the mail connection: {e}"))?
            .port(smtp.port)
            .timeout(Some(self.timeout));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            relay = relay.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        relay
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the mail server refused or failed: {e}"))
    }
}

/// An HTTP failure in words, without the URL (which may hold a token).
fn http_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {}", humantime::format_duration(timeout))
    } else if e.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        let mut text = format!("the request failed: {}", ErrorChain(e));
        text.truncate(MAX_ERROR_CHARS);
        text
    }
}

/// Prints an error and its causes, the URL left out.
struct ErrorChain<'a>(&'a reqwest::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::error::Error;
        let mut source = self.0.source();
        write!(f, "{}", describe_kind(self.0))?;
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

fn describe_kind(e: &reqwest::Error) -> &'static str {
    if e.is_body() {
        "body error"
    } else if e.is_decode() {
        "decode error"
    } else if e.is_request() {
        "request error"
    } else {
        "error"
    }
}

/// Removes every secret of `channel` from `text`, in case a library quoted one.
fn scrub(text: &str, channel: &ChannelConfig) -> String {
    let secrets: Vec<&str> = match &channel.kind {
        ChannelKind::Webhook { url } | ChannelKind::Slack { url } | ChannelKind::Teams { url } => {
            vec![url.expose()]
        }
        ChannelKind::Email(smtp) => smtp.password.iter().map(|p| p.expose()).collect(),
    };
    let mut text = text.to_owned();
    for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "***");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn secrets_are_scrubbed_from_errors() {
        let channel = ChannelConfig {
            name: "hook".into(),
            kind: ChannelKind::Slack {
                url: Secret::new("https://hooks.example.test/T0/B0/token"),
            },
            digest: None,
        };
        let text = scrub(
            "failed for https://hooks.example.test/T0/B0/token",
            &channel,
        );
        assert_eq!(text, "failed for ***");
    }
}
