//! Core's LVS table as nft text: one chunk per service (its dispatch
//! element, chains, sets and slot map), and the script that goes from one
//! rendering to the next touching only the services that changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use holdfast_core::config::model::{Family, ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{DestKey, DestParams, ServiceKey, Table};
use holdfast_core::trace::service_text;

/// The table holdfast owns; nothing outside it is touched.
pub const TABLE: &str = "inet holdfast";

/// The table's frame: new connections to a service's address, protocol
/// and port (or its fwmark) jump to the service's chain through a verdict
/// map, so the lookup costs the same for 2 services or 2,000. Connections
/// the director opens itself pass the same maps (IPVS balances those too).
const BASE: &str = "\
add map inet holdfast dispatch4 { type ipv4_addr . inet_proto . inet_service : verdict; }
add map inet holdfast dispatch6 { type ipv6_addr . inet_proto . inet_service : verdict; }
add map inet holdfast fwmark4 { type mark : verdict; }
add map inet holdfast fwmark6 { type mark : verdict; }
add chain inet holdfast prerouting { type nat hook prerouting priority dstnat; policy accept; }
add rule inet holdfast prerouting meta nfproto ipv4 ip daddr . meta l4proto . th dport vmap @dispatch4
add rule inet holdfast prerouting meta nfproto ipv6 ip6 daddr . meta l4proto . th dport vmap @dispatch6
add rule inet holdfast prerouting meta nfproto ipv4 meta mark vmap @fwmark4
add rule inet holdfast prerouting meta nfproto ipv6 meta mark vmap @fwmark6
add chain inet holdfast output { type nat hook output priority -100; policy accept; }
add rule inet holdfast output meta nfproto ipv4 ip daddr . meta l4proto . th dport vmap @dispatch4
add rule inet holdfast output meta nfproto ipv6 ip6 daddr . meta l4proto . th dport vmap @dispatch6
add rule inet holdfast output meta nfproto ipv4 meta mark vmap @fwmark4
add rule inet holdfast output meta nfproto ipv6 meta mark vmap @fwmark6
";

/// One service's objects and rules, as nft text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chunk {
    /// Its element in a dispatch map: the map, and `key : jump chain`.
    dispatch: (&'static str, String),
    /// Its chains and their rules, the service's own first.
    chains: Vec<(String, Vec<String>)>,
    /// Sets and maps: name, and `map TABLE NAME { ... }` or `set ...`.
    /// They are added idempotently and kept while their definition holds
    /// (clients' persistence entries live in them).
    objects: Vec<(String, String)>,
    /// The slot map, flushed and refilled on every change, and its elements.
    slots: (String, Vec<String>),
}

/// A table rendered as nft text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Per service: its nft text, by the name of its slot map.
    pub(super) chunks: BTreeMap<String, Chunk>,
    /// What could not be programmed as configured, one line per service.
    pub warnings: Vec<String>,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn proto_name(p: ProtocolKey) -> &'static str {
    match p {
        ProtocolKey::Tcp => "tcp",
        ProtocolKey::Udp => "udp",
        ProtocolKey::Sctp => "sctp",
    }
}

/// The name of a service's slot map: readable and stable across applies
/// (the persistence map is the same with a `p` in front).
fn map_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            address,
            port,
            protocol,
        } => {
            format!("s_{}_{}_{port}", name_of(*address), proto_name(*protocol))
        }
        ServiceKey::Fwmark { mark, family } => match family {
            Family::Ipv4 => format!("s_fwm4_{mark}"),
            Family::Ipv6 => format!("s_fwm6_{mark}"),
        },
    }
}

fn is_v6(key: &ServiceKey) -> bool {
    match key {
        ServiceKey::Addr { address, .. } => address.is_ipv6(),
        ServiceKey::Fwmark { family, .. } => *family == Family::Ipv6,
    }
}

