//! From a scenario to a world: read each director's keepalived.conf, and
//! build the topology — as the scenario spells it, or inferred from the
//! configurations when it does not (interfaces that share a VRID or a /24 of
//! virtual addresses are on one segment), so an operator can simulate their
//! production pair from the two files alone.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_core::config::model::{Config, Family};
use holdfast_core::config::{self, LoadOptions};
use holdfast_core::node::Interface;

use crate::files::Files;
use crate::scenario::{Behaviour, Fault, NetSpec, Scenario, ScenarioError};
use crate::topology::{contains, lan_of, parse_subnet, Attachment, HostKind, Topology};

/// A director, ready to boot.
#[derive(Debug, Clone)]
pub struct DirectorSetup {
    /// Host name.
    pub name: String,
    /// Host index in the topology.
    pub host: usize,
    /// Its configuration file.
    pub config_path: PathBuf,
    /// The file as the scenario names it (what traces record).
    pub config_shown: String,
    /// Config id for `@ID` lines.
    pub config_id: String,
    /// The configuration.
    pub config: Config,
    /// Its interfaces, as core sees them.
    pub interfaces: Vec<Interface>,
}

/// Everything the simulator needs, checked.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The network.
    pub topo: Topology,
    /// The directors.
    pub directors: Vec<DirectorSetup>,
    /// Real servers by address: host index and initial behaviour.
    pub servers: BTreeMap<IpAddr, (usize, Behaviour)>,
    /// Client hosts.
    pub clients: Vec<usize>,
    /// Faults in time order.
    pub timeline: Vec<(Duration, Fault)>,
    /// Where relative paths in the scenario start.
    pub base: PathBuf,
    /// Where the configuration files are read from (reloads read them too).
    pub files: Files,
}

/// Reads a director's configuration.
pub fn load_config(
    scenario: &str,
    director: &str,
    path: &Path,
    config_id: &str,
    files: &Files,
) -> Result<Config, ScenarioError> {
    let opts = LoadOptions {
        config_id: Some(config_id.to_string()),
        strict: false,
        ignore_unimplemented: files.ignore_unimplemented,
    };
    let loaded = config::load(path, files.loader(), &opts);
    let mut config = loaded.config.clone().ok_or_else(|| ScenarioError::Config {
        path: scenario.to_string(),
        director: director.to_string(),
        rendered: loaded.render(),
    })?;
    // A simulated director is called by its name and runs as root.
    config.global.fill_host_defaults(director, "root");
    Ok(config)
}

/// An interface of a director as the configuration uses it.
struct Port {
    director: usize,
    interface: String,
    vrids: BTreeSet<(Family, u8)>,
    lans: BTreeSet<(IpAddr, u8)>,
    segment: Option<String>,
    ipv4: Option<IpAddr>,
    ipv6: Option<IpAddr>,
    /// Unicast peers its instances list.
    peers: BTreeSet<IpAddr>,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Every address the configurations use, so inferred interface addresses
/// never collide with one.
fn used_addresses(configs: &[Config]) -> BTreeSet<IpAddr> {
    let mut used = BTreeSet::new();
    for c in configs {
        for i in &c.instances {
            used.extend(i.virtual_ipaddress.iter().map(|v| v.address));
            used.extend(i.virtual_ipaddress_excluded.iter().map(|v| v.address));
            used.extend(i.unicast_peers.iter().map(|p| p.address));
        }
        used.extend(real_server_addresses(c));
        used.extend(smtp_relay(c));
    }
    used
}

/// The `smtp_server`, when it is an address (a host name has no place on
/// a simulated LAN).
fn smtp_relay(c: &Config) -> Option<IpAddr> {
    c.global.smtp_server.as_ref()?.host.parse().ok()
}

/// Addresses the configuration probes or forwards to: real servers, sorry
/// servers, checkers' connect_ip.
fn real_server_addresses(c: &Config) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for vs in &c.virtual_servers {
        for rs in &vs.real_servers {
            out.push(rs.address);
            out.extend(rs.checkers.iter().filter_map(|ch| ch.connect.ip));
        }
        out.extend(vs.sorry_server.as_ref().map(|s| s.address));
    }
    out
}

