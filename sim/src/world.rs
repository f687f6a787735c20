//! The simulated world's state: the network, the directors as the outside
//! sees them (states from their events, addresses from their outputs, the
//! kernel table their operations built), the real servers and the clients.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use holdfast_core::config::model::{Config, Family};
use holdfast_core::lvs::Table;
use holdfast_core::node::{Input, Interface};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;
use holdfast_core::Node;

use crate::bounds;
use crate::scenario::Behaviour;
use crate::topology::Topology;

/// What the invariants need to know of an instance.
#[derive(Debug, Clone)]
pub struct InstInfo {
    /// Name.
    pub name: String,
    /// Segment of its interface.
    pub segment: Option<usize>,
    /// Family.
    pub family: Family,
    /// VRID.
    pub vrid: u8,
    /// Its addresses.
    pub vips: Vec<IpAddr>,
    /// The longest Master_Down_Interval it can have (lowest priority).
    pub master_down: Duration,
    /// Sync group index.
    pub group: Option<usize>,
}

impl InstInfo {
    /// The instances of a configuration, on the director's segments.
    pub fn of(config: &Config, segment_of: impl Fn(&str) -> Option<usize>) -> Vec<InstInfo> {
        config
            .instances
            .iter()
            .map(|i| InstInfo {
                name: i.name.clone(),
                // Without an interface (unicast), the LAN of its
                // addresses' device.
                segment: i
                    .interface
                    .as_deref()
                    .or_else(|| i.vips().find_map(|v| v.dev.as_deref()))
                    .and_then(&segment_of),
                family: i.family,
                vrid: i.virtual_router_id,
                vips: i
                    .virtual_ipaddress
                    .iter()
                    .chain(&i.virtual_ipaddress_excluded)
                    .map(|v| v.address)
                    .collect(),
                master_down: bounds::master_down_worst(i),
                group: config
                    .sync_groups
                    .iter()
                    .position(|g| g.members.contains(&i.name)),
            })
            .collect()
    }
}

/// A simulated director.
pub struct Director {
    /// Host name.
    pub name: String,
    /// Host index.
    pub host: usize,
    /// Current configuration file.
    pub config_path: PathBuf,
    /// It as the scenario names it (what traces record).
    pub config_shown: String,
    /// A reload that arrived during a pause, applied when it ends.
    pub pending_reload: Option<PathBuf>,
    /// A SIGSTATS_CLEAR that waits for a paused process.
    pub pending_clear: bool,
    /// A stop that arrived during a pause, carried out when it ends.
    pub pending_stop: bool,
    /// The seed its running node was built with.
    pub seed: u64,
    /// Each vrrp_script's current result (absent: it passes).
    pub scripts: BTreeMap<String, bool>,
    /// Config id.
    pub config_id: String,
    /// Current configuration.
    pub config: Config,
    /// Interfaces as the driver listed them at start (link flags kept
    /// current; addresses as they were when the process started).
    pub interfaces: Vec<Interface>,
    /// Each interface's IPv4 addresses now, the primary first (what the
    /// next start lists); absent: as configured.
    pub ipv4: BTreeMap<String, Vec<std::net::IpAddr>>,
    /// The running node; `None` while crashed.
    pub node: Option<Node>,
    /// Incremented at each boot: results meant for an earlier life are dropped.
    pub life: u32,
    /// Paused until then.
    pub paused_until: Option<Instant>,
    /// Inputs that arrived during a pause, in order.
    pub buffered: Vec<Input>,
    /// The wake-up asked for, and its generation (older ones are stale).
    pub wake: Option<Instant>,
    /// Generation of `wake`.
    pub gen: u64,
    /// Virtual addresses on its interfaces.
    pub vips: BTreeSet<IpAddr>,
    /// Each instance's state, from its events.
    pub states: Vec<State>,
    /// Instance facts.
    pub info: Vec<InstInfo>,
    /// The kernel's LVS table, built by applying the node's operations.
    pub table: Table,
    /// When it last booted or reloaded.
    pub since: Instant,
}

impl Director {
    /// Running and not paused.
    pub fn active(&self) -> bool {
        self.node.is_some() && self.paused_until.is_none()
    }
}

/// A simulated real server.
#[derive(Debug, Clone)]
pub struct Server {
    /// Host index.
    pub host: usize,
    /// Behaviour on every port without its own.
    pub behaviour: Behaviour,
    /// Per-port behaviours.
    pub ports: BTreeMap<u16, Behaviour>,
}

impl Server {
    /// How it answers on `port`.
    pub fn on(&self, port: u16) -> &Behaviour {
        self.ports.get(&port).unwrap_or(&self.behaviour)
    }
}

/// A client and its ARP cache (address → director index).
#[derive(Debug, Clone)]
pub struct Client {
    /// Host index.
    pub host: usize,
    /// Its segment.
    pub segment: usize,
    /// Who it sends each virtual address to.
    pub arp: BTreeMap<IpAddr, usize>,
}

/// Everything the invariants look at.
pub struct World {
    /// Virtual time.
    pub now: Instant,
    /// The network.
    pub topo: Topology,
    /// Directors.
    pub directors: Vec<Director>,
    /// Real servers by address.
    pub servers: BTreeMap<IpAddr, Server>,
    /// Clients.
    pub clients: Vec<Client>,
    /// (segment, IPv6, VRID, from director, to director): when an advert
    /// last reached that director intact (neither lost nor with a bit
    /// flipped), for `single_master`.
    pub heard: BTreeMap<(usize, bool, u8, usize, usize), Instant>,
    /// The same key: when an advert last left for that director and was
    /// lost or had a bit flipped on the way.
    pub hidden: BTreeMap<(usize, bool, u8, usize, usize), Instant>,
}

impl World {
    /// Round trip between a director and a server (twice the one-way delay
    /// plus jitter of the server's segment).
    pub fn rtt(&self, server: usize) -> Duration {
        let seg = self.topo.attachments(server).next().map(|(s, _)| s);
        let net = seg.map(|s| self.topo.segments[s].net).unwrap_or_default();
        Duration::from_secs_f64((net.delay_ms + net.jitter_ms) * 2.0 / 1e3)
    }

    /// Whether director `d` has a VRRP socket on `interface` for the
    /// family, as the daemon opens them: one per (interface, family) its
    /// instances use, "" for the one bound to no interface.
    pub fn has_socket(&self, d: usize, interface: &str, v6: bool) -> bool {
        self.directors[d].config.instances.iter().any(|i| {
            i.interface.as_deref().unwrap_or("") == interface
                && (i.family == holdfast_core::config::model::Family::Ipv6) == v6
        })
    }

    /// Whether director `d` can hold a TCP conversation with server host
    /// `server`: both links up and both ways open on the server's segment;
    /// a server on no segment is routed and always reachable.
    pub fn server_reachable(&self, d: usize, server: usize) -> bool {
        let host = self.directors[d].host;
        let any_link = || self.topo.attachments(host).any(|(_, a)| self.topo.up(a));
        match self.topo.attachments(server).next() {
            // Routed: over any of the director's links.
            None => any_link(),
            Some((seg, e)) => match self.topo.on_segment(host, seg) {
                Some(_) => self.topo.connected(seg, host, server),
                // Routed from another of the director's LANs.
                None => {
                    self.topo.up(e) && self.topo.attachments(host).any(|(_, a)| self.topo.up(a))
                }
            },
        }
    }
}