/// The persistence key: the source address, masked to the netmask.
fn source_key(v6: bool, prefix: Option<u8>) -> String {
    let (ip, full) = if v6 { ("ip6", 128) } else { ("ip", 32) };
    match prefix {
        Some(p) if p < full => {
            let mask = if v6 {
                let m = if p == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(p))
                };
                std::net::Ipv6Addr::from(m).to_string()
            } else {
                let m = if p == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(p))
                };
                std::net::Ipv4Addr::from(m).to_string()
            };
            format!("{ip} saddr and {mask}")
        }
        _ => format!("{ip} saddr"),
    }
}

fn render_service(key: &ServiceKey, svc: &Service) -> Result<Chunk, String> {
    let what = service_text(key);
    let v6 = is_v6(key);
    let (ip, addr_type) = if v6 {
        ("ip6", "ipv6_addr")
    } else {
        ("ip", "ipv4_addr")
    };
    let name = map_name(key);
    let chain = format!("c{name}");
    // nft maps to a port only after a transport protocol match; a fwmark
    // service takes whatever the mark was put on (IPVS: TCP and UDP).
    let l4 = match key {
        ServiceKey::Addr { protocol, .. } => format!("meta l4proto {}", proto_name(*protocol)),
        ServiceKey::Fwmark { .. } => "meta l4proto { tcp, udp, sctp }".to_string(),
    };
    let dispatch = match key {
        ServiceKey::Addr {
            address,
            port,
            protocol,
        } => {
            if *port == 0 {
                return Err(format!(
                    "{what}: a port-0 (all ports) service is not programmed by the nftables data plane"
                ));
            }
            let map = if v6 { "dispatch6" } else { "dispatch4" };
            (
                map,
                format!(
                    "{address} . {} . {port} : jump {chain}",
                    proto_name(*protocol)
                ),
            )
        }
        ServiceKey::Fwmark { mark, .. } => {
            let map = if v6 { "fwmark6" } else { "fwmark4" };
            (map, format!("{mark:#x} : jump {chain}"))
        }
    };
    if let Some((d, _)) = svc
        .dests
        .iter()
        .find(|(_, p)| !matches!(p.method, ForwardingMethod::Nat))
    {
        return Err(format!(
            "{what}: real server {} is DR or TUN; the nftables data plane forwards by NAT only, so the service is not programmed",
            d.address
        ));
    }
    // Slots per server: rr ignores weights (as IPVS); the others keep them.
    let live: Vec<(&DestKey, &DestParams)> =
        svc.dests.iter().filter(|(_, p)| p.weight > 0).collect();
    let g = live.iter().fold(0, |g, (_, p)| gcd(g, p.weight)).max(1);
    let mut slots = Vec::new();
    let mut total = 0u32;
    for (d, p) in &live {
        let n = if svc.params.scheduler == Scheduler::Rr {
            1
        } else {
            p.weight / g
        };
        let range = if n == 1 {
            (total + 1).to_string()
        } else {
            format!("{}-{}", total + 1, total + n)
        };
        slots.push((range, *d));
        total += n;
    }
    let target = |d: &DestKey| match d.address {
        IpAddr::V4(a) => format!("{a} . {}", d.port),
        IpAddr::V6(a) => format!("{a} . {}", d.port),
    };
    let pick = match svc.params.scheduler {
        Scheduler::Sh => format!("jhash {ip} saddr mod {total} seed 0x1 offset 1"),
        _ => format!("numgen inc mod {total} offset 1"),
    };
    let mut chains = vec![(chain, Vec::new())];
    let mut objects = Vec::new();
    let elems: Vec<String>;
    let slot_map = name.clone();
    match svc.params.persistence_timeout {
        None => {
            objects.push((
                name.clone(),
                format!(
                    "map {TABLE} {name} {{ typeof numgen inc mod 2 : {ip} daddr . tcp dport; flags interval; }}"
                ),
            ));
            elems = slots
                .iter()
                .map(|(r, d)| format!("{r} : {}", target(d)))
                .collect();
            if total > 0 {
                chains[0]
                    .1
                    .push(format!("{l4} dnat {ip} addr . port to {pick} map @{name}"));
            }
        }
        Some(timeout) => {
            // A client sticks to a server, not to a slot: each server has a
            // chain and a set of its clients (source masked by the
            // netmask). Known clients go straight to their server, even at
            // weight 0 (as IPVS keeps their templates); new ones take a
            // slot, whose verdict sends them to a server's chain, which
            // remembers them. Weights can change without moving anyone; a
            // server that leaves the table takes its set along.
            let src = source_key(v6, svc.params.persistence_granularity);
            objects.push((
                name.clone(),
                format!(
                    "map {TABLE} {name} {{ typeof numgen inc mod 2 : verdict; flags interval; }}"
                ),
            ));
            for d in svc.dests.keys() {
                let tag = dest_tag(d);
                let (dchain, set) = (format!("d{name}__{tag}"), format!("p{name}__{tag}"));
                objects.push((
                    set.clone(),
                    format!(
                        "set {TABLE} {set} {{ type {addr_type}; size {PERSISTENCE_SIZE}; flags dynamic,timeout; timeout {}s; }}",
                        timeout.max(1)
                    ),
                ));
                chains[0].1.push(format!("{src} @{set} goto {dchain}"));
                let to = match d.address {
                    IpAddr::V4(a) => format!("{a}:{}", d.port),
                    IpAddr::V6(a) => format!("[{a}]:{}", d.port),
                };
                chains.push((
                    dchain,
                    vec![format!("{l4} update @{set} {{ {src} }} dnat {ip} to {to}")],
                ));
            }
            elems = slots
                .iter()
                .map(|(r, d)| format!("{r} : goto d{name}__{}", dest_tag(d)))
                .collect();
            if total > 0 {
                chains[0].1.push(format!("{pick} vmap @{name}"));
            }
        }
    }
    if total == 0 {
        chains[0].1.push("reject".to_string());
    }
    Ok(Chunk {
        dispatch,
        chains,
        objects,
        slots: (slot_map, elems),
    })
}

