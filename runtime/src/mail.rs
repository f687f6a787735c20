//! keepalived-style alert mail for `smtp_alert`: through `smtp_server`
//! within `smtp_connect_timeout`, from `notification_email_from` to every
//! `notification_email`, subject `[router_id] VRRP Instance NAME - Entering
//! STATE state`. Sent in the background; a failure is logged, never fatal.

use std::sync::Arc;

use holdfast_core::config::model::Config;
use holdfast_core::vrrp::instance::State;
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;
use tracing::warn;

/// The state word in the subject.
fn word(state: State) -> &'static str {
    match state {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Initialize => "STOP",
    }
}

/// Subject and body of the alert for `instance` entering `state`.
pub fn text(config: &Config, instance: &str, state: State) -> (String, String) {
    let router = config
        .global
        .router_id
        .clone()
        .unwrap_or_else(|| "holdfast".into());
    let subject = format!(
        "[{router}] VRRP Instance {instance} - Entering {} state",
        word(state)
    );
    let body = if state == State::Master {
        "=> VRRP Instance is now owning VRRP VIPs <=\r\n".to_string()
    } else {
        "=> VRRP Instance is no longer owning VRRP VIPs <=\r\n".to_string()
    };
    (subject, body)
}

/// Sends the alert in the background, if mail is configured.
pub fn alert(
    config: &Config,
    instance: &str,
    state: State,
    slots: Arc<Semaphore>,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let g = &config.global;
    let (Some(server), Some(from)) = (&g.smtp_server, &g.notification_email_from) else {
        return;
    };
    if g.notification_email.is_empty() {
        return;
    }
    let (subject, body) = text(config, instance, state);
    let (host, port, timeout) = (server.host.clone(), server.port, g.smtp_connect_timeout);
    let from = from.clone();
    let to = g.notification_email.clone();
    tasks.spawn(async move {
        let Ok(_slot) = slots.acquire_owned().await else {
            return;
        };
        let Ok(from) = from.parse::<Mailbox>() else {
            return warn!("notification_email_from {from} is not an address");
        };
        let mut builder = Message::builder().from(from).subject(subject);
        for t in &to {
            match t.parse::<Mailbox>() {
                Ok(m) => builder = builder.to(m),
                Err(_) => warn!("notification_email {t} is not an address"),
            }
        }
        let message = match builder.body(body) {
            Ok(m) => m,
            Err(e) => return warn!("alert mail: {e}"),
        };
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(port)
            .timeout(Some(timeout))
            .build();
        if let Err(e) = mailer.send(message).await {
            warn!("alert mail through {host}:{port}: {e}");
        }
    });
}
