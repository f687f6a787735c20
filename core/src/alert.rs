//! keepalived's alert mail (`smtp_alert`), decided and worded here so that
//! the daemon only sends what core hands it and the simulator records the
//! same: subjects and bodies as keepalived 2.2.7 writes them (its
//! `core/smtp.c`, `vrrp/vrrp_notify.c` and the checkers in `check/`).

use std::net::IpAddr;

use serde::Serialize;

use crate::config::model::{CheckerKind, GlobalDefs, Protocol, RealServer, VirtualServer, VsKey};
use crate::vrrp::instance::State;

/// One alert, ready to send to every `notification_email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mail {
    /// The subject, `[router_id] ...`.
    pub subject: String,
    /// The one-line body.
    pub body: String,
}

/// One checker's change, as its alert needs it.
#[derive(Debug, Clone, Copy)]
pub struct CheckerChange<'a> {
    /// The checker's kind, which words the body.
    pub kind: &'a CheckerKind,
    /// The checker passes now.
    pub up: bool,
    /// Its real server is up now (every checker passes).
    pub server_up: bool,
    /// The real server's state changed with this checker.
    pub server_changed: bool,
    /// A MISC_CHECK script was stopped at its timeout.
    pub timed_out: bool,
}

/// When and how a director writes alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Mail goes out at all: keepalived sends none without an `smtp_server`
    /// and at least one `notification_email`.
    enabled: bool,
    /// The `[router_id]` of every subject.
    router_id: String,
    /// `no_email_faults`: no mail for entering FAULT.
    no_email_faults: bool,
    /// `no_checker_emails`: checker mail only when the real server's own
    /// state changes, not for each checker.
    no_checker_emails: bool,
}

impl Policy {
    /// The policy of `global`. keepalived's `router_id` defaults to the host
    /// name, which core cannot read: the driver fills it in first.
    pub fn new(global: &GlobalDefs) -> Policy {
        Policy {
            enabled: global.smtp_server.is_some() && !global.notification_email.is_empty(),
            router_id: global.router_id.clone().unwrap_or_default(),
            no_email_faults: global.no_email_faults,
            no_checker_emails: global.no_checker_emails,
        }
    }

    fn mail(&self, subject: String, body: &str) -> Mail {
        Mail {
            subject: format!("[{}] {subject}", self.router_id),
            body: body.to_string(),
        }
    }

    /// The alert for a VRRP instance (`group` false) or sync group entering
    /// `to`, when `smtp_alert` is on for it.
    pub fn vrrp(&self, smtp_alert: bool, group: bool, name: &str, to: State) -> Option<Mail> {
        if !self.enabled || !smtp_alert || (self.no_email_faults && to == State::Fault) {
            return None;
        }
        // keepalived's words: "Entering WORD state" but "Stopping".
        let word = match to {
            State::Master => "MASTER",
            State::Backup => "BACKUP",
            State::Fault => "FAULT",
            State::Initialize => "",
        };
        let what = match to {
            State::Initialize => "Stopping".to_string(),
            _ => format!("Entering {word} state"),
        };
        let body = match (group, to) {
            (true, State::Initialize) => "=> All VRRP group instances are now stopping <=".into(),
            (true, _) => format!("=> All VRRP group instances are now in {word} state <="),
            (false, State::Master) => "=> VRRP Instance is now owning VRRP VIPs <=".into(),
            (false, State::Initialize) => "=> VRRP Instance stopping <=".into(),
            (false, _) => "=> VRRP Instance is no longer owning VRRP VIPs <=".into(),
        };
        let kind = if group { "VRRP Group" } else { "VRRP Instance" };
        Some(self.mail(format!("{kind} {name} - {what}"), &body))
    }