/// A destination in object names: its address and port.
fn dest_tag(d: &DestKey) -> String {
    format!("{}_{}", name_of(d.address), d.port)
}

/// An address as nft object names may carry it: `192_168_1_2`, or the
/// eight groups of an IPv6 address.
fn name_of(address: IpAddr) -> String {
    match address {
        IpAddr::V4(a) => a.to_string().replace('.', "_"),
        IpAddr::V6(a) => a
            .segments()
            .iter()
            .map(|s| format!("{s:x}"))
            .collect::<Vec<_>>()
            .join("_"),
    }
}

/// How many clients each server of a persistent service remembers (nft's
/// default for a dynamic set is 65,535; IPVS has no such limit).
const PERSISTENCE_SIZE: u32 = 1 << 20;

/// Renders `table` as nft text, service by service.
pub fn render(table: &Table) -> Rendered {
    let mut out = Rendered::default();
    for (key, svc) in &table.services {
        match render_service(key, svc) {
            Ok(c) => {
                if svc
                    .dests
                    .values()
                    .any(|d| d.uthreshold > 0 || d.lthreshold > 0)
                {
                    out.warnings.push(format!(
                        "{}: uthreshold / lthreshold are not applied by the nftables data plane",
                        service_text(key)
                    ));
                }
                if svc.params.flags != SchedulerFlags::default() {
                    out.warnings.push(format!(
                        "{}: scheduler flags (ops, sh-port, sh-fallback, ...) are not applied by the nftables data plane",
                        service_text(key)
                    ));
                }
                let s = svc.params.scheduler;
                if !matches!(s, Scheduler::Rr | Scheduler::Wrr | Scheduler::Sh) {
                    out.warnings.push(format!(
                        "{}: scheduler {s:?} runs as wrr on the nftables data plane (it has no per-destination connection counts)",
                        service_text(key)
                    ));
                }
                out.chunks.insert(map_name(key), c);
            }
            Err(w) => out.warnings.push(w),
        }
    }
    out
}

