//! A foreign VRRP speaker (`Fault::Foreign`): adverts written field by
//! field as the scenario says, right or wrong, sent to the multicast group
//! of their family on a segment and heard by every director's socket
//! there. The speaker is not a host of the topology: partitions do not
//! stop it, a director's link down does.

use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::node::Input;

use crate::oracle::wire::{internet_checksum, pseudo_sum};
use crate::scenario::ForeignAdvert;
use crate::topology::HostKind;

use super::{Ev, Sim};

/// The message's bytes: the header of RFC 3768 / 5798 §5.1 with `a`'s
/// fields, its addresses, v2's authentication data, and the checksum (v3:
/// over the pseudo-header to `dst`), spoilt when `a` says so.
pub(super) fn bytes(a: &ForeignAdvert, dst: IpAddr) -> Vec<u8> {
    let v2 = a.version != 3;
    let mut m = vec![a.version << 4 | (a.kind & 0x0f), a.vrid, a.priority];
    m.push(a.addresses.len() as u8);
    if v2 {
        m.push(a.auth_type);
        m.push(a.interval as u8);
    } else {
        m.extend_from_slice(&(a.interval & 0x0fff).to_be_bytes());
    }
    m.extend_from_slice(&[0, 0]);
    for address in &a.addresses {
        match address {
            IpAddr::V4(v) => m.extend_from_slice(&v.octets()),
            IpAddr::V6(v) => m.extend_from_slice(&v.octets()),
        }
    }
    if v2 {
        let mut data = [0u8; 8];
        for (d, b) in data.iter_mut().zip(a.password.bytes()) {
            *d = b;
        }
        m.extend_from_slice(&data);
    }
    let pseudo = if v2 {
        0
    } else {
        pseudo_sum(a.src, dst, m.len())
    };
    let sum = internet_checksum(pseudo, &m) ^ if a.bad_checksum { 0x5a5a } else { 0 };
    m[6..8].copy_from_slice(&sum.to_be_bytes());
    m
}

impl Sim {
    /// Sends the speaker's next advert on `segment`; `left` counts it.
    pub(super) fn foreign(&mut self, segment: usize, a: ForeignAdvert, left: u32) {
        if left == 0 {
            return;
        }
        let v6 = a.src.is_ipv6();
        let dst = self.world.directors.first().map_or_else(
            || IpAddr::from([224, 0, 0, 18]),
            |d| match v6 {
                false => IpAddr::V4(d.config.global.vrrp_mcast_group4),
                true => IpAddr::V6(d.config.global.vrrp_mcast_group6),
            },
        );
        let message = bytes(&a, dst);
        let mut receivers = Vec::new();
        for &(h, e) in &self.world.topo.segments[segment].members {
            if let HostKind::Director(r) = self.world.topo.hosts[h].kind {
                let interface = &self.world.topo.graph[e].interface;
                if self.world.topo.up(e) && self.world.has_socket(r, interface, v6) {
                    receivers.push((r, interface.clone()));
                }
            }
        }
        for (r, interface) in receivers {
            let input = Input::Packet {
                interface,
                src: a.src,
                dst,
                ttl: a.ttl,
                bytes: message.clone(),
            };
            let ev = Ev::Deliver {
                d: r,
                life: None,
                input,
            };
            self.send(segment, vec![ev]);
        }
        if left == 1 {
            return;
        }
        let next = self.world.now + Duration::from_secs_f64(a.every_ms / 1e3);
        let ev = Ev::Foreign {
            segment,
            advert: Box::new(a),
            left: left - 1,
        };
        self.push(next, ev);
    }
}
