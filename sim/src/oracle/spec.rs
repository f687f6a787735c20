//! What the oracle knows of one instance: the facts of its configuration
//! that the election rules use, written from RFC 3768 / 5798 as keepalived
//! applies them (docs/keepalived.md), not taken from core.

use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::config::model::{
    AuthType, Config, Family, GarpTiming, InitialState, VrrpInstance,
};
use holdfast_core::node::Interface;

use super::advert::Advert;
use super::counters::Counter;

/// The facts of one instance.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Its name.
    pub name: String,
    /// The interface its adverts arrive on ("" without one).
    pub interface: String,
    /// Family.
    pub family: Family,
    /// VRID.
    pub vrid: u8,
    /// Configured priority.
    pub priority: u8,
    /// VRRP version.
    pub version: u8,
    /// Advertisement interval.
    pub advert_int: Duration,
    /// keepalived's `down_timer_adverts` (3 by the RFC).
    pub down_adverts: u32,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: Duration,
    /// Its source address (the one that breaks a tie).
    pub primary: Option<IpAddr>,
    /// Whether that address follows its interface's primary address (no
    /// `unicast_src_ip` or `mcast_src_ip` configured).
    pub follows: bool,
    /// The v2 authentication type byte, and the password bytes it must
    /// carry.
    pub auth: (u8, [u8; 8]),
    /// Unicast: no TTL rule but each peer's range.
    pub unicast: bool,
    /// Each unicast peer's TTL range (`min_ttl`, `max_ttl`).
    pub peer_ttl: Vec<(IpAddr, Option<u8>, Option<u8>)>,
    /// Its sync group.
    pub group: Option<usize>,
    /// The virtual addresses its adverts carry, in order.
    pub addresses: Vec<IpAddr>,
    /// It is Master at once when it starts (keepalived's
    /// `vrrp_init_state`): an address owner (255) that wants MASTER (`state
    /// MASTER`, or no state written), outside a sync group or in one whose
    /// every member is such an owner.
    pub starts_master: bool,
    /// Where its adverts go: the multicast group, or each unicast peer.
    pub destinations: Vec<IpAddr>,
    /// The trackers that put it in Fault while down (up, when
    /// `reverse`d): its own interface unless `dont_track_primary`, and each
    /// tracked interface (that existed when it was built) or `vrrp_script`
    /// (by [`script_tracker`]'s name) without a weight (any, in a sync
    /// group without `sync_group_tracking_weight`). `None` when something
    /// the oracle does not follow can also fault it: no address to send
    /// from.
    pub fault_links: Option<Vec<(String, bool)>>,
    /// The trackers that move its priority: (interface or
    /// [`script_tracker`] name, weight, reverse), with weights that count
    /// (outside a sync group, or in one with `sync_group_tracking_weight`).
    pub weights: Vec<(String, i32, bool)>,
    /// Whether its checksum leaves out the pseudo-header: always for v2;
    /// for v3 over IPv4 with `vrrp_v3_checksum_as_v2` (RFC 5798 §5.2.8
    /// otherwise includes it).
    pub checksum_plain: bool,
    /// Whether the rules here decide everything about its timers: not an
    /// address owner (its sync group's timing around it is not modelled).
    /// The others are left to the other invariants.
    pub judged: bool,
    /// The interfaces it (or its sync group) tracks that did not exist
    /// when it was built: keepalived says "tracked interface X doesn't
    /// exist" and does not track them.
    pub untracked: Vec<String>,
    /// Its announcement timing (`vrrp_garp_*`, `garp_*`).
    pub garp: GarpTiming,
    /// The interfaces its addresses (excluded ones too) live on: each
    /// burst is one announcement on each.
    pub announce_on: Vec<String>,
}

impl Facts {
    /// The facts of every instance of `config` on `interfaces`.
    pub fn of(config: &Config, interfaces: &[Interface]) -> Vec<Facts> {
        config
            .instances
            .iter()
            .map(|i| facts(config, i, interfaces))
            .collect()
    }

    /// Skew_Time (RFC 3768 §6.1, RFC 5798 §6.1) at `priority` (the
    /// effective one: keepalived's timers count with it) as they hold it, in whole microseconds: (256 − priority) / 256 s for v2;
    /// (256 − priority) × interval / 256 for v3, the interval taken in
    /// whole centiseconds.
    pub fn skew(&self, priority: u8, interval: Duration) -> Duration {
        let weight = 256 - u64::from(priority);
        let micros = if self.version == 3 {
            let centis = interval.as_millis() as u64 / 10;
            weight * centis * 10_000 / 256
        } else {
            weight * 1_000_000 / 256
        };
        Duration::from_micros(micros)
    }

    /// Master_Down_Interval at `priority` with the master's advertisement
    /// interval.
    pub fn master_down(&self, priority: u8, interval: Duration) -> Duration {
        interval * self.down_adverts + self.skew(priority, interval)
    }