impl Rendered {
    /// The whole transaction that turns holdfast's table, as `old` left it,
    /// into this one, touching only the services that changed. Without
    /// `old` (start-up, repairs) the table is deleted and built whole, so
    /// nothing foreign survives. Unchanged services keep their clients'
    /// persistence entries and their place in the round robin.
    pub fn script(&self, old: Option<&Rendered>) -> String {
        let mut s = String::new();
        let empty = Rendered::default();
        let before = match old {
            Some(o) => o,
            None => {
                let _ = writeln!(
                    s,
                    "add table {TABLE}\ndelete table {TABLE}\nadd table {TABLE}"
                );
                s.push_str(BASE);
                &empty
            }
        };
        // Services gone: out of dispatch first, then their objects.
        for (name, c) in &before.chunks {
            if self.chunks.contains_key(name) {
                continue;
            }
            let (map, elem) = &c.dispatch;
            let key = elem.split(" : ").next().unwrap_or(elem);
            let _ = writeln!(s, "delete element {TABLE} {map} {{ {key} }}");
            retire(&mut s, c, None);
        }
        for (name, c) in &self.chunks {
            let was = before.chunks.get(name);
            if was == Some(c) {
                continue;
            }
            // Every chain first (verdicts may name them), all emptied.
            for (chain, _) in &c.chains {
                let _ = writeln!(s, "add chain {TABLE} {chain}");
            }
            for (chain, _) in &c.chains {
                let _ = writeln!(s, "flush chain {TABLE} {chain}");
            }
            if let Some(w) = was {
                retire(&mut s, w, Some(c));
            }
            for (_, def) in &c.objects {
                let _ = writeln!(s, "add {def}");
            }
            let (map, elems) = &c.slots;
            let _ = writeln!(s, "flush map {TABLE} {map}");
            if !elems.is_empty() {
                let _ = writeln!(s, "add element {TABLE} {map} {{ {} }}", elems.join(", "));
            }
            for (chain, rules) in &c.chains {
                for r in rules {
                    let _ = writeln!(s, "add rule {TABLE} {chain} {r}");
                }
            }
            if was.is_none() {
                let (map, elem) = &c.dispatch;
                let _ = writeln!(s, "add element {TABLE} {map} {{ {elem} }}");
            }
        }
        s
    }

    /// How many services differ from `old`.
    pub(super) fn changes(&self, old: &Rendered) -> usize {
        let changed = self
            .chunks
            .iter()
            .filter(|(k, c)| old.chunks.get(*k) != Some(c))
            .count();
        let removed = old
            .chunks
            .keys()
            .filter(|k| !self.chunks.contains_key(*k))
            .count();
        changed + removed
    }
}

/// Takes out what `old` had and `new` (the same service, changed) does
/// not: its rules go first, so that nothing refers to a chain, set or map
/// when it is deleted. Objects whose definition holds are kept, with the
/// clients they remember.
fn retire(s: &mut String, old: &Chunk, new: Option<&Chunk>) {
    let keeps_chain = |n: &str| new.is_some_and(|c| c.chains.iter().any(|(m, _)| m == n));
    let keeps_object =
        |n: &str, d: &str| new.is_some_and(|c| c.objects.iter().any(|(m, e)| m == n && e == d));
    for (chain, _) in &old.chains {
        if !keeps_chain(chain) {
            let _ = writeln!(s, "flush chain {TABLE} {chain}");
        }
    }
    // The slot map's verdicts name chains: empty it before they go.
    let _ = writeln!(s, "flush map {TABLE} {}", old.slots.0);
    for (chain, _) in &old.chains {
        if !keeps_chain(chain) {
            let _ = writeln!(s, "delete chain {TABLE} {chain}");
        }
    }
    for (name, def) in &old.objects {
        if !keeps_object(name, def) {
            let kind = def.split_whitespace().next().unwrap_or("map");
            let _ = writeln!(s, "delete {kind} {TABLE} {name}");
        }
    }
}
