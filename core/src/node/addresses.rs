//! The addresses of the director's interfaces, and what core decides about
//! them:
//!
//! - an instance's source address, as keepalived follows it: the
//!   interface's primary address (IPv4, or the IPv6 link-local one) is the
//!   advert's source unless the configuration names one. When it goes and
//!   another of the family is left, the last one added takes its place;
//!   when none is left the instance goes to FAULT, and the first address
//!   added brings it back (keepalived's `netlink_if_address_filter`);
//! - the addresses found at start (`Input::Found`): a virtual address a
//!   run that did not stop cleanly left on its device is removed;
//! - a Master's virtual address that someone else removed is added again.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::config::model::{Family, VirtualIp};
use crate::time::Instant;
use crate::vrrp::instance::State;

use super::{Node, Output};

/// Addresses per (interface, family); the first is the primary.
#[derive(Debug, Clone, Default)]
pub(super) struct Addresses {
    by_if: BTreeMap<(String, Family), Vec<IpAddr>>,
}

/// Whether keepalived counts `a` as a source candidate: any IPv4 address,
/// only link-local IPv6 ones.
fn candidate(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

impl Addresses {
    /// Starts with each interface's primary addresses.
    pub(super) fn new<'a>(primaries: impl IntoIterator<Item = (&'a str, IpAddr)>) -> Addresses {
        let mut a = Addresses::default();
        for (name, ip) in primaries {
            a.added(name, ip);
        }
        a
    }

    /// The primary address of `interface` for `family`.
    pub(super) fn primary(&self, interface: &str, family: Family) -> Option<IpAddr> {
        self.by_if
            .get(&(interface.to_string(), family))
            .and_then(|v| v.first().copied())
    }

    /// An address appeared; true when it changed the primary (there was
    /// none).
    pub(super) fn added(&mut self, interface: &str, ip: IpAddr) -> bool {
        if !candidate(&ip) {
            return false;
        }
        let list = self
            .by_if
            .entry((interface.to_string(), Family::of(&ip)))
            .or_default();
        if list.contains(&ip) {
            return false;
        }
        list.push(ip);
        list.len() == 1
    }

    /// An address went; true when it was the primary (which is then the
    /// last one added, or none).
    pub(super) fn removed(&mut self, interface: &str, ip: IpAddr) -> bool {
        let Some(list) = self
            .by_if
            .get_mut(&(interface.to_string(), Family::of(&ip)))
        else {
            return false;
        };
        let Some(at) = list.iter().position(|a| *a == ip) else {
            return false;
        };
        if at == 0 {
            let last = list.pop();
            if list.is_empty() {
                return true;
            }
            list[0] = last.expect("the list had two or more");
            return true;
        }
        list.remove(at);
        false
    }
}

impl Node {
    /// The instances whose virtual address `ip` lives on `interface`, with
    /// the address's settings.
    fn vip_owners(&self, interface: &str, ip: IpAddr) -> Vec<(usize, VirtualIp)> {
        self.members
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                m.vips()
                    .filter(move |v| v.address == ip && m.vip_dev(v) == interface)
                    .map(move |v| (i, v.clone()))
            })
            .collect()
    }

    /// An address found at start: a virtual address of ours is stale and
    /// goes; any other is a source candidate.
    pub(super) fn found(&mut self, now: Instant, interface: &str, ip: IpAddr) {
        let owners = self.vip_owners(interface, ip);
        if owners.is_empty() {
            return self.address(now, interface, ip, true);
        }
        // An address owner is Master from the start and keeps it.
        let master = |i: usize| self.members[i].inst.state() == State::Master;
        if owners.iter().any(|(i, _)| master(*i)) {
            return;
        }
        // One removal is enough, whichever instance lists it.
        if let Some((i, vip)) = owners.into_iter().next() {
            self.outputs.push_back(Output::RemoveVip {
                instance: self.members[i].cfg.name.clone(),
                vip,
                dev: interface.to_string(),
            });
        }
    }

    /// An address came or went (see `node/addresses.rs`): instances that
    /// send from their interface's primary address follow it, and go to
    /// FAULT while their interface has none. A Master's virtual address
    /// that someone else removed is added again.
    pub(super) fn address(&mut self, now: Instant, interface: &str, ip: IpAddr, added: bool) {
        if !added {
            let masters: Vec<(usize, VirtualIp)> = self
                .vip_owners(interface, ip)
                .into_iter()
                .filter(|(i, _)| self.members[*i].inst.state() == State::Master)
                .collect();
            if let Some((i, vip)) = masters.into_iter().next() {
                self.outputs.push_back(Output::AddVip {
                    instance: self.members[i].cfg.name.clone(),
                    vip,
                    dev: interface.to_string(),
                });
            }
        }
        // The director's own virtual addresses are never a source.
        if self
            .members
            .iter()
            .any(|m| m.vips().any(|v| v.address == ip))
        {
            return;
        }
        let changed = if added {
            self.addrs.added(interface, ip)
        } else {
            self.addrs.removed(interface, ip)
        };
        if !changed {
            return;
        }
        let family = Family::of(&ip);
        let primary = self.addrs.primary(interface, family);
        for m in &mut self.members {
            if m.cfg.interface.as_deref() != Some(interface)
                || m.cfg.family != family
                || !m.follows_interface()
            {
                continue;
            }
            m.no_address = primary.is_none();
            if let Some(p) = primary.filter(|p| *p != m.inst.settings().primary) {
                m.inst.set_primary(p);
            }
        }
        self.update_trackers(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn losing_the_primary_promotes_the_last_address_added_then_none() {
        let mut a = Addresses::new([("eth0", ip("10.0.0.1"))]);
        assert!(!a.added("eth0", ip("10.0.0.2")));
        assert!(!a.added("eth0", ip("10.0.0.3")));
        assert!(!a.removed("eth0", ip("10.0.0.2")), "not the primary");
        assert!(a.removed("eth0", ip("10.0.0.1")));
        assert_eq!(a.primary("eth0", Family::Ipv4), Some(ip("10.0.0.3")));
        assert!(a.removed("eth0", ip("10.0.0.3")));
        assert_eq!(a.primary("eth0", Family::Ipv4), None);
        assert!(
            a.added("eth0", ip("10.0.0.9")),
            "the first address is the primary"
        );
        assert_eq!(a.primary("eth0", Family::Ipv4), Some(ip("10.0.0.9")));
    }

    #[test]
    fn only_link_local_ipv6_addresses_are_candidates() {
        let mut a = Addresses::default();
        assert!(!a.added("eth0", ip("fd00::1")));
        assert!(a.added("eth0", ip("fe80::1")));
        assert_eq!(a.primary("eth0", Family::Ipv6), Some(ip("fe80::1")));
        assert_eq!(a.primary("eth0", Family::Ipv4), None);
    }
}
