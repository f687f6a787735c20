//! The nftables data plane: core's LVS table as DNAT rules in one table,
//! `inet holdfast`, written as nft text and applied by `nft -f -` in a single
//! transaction (all of it, or none of it if the kernel refuses any part).
//!
//! The mapping (docs/keepalived.md, "nftables mapping of LVS"):
//! - a service is a chain (see below) that DNATs through a map of slots to
//!   real servers;
//! - wrr: each real server holds `weight / gcd` consecutive slots and
//!   `numgen inc` picks the slot (only a connection's first packet passes a
//!   nat chain, so it counts connections); rr: one slot each; sh: `jhash` of
//!   the source address picks the slot;
//! - persistence: each real server of a persistent service has a chain and
//!   a set of its clients (source address, masked by the persistence
//!   netmask) with the service's timeout. The service's chain first sends
//!   known clients to their server's chain, even at weight 0; a new client
//!   takes a slot whose verdict is a server's chain, which adds it to the
//!   set and DNATs. Weight changes move nobody, and a server that leaves
//!   takes its set along. No packet mark is set: marks are only matched, for
//!   fwmark services;
//! - a service with no usable real server rejects new connections, as IPVS
//!   does when its scheduler finds no destination.
//!
//! nftables cannot do everything IPVS does; what it cannot do is said, per
//! service, by [`Rendered::warnings`] and never programmed half-way:
//! lc/wlc/sed/nq/lblc/lblcr/dh/mh/fo/ovf/twos run as wrr (nft has no
//! per-destination connection counts in the lookup path), and DR/TUN
//! services and port-0 services are not programmed at all.
//!
//! A service is one chain, reached from the prerouting chain through a
//! verdict map keyed by address, protocol and port (or fwmark): one lookup
//! whatever the number of services. A change rewrites only the services
//! that changed, so the others keep their clients' persistence entries.
//!
//! Drift: nf_tables numbers each committed transaction (its generation).
//! [`DataPlane::repair`] asks for it; when anybody committed anything since
//! holdfast last looked, it lists holdfast's table (`nft -j`) and compares
//! it, clients' persistence entries aside, with the listing taken when it
//! was known good; a difference rebuilds the table from scratch.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use holdfast_core::config::model::{Family, ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{DestKey, DestParams, ServiceKey, Table};
use holdfast_core::trace::service_text;

