//! Sends the alert mail core decided on (`Output::Alert`, worded in
//! `core/src/alert.rs`): through `smtp_server` within
//! `smtp_connect_timeout`, from `notification_email_from` to every
//! `notification_email`. Sent in the background; a failure is logged,
//! never fatal.

use std::sync::Arc;

use holdfast_core::alert::Mail;
use holdfast_core::config::model::GlobalDefs;
use lettre::message::Mailbox;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;
use tracing::warn;

/// Sends `mail` in the background, if mail is configured.
pub fn send(
    g: &GlobalDefs,
    mail: Mail,
    slots: Arc<Semaphore>,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let (Some(server), Some(from)) = (&g.smtp_server, &g.notification_email_from) else {
        return;
    };
    if g.notification_email.is_empty() {
        return;
    }
    let Mail { subject, body } = mail;
    // keepalived ends the body with a line break.
    let body = format!("{body}\r\n");
    let (host, port, timeout) = (server.host.clone(), server.port, g.smtp_connect_timeout);
    let from = from.clone();
    let to = g.notification_email.clone();
    let helo = g.smtp_helo_name.clone();
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
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(port)
            .timeout(Some(timeout));
        // The greeting names `smtp_helo_name`, which defaults to the host
        // name (GlobalDefs::fill_host_defaults), as in keepalived.
        if let Some(name) = helo {
            transport = transport.hello_name(ClientId::Domain(name));
        }
        let mailer = transport.build();
        if let Err(e) = mailer.send(message).await {
            warn!("alert mail through {host}:{port}: {e}");
        }
    });
}