impl Setup {
    /// Builds the world for `scenario`, whose relative paths start at `base`
    /// on the file system.
    pub fn new(scenario: &Scenario, base: &Path, shown: &str) -> Result<Setup, ScenarioError> {
        Setup::with_files(scenario, base, shown, Files::disk())
    }

    /// Builds the world for `scenario`, reading its files from `files`.
    pub fn with_files(
        scenario: &Scenario,
        base: &Path,
        shown: &str,
        files: Files,
    ) -> Result<Setup, ScenarioError> {
        let invalid = |place: String, message: String| ScenarioError::Invalid {
            path: shown.to_string(),
            place,
            message,
        };
        // Configurations.
        let mut names = Vec::new();
        let mut configs = Vec::new();
        let mut paths = Vec::new();
        let mut ids = Vec::new();
        for (i, d) in scenario.directors.iter().enumerate() {
            let path = base.join(&d.config);
            let name = d.name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("director{}", i + 1))
            });
            if names.contains(&name) {
                return Err(invalid(
                    format!("directors[{i}]"),
                    format!("two directors are called {name}"),
                ));
            }
            let id = d.config_id.clone().unwrap_or_else(|| name.clone());
            configs.push(load_config(shown, &name, &path, &id, &files)?);
            names.push(name);
            paths.push(path);
            ids.push(id);
        }
        if configs.is_empty() {
            return Err(invalid(
                "directors".into(),
                "at least one director is needed".into(),
            ));
        }
        let mut topo = Topology::default();
        for s in &scenario.segments {
            let mut subnets = Vec::new();
            for n in &s.subnets {
                subnets.push(parse_subnet(n).ok_or_else(|| {
                    invalid(
                        format!("segments.{}", s.name),
                        format!("{n:?} is not a subnet like 192.168.1.0/24"),
                    )
                })?);
            }
            if topo.segment(&s.name).is_some() {
                return Err(invalid(
                    "segments".into(),
                    format!("two segments are called {}", s.name),
                ));
            }
            topo.add_segment(s.name.clone(), subnets, s.net);
        }

        // The ports: explicit interfaces, or those the instances use.
        let mut ports: Vec<Port> = Vec::new();
        for (d, (spec, cfg)) in scenario.directors.iter().zip(&configs).enumerate() {
            let mut mine: BTreeMap<String, Port> = BTreeMap::new();
            for i in &spec.interfaces {
                mine.insert(
                    i.name.clone(),
                    Port {
                        director: d,
                        interface: i.name.clone(),
                        vrids: BTreeSet::new(),
                        lans: BTreeSet::new(),
                        segment: Some(i.segment.clone()),
                        ipv4: i.ipv4.map(IpAddr::V4),
                        ipv6: i.ipv6.map(IpAddr::V6),
                        peers: BTreeSet::new(),
                    },
                );
            }
            for inst in &cfg.instances {
                let Some(ifname) = &inst.interface else {
                    continue;
                };
                let explicit = !spec.interfaces.is_empty();
                if explicit && !mine.contains_key(ifname) {
                    return Err(invalid(
                        format!("directors[{d}].interfaces"),
                        format!("{} uses interface {ifname}, which is not listed", inst.name),
                    ));
                }
                let p = mine.entry(ifname.clone()).or_insert_with(|| Port {
                    director: d,
                    interface: ifname.clone(),
                    vrids: BTreeSet::new(),
                    lans: BTreeSet::new(),
                    segment: None,
                    ipv4: None,
                    ipv6: None,
                    peers: BTreeSet::new(),
                });
                p.vrids.insert((inst.family, inst.virtual_router_id));
                p.lans.extend(
                    inst.virtual_ipaddress
                        .iter()
                        .chain(&inst.virtual_ipaddress_excluded)
                        .filter(|v| v.dev.as_deref().is_none_or(|dev| dev == ifname))
                        .map(|v| lan_of(v.address)),
                );
                p.peers.extend(inst.unicast_peers.iter().map(|u| u.address));
                let src = inst.unicast_src_ip.or(inst.mcast_src_ip);
                match src {
                    Some(a @ IpAddr::V4(_)) if p.ipv4.is_none() => p.ipv4 = Some(a),
                    Some(a @ IpAddr::V6(_)) if p.ipv6.is_none() => p.ipv6 = Some(a),
                    _ => {}
                }
            }
            ports.extend(mine.into_values());
        }

        // Two directors' ports that share a LAN of virtual addresses are one
        // segment; so are ports that share a VRID when one of them has no
        // addresses to go by (VRIDs are per LAN: one alone proves nothing).
        let mut parent: Vec<usize> = (0..ports.len()).collect();
        for a in 0..ports.len() {
            for b in a + 1..ports.len() {
                let same_named =
                    matches!((&ports[a].segment, &ports[b].segment), (Some(x), Some(y)) if x == y);
                let both_named = ports[a].segment.is_some() && ports[b].segment.is_some();
                let (pa, pb) = (&ports[a], &ports[b]);
                let share = pa.director != pb.director
                    && (!pa.lans.is_disjoint(&pb.lans)
                        || (!pa.vrids.is_disjoint(&pb.vrids)
                            && (pa.lans.is_empty() || pb.lans.is_empty())));
                if same_named || (share && !both_named) {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    parent[ra] = rb;
                }
            }
        }
        let mut classes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for p in 0..ports.len() {
            let r = find(&mut parent, p);
            classes.entry(r).or_default().push(p);
        }
        for members in classes.values() {
            let mut seen = BTreeMap::new();
            for &p in members {
                let port = &ports[p];
                if let Some(other) = seen.insert(port.director, &port.interface) {
                    if port.segment.is_none() {
                        return Err(invalid(
                            "directors".into(),
                            format!(
                                "cannot infer the segments: {}'s interfaces {other} and {} look like one LAN; list the segments and interfaces in the scenario",
                                names[port.director], port.interface
                            ),
                        ));
                    }
                }
            }
        }
        // An interface without an address takes the one another director
        // lists as its unicast peer on that segment and VRID.
        let mut taken: BTreeSet<IpAddr> = ports
            .iter()
            .flat_map(|p| [p.ipv4, p.ipv6])
            .flatten()
            .collect();
        for members in classes.values() {
            for &p in members {
                let wanted: Vec<IpAddr> = members
                    .iter()
                    .filter(|&&q| ports[q].director != ports[p].director)
                    .filter(|&&q| !ports[q].vrids.is_disjoint(&ports[p].vrids))
                    .flat_map(|&q| ports[q].peers.iter().copied())
                    .filter(|a| !taken.contains(a))
                    .collect();
                for a in wanted {
                    let slot = if a.is_ipv4() {
                        &mut ports[p].ipv4
                    } else {
                        &mut ports[p].ipv6
                    };
                    if slot.is_none() {
                        *slot = Some(a);
                        taken.insert(a);
                    }
                }
            }
        }
        let mut port_segment = vec![0usize; ports.len()];
        for members in classes.values() {
            let lans: BTreeSet<(IpAddr, u8)> = members
                .iter()
                .flat_map(|&p| ports[p].lans.iter().copied())
                .collect();
            let named = members.iter().find_map(|&p| ports[p].segment.clone());
            let seg = match named {
                Some(n) => match topo.segment(&n) {
                    Some(s) => s,
                    None => topo.add_segment(n, lans.iter().copied().collect(), NetSpec::default()),
                },
                None => {
                    let by_subnet = topo.segments.iter().position(|s| {
                        lans.iter()
                            .any(|&(a, _)| s.subnets.iter().any(|&n| contains(n, a)))
                    });
                    match by_subnet {
                        Some(s) => s,
                        None => {
                            let name = match lans.iter().next() {
                                Some((a, l)) => format!("{a}/{l}"),
                                None => {
                                    let p = &ports[members[0]];
                                    let vrid = p.vrids.iter().next().map(|v| v.1).unwrap_or(0);
                                    format!("{}-vrid{vrid}", p.interface)
                                }
                            };
                            topo.add_segment(
                                name,
                                lans.iter().copied().collect(),
                                NetSpec::default(),
                            )
                        }
                    }
                }
            };
            for &p in members {
                port_segment[p] = seg;
            }
        }

        // Hosts: directors with their interfaces.
        let mut used = used_addresses(&configs);
        used.extend(ports.iter().filter_map(|p| p.ipv4));
        let mut directors = Vec::new();
        for (d, name) in names.iter().enumerate() {
            let host = topo.add_host(name.clone(), HostKind::Director(d), None);
            let mut interfaces = Vec::new();
            for (p, port) in ports.iter().enumerate().filter(|(_, p)| p.director == d) {
                let seg = port_segment[p];
                let ipv4 = port.ipv4.or_else(|| {
                    let base = topo.segments[seg]
                        .subnets
                        .iter()
                        .find(|(a, l)| a.is_ipv4() && *l <= 30)
                        .map(|&(a, _)| a)
                        .unwrap_or(IpAddr::V4(Ipv4Addr::new(10, 255, seg as u8, 0)));
                    let IpAddr::V4(b) = base else { return None };
                    let pick = (1..255u32)
                        .map(|h| IpAddr::V4(Ipv4Addr::from(u32::from(b) + h)))
                        .find(|a| !used.contains(a))?;
                    used.insert(pick);
                    Some(pick)
                });
                let ipv6 = port.ipv6.or(Some(IpAddr::V6(Ipv6Addr::new(
                    0xfe80,
                    0,
                    0,
                    0,
                    0,
                    0,
                    d as u16 + 1,
                    interfaces.len() as u16 + 1,
                ))));
                topo.attach(
                    host,
                    seg,
                    Attachment {
                        interface: port.interface.clone(),
                        ipv4,
                        ipv6,
                        up: true,
                    },
                );
                interfaces.push(Interface {
                    name: port.interface.clone(),
                    ipv4,
                    ipv6,
                    up: true,
                });
            }
            // Tracked interfaces on no segment: up, unless a fault says not.
            let cfg = &configs[d];
            let tracked = cfg
                .instances
                .iter()
                .flat_map(|i| i.track_interfaces.iter().map(|t| t.name.clone()))
                .chain(
                    cfg.sync_groups
                        .iter()
                        .flat_map(|g| g.track_interfaces.iter().map(|t| t.name.clone())),
                );
            for t in tracked {
                if !interfaces.iter().any(|i| i.name == t) {
                    interfaces.push(Interface {
                        name: t,
                        ipv4: None,
                        ipv6: None,
                        up: true,
                    });
                }
            }
            directors.push(DirectorSetup {
                name: name.clone(),
                host,
                config_path: paths[d].clone(),
                config_shown: scenario.directors[d].config.display().to_string(),
                config_id: ids[d].clone(),
                config: configs[d].clone(),
                interfaces,
            });
        }

        // Real servers: every address the configurations probe, plus the scenario's.
        let mut servers = BTreeMap::new();
        let mut wanted: Vec<(IpAddr, Behaviour)> = configs
            .iter()
            .flat_map(real_server_addresses)
            .map(|a| (a, Behaviour::Ok))
            .collect();
        wanted.extend(
            scenario
                .real_servers
                .iter()
                .map(|s| (s.address, s.behaviour.clone())),
        );
        for (address, behaviour) in wanted {
            let host = match servers.get(&address) {
                Some(&(h, _)) => h,
                None => {
                    let h = topo.add_host(address.to_string(), HostKind::Server, Some(address));
                    attach_by_address(&mut topo, h, address);
                    h
                }
            };
            servers.insert(address, (host, behaviour));
        }
        // The mail relay, if any configuration names one.
        let relays: BTreeSet<IpAddr> = configs.iter().filter_map(smtp_relay).collect();
        for (i, r) in relays.into_iter().enumerate() {
            let name = if i == 0 {
                "mail-relay".to_string()
            } else {
                format!("mail-relay{}", i + 1)
            };
            let h = topo.add_host(name, HostKind::MailRelay, Some(r));
            attach_by_address(&mut topo, h, r);
        }
        // Clients.
        let mut clients = Vec::new();
        if scenario.clients.is_empty() {
            for s in 0..topo.segments.len() {
                let name = format!("client@{}", topo.segments[s].name);
                clients.push(add_client(&mut topo, name, s));
            }
        }
        for (i, c) in scenario.clients.iter().enumerate() {
            let s = topo.segment(&c.segment).ok_or_else(|| {
                invalid(format!("clients[{i}]"), format!("no segment {}", c.segment))
            })?;
            clients.push(add_client(&mut topo, c.name.clone(), s));
        }
        let mut seen = BTreeSet::new();
        for h in &topo.hosts {
            if !seen.insert(h.name.clone()) {
                return Err(invalid(
                    "hosts".into(),
                    format!("two hosts are called {}", h.name),
                ));
            }
        }

        let setup = Setup {
            topo,
            directors,
            servers,
            clients,
            timeline: scenario.timeline(),
            base: base.to_path_buf(),
            files,
        };
        setup.check_faults(scenario, shown)?;
        Ok(setup)
    }

    /// Every name a fault uses exists.
    fn check_faults(&self, scenario: &Scenario, shown: &str) -> Result<(), ScenarioError> {
        for (i, f) in scenario.faults.iter().enumerate() {
            let err = |message: String| ScenarioError::Invalid {
                path: shown.to_string(),
                place: format!("faults[{i}]"),
                message,
            };
            let director = |h: &str| {
                self.directors
                    .iter()
                    .position(|d| d.name == h)
                    .ok_or_else(|| err(format!("no director {h}")))
            };
            let host = |h: &str| self.topo.host(h).ok_or_else(|| err(format!("no host {h}")));
            let segment = |s: &str| {
                self.topo
                    .segment(s)
                    .ok_or_else(|| err(format!("no segment {s}")))
            };
            match &f.fault {
                Fault::Crash { host }
                | Fault::ClearStats { host }
                | Fault::Stop { host }
                | Fault::Restart { host }
                | Fault::Pause { host, .. } => {
                    director(host)?;
                }
                Fault::Script { host, script, .. } => {
                    let d = director(host)?;
                    if !self.directors[d]
                        .config
                        .vrrp_scripts
                        .iter()
                        .any(|s| &s.name == script)
                    {
                        return Err(err(format!("{host} has no vrrp_script {script}")));
                    }
                }
                Fault::Reload { host, config } => {
                    director(host)?;
                    if !self.files.exists(&self.base.join(config)) {
                        return Err(err(format!("no file {}", self.base.join(config).display())));
                    }
                }
                Fault::Link {
                    host: h, interface, ..
                } => {
                    let hi = host(h)?;
                    if let HostKind::Director(d) = self.topo.hosts[hi].kind {
                        let Some(name) = interface else {
                            return Err(err(format!("{h} is a director: say which interface")));
                        };
                        if !self.directors[d].interfaces.iter().any(|i| &i.name == name) {
                            return Err(err(format!("{h} has no interface {name}")));
                        }
                    }
                }
                Fault::Address {
                    host: h, interface, ..
                } => {
                    let d = director(h)?;
                    if !self.directors[d]
                        .interfaces
                        .iter()
                        .any(|i| &i.name == interface)
                    {
                        return Err(err(format!("{h} has no interface {interface}")));
                    }
                }
                Fault::Foreign { segment: s, advert } => {
                    segment(s)?;
                    if advert.count == 0 || advert.every_ms.is_nan() || advert.every_ms <= 0.0 {
                        return Err(err("a foreign speaker sends at least one advert, a positive every_ms apart".into()));
                    }
                }
                Fault::Partition { segment: s, groups } => {
                    segment(s)?;
                    for h in groups.iter().flatten() {
                        host(h)?;
                    }
                }
                Fault::OneWay {
                    segment: s,
                    from,
                    to,
                } => {
                    segment(s)?;
                    for h in from.iter().chain(to) {
                        host(h)?;
                    }
                }
                Fault::Heal { segment: s } | Fault::Net { segment: s, .. } => {
                    segment(s)?;
                }
                Fault::Serve { server, .. } => {
                    if !self.servers.contains_key(server) {
                        return Err(err(format!("no real server {server}")));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A client host on segment `s`, with one interface and no address.
fn add_client(topo: &mut Topology, name: String, s: usize) -> usize {
    let h = topo.add_host(name, HostKind::Client, None);
    topo.attach(
        h,
        s,
        Attachment {
            interface: "eth0".into(),
            ipv4: None,
            ipv6: None,
            up: true,
        },
    );
    h
}

/// Attaches a server or relay to the segment whose subnets hold its address
/// (none: it is routed, reachable whenever the director runs).
fn attach_by_address(topo: &mut Topology, host: usize, address: IpAddr) {
    if let Some(s) = topo.segment_containing(address) {
        let (ipv4, ipv6) = match address {
            IpAddr::V4(_) => (Some(address), None),
            IpAddr::V6(_) => (None, Some(address)),
        };
        topo.attach(
            host,
            s,
            Attachment {
                interface: "eth0".into(),
                ipv4,
                ipv6,
                up: true,
            },
        );
    }
}
