//! A snapshot of a director for dumps and metrics: instances with their
//! counters, and real servers.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::check::schedule::Outcome;
use crate::vrrp::instance::State;
use crate::vrrp::stats::Stats;
use crate::vrrp::Reject;

/// A snapshot for dumps and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Each instance.
    pub instances: Vec<InstanceStatus>,
    /// Dropped adverts by reason, all instances together (and those for
    /// no instance: `wrong_vrid`).
    pub rejected: BTreeMap<Reject, u64>,
    /// Each real server.
    pub real_servers: Vec<RealServerStatus>,
}

/// One real server in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealServerStatus {
    /// Virtual server index.
    pub vs: usize,
    /// Address.
    pub address: IpAddr,
    /// Port.
    pub port: Option<u16>,
    /// All its checkers pass.
    pub up: bool,
    /// Current weight (configured, or set by a misc_dynamic check).
    pub weight: u32,
    /// The last probe outcome of each checker (a failure says why).
    pub last: Vec<Option<Outcome>>,
}

/// One instance in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    /// Name.
    pub name: String,
    /// State.
    pub state: State,
    /// Configured priority.
    pub priority: u8,
    /// Priority after trackers.
    pub effective_priority: u8,
    /// Its own trackers hold it down.
    pub faulted: bool,
    /// Adverts for it (its interface and VRID) dropped, by reason.
    pub rejected: BTreeMap<Reject, u64>,
    /// keepalived's counters (what SIGUSR2 writes).
    pub stats: Stats,
    /// Its addresses the kernel refused, being retried.
    pub vip_errors: Vec<super::VipError>,
}
