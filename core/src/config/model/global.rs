//! `global_defs`.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Daemon-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// This director's name in notifications (`router_id`, or the legacy `lvs_id`).
    pub router_id: Option<String>,
    /// Recipients of alert mail.
    pub notification_email: Vec<String>,
    /// Sender of alert mail.
    pub notification_email_from: Option<String>,
    /// Mail relay.
    pub smtp_server: Option<SmtpServer>,
    /// Name sent in HELO to the relay.
    pub smtp_helo_name: Option<String>,
    /// How long to wait for the relay.
    #[serde(with = "super::secs")]
    pub smtp_connect_timeout: Duration,
    /// Default for every `smtp_alert` (unset: VRRP off, checkers on, as keepalived).
    pub smtp_alert: Option<bool>,
    /// Default for VRRP instances' and sync groups' `smtp_alert`.
    pub smtp_alert_vrrp: Option<bool>,
    /// Default for real servers' and virtual servers' `smtp_alert`.
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`: no alert mail for entering FAULT.
    pub no_email_faults: bool,
    /// `no_checker_emails`: a checker's mail only when its real server's
    /// state changes with it.
    pub no_checker_emails: bool,
    /// Default VRRP version of instances (2 or 3).
    pub vrrp_version: u8,
    /// IPv4 multicast group for adverts.
    pub vrrp_mcast_group4: Ipv4Addr,
    /// IPv6 multicast group for adverts.
    pub vrrp_mcast_group6: Ipv6Addr,
    /// Default gratuitous ARP / NA timing of instances.
    pub garp: GarpTiming,
    /// Pause between gratuitous ARPs of one burst.
    #[serde(with = "super::secs")]
    pub vrrp_garp_interval: Duration,
    /// Pause between unsolicited NAs of one burst.
    #[serde(with = "super::secs")]
    pub vrrp_gna_interval: Duration,
    /// Default number of adverts in the master-down interval (RFC: 3).
    pub vrrp_down_timer_adverts: u32,
    /// Default user (and group) for scripts.
    pub script_user: Option<ScriptUser>,
    /// Refuse scripts that a non-root user could change.
    pub enable_script_security: bool,
    /// Strict RFC mode.
    pub vrrp_strict: bool,
    /// VRRPv3 over IPv4: checksum without the pseudo-header (RFC 9568 style).
    pub v3_checksum_as_v2: bool,
}

impl GlobalDefs {
    /// keepalived's defaults that come from the machine, which core cannot
    /// read: `router_id` and `smtp_helo_name` are the host name, and the
    /// alert sender is `USER@HOST` for the user keepalived runs as. The
    /// daemon passes its host and user; the simulator the director's name
    /// and `root`.
    pub fn fill_host_defaults(&mut self, host: &str, user: &str) {
        if host.is_empty() {
            return;
        }
        if self.router_id.is_none() {
            self.router_id = Some(host.to_string());
        }
        if self.smtp_helo_name.is_none() {
            self.smtp_helo_name = Some(host.to_string());
        }
        if self.notification_email_from.is_none() && !user.is_empty() {
            self.notification_email_from = Some(format!("{user}@{host}"));
        }
    }
}

impl Default for GlobalDefs {
    fn default() -> Self {
        Self {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            no_email_faults: false,
            no_checker_emails: false,
            vrrp_version: 2,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            garp: GarpTiming::default(),
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_down_timer_adverts: 3,
            script_user: None,
            enable_script_security: false,
            vrrp_strict: false,
            v3_checksum_as_v2: false,
        }
    }
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    /// Address or host name.
    pub host: String,
    /// TCP port (default 25).
    pub port: u16,
}

/// `script_user USER [GROUP]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptUser {
    /// User name.
    pub user: String,
    /// Group name (default: the user's group).
    pub group: Option<String>,
}

/// When gratuitous ARPs / unsolicited NAs are sent after a transition to master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarpTiming {
    /// Delay of the second burst after becoming master (keepalived: 5 s; 0 = none).
    #[serde(with = "super::secs")]
    pub master_delay: Duration,
    /// Messages per burst at becoming master.
    pub master_repeat: u32,
    /// Periodic refresh while master (`None` = off).
    #[serde(with = "super::secs::option")]
    pub master_refresh: Option<Duration>,
    /// Messages per refresh.
    pub master_refresh_repeat: u32,
    /// Delay of the burst after a lower-priority advert is heard.
    #[serde(with = "super::secs")]
    pub lower_prio_delay: Duration,
    /// Messages per burst after a lower-priority advert.
    pub lower_prio_repeat: u32,
}

impl Default for GarpTiming {
    fn default() -> Self {
        Self {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// The top-level `SSL` block: what SSL_GET checkers present and trust.
/// Without `ca` the server's certificate is not verified (keepalived's
/// default); with it, the chain must lead to that CA and name the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslSettings {
    /// PEM file of trusted CA certificates.
    pub ca: Option<String>,
    /// PEM client certificate (chain) to present.
    pub certificate: Option<String>,
    /// PEM private key of `certificate`.
    pub key: Option<String>,
    /// Password of an encrypted `key`.
    pub password: Option<String>,
}