    /// Its effective priority with `trackers` (up or not, by name; `None`
    /// for a script without its first result, which moves nothing): the
    /// configured one plus the weights of the trackers that count (a
    /// positive weight while up, a negative one while down, negated by
    /// `reverse`), kept within 1..=254; an owner's 255 never moves.
    pub fn effective(&self, trackers: &dyn Fn(&str) -> Option<bool>) -> u8 {
        if self.priority == 255 {
            return 255;
        }
        let moved: i32 = self
            .weights
            .iter()
            .map(|(name, w, reverse)| {
                // keepalived's `weight * weight_multiplier`: `reverse`
                // (multiplier -1) negates what the link's state adds.
                let added = match (*w, trackers(name)) {
                    (w, Some(true)) if w > 0 => w,
                    (w, Some(false)) if w < 0 => w,
                    _ => 0,
                };
                if *reverse {
                    -added
                } else {
                    added
                }
            })
            .sum();
        (i32::from(self.priority) + moved).clamp(1, 254) as u8
    }

    /// Whether this instance takes `a`, meant for it (its interface,
    /// family and VRID) and arrived with IP TTL `ttl`; if not, the
    /// keepalived counter it lands in, if any. keepalived's
    /// `vrrp_check_packet` checks in this order, and the first that fails
    /// decides the counter: the length (`packet_len_err`), the TTL
    /// (`ip_ttl_err`), the version, for v2 the authentication type
    /// (`invalid_authtype` when unknown, `authtype_mismatch`), the
    /// password (`auth_failure`) and the interval, the type
    /// (`invalid_type_rcvd`), then the checksum.
    pub fn accepts(&self, ttl: u8, a: &Advert) -> Result<(), Option<Counter>> {
        if !a.length_ok {
            return Err(Some(Counter::PacketLen));
        }
        // Multicast must come with 255 (RFC 5798 §5.1.1.3: it crossed no
        // router); unicast may cross routers, so only a peer's own range
        // binds it.
        let in_range = |&(peer, min, max): &(IpAddr, Option<u8>, Option<u8>)| {
            peer != a.src || (min.is_none_or(|m| m <= ttl) && max.is_none_or(|m| ttl <= m))
        };
        let ttl_ok = if self.unicast {
            self.peer_ttl.iter().all(in_range)
        } else {
            ttl == 255
        };
        if !ttl_ok {
            return Err(Some(Counter::IpTtl));
        }
        if a.version != self.version {
            return Err(None);
        }
        if self.version == 2 {
            if a.auth_type > 2 {
                return Err(Some(Counter::InvalidAuthType));
            }
            if a.auth_type != self.auth.0 {
                return Err(Some(Counter::AuthTypeMismatch));
            }
            if a.auth_type == 1 && a.auth_data != self.auth.1 {
                return Err(Some(Counter::AuthFailure));
            }
            if u64::from(a.interval_field) != self.advert_int.as_secs() {
                return Err(None);
            }
        }
        if a.kind != 1 {
            return Err(Some(Counter::InvalidType));
        }
        // keepalived compares the number of addresses here, the addresses
        // themselves after the checksum.
        if a.count != self.addresses.len() {
            return Err(Some(Counter::AddrCount));
        }
        // The variant it sends is the one it takes; a unicast v3 instance
        // also takes keepalived's pre-1.3.6 unicast checksum.
        let sums = a.sums;
        let summed = if self.checksum_plain {
            sums.plain
        } else {
            sums.pseudo || (self.unicast && sums.legacy)
        };
        if !summed {
            return Err(None);
        }
        if self.addresses.iter().any(|v| !a.addresses.contains(v)) {
            return Err(Some(Counter::AddrList));
        }
        if Some(a.src) == self.primary {
            return Err(None);
        }
        Ok(())
    }

    /// Whether it tracks a `vrrp_script`, weighted or not.
    pub fn tracks_scripts(&self) -> bool {
        let faulting = self.fault_links.iter().flatten().map(|(n, _)| n);
        let weighted = self.weights.iter().map(|(n, _, _)| n);
        faulting.chain(weighted).any(|n| is_script_tracker(n))
    }

    /// Whether an advert of priority `p` from `src` wins against this
    /// instance as Master at priority `mine`: a higher priority, or an equal one from a higher
    /// address (RFC 5798 §6.4.3).
    pub fn loses_to(&self, mine: u8, p: u8, src: IpAddr) -> bool {
        p > mine || (p == mine && self.primary.is_some_and(|me| src > me))
    }
}

/// The name a tracked `vrrp_script` goes by among an instance's trackers
/// (no interface's name has a space).
pub fn script_tracker(name: &str) -> String {
    format!("vrrp_script {name}")
}

