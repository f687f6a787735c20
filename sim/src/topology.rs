//! The simulated network: a petgraph graph whose nodes are hosts and L2
//! segments and whose edges are a host's interface attached to a segment.
//! Faults change edge weights (link up/down) and segment state (partitions,
//! one-way blocks, loss and delay); the shape never changes during a run.

use std::collections::BTreeSet;
use std::net::IpAddr;

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};

use crate::scenario::NetSpec;

/// A node of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A host, by index in [`Topology::hosts`].
    Host(usize),
    /// A segment, by index in [`Topology::segments`].
    Segment(usize),
}

/// An interface attached to a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Interface name.
    pub interface: String,
    /// Its IPv4 address.
    pub ipv4: Option<IpAddr>,
    /// Its link-local IPv6 address.
    pub ipv6: Option<IpAddr>,
    /// Link up?
    pub up: bool,
}

/// What a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A director, by index in the simulator's directors.
    Director(usize),
    /// A real (or sorry) server.
    Server,
    /// A client whose ARP cache is watched.
    Client,
    /// The `smtp_server` of a configuration.
    MailRelay,
}

/// A host.
#[derive(Debug, Clone)]
pub struct Host {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: HostKind,
    /// Its node in the graph.
    pub node: NodeIndex,
    /// Its address (servers, relays).
    pub address: Option<IpAddr>,
}

/// An L2 segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Name.
    pub name: String,
    /// Subnets on it (address, prefix length).
    pub subnets: Vec<(IpAddr, u8)>,
    /// Current conditions.
    pub net: NetSpec,
    /// Partition groups of host indices, if partitioned.
    pub groups: Option<Vec<BTreeSet<usize>>>,
    /// One-way blocks (from host, to host).
    pub blocked: BTreeSet<(usize, usize)>,
    /// Its node in the graph.
    pub node: NodeIndex,
    /// Hosts attached, with their edge (cached; the shape never changes).
    pub members: Vec<(usize, EdgeIndex)>,
}

/// The whole network.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Hosts and segments, joined by attachments.
    pub graph: UnGraph<Place, Attachment>,
    /// Hosts.
    pub hosts: Vec<Host>,
    /// Segments.
    pub segments: Vec<Segment>,
}