    /// The alert for one checker of `rs` coming up or going down. The body
    /// says what the checker saw; the subject's UP or DOWN is the real
    /// server's state after it, as keepalived writes `rs->alive`.
    pub fn checker(&self, vs: &VirtualServer, rs: &RealServer, c: CheckerChange) -> Option<Mail> {
        if !self.enabled || !rs.smtp_alert || (self.no_checker_emails && !c.server_changed) {
            return None;
        }
        let body = match (c.kind, c.up) {
            (CheckerKind::TcpCheck, true) => "=> TCP CHECK succeed on service <=",
            (CheckerKind::TcpCheck, false) => "=> TCP CHECK failed on service <=",
            (CheckerKind::MiscCheck(_), true) => "=> MISC CHECK succeeded on service <=",
            (CheckerKind::MiscCheck(_), false) if c.timed_out => {
                "=> MISC CHECK timed out on service <="
            }
            (CheckerKind::MiscCheck(_), false) => "=> MISC CHECK failed on service <=",
            (_, true) => "=> CHECK succeed on service <=",
            (_, false) => "=> CHECK failed on service : HTTP request failed <=",
        };
        let state = if c.server_up { "UP" } else { "DOWN" };
        let subject = format!(
            "Realserver {} of virtual server {} - {state}",
            trio(rs.address, service_type(vs), rs.port.unwrap_or(0)),
            virtual_server(vs)
        );
        Some(self.mail(subject, body))
    }

    /// The alert for a virtual server gaining (`up`) or losing its quorum,
    /// with `sum` the live weight. keepalived writes the threshold it
    /// compared with: quorum + hysteresis to gain, quorum - hysteresis to
    /// lose, after a `+` either way.
    pub fn quorum(&self, vs: &VirtualServer, up: bool, sum: u64) -> Option<Mail> {
        if !self.enabled || !vs.smtp_alert {
            return None;
        }
        let (q, h) = (i64::from(vs.quorum), i64::from(vs.hysteresis));
        let threshold = if up { q + h } else { q - h };
        let what = if up { "Gained quorum" } else { "Lost quorum" };
        let body = format!(
            "=> {what} {}+{}={threshold} <= {sum} <=",
            vs.quorum, vs.hysteresis
        );
        let state = if up { "UP" } else { "DOWN" };
        Some(self.mail(
            format!("Virtualserver {} - {state}", virtual_server(vs)),
            &body,
        ))
    }
}

/// keepalived's service type of a virtual server: none for a fwmark
/// service (its `service_type` stays 0).
fn service_type(vs: &VirtualServer) -> Option<Protocol> {
    match vs.key {
        VsKey::Fwmark { .. } => None,
        _ => Some(vs.protocol),
    }
}

/// keepalived's `[address]:protocol:port`.
fn trio(address: IpAddr, protocol: Option<Protocol>, port: u16) -> String {
    let proto = match protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "none",
    };
    format!("[{address}]:{proto}:{port}")
}

