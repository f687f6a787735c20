//! `virtual_server_group`, `virtual_server` and `real_server`.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Checker, Family, Script};

/// How a virtual server is addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VsKey {
    /// `virtual_server IP [PORT]` (port 0: all ports).
    Addr {
        /// Virtual address.
        address: IpAddr,
        /// Virtual port.
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// Firewall mark.
        mark: u32,
    },
    /// `virtual_server group NAME`.
    Group {
        /// `virtual_server_group` name.
        name: String,
    },
}

/// IPVS scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Sh,
    Mh,
    Dh,
    Fo,
    Ovf,
    Lblcr,
    Sed,
    Nq,
    Twos,
}

impl Scheduler {
    /// Every scheduler with its name.
    pub const ALL: [(Scheduler, &'static str); 14] = [
        (Scheduler::Rr, "rr"),
        (Scheduler::Wrr, "wrr"),
        (Scheduler::Lc, "lc"),
        (Scheduler::Wlc, "wlc"),
        (Scheduler::Lblc, "lblc"),
        (Scheduler::Sh, "sh"),
        (Scheduler::Mh, "mh"),
        (Scheduler::Dh, "dh"),
        (Scheduler::Fo, "fo"),
        (Scheduler::Ovf, "ovf"),
        (Scheduler::Lblcr, "lblcr"),
        (Scheduler::Sed, "sed"),
        (Scheduler::Nq, "nq"),
        (Scheduler::Twos, "twos"),
    ];

    /// Its name in configuration and in IPVS.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("wlc", |(_, n)| n)
    }

    /// Parses a name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(s, _)| *s)
    }
}

/// Scheduler flags (`-b` of ipvsadm) and one-packet scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[allow(missing_docs)]
pub struct SchedulerFlags {
    pub flag_1: bool,
    pub flag_2: bool,
    pub flag_3: bool,
    pub sh_port: bool,
    pub sh_fallback: bool,
    pub mh_port: bool,
    pub mh_fallback: bool,
    pub ops: bool,
}

impl SchedulerFlags {
    /// The flags by keyword, for the parser and the printer.
    pub fn named(&mut self) -> [(&'static str, &mut bool); 8] {
        [
            ("flag-1", &mut self.flag_1),
            ("flag-2", &mut self.flag_2),
            ("flag-3", &mut self.flag_3),
            ("sh-port", &mut self.sh_port),
            ("sh-fallback", &mut self.sh_fallback),
            ("mh-port", &mut self.mh_port),
            ("mh-fallback", &mut self.mh_fallback),
            ("ops", &mut self.ops),
        ]
    }
}

/// Tunnel encapsulation for `TUN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelType {
    /// IP in IP (default).
    Ipip,
    /// Generic UDP encapsulation on a port.
    Gue {
        /// UDP port.
        port: u16,
    },
    /// GRE.
    Gre,
}

/// Tunnel checksum option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum TunnelChecksum {
    Nocsum,
    Csum,
    Remcsum,
}

/// LVS forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ForwardingMethod {
    /// Masquerading.
    Nat,
    /// Direct routing.
    Dr,
    /// Tunnelling.
    Tun {
        /// Encapsulation.
        tunnel: TunnelType,
        /// Checksum option.
        checksum: Option<TunnelChecksum>,
    },
}

/// Transport protocol of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP (default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// Its name in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// `sorry_server IP [PORT]` and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    /// Address.
    pub address: IpAddr,
    /// Port (default: the service's port).
    pub port: Option<u16>,
    /// Forwarding method (default: the virtual server's).
    pub method: ForwardingMethod,
    /// `sorry_server_inhibit`: keep it at weight 0 instead of removing it.
    pub inhibit: bool,
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServer {
    /// Address and port, fwmark or group.
    pub key: VsKey,
    /// Transport protocol.
    pub protocol: Protocol,
    /// `lvs_sched` / `lb_algo`.
    pub scheduler: Scheduler,
    /// Scheduler flags.
    pub scheduler_flags: SchedulerFlags,
    /// `lvs_method` / `lb_kind`.
    pub method: ForwardingMethod,
    /// Persistence timeout in seconds (`None`: no persistence).
    pub persistence_timeout: Option<u32>,
    /// Persistence granularity as a prefix length.
    pub persistence_granularity: Option<u8>,
    /// Address family for fwmark services.
    pub ip_family: Option<Family>,
    /// Default interval between checks.
    #[serde(with = "super::secs")]
    pub delay_loop: Duration,
    /// Server used when the quorum is lost.
    pub sorry_server: Option<SorryServer>,
    /// Minimum total weight of live servers.
    pub quorum: u32,
    /// Flap damping around the quorum.
    pub hysteresis: u32,
    /// Script run when the quorum is gained.
    pub quorum_up: Option<Script>,
    /// Script run when the quorum is lost.
    pub quorum_down: Option<Script>,
    /// Start every real server as failed.
    pub alpha: bool,
    /// Run down notifiers on shutdown.
    pub omega: bool,
    /// Suspend checkers while the VIP is not configured here.
    pub ha_suspend: bool,
    /// Default Host header for HTTP checkers.
    pub virtualhost: Option<String>,
    /// Send mail on quorum changes.
    pub smtp_alert: bool,
    /// Real servers, in file order.
    pub real_servers: Vec<RealServer>,
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address.
    pub address: IpAddr,
    /// Port (`None` only in fwmark services, where it is not needed).
    pub port: Option<u16>,
    /// Weight, 0..=65535.
    pub weight: u32,
    /// Forwarding method (default: the virtual server's).
    pub method: ForwardingMethod,
    /// On failure set weight 0 instead of removing it.
    pub inhibit_on_failure: bool,
    /// Script run when it comes up (boxed: rare, and a pool may hold
    /// thousands of real servers).
    pub notify_up: Option<Box<Script>>,
    /// Script run when it goes down.
    pub notify_down: Option<Box<Script>>,
    /// Upper connection threshold.
    pub uthreshold: Option<u32>,
    /// Lower connection threshold.
    pub lthreshold: Option<u32>,
    /// Send mail on state changes.
    pub smtp_alert: bool,
    /// Default Host header for its HTTP checkers.
    pub virtualhost: Option<String>,
    /// Checkers, all of which must pass for it to be up.
    pub checkers: Vec<Checker>,
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServerGroup {
    /// Its name.
    pub name: String,
    /// Address ranges and fwmarks.
    pub entries: Vec<VsgEntry>,
}

/// One entry of a virtual server group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VsgEntry {
    /// `IP[-LAST] [PORT]`: addresses `first..=last`.
    Range {
        /// First address.
        first: IpAddr,
        /// Last address (equal to `first` for a single address).
        last: IpAddr,
        /// Port (0: all).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// Firewall mark.
        mark: u32,
        /// Family, if given.
        family: Option<Family>,
    },
}
