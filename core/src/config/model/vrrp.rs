//! `vrrp_script`, `vrrp_sync_group` and `vrrp_instance`.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Family, GarpTiming, Script};

/// `vrrp_script NAME { ... }`: a periodic check whose result tracks instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpScript {
    /// Its name, used by `track_script`.
    pub name: String,
    /// What to run.
    pub script: Script,
    /// How often to run it.
    #[serde(with = "super::secs")]
    pub interval: Duration,
    /// How long a run may take before it counts as failed (default: interval).
    #[serde(with = "super::secs")]
    pub timeout: Duration,
    /// Default weight for instances that track it (-253..=253; 0 = Fault on failure).
    pub weight: i32,
    /// Weight applies on success instead of failure.
    pub reverse: bool,
    /// Successes in a row to become OK.
    pub rise: u32,
    /// Failures in a row to become failed.
    pub fall: u32,
    /// Start in the failed state.
    pub init_fail: bool,
}

/// The scripts run on state changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Notify {
    /// `notify`: called for every state with `TYPE NAME STATE PRIORITY`.
    pub any: Option<Script>,
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
}

/// `vrrp_sync_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroup {
    /// Its name.
    pub name: String,
    /// Member instances, by name.
    pub members: Vec<String>,
    /// Scripts run on the group's state changes.
    pub notify: Notify,
    /// Send mail on the group's state changes.
    pub smtp_alert: bool,
    /// Interfaces tracked by every member.
    pub track_interfaces: Vec<TrackInterface>,
    /// Scripts tracked by every member.
    pub track_scripts: Vec<TrackScript>,
    /// Let weighted trackers of members change priority instead of being treated as unweighted.
    pub sync_group_tracking_weight: bool,
}

/// The state an instance wishes to start in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    /// `state BACKUP` (the default).
    #[default]
    Backup,
    /// `state MASTER`: still waits as backup unless priority is 255, as keepalived.
    Master,
}

/// VRRPv2 authentication type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthType {
    /// Simple text password (RFC 2338 type 1).
    Pass,
    /// IPsec AH (type 2).
    Ah,
}

/// `authentication { auth_type ...; auth_pass ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// PASS or AH.
    pub auth_type: AuthType,
    /// The password as sent (at most 8 bytes, as keepalived truncates it).
    pub password: String,
}

/// Address scope of a VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `global` (0).
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
}

impl Scope {
    /// Its name in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Site => "site",
            Scope::Link => "link",
            Scope::Host => "host",
            Scope::Nowhere => "nowhere",
        }
    }

    /// Parses a name.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "global" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            _ => return None,
        })
    }
}

/// One virtual address: `IP[/PREFIX] [brd IP] [dev IF] [scope S] [label L] [no_track]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualIp {
    /// The address.
    pub address: IpAddr,
    /// Prefix length (32 or 128 when not given, as keepalived installs it).
    pub prefix_len: u8,
    /// Broadcast address.
    pub broadcast: Option<IpAddr>,
    /// Interface to put it on (default: the instance's interface).
    pub dev: Option<String>,
    /// Address scope.
    pub scope: Option<Scope>,
    /// Interface label (`eth0:1`).
    pub label: Option<String>,
    /// Do not go to Fault if the address's interface goes down.
    pub no_track: bool,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    /// Peer address.
    pub address: IpAddr,
    /// Lowest TTL accepted from it.
    pub min_ttl: Option<u8>,
    /// Highest TTL accepted from it.
    pub max_ttl: Option<u8>,
}

/// `track_interface` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInterface {
    /// Interface name.
    pub name: String,
    /// Priority change while down (0: Fault while down).
    pub weight: i32,
    /// Apply the weight while up instead.
    pub reverse: bool,
}

/// `track_script` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackScript {
    /// The `vrrp_script` name.
    pub name: String,
    /// Weight (from the entry, else from the script; 0: Fault while failed).
    pub weight: i32,
    /// Reverse the weight's sense.
    pub reverse: bool,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// Its name.
    pub name: String,
    /// `state`.
    pub initial_state: InitialState,
    /// Interface adverts are sent on (may be absent with unicast peers).
    pub interface: Option<String>,
    /// Address family of the instance (from its addresses).
    pub family: Family,
    /// VRID, 1..=255.
    pub virtual_router_id: u8,
    /// Configured priority, 1..=255.
    pub priority: u8,
    /// Advertisement interval (whole seconds for v2, centiseconds for v3).
    #[serde(with = "super::secs")]
    pub advert_int: Duration,
    /// VRRP version, 2 or 3.
    pub version: u8,
    /// v2 authentication.
    pub authentication: Option<Authentication>,
    /// Addresses carried in adverts.
    pub virtual_ipaddress: Vec<VirtualIp>,
    /// Addresses managed but not advertised.
    pub virtual_ipaddress_excluded: Vec<VirtualIp>,
    /// Do not take over from a lower-priority master.
    pub nopreempt: bool,
    /// Wait this long before preempting after start-up.
    #[serde(with = "super::secs")]
    pub preempt_delay: Duration,
    /// Source address of multicast adverts.
    pub mcast_src_ip: Option<IpAddr>,
    /// Source address of unicast adverts.
    pub unicast_src_ip: Option<IpAddr>,
    /// Unicast peers (empty: multicast).
    pub unicast_peers: Vec<UnicastPeer>,
    /// Tracked interfaces.
    pub track_interfaces: Vec<TrackInterface>,
    /// Tracked scripts.
    pub track_scripts: Vec<TrackScript>,
    /// Ignore the state of the instance's own interface.
    pub dont_track_primary: bool,
    /// Notify scripts.
    pub notify: Notify,
    /// Send mail on state changes.
    pub smtp_alert: bool,
    /// Gratuitous ARP / NA timing.
    pub garp: GarpTiming,
    /// Use a VMAC interface with this name.
    pub use_vmac: Option<String>,
    /// Accept packets to the VIPs when not the address owner (v3 Accept_Mode).
    pub accept: bool,
    /// Adverts in the master-down interval.
    pub down_timer_adverts: u32,
}

impl VrrpInstance {
    /// Its virtual addresses, excluded ones included.
    pub fn vips(&self) -> impl Iterator<Item = &VirtualIp> {
        self.virtual_ipaddress
            .iter()
            .chain(&self.virtual_ipaddress_excluded)
    }

    /// The device an address goes on: its own `dev`, else the instance's
    /// interface (keepalived's rule; core and the daemon's start-up cleanup
    /// both use it).
    pub fn vip_dev(&self, v: &VirtualIp) -> String {
        v.dev
            .clone()
            .or_else(|| self.interface.clone())
            .unwrap_or_default()
    }
}
