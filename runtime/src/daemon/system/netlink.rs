//! Link and address events from rtnetlink, turned into core inputs. The
//! kernel follows interfaces by name, as keepalived does: one that is
//! deleted is down for core (its instances go to FAULT) and its sockets
//! close; one created again under the same name (a new index) gets its
//! sockets back, and core sees it come up and its addresses arrive.

use holdfast_core::node::Input;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use tracing::{error, info, warn};

use crate::links;

use super::System;

impl System {
    /// One rtnetlink message; the inputs it makes join the queue.
    pub(super) fn netlink(&mut self, payload: NetlinkPayload<RouteNetlinkMessage>) {
        let NetlinkPayload::InnerMessage(msg) = payload else {
            return;
        };
        match msg {
            RouteNetlinkMessage::NewLink(m) => self.new_link(links::link_of(&m)),
            RouteNetlinkMessage::DelLink(m) => self.del_link(m.header.index),
            RouteNetlinkMessage::NewAddress(m) => {
                if let Some(addr) = links::address_of(&m) {
                    let secondary = links::is_secondary(&m);
                    self.address(m.header.index, addr, true, secondary);
                }
            }
            RouteNetlinkMessage::DelAddress(m) => {
                let Some(addr) = links::address_of(&m) else {
                    return;
                };
                // Core decides whether a Master puts it back.
                if let Some((inst, _)) = self.held.remove(&(m.header.index, addr)) {
                    warn!("({inst}) {addr} was removed by someone else while Master");
                }
                self.address(m.header.index, addr, false, false);
            }
            _ => {}
        }
    }

    fn send(&self, input: Input) {
        // The receiver lives as long as the kernel: sending cannot fail.
        let _ = self.tx.send((input, None));
    }

    /// A link appeared or changed.
    fn new_link(&mut self, link: links::Link) {
        if let Some(l) = self.links.iter_mut().find(|l| l.index == link.index) {
            if l.up != link.up {
                l.up = link.up;
                info!("{}: link {}", l.name, if link.up { "up" } else { "down" });
                let input = Input::Link {
                    interface: l.name.clone(),
                    up: link.up,
                };
                self.send(input);
            }
            return;
        }
        // A new index: an interface created (again) since start.
        let name = link.name.clone();
        let up = link.up;
        let was_known = self.links.iter().any(|l| l.name == name);
        self.links.retain(|l| l.name != name);
        self.links.push(link);
        let wanted: Vec<bool> = self
            .needs
            .sockets
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v6)| *v6)
            .collect();
        let named = !wanted.is_empty() || self.needs.vip_devs.contains(&name);
        if !was_known && !named {
            return;
        }
        info!(
            "{name}: interface added (index {})",
            self.links.last().map_or(0, |l| l.index)
        );
        self.announcers.remove(&name);
        for v6 in wanted {
            if let Err(e) = self.open_socket(&name, v6) {
                error!("{e}");
            }
        }
        if named {
            if let Err(e) = self.open_announcer(&name) {
                error!("{e}");
            }
        }
        self.send(Input::Link {
            interface: name,
            up,
        });
    }

    /// A link was deleted: down for core, its sockets closed; the name is
    /// remembered, with no index, until it comes back.
    fn del_link(&mut self, index: u32) {
        let Some(l) = self.links.iter_mut().find(|l| l.index == index) else {
            return;
        };
        let name = l.name.clone();
        info!("{name}: interface deleted");
        l.index = 0;
        l.up = false;
        l.ipv4 = None;
        l.ipv6 = None;
        let gone = std::mem::take(&mut l.addresses);
        self.announcers.remove(&name);
        self.close_sockets(|(n, _)| *n != name);
        self.held.retain(|(i, _), _| *i != index);
        self.send(Input::Link {
            interface: name.clone(),
            up: false,
        });
        for address in gone {
            self.send(Input::Address {
                interface: name.clone(),
                address,
                added: false,
            });
        }
    }

    /// An address came or went on interface `index`: core follows its
    /// instances' source addresses (its own addresses it ignores).
    fn address(&mut self, index: u32, address: std::net::IpAddr, added: bool, secondary: bool) {
        let Some(l) = self.links.iter_mut().find(|l| l.index == index) else {
            return;
        };
        if added {
            l.learn(address, secondary);
        } else {
            l.forget(address);
        }
        let input = Input::Address {
            interface: l.name.clone(),
            address,
            added,
        };
        self.send(input);
    }
}