use super::{DataPlane, DataPlaneError};

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
struct Chunk {
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
    chunks: BTreeMap<String, Chunk>,
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
    fn changes(&self, old: &Rendered) -> usize {
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

/// How long one nft run may take (a 2,000-service table takes about 3 s).
const NFT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `nft` with `args`, feeding `input` on stdin.
fn nft(args: &[&str], input: Option<&str>) -> Result<String, DataPlaneError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            DataPlaneError::Unavailable(format!(
                "nftables: cannot run nft ({e}); install the nftables package"
            ))
        })?;
    // A hung nft must not hold the data plane (and a stop) forever.
    let pid = child.id();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(NFT_TIMEOUT) {
            // SAFETY: a signal to our own child after 60 s without an
            // answer. Its pid could only be reused once it is reaped, and
            // the waiting side says so right after reaping: the window is
            // the few microseconds between the two.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    // stdin closes at the end of this block: nft reads to its end.
    let written = match (child.stdin.take(), input) {
        (Some(mut stdin), Some(text)) => stdin.write_all(text.as_bytes()),
        _ => Ok(()),
    };
    // Always reaped, even when the ruleset could not be written.
    let out = child.wait_with_output();
    let _ = done.send(());
    let _ = dog.join();
    let out = out.map_err(|e| DataPlaneError::Kernel(format!("nft: {e}")))?;
    // nft's own complaint says more than the broken pipe it caused.
    if !out.status.success() {
        return Err(DataPlaneError::Kernel(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    written.map_err(|e| DataPlaneError::Kernel(format!("nft: writing the ruleset: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The table as listed, without what changes by itself: clients'
/// persistence entries (they come and go with traffic).
fn listing() -> Result<Option<serde_json::Value>, DataPlaneError> {
    let text = match nft(&["-j", "list", "table", "inet", "holdfast"], None) {
        Ok(t) => t,
        // No table at all is a state too: everything was deleted.
        Err(DataPlaneError::Kernel(e)) if e.contains("No such file") => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DataPlaneError::Kernel(format!("nft -j: unreadable listing: {e}")))?;
    if let Some(items) = v.get_mut("nftables").and_then(|x| x.as_array_mut()) {
        items.retain(|i| i.get("metainfo").is_none());
        for i in items.iter_mut() {
            if let Some(m) = i.get_mut("set").and_then(|m| m.as_object_mut()) {
                if m.get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| n.starts_with("ps_"))
                {
                    m.remove("elem");
                }
            }
        }
    }
    Ok(Some(v))
}

/// The ruleset's generation: nf_tables counts every committed transaction
/// in the namespace (any table's). One netlink round trip, so the drift
/// check costs nothing while nobody touches nftables.
pub fn generation() -> Result<u32, DataPlaneError> {
    const NFNL_SUBSYS_NFTABLES: u16 = 10;
    const NFT_MSG_GETGEN: u16 = 16;
    const NFT_MSG_NEWGEN: u16 = 15;
    const NFTA_GEN_ID: u16 = 1;
    let err = |what: &str| {
        DataPlaneError::Kernel(format!(
            "nftables generation: {what}: {}",
            std::io::Error::last_os_error()
        ))
    };
    // SAFETY: plain socket call; the fd is owned right after.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(err("socket"));
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: a valid fd and a timeval of the size passed.
    unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    // nlmsghdr (16 bytes) + nfgenmsg (family AF_UNSPEC, version 0, res_id 0).
    let mut req = Vec::with_capacity(20);
    req.extend_from_slice(&20u32.to_ne_bytes());
    req.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN).to_ne_bytes());
    req.extend_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
    // SAFETY: the buffer is live for the call; the kernel is the address.
    let sent = unsafe { libc::send(raw, req.as_ptr().cast(), req.len(), 0) };
    if sent < 0 {
        return Err(err("send"));
    }
    let mut buf = [0u8; 4096];
    // SAFETY: the buffer is live and its size is passed.
    let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(err("recv"));
    }
    parse_generation(
        &buf[..n as usize],
        NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN,
        NFTA_GEN_ID,
    )
    .ok_or_else(|| DataPlaneError::Kernel("nftables generation: unreadable answer".into()))
}

/// NFTA_GEN_ID (big-endian u32) from a NEWGEN message.
fn parse_generation(msg: &[u8], kind: u16, attr: u16) -> Option<u32> {
    let len = u32::from_ne_bytes(msg.get(0..4)?.try_into().ok()?) as usize;
    let ty = u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?);
    if ty != kind || len > msg.len() || len < 20 {
        return None;
    }
    let mut at = 20;
    while at + 4 <= len {
        let alen = usize::from(u16::from_ne_bytes(msg.get(at..at + 2)?.try_into().ok()?));
        let atype = u16::from_ne_bytes(msg.get(at + 2..at + 4)?.try_into().ok()?) & 0x3fff;
        if alen < 4 {
            return None;
        }
        if atype == attr && alen >= 8 {
            return Some(u32::from_be_bytes(
                msg.get(at + 4..at + 8)?.try_into().ok()?,
            ));
        }
        at += (alen + 3) & !3;
    }
    None
}

/// What holdfast knows of the kernel's table.
enum Known {
    /// Listed right after holdfast's own transaction, at this generation.
    Listed(u32, Option<serde_json::Value>),
    /// Somebody else committed while holdfast applied or listed, so the
    /// listing may hold their change: the next check rebuilds.
    Unknown,
}

/// The nftables data plane.
pub struct Nft {
    /// What was applied last, and what is known of the kernel since.
    applied: Option<(Rendered, Known)>,
}

impl Nft {
    /// Checks that `nft` runs and the kernel has nf_tables.
    pub fn open() -> Result<Nft, DataPlaneError> {
        nft(&["list", "tables"], None).map_err(|e| match e {
            DataPlaneError::Kernel(m) => {
                DataPlaneError::Unavailable(format!("nftables is not available: {m}"))
            }
            other => other,
        })?;
        generation().map_err(|e| DataPlaneError::Unavailable(e.to_string()))?;
        Ok(Nft { applied: None })
    }

    fn install(&mut self, want: Rendered, fresh: bool) -> Result<(), DataPlaneError> {
        let old = if fresh {
            None
        } else {
            self.applied.as_ref().map(|(r, _)| r)
        };
        let before = generation().ok();
        if let Err(e) = nft(&["-f", "-"], Some(&want.script(old))) {
            // The kernel kept its table (the transaction is atomic), but it
            // may not be what `old` says (someone deleted a chain the
            // script assumed): the next attempt rebuilds from scratch.
            self.applied = None;
            return Err(e);
        }
        // One transaction is one generation: any other number means someone
        // else committed in between, and the listing could carry it.
        let known = match (before, generation().ok()) {
            (Some(b), Some(after)) if after == b.wrapping_add(1) => match listing() {
                Ok(l) if generation().ok() == Some(after) => Known::Listed(after, l),
                _ => Known::Unknown,
            },
            _ => Known::Unknown,
        };
        self.applied = Some((want, known));
        Ok(())
    }
}

impl DataPlane for Nft {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn apply(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        let want = render(table);
        let (n, fresh) = match &self.applied {
            Some((old, _)) => (want.changes(old), false),
            // The first apply clears whatever a previous run left.
            None => (want.chunks.len().max(1), true),
        };
        if n > 0 {
            self.install(want, fresh)?;
        }
        Ok(n)
    }

    /// Nobody committed anything since holdfast looked: nothing drifted.
    /// Otherwise holdfast's table is listed and compared with the listing
    /// taken right after its own transaction; a difference rebuilds it
    /// whole (and so does a listing that could not be trusted).
    fn repair(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        let Some((rendered, known)) = &mut self.applied else {
            return self.apply(table);
        };
        let now = generation()?;
        let intact = match known {
            Known::Listed(g, _) if *g == now => true,
            Known::Listed(_, snapshot) => {
                let same = listing()? == *snapshot;
                if same {
                    let s = snapshot.take();
                    *known = Known::Listed(now, s);
                }
                same
            }
            Known::Unknown => false,
        };
        if intact {
            return Ok(0);
        }
        let want = render(table);
        let n = want.chunks.len().max(1).max(rendered.chunks.len());
        self.install(want, true)?;
        Ok(n)
    }

    fn warnings(&self, table: &Table) -> Vec<String> {
        render(table).warnings
    }

    fn remove(&mut self) -> Result<(), DataPlaneError> {
        nft(
            &["-f", "-"],
            Some(&format!("add table {TABLE}\ndelete table {TABLE}\n")),
        )?;
        self.applied = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use holdfast_core::lvs::ServiceParams;

    fn service(sched: Scheduler, persist: Option<u32>, dests: &[(&str, u16, u32)]) -> Service {
        Service {
            params: ServiceParams {
                scheduler: sched,
                flags: SchedulerFlags::default(),
                persistence_timeout: persist,
                persistence_granularity: None,
            },
            dests: dests
                .iter()
                .map(|(a, port, w)| {
                    (
                        DestKey {
                            address: a.parse().expect("address"),
                            port: *port,
                        },
                        DestParams {
                            weight: *w,
                            method: ForwardingMethod::Nat,
                            uthreshold: 0,
                            lthreshold: 0,
                        },
                    )
                })
                .collect(),
        }
    }

    fn key(a: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            address: a.parse().expect("address"),
            port,
            protocol: ProtocolKey::Tcp,
        }
    }

    fn one(k: ServiceKey, s: Service) -> Table {
        let mut t = Table::default();
        t.services.insert(k, s);
        t
    }

    #[test]
    fn wrr_weights_become_slot_ranges_reduced_by_their_gcd() {
        let t = one(
            key("192.168.200.10", 80),
            service(
                Scheduler::Wrr,
                None,
                &[("192.168.100.2", 80, 4), ("192.168.100.3", 80, 2)],
            ),
        );
        let s = render(&t).script(Some(&Rendered::default()));
        assert!(s.contains("add element inet holdfast s_192_168_200_10_tcp_80 { 1-2 : 192.168.100.2 . 80, 3 : 192.168.100.3 . 80 }"), "{s}");
        assert!(s.contains("add rule inet holdfast cs_192_168_200_10_tcp_80 meta l4proto tcp dnat ip addr . port to numgen inc mod 3 offset 1 map @s_192_168_200_10_tcp_80"), "{s}");
        assert!(s.contains("add element inet holdfast dispatch4 { 192.168.200.10 . tcp . 80 : jump cs_192_168_200_10_tcp_80 }"), "{s}");
    }

    #[test]
    fn rr_ignores_weights_and_weight_zero_takes_no_slot() {
        let t = one(
            key("10.0.0.1", 443),
            service(
                Scheduler::Rr,
                None,
                &[
                    ("10.0.1.1", 443, 5),
                    ("10.0.1.2", 443, 1),
                    ("10.0.1.3", 443, 0),
                ],
            ),
        );
        let s = render(&t).script(Some(&Rendered::default()));
        assert!(
            s.contains("{ 1 : 10.0.1.1 . 443, 2 : 10.0.1.2 . 443 }"),
            "{s}"
        );
        assert!(s.contains("numgen inc mod 2 offset 1"), "{s}");
        assert!(!s.contains("10.0.1.3"), "{s}");
    }

    #[test]
    fn persistence_keeps_each_masked_source_on_its_server() {
        let mut svc = service(
            Scheduler::Wrr,
            Some(50),
            &[("192.168.100.2", 80, 2), ("192.168.100.3", 80, 0)],
        );
        svc.params.persistence_granularity = Some(24);
        let s = render(&one(key("192.168.200.10", 80), svc)).script(None);
        let set2 = "ps_192_168_200_10_tcp_80__192_168_100_2_80";
        let set3 = "ps_192_168_200_10_tcp_80__192_168_100_3_80";
        assert!(s.contains(&format!("add set inet holdfast {set2} {{ type ipv4_addr; size 1048576; flags dynamic,timeout; timeout 50s; }}")), "{s}");
        // Known clients first, even of a server at weight 0 (IPVS keeps
        // their templates); then a slot for new ones.
        assert!(s.contains(&format!("add rule inet holdfast cs_192_168_200_10_tcp_80 ip saddr and 255.255.255.0 @{set3} goto ds_192_168_200_10_tcp_80__192_168_100_3_80")), "{s}");
        assert!(s.contains("add rule inet holdfast cs_192_168_200_10_tcp_80 numgen inc mod 1 offset 1 vmap @s_192_168_200_10_tcp_80"), "{s}");
        assert!(s.contains("add element inet holdfast s_192_168_200_10_tcp_80 { 1 : goto ds_192_168_200_10_tcp_80__192_168_100_2_80 }"), "{s}");
        assert!(s.contains(&format!("add rule inet holdfast ds_192_168_200_10_tcp_80__192_168_100_2_80 meta l4proto tcp update @{set2} {{ ip saddr and 255.255.255.0 }} dnat ip to 192.168.100.2:80")), "{s}");
        assert!(
            !s.contains("meta mark set"),
            "no packet mark is touched: {s}"
        );
    }

    #[test]
    fn an_empty_pool_rejects_and_sh_hashes_the_source() {
        let t = one(
            key("10.0.0.1", 80),
            service(Scheduler::Wrr, None, &[("10.0.1.1", 80, 0)]),
        );
        let s = render(&t).script(Some(&Rendered::default()));
        assert!(
            s.contains("add rule inet holdfast cs_10_0_0_1_tcp_80 reject"),
            "{s}"
        );
        let t = one(
            key("10.0.0.1", 80),
            service(
                Scheduler::Sh,
                None,
                &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
            ),
        );
        assert!(render(&t)
            .script(Some(&Rendered::default()))
            .contains("jhash ip saddr mod 2 seed 0x1 offset 1"));
    }

    #[test]
    fn ipv6_and_fwmark_services_use_their_family() {
        let t = one(
            key("2001:db8::10", 80),
            service(Scheduler::Wrr, None, &[("2001:db8:1::2", 8080, 1)]),
        );
        let s = render(&t).script(Some(&Rendered::default()));
        assert!(s.contains("add element inet holdfast dispatch6 { 2001:db8::10 . tcp . 80 : jump cs_2001_db8_0_0_0_0_0_10_tcp_80 }"), "{s}");
        assert!(s.contains("dnat ip6 addr . port to numgen"), "{s}");
        assert!(s.contains("1 : 2001:db8:1::2 . 8080"), "{s}");
        let t = one(
            ServiceKey::Fwmark {
                mark: 7,
                family: Family::Ipv4,
            },
            service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
        );
        let s = render(&t).script(Some(&Rendered::default()));
        assert!(
            s.contains("add element inet holdfast fwmark4 { 0x7 : jump cs_fwm4_7 }"),
            "{s}"
        );
        assert!(s.contains("add rule inet holdfast cs_fwm4_7 meta l4proto { tcp, udp, sctp } dnat ip addr . port to"), "{s}");
    }

    #[test]
    fn what_nft_cannot_do_is_said_and_not_programmed() {
        let mut svc = service(Scheduler::Wlc, None, &[("10.0.1.1", 80, 1)]);
        let r = render(&one(key("10.0.0.1", 80), svc.clone()));
        assert_eq!(r.chunks.len(), 1);
        assert!(r.warnings[0].contains("runs as wrr"), "{:?}", r.warnings);
        for d in svc.dests.values_mut() {
            d.method = ForwardingMethod::Dr;
        }
        let r = render(&one(key("10.0.0.1", 80), svc));
        assert!(r.chunks.is_empty());
        assert!(r.warnings[0].contains("NAT only"), "{:?}", r.warnings);
        let r = render(&one(
            key("10.0.0.1", 0),
            service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
        ));
        assert!(r.chunks.is_empty() && r.warnings[0].contains("port-0"));
    }

    #[test]
    fn a_fresh_script_builds_all_and_a_change_touches_only_its_service() {
        let t = one(
            key("10.0.0.1", 80),
            service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
        );
        let r = render(&t);
        let s = r.script(None);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            &lines[..3],
            [
                "add table inet holdfast",
                "delete table inet holdfast",
                "add table inet holdfast"
            ]
        );
        assert!(s.contains("vmap @dispatch4"), "{s}");
        assert_eq!(r.script(Some(&r)), "", "nothing changed, nothing sent");

        // From a persistent service on another address to this one: the
        // old one leaves dispatch, its rules go, then its chains and sets.
        let before = render(&one(
            key("10.0.0.9", 80),
            service(Scheduler::Rr, Some(60), &[("10.0.1.1", 80, 1)]),
        ));
        let s = r.script(Some(&before));
        assert!(
            !s.contains("delete table") && !s.contains("prerouting"),
            "{s}"
        );
        let at = |needle: &str| {
            s.find(needle)
                .unwrap_or_else(|| panic!("{needle} missing:\n{s}"))
        };
        let out = at("delete element inet holdfast dispatch4 { 10.0.0.9 . tcp . 80 }");
        let flush = at("flush chain inet holdfast cs_10_0_0_9_tcp_80");
        let emptied = at("flush map inet holdfast s_10_0_0_9_tcp_80");
        let chain = at("delete chain inet holdfast ds_10_0_0_9_tcp_80__10_0_1_1_80");
        let set = at("delete set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_1_80");
        let map = at("delete map inet holdfast s_10_0_0_9_tcp_80");
        assert!(
            out < flush && flush < emptied && emptied < chain && chain < set && chain < map,
            "{s}"
        );
        at("add element inet holdfast dispatch4 { 10.0.0.1 . tcp . 80 : jump cs_10_0_0_1_tcp_80 }");

        // A second server joins the persistent service: the first one's
        // set (its clients) stays; no dispatch change.
        let grown = render(&one(
            key("10.0.0.9", 80),
            service(
                Scheduler::Rr,
                Some(60),
                &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
            ),
        ));
        let s = grown.script(Some(&before));
        assert!(!s.contains("delete set"), "{s}");
        assert!(
            s.contains("add set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_2_80"),
            "{s}"
        );
        assert!(!s.contains("dispatch4"), "{s}");
        // Another timeout: the sets are made anew.
        let longer = render(&one(
            key("10.0.0.9", 80),
            service(Scheduler::Rr, Some(90), &[("10.0.1.1", 80, 1)]),
        ));
        let s = longer.script(Some(&before));
        assert!(
            s.contains("delete set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_1_80"),
            "{s}"
        );
        assert!(
            !s.contains("delete map inet holdfast s_10_0_0_9_tcp_80"),
            "{s}"
        );

        // Two services, one changes: the other is not in the script.
        let mut two = t.clone();
        two.services.extend(before_table().services);
        let mut changed = two.clone();
        // (weights 1:1 to 3:1; 5:5 would be the same slots as 1:1)
        if let Some(d) = changed
            .services
            .values_mut()
            .last()
            .unwrap()
            .dests
            .values_mut()
            .next()
        {
            d.weight = 3;
        }
        let (a, b) = (render(&two), render(&changed));
        assert_eq!(b.changes(&a), 1);
        let s = b.script(Some(&a));
        assert!(
            s.contains("cs_10_0_0_9_tcp_80") && !s.contains("10_0_0_1"),
            "{s}"
        );
    }

    #[test]
    fn the_generation_is_read_from_a_newgen_answer() {
        // nlmsghdr (type 10 << 8 | 15), nfgenmsg, then NFTA_GEN_ID = 0x1234.
        let mut m = Vec::new();
        m.extend_from_slice(&28u32.to_ne_bytes());
        m.extend_from_slice(&((10u16 << 8) | 15).to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&1u16.to_ne_bytes());
        m.extend_from_slice(&0x1234u32.to_be_bytes());
        assert_eq!(parse_generation(&m, (10 << 8) | 15, 1), Some(0x1234));
        // Another message type, or cut short: nothing, no panic.
        assert_eq!(parse_generation(&m, (10 << 8) | 16, 1), None);
        for cut in 0..m.len() {
            let _ = parse_generation(&m[..cut], (10 << 8) | 15, 1);
        }
    }

    fn before_table() -> Table {
        one(
            key("10.0.0.9", 80),
            service(
                Scheduler::Wrr,
                None,
                &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
            ),
        )
    }
}
