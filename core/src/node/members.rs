//! The VRRP instances of a director, built from the configuration and its
//! interfaces, and the sync groups they form.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{Interface, NodeError};
use crate::config::model::{Config, Family, InitialState, VirtualIp, VrrpInstance};
use crate::vrrp::instance::{Instance, Settings};
use crate::vrrp::stats::Stats;
use crate::vrrp::Reject;

/// One VRRP instance of the director, with what moves its priority and
/// its counters.
pub(super) struct Member {
    pub(super) inst: Instance,
    pub(super) cfg: VrrpInstance,
    pub(super) group: Option<usize>,
    /// (interface, weight, reverse); weight 0 means Fault while down (while
    /// up, reversed); `reverse` negates a weight.
    pub(super) tracked: Vec<(String, i32, bool)>,
    /// Tracked interfaces that did not exist when it was built: not
    /// tracked, as keepalived drops them.
    pub(super) untracked: Vec<String>,
    /// (vrrp_script index, weight, reverse), with the same weight rule.
    pub(super) scripts: Vec<(usize, i32, bool)>,
    /// Its interface has no address of its family to send from: FAULT.
    pub(super) no_address: bool,
    /// Built at start-up and not started yet: a script that can fault it
    /// has no result yet (`Node::start_ready`).
    pub(super) held: bool,
    /// Its dropped adverts by reason.
    pub(super) rejected: BTreeMap<Reject, u64>,
    /// keepalived's counters.
    pub(super) stats: Stats,
}

/// The unspecified address of `family`: a source to be replaced.
fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

impl Member {
    /// Whether its source address follows its interface's addresses (none
    /// is configured).
    pub(super) fn follows_interface(&self) -> bool {
        self.cfg.unicast_src_ip.is_none() && self.cfg.mcast_src_ip.is_none()
    }

    /// Its virtual addresses, excluded ones included.
    pub(super) fn vips(&self) -> impl Iterator<Item = &VirtualIp> {
        self.cfg.vips()
    }

    /// The device an address goes on.
    pub(super) fn vip_dev(&self, v: &VirtualIp) -> String {
        self.cfg.vip_dev(v)
    }
}

/// The members of a configuration, each on its interface's address.
pub(super) fn build_members(
    config: &Config,
    interfaces: &[Interface],
) -> Result<Vec<Member>, NodeError> {
    let mut members = Vec::new();
    let group_of = |name: &str| {
        config
            .sync_groups
            .iter()
            .position(|g| g.members.iter().any(|m| m == name))
    };
    for cfg in &config.instances {
        let ifname = cfg.interface.clone().unwrap_or_default();
        let iface = interfaces.iter().find(|i| i.name == ifname);
        let primary = iface.and_then(|i| match cfg.family {
            Family::Ipv4 => i.ipv4,
            Family::Ipv6 => i.ipv6,
        });
        // An interface without an address of the family: the instance
        // starts in FAULT, as keepalived's "no IPv4 address for interface",
        // until one is added.
        let (primary, no_address) = match (cfg.unicast_src_ip.or(cfg.mcast_src_ip), primary, iface)
        {
            (Some(src), _, _) => (src, false),
            (None, Some(p), _) => (p, false),
            (None, None, Some(_)) => (unspecified(cfg.family), true),
            (None, None, None) => {
                return Err(NodeError::Interface {
                    instance: cfg.name.clone(),
                    interface: ifname,
                    family: cfg.family,
                })
            }
        };
        let group = group_of(&cfg.name);
        let g = group.map(|g| &config.sync_groups[g]);
        // Weights as configured: the configuration reader already applied
        // keepalived's rules for sync groups and owners (a member's
        // weighted scripts dropped without sync_group_tracking_weight, its
        // weighted interfaces kept, as keepalived 2.2.7 runs them).
        let mut tracked = Vec::new();
        if !cfg.dont_track_primary && !ifname.is_empty() {
            tracked.push((ifname.clone(), 0, false));
        }
        let mut untracked = Vec::new();
        for t in cfg
            .track_interfaces
            .iter()
            .chain(g.into_iter().flat_map(|g| g.track_interfaces.iter()))
        {
            // keepalived (without dynamic_interfaces): "tracked interface
            // X doesn't exist", and the entry is dropped, not tracked down.
            if !interfaces.iter().any(|i| i.name == t.name) {
                untracked.push(t.name.clone());
                continue;
            }
            tracked.push((t.name.clone(), t.weight, t.reverse));
        }
        let scripts = cfg
            .track_scripts
            .iter()
            .chain(g.into_iter().flat_map(|g| g.track_scripts.iter()))
            .filter_map(|t| {
                let i = config.vrrp_scripts.iter().position(|s| s.name == t.name)?;
                Some((i, t.weight, t.reverse))
            })
            .collect();
        let mut inst = Instance::new(Settings::from_config(cfg, &config.global, primary));
        inst.set_in_group(group.is_some());
        // keepalived's vrrp_init_state: an address owner that wants MASTER
        // is Master at once, in a sync group only if every member is one
        // (vrrp_sync_set_group starts the group in BACKUP otherwise).
        let owner = |i: &VrrpInstance| i.priority == 255 && i.initial_state == InitialState::Master;
        let at_once = owner(cfg)
            && g.is_none_or(|g| {
                g.members.iter().all(|m| {
                    config
                        .instances
                        .iter()
                        .find(|i| &i.name == m)
                        .is_none_or(owner)
                })
            });
        inst.set_start_master(at_once);
        members.push(Member {
            held: false,
            inst,
            cfg: cfg.clone(),
            group,
            tracked,
            untracked,
            scripts,
            rejected: BTreeMap::new(),
            no_address,
            stats: Stats::default(),
        });
    }
    Ok(members)
}

/// Member indices of each sync group.
pub(super) fn group_members(members: &[Member], groups: usize) -> Vec<Vec<usize>> {
    (0..groups)
        .map(|g| {
            members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.group == Some(g))
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}