/// keepalived's name of a virtual server in mail: `[group]:port` for a
/// group, `FWM n` for a fwmark, else the address trio.
fn virtual_server(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { address, port } => trio(*address, service_type(vs), *port),
        VsKey::Fwmark { mark } => format!("FWM {mark}"),
        VsKey::Group { name } => format!("[{name}]:0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::SmtpServer;

    fn global(router_id: &str) -> GlobalDefs {
        GlobalDefs {
            router_id: Some(router_id.to_string()),
            notification_email: vec!["ops@example.com".into()],
            smtp_server: Some(SmtpServer {
                host: "192.168.200.20".into(),
                port: 25,
            }),
            ..GlobalDefs::default()
        }
    }

    fn case_study() -> crate::config::Config {
        let text = include_str!("../../scenarios/case-study/director1.conf");
        let loaded = crate::config::parse_str(
            "director1.conf",
            text,
            &crate::config::MemLoader::new(),
            &crate::config::LoadOptions::default(),
        );
        loaded.config.expect("the case study reads")
    }

    #[test]
    fn vrrp_alerts_are_worded_as_keepalived_words_them() {
        let p = Policy::new(&global("LVS_MAIN"));
        let m = p.vrrp(true, false, "VI_1", State::Master).unwrap();
        assert_eq!(
            m.subject,
            "[LVS_MAIN] VRRP Instance VI_1 - Entering MASTER state"
        );
        assert_eq!(m.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        let m = p.vrrp(true, true, "VG1", State::Backup).unwrap();
        assert_eq!(
            m.subject,
            "[LVS_MAIN] VRRP Group VG1 - Entering BACKUP state"
        );
        assert_eq!(
            m.body,
            "=> All VRRP group instances are now in BACKUP state <="
        );
        let m = p.vrrp(true, false, "VI_1", State::Initialize).unwrap();
        assert_eq!(m.subject, "[LVS_MAIN] VRRP Instance VI_1 - Stopping");
        assert!(p.vrrp(false, false, "VI_1", State::Master).is_none());
    }

    #[test]
    fn no_mail_without_a_server_and_a_recipient_and_no_fault_mail_when_asked() {
        let mut g = global("R");
        g.notification_email.clear();
        assert!(Policy::new(&g)
            .vrrp(true, false, "VI_1", State::Master)
            .is_none());
        let mut g = global("R");
        g.smtp_server = None;
        assert!(Policy::new(&g)
            .vrrp(true, false, "VI_1", State::Master)
            .is_none());
        let mut g = global("R");
        g.no_email_faults = true;
        let p = Policy::new(&g);
        assert!(p.vrrp(true, false, "VI_1", State::Fault).is_none());
        assert!(p.vrrp(true, false, "VI_1", State::Backup).is_some());
    }

    #[test]
    fn checker_and_quorum_alerts_name_the_servers_as_keepalived_does() {
        let cfg = case_study();
        let p = Policy::new(&global("LVS_MAIN"));
        let http = &cfg.virtual_servers[0];
        let rs = &http.real_servers[0];
        let change = |kind, up, server_changed| CheckerChange {
            kind,
            up,
            server_up: up,
            server_changed,
            timed_out: false,
        };
        let m = p
            .checker(http, rs, change(&rs.checkers[0].kind, false, true))
            .unwrap();
        assert_eq!(
            m.subject,
            "[LVS_MAIN] Realserver [192.168.100.2]:tcp:80 of virtual server [192.168.200.10]:tcp:80 - DOWN"
        );
        assert_eq!(
            m.body,
            "=> CHECK failed on service : HTTP request failed <="
        );
        let https = &cfg.virtual_servers[1];
        let rs = &https.real_servers[1];
        let m = p
            .checker(https, rs, change(&rs.checkers[0].kind, true, false))
            .unwrap();
        assert_eq!(
            m.subject,
            "[LVS_MAIN] Realserver [192.168.100.3]:tcp:443 of virtual server [192.168.200.12]:tcp:443 - UP"
        );
        assert_eq!(m.body, "=> TCP CHECK succeed on service <=");
        // no_checker_emails: only when the real server's own state changes.
        let mut g = global("LVS_MAIN");
        g.no_checker_emails = true;
        let quiet = Policy::new(&g);
        assert!(quiet
            .checker(https, rs, change(&rs.checkers[0].kind, true, false))
            .is_none());
        assert!(quiet
            .checker(https, rs, change(&rs.checkers[0].kind, true, true))
            .is_some());
        // A checker that passes again while another still fails: its own
        // news in the body, the server's DOWN in the subject.
        let m = p
            .checker(
                https,
                rs,
                CheckerChange {
                    server_up: false,
                    ..change(&rs.checkers[0].kind, true, false)
                },
            )
            .unwrap();
        assert!(m.subject.ends_with(" - DOWN"), "{}", m.subject);
        assert_eq!(m.body, "=> TCP CHECK succeed on service <=");
        // A virtual server's quorum alert is off unless asked for.
        assert!(p.quorum(http, false, 0).is_none());
        let mut alerting = http.clone();
        alerting.smtp_alert = true;
        let m = p.quorum(&alerting, false, 0).unwrap();
        assert_eq!(
            m.subject,
            "[LVS_MAIN] Virtualserver [192.168.200.10]:tcp:80 - DOWN"
        );
        assert_eq!(m.body, "=> Lost quorum 1+0=1 <= 0 <=");
    }
}
