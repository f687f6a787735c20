//! The simulated network: delay, jitter, loss and duplicates drawn from the
//! one seeded RNG, partitions and link state, adverts and announcements
//! delivered to whoever can hear them.

use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::node::Input;
use holdfast_core::vrrp::instance::Transmit;
use rand::Rng;

use crate::invariants::DUPLICATE_GAP;
use crate::topology::HostKind;

use super::{Ev, Sim};

impl Sim {
    /// A probe's round trip under the server segment's conditions: delay
    /// and jitter each way, and a lost segment costs TCP's initial
    /// retransmission timeout (1 s, RFC 6298).
    pub(super) fn probe_rtt(&mut self, server: usize) -> Duration {
        let seg = self.world.topo.attachments(server).next().map(|(s, _)| s);
        let net = seg
            .map(|s| self.world.topo.segments[s].net)
            .unwrap_or_default();
        let mut ms = 2.0 * net.delay_ms;
        if net.jitter_ms > 0.0 {
            ms +=
                self.rng.random::<f64>() * net.jitter_ms + self.rng.random::<f64>() * net.jitter_ms;
        }
        if net.loss > 0.0 && self.rng.random::<f64>() < net.loss {
            ms += 1000.0;
        }
        Duration::from_secs_f64(ms / 1e3)
    }

    /// Schedules a frame's arrival under the segment's conditions: `evs`
    /// are what the one frame brings (a copy for each socket of the
    /// receiver that hears it), lost, delayed or duplicated together.
    /// When it arrives intact (not lost, no bit flipped, its TTL as sent),
    /// returns when; `None` when it is lost, a bit of it flipped or its TTL
    /// was rewritten.
    pub(super) fn send(
        &mut self,
        seg: usize,
        evs: Vec<Ev>,
    ) -> Option<holdfast_core::time::Instant> {
        let net = self.world.topo.segments[seg].net;
        if net.loss > 0.0 && self.rng.random::<f64>() < net.loss {
            return None;
        }
        let mut delay = Duration::from_secs_f64(net.delay_ms / 1e3);
        if net.jitter_ms > 0.0 {
            delay += Duration::from_secs_f64(self.rng.random::<f64>() * net.jitter_ms / 1e3);
        }
        let now = self.world.now;
        let duplicate = net.duplicate > 0.0 && self.rng.random::<f64>() < net.duplicate;
        // One bit of the frame's VRRP message flipped (drawn only on a
        // segment that corrupts, so other runs keep their random stream).
        let flip = (net.corrupt > 0.0 && self.rng.random::<f64>() < net.corrupt)
            .then(|| self.rng.random::<u32>());
        let mut evs = evs;
        if let Some(ttl) = net.ttl {
            for ev in &mut evs {
                if let Ev::Deliver {
                    input: Input::Packet { ttl: t, .. },
                    ..
                } = ev
                {
                    *t = ttl;
                }
            }
        }
        if let Some(bits) = flip {
            for ev in &mut evs {
                if let Ev::Deliver {
                    input: Input::Packet { bytes, .. },
                    ..
                } = ev
                {
                    let bit = bits as usize % (bytes.len() * 8).max(1);
                    if let Some(b) = bytes.get_mut(bit / 8) {
                        *b ^= 1 << (bit % 8);
                    }
                }
            }
        }
        for ev in evs {
            if duplicate {
                self.push(now + delay + DUPLICATE_GAP, ev.clone());
            }
            self.push(now + delay, ev);
        }
        // A rewritten TTL hides a multicast advert as surely as a flipped
        // bit (a unicast one too, to a peer whose range excludes it).
        (flip.is_none() && net.ttl.is_none_or(|t| t == 255)).then_some(now + delay)
    }