/// Whether `addr` is in `net/len`.
pub fn contains((net, len): (IpAddr, u8), addr: IpAddr) -> bool {
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Parses `a.b.c.d/len` (or an IPv6 prefix).
pub fn parse_subnet(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.split_once('/')?;
    let addr: IpAddr = a.parse().ok()?;
    let len: u8 = l.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// The /24 (IPv4) or /64 (IPv6) around an address: how inference groups
/// addresses into LANs.
pub fn lan_of(addr: IpAddr) -> (IpAddr, u8) {
    match addr {
        IpAddr::V4(a) => (IpAddr::V4((u32::from(a) & 0xffff_ff00).into()), 24),
        IpAddr::V6(a) => (
            IpAddr::V6((u128::from(a) & !((1u128 << 64) - 1)).into()),
            64,
        ),
    }
}

impl Topology {
    /// Adds a host.
    pub fn add_host(&mut self, name: String, kind: HostKind, address: Option<IpAddr>) -> usize {
        let i = self.hosts.len();
        let node = self.graph.add_node(Place::Host(i));
        self.hosts.push(Host {
            name,
            kind,
            node,
            address,
        });
        i
    }

    /// Adds a segment.
    pub fn add_segment(&mut self, name: String, subnets: Vec<(IpAddr, u8)>, net: NetSpec) -> usize {
        let i = self.segments.len();
        let node = self.graph.add_node(Place::Segment(i));
        self.segments.push(Segment {
            name,
            subnets,
            net,
            groups: None,
            blocked: BTreeSet::new(),
            node,
            members: Vec::new(),
        });
        i
    }

    /// Attaches a host's interface to a segment.
    pub fn attach(&mut self, host: usize, segment: usize, a: Attachment) -> EdgeIndex {
        let e = self
            .graph
            .add_edge(self.hosts[host].node, self.segments[segment].node, a);
        self.segments[segment].members.push((host, e));
        e
    }

    /// The segment index by name.
    pub fn segment(&self, name: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.name == name)
    }

    /// The host index by name.
    pub fn host(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// The segment whose subnets contain `addr`.
    pub fn segment_containing(&self, addr: IpAddr) -> Option<usize> {
        self.segments
            .iter()
            .position(|s| s.subnets.iter().any(|&n| contains(n, addr)))
    }

    /// A host's attachments: (segment, edge).
    pub fn attachments(&self, host: usize) -> impl Iterator<Item = (usize, EdgeIndex)> + '_ {
        self.graph
            .edges(self.hosts[host].node)
            .filter_map(move |e| {
                use petgraph::visit::EdgeRef;
                let other = if e.source() == self.hosts[host].node {
                    e.target()
                } else {
                    e.source()
                };
                match self.graph[other] {
                    Place::Segment(s) => Some((s, e.id())),
                    Place::Host(_) => None,
                }
            })
    }

    /// The attachment of `host`'s `interface`.
    pub fn interface(&self, host: usize, interface: &str) -> Option<(usize, EdgeIndex)> {
        self.attachments(host)
            .find(|&(_, e)| self.graph[e].interface == interface)
    }

    /// The attachment of `host` on `segment`.
    pub fn on_segment(&self, host: usize, segment: usize) -> Option<EdgeIndex> {
        self.segments[segment]
            .members
            .iter()
            .find(|(h, _)| *h == host)
            .map(|(_, e)| *e)
    }

    /// Link state of an attachment.
    pub fn up(&self, e: EdgeIndex) -> bool {
        self.graph[e].up
    }

    /// Whether frames from `from` reach `to` on `segment` now (links up,
    /// same partition group, no one-way block). Host liveness is the
    /// simulator's business.
    pub fn reaches(&self, segment: usize, from: usize, to: usize) -> bool {
        let s = &self.segments[segment];
        let (Some(a), Some(b)) = (self.on_segment(from, segment), self.on_segment(to, segment))
        else {
            return false;
        };
        if !self.graph[a].up || !self.graph[b].up {
            return false;
        }
        if s.blocked.contains(&(from, to)) {
            return false;
        }
        match &s.groups {
            None => true,
            Some(groups) => {
                // Hosts not named are one more group.
                let group = |h: usize| {
                    groups
                        .iter()
                        .position(|g| g.contains(&h))
                        .unwrap_or(groups.len())
                };
                group(from) == group(to)
            }
        }
    }

    /// Both ways.
    pub fn connected(&self, segment: usize, a: usize, b: usize) -> bool {
        self.reaches(segment, a, b) && self.reaches(segment, b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_one_way_blocks() {
        let mut t = Topology::default();
        let s = t.add_segment("lan".into(), vec![], NetSpec::default());
        let hosts: Vec<usize> = (0..3)
            .map(|i| t.add_host(format!("h{i}"), HostKind::Client, None))
            .collect();
        let mut edges = Vec::new();
        for &h in &hosts {
            edges.push(t.attach(
                h,
                s,
                Attachment {
                    interface: "eth0".into(),
                    ipv4: None,
                    ipv6: None,
                    up: true,
                },
            ));
        }
        assert!(t.connected(s, 0, 1));
        t.segments[s].groups = Some(vec![BTreeSet::from([0]), BTreeSet::from([1])]);
        assert!(!t.reaches(s, 0, 1));
        // h2 is in no group: it is with the other hosts not named.
        assert!(!t.reaches(s, 0, 2) && !t.reaches(s, 2, 1));
        t.segments[s].groups = Some(vec![BTreeSet::from([0])]);
        assert!(!t.reaches(s, 0, 1) && t.connected(s, 1, 2));
        t.segments[s].groups = None;
        t.segments[s].blocked.insert((0, 1));
        assert!(!t.reaches(s, 0, 1) && t.reaches(s, 1, 0));
        t.segments[s].blocked.clear();
        t.graph[edges[1]].up = false;
        assert!(!t.reaches(s, 0, 1) && !t.reaches(s, 1, 0));
        assert_eq!(t.interface(0, "eth0"), Some((s, edges[0])));
    }

    #[test]
    fn subnets() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(contains(
            parse_subnet("192.168.200.0/24").unwrap(),
            ip("192.168.200.10")
        ));
        assert!(!contains(
            parse_subnet("192.168.200.0/24").unwrap(),
            ip("192.168.100.10")
        ));
        assert!(contains(parse_subnet("0.0.0.0/0").unwrap(), ip("10.1.2.3")));
        assert_eq!(lan_of(ip("192.168.100.7")), (ip("192.168.100.0"), 24));
        assert!(parse_subnet("10.0.0.0/33").is_none());
    }
}
