//! A desired LVS table: services, each with its destinations.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::config::model::{Family, ForwardingMethod, Protocol, Scheduler, SchedulerFlags};

/// An IPVS service, as the kernel keys it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ServiceKey {
    /// Address, port and protocol.
    Addr {
        /// Virtual address.
        address: IpAddr,
        /// Virtual port (0: all ports).
        port: u16,
        /// Transport protocol.
        protocol: ProtocolKey,
    },
    /// Firewall mark and family.
    Fwmark {
        /// The mark.
        mark: u32,
        /// IPv4 or IPv6.
        family: Family,
    },
}

/// [`Protocol`] with an order, for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ProtocolKey {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl From<Protocol> for ProtocolKey {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => ProtocolKey::Tcp,
            Protocol::Udp => ProtocolKey::Udp,
            Protocol::Sctp => ProtocolKey::Sctp,
        }
    }
}

/// A service's settings that can change in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceParams {
    /// Scheduler.
    pub scheduler: Scheduler,
    /// Scheduler flags.
    pub flags: SchedulerFlags,
    /// Persistence timeout, seconds.
    pub persistence_timeout: Option<u32>,
    /// Persistence netmask as a prefix length.
    pub persistence_granularity: Option<u8>,
}

/// A destination (real server) of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DestKey {
    /// Address.
    pub address: IpAddr,
    /// Port.
    pub port: u16,
}

/// A destination's settings that can change in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestParams {
    /// Weight (0: no new connections, kept for persistence; inhibit_on_failure).
    pub weight: u32,
    /// Forwarding method.
    pub method: ForwardingMethod,
    /// Upper connection threshold (0: none).
    pub uthreshold: u32,
    /// Lower connection threshold.
    pub lthreshold: u32,
}

/// One service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Its settings.
    pub params: ServiceParams,
    /// Its destinations.
    pub dests: BTreeMap<DestKey, DestParams>,
}

/// The whole table, ordered so that every walk over it is deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Table {
    /// Services by key.
    pub services: BTreeMap<ServiceKey, Service>,
}