    pub(super) fn transmit(&mut self, d: usize, t: Transmit) {
        let w = &self.world;
        let host = w.directors[d].host;
        let attachment = match &t.interface {
            Some(i) => w.topo.interface(host, i),
            // The socket bound to no interface: the kernel routes by
            // destination, out of the attachment on the peer's segment.
            None => w.topo.attachments(host).find(|&(seg, _)| {
                w.topo.segments[seg].members.iter().any(|&(_, e)| {
                    let a = &w.topo.graph[e];
                    a.ipv4 == Some(t.dst) || a.ipv6 == Some(t.dst)
                })
            }),
        };
        let Some((seg, edge)) = attachment else {
            return;
        };
        if !w.topo.up(edge) {
            return;
        }
        // An advert that left the host (the figure measured on the wire).
        if let Some(&vrid) = t.bytes.get(1) {
            let key = (seg, t.src.is_ipv6(), vrid);
            self.adverts.entry(key).or_default().insert(d, w.now);
        }
        let w = &self.world;
        let v6 = t.dst.is_ipv6();
        let mut receivers = Vec::new();
        if t.dst.is_multicast() {
            for &(h, e) in &w.topo.segments[seg].members {
                if let HostKind::Director(r) = w.topo.hosts[h].kind {
                    let interface = &w.topo.graph[e].interface;
                    if r != d && w.topo.reaches(seg, host, h) && w.has_socket(r, interface, v6) {
                        receivers.push((r, interface.clone()));
                    }
                }
            }
        } else {
            // The director whose interface has the destination address.
            for (r, dir) in w.directors.iter().enumerate().filter(|(r, _)| *r != d) {
                for (s, e) in w.topo.attachments(dir.host) {
                    let a = &w.topo.graph[e];
                    if a.ipv4 == Some(t.dst) || a.ipv6 == Some(t.dst) {
                        let ok = if s == seg {
                            w.topo.reaches(seg, host, dir.host)
                        } else {
                            a.up
                        };
                        // A copy to each socket that hears it: the one on
                        // the interface, and the one bound to none.
                        for name in [a.interface.as_str(), ""] {
                            if ok && w.has_socket(r, name, v6) {
                                receivers.push((r, name.to_string()));
                            }
                        }
                    }
                }
            }
        }
        // One frame per receiving director, whatever sockets hear it there.
        let mut frames: Vec<(usize, Vec<Ev>)> = Vec::new();
        for (r, interface) in receivers {
            let input = Input::Packet {
                interface,
                src: t.src,
                dst: t.dst,
                ttl: t.ttl,
                bytes: t.bytes.clone(),
            };
            let ev = Ev::Deliver {
                d: r,
                life: None,
                input,
            };
            match frames.iter_mut().find(|(x, _)| *x == r) {
                Some((_, evs)) => evs.push(ev),
                None => frames.push((r, vec![ev])),
            }
        }
        let vrid = t.bytes.get(1).copied().unwrap_or(0);
        for (r, evs) in frames {
            // What `single_master` needs to know: whether the receiver
            // heard the sender (an intact advert), or the network hid it.
            let key = (seg, t.src.is_ipv6(), vrid, d, r);
            match self.send(seg, evs) {
                Some(at) => self.world.heard.insert(key, at),
                None => self.world.hidden.insert(key, self.world.now),
            };
        }
    }

    /// Gratuitous ARPs reach the clients on the interface's segment; a
    /// client misses the announcement only if all `count` are lost.
    pub(super) fn announce(&mut self, d: usize, interface: &str, addresses: &[IpAddr], count: u32) {
        let host = self.world.directors[d].host;
        let Some((seg, edge)) = self.world.topo.interface(host, interface) else {
            return;
        };
        if !self.world.topo.up(edge) {
            return;
        }
        let loss = self.world.topo.segments[seg].net.loss;
        let targets: Vec<usize> = (0..self.world.clients.len())
            .filter(|&c| {
                let cl = &self.world.clients[c];
                cl.segment == seg && self.world.topo.reaches(seg, host, cl.host)
            })
            .collect();
        for c in targets {
            if loss > 0.0 && (0..count.max(1)).all(|_| self.rng.random::<f64>() < loss) {
                continue;
            }
            for &address in addresses {
                let ev = Ev::Garp {
                    client: c,
                    address,
                    owner: d,
                };
                let net = self.world.topo.segments[seg].net;
                let delay = Duration::from_secs_f64(net.delay_ms / 1e3);
                self.push(self.world.now + delay, ev);
            }
        }
    }
}