/// Whether a tracker's name is a script's.
pub fn is_script_tracker(name: &str) -> bool {
    name.starts_with("vrrp_script ")
}

fn facts(config: &Config, i: &VrrpInstance, interfaces: &[Interface]) -> Facts {
    let group = config
        .sync_groups
        .iter()
        .position(|g| g.members.contains(&i.name));
    let g = group.map(|g| &config.sync_groups[g]);
    // The weights as the configuration reader left them: keepalived's
    // rules for sync groups and owners are already applied there
    // (docs/keepalived.md, "Sync groups").
    let interface = i.interface.clone().unwrap_or_default();
    let faults = |weight: i32| weight == 0;
    let exists = |name: &str| interfaces.iter().any(|x| x.name == name);
    let group_scripts = g.map_or(&[][..], |g| &g.track_scripts[..]);
    let group_links = g.map_or(&[][..], |g| &g.track_interfaces[..]);
    let defined = |name: &str| config.vrrp_scripts.iter().any(|s| s.name == name);
    let mut links: Vec<(String, bool)> = Vec::new();
    if !i.dont_track_primary && exists(&interface) {
        links.push((interface.clone(), false));
    }
    for t in i.track_interfaces.iter().chain(group_links) {
        if faults(t.weight) && exists(&t.name) {
            links.push((t.name.clone(), t.reverse));
        }
    }
    for t in i.track_scripts.iter().chain(group_scripts) {
        if faults(t.weight) && defined(&t.name) {
            links.push((script_tracker(&t.name), t.reverse));
        }
    }
    let primary = i.unicast_src_ip.or(i.mcast_src_ip).or_else(|| {
        let iface = interfaces.iter().find(|x| x.name == interface)?;
        match i.family {
            Family::Ipv4 => iface.ipv4,
            Family::Ipv6 => iface.ipv6,
        }
    });
    let auth = match &i.authentication {
        None => (0, [0; 8]),
        Some(a) => {
            let mut data = [0u8; 8];
            for (d, b) in data.iter_mut().zip(a.password.bytes()) {
                *d = b;
            }
            let kind = match a.auth_type {
                AuthType::Pass => 1,
                AuthType::Ah => 2,
            };
            (kind, data)
        }
    };
    let destinations = if i.unicast_peers.is_empty() {
        vec![match i.family {
            Family::Ipv4 => IpAddr::V4(config.global.vrrp_mcast_group4),
            Family::Ipv6 => IpAddr::V6(config.global.vrrp_mcast_group6),
        }]
    } else {
        i.unicast_peers.iter().map(|p| p.address).collect()
    };
    let fault_links = primary.is_some().then_some(links);
    let weights = {
        let scripts = i
            .track_scripts
            .iter()
            .chain(group_scripts)
            .filter(|t| t.weight != 0 && defined(&t.name))
            .map(|t| (script_tracker(&t.name), t.weight, t.reverse));
        i.track_interfaces
            .iter()
            .chain(group_links)
            .filter(|t| t.weight != 0 && exists(&t.name))
            .map(|t| (t.name.clone(), t.weight, t.reverse))
            .chain(scripts)
            .collect()
    };
    let owner = |i: &VrrpInstance| i.priority == 255 && i.initial_state == InitialState::Master;
    let starts_master = owner(i)
        && g.is_none_or(|g| {
            config
                .instances
                .iter()
                .filter(|m| g.members.contains(&m.name))
                .all(owner)
        });
    Facts {
        name: i.name.clone(),
        starts_master,
        fault_links,
        addresses: i.virtual_ipaddress.iter().map(|v| v.address).collect(),
        destinations,
        checksum_plain: i.version == 2
            || (i.family == Family::Ipv4 && config.global.v3_checksum_as_v2),
        interface,
        family: i.family,
        vrid: i.virtual_router_id,
        priority: i.priority,
        version: i.version,
        advert_int: i.advert_int,
        down_adverts: i.down_timer_adverts,
        nopreempt: i.nopreempt,
        preempt_delay: i.preempt_delay,
        primary,
        follows: i.unicast_src_ip.is_none() && i.mcast_src_ip.is_none(),
        auth,
        unicast: !i.unicast_peers.is_empty(),
        peer_ttl: i
            .unicast_peers
            .iter()
            .map(|p| (p.address, p.min_ttl, p.max_ttl))
            .collect(),
        group,
        weights,
        judged: i.priority != 255,
        untracked: i
            .track_interfaces
            .iter()
            .chain(group_links)
            .filter(|t| !exists(&t.name))
            .map(|t| t.name.clone())
            .collect(),
        garp: i.garp,
        announce_on: i
            .virtual_ipaddress
            .iter()
            .chain(&i.virtual_ipaddress_excluded)
            .map(|v| {
                v.dev
                    .clone()
                    .unwrap_or_else(|| i.interface.clone().unwrap_or_default())
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}
