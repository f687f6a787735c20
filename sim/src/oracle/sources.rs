//! The address each instance sends from, followed as keepalived follows
//! its interface's addresses (`netlink_if_address_filter`; docs/
//! keepalived.md): unless the configuration names a source, it is the
//! primary address of its interface for its family (IPv4, or a link-local
//! IPv6 one). When that address goes and another candidate is left, the
//! one added last takes its place; when none was left, the first one
//! added becomes it. What it is decides the advert's source
//! (`advert_format`) and who wins a tie (`election.rs`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use holdfast_core::node::Interface;
use holdfast_core::time::Instant;

use super::Oracle;

/// The candidates of each (interface, IPv6): the primary, and the others
/// in the order they came.
#[derive(Debug, Clone, Default)]
pub(super) struct Sources {
    by_if: BTreeMap<(String, bool), (Option<IpAddr>, Vec<IpAddr>)>,
}

/// Whether keepalived takes `a` as a source: any IPv4 address, and only
/// link-local IPv6 ones.
fn candidate(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

impl Sources {
    /// The addresses the driver listed at the start.
    pub(super) fn new(interfaces: &[Interface]) -> Sources {
        let mut s = Sources::default();
        for i in interfaces {
            for a in [i.ipv4, i.ipv6].into_iter().flatten() {
                s.change(&i.name, a, true);
            }
        }
        s
    }

    /// The primary address of `interface` for the family (`v6`) now.
    pub(super) fn primary(&self, interface: &str, v6: bool) -> Option<IpAddr> {
        self.by_if.get(&(interface.to_string(), v6))?.0
    }

    /// `address` came (`added`) or went; true when the primary changed.
    fn change(&mut self, interface: &str, address: IpAddr, added: bool) -> bool {
        if !candidate(address) {
            return false;
        }
        let key = (interface.to_string(), address.is_ipv6());
        let (primary, others) = self.by_if.entry(key).or_default();
        if added {
            if primary.is_none() {
                *primary = Some(address);
                return true;
            }
            if *primary != Some(address) && !others.contains(&address) {
                others.push(address);
            }
            return false;
        }
        if *primary == Some(address) {
            *primary = others.pop();
            return true;
        }
        others.retain(|a| *a != address);
        false
    }
}

impl Oracle {
    /// An address came to or left director `d`'s `interface` now (core is
    /// told at this instant).
    pub fn address(
        &mut self,
        _now: Instant,
        d: usize,
        interface: &str,
        address: IpAddr,
        added: bool,
    ) {
        let dir = &mut self.dirs[d];
        if dir.sources.change(interface, address, added) {
            dir.follow_sources();
        }
    }
}

impl super::Dir {
    /// Each instance that follows its interface takes the primary address
    /// as its source.
    pub(super) fn follow_sources(&mut self) {
        for f in self.facts.iter_mut().filter(|f| f.follows) {
            let v6 = f.family == holdfast_core::config::model::Family::Ipv6;
            f.primary = self.sources.primary(&f.interface, v6);
        }
    }
}
