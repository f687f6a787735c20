//! Link and address events from rtnetlink, turned into core inputs.

use holdfast_core::node::Input;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use tracing::{error, info, warn};

use crate::links;

use super::Daemon;

impl Daemon {
    /// One rtnetlink message: link changes of known interfaces become
    /// `Input::Link`; a VIP someone else removed is put back.
    pub(super) async fn netlink(&mut self, payload: NetlinkPayload<RouteNetlinkMessage>) {
        let NetlinkPayload::InnerMessage(msg) = payload else {
            return;
        };
        match msg {
            RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m) => {
                let (index, _, up) = links::link_state(&m);
                let Some(l) = self.links.iter_mut().find(|l| l.index == index) else {
                    return;
                };
                if l.up != up {
                    l.up = up;
                    let name = l.name.clone();
                    info!("{name}: link {}", if up { "up" } else { "down" });
                    let now = self.core_now();
                    self.node.handle(
                        now,
                        Input::Link {
                            interface: name,
                            up,
                        },
                    );
                }
            }
            RouteNetlinkMessage::NewAddress(m) => {
                if let Some(addr) = links::address_of(&m) {
                    self.address(m.header.index, addr, true);
                }
            }
            RouteNetlinkMessage::DelAddress(m) => {
                let Some(addr) = links::address_of(&m) else {
                    return;
                };
                self.address(m.header.index, addr, false);
                if let Some((inst, vip)) = self.held.get(&(m.header.index, addr)).cloned() {
                    warn!(
                        "({inst}) {addr} was removed by someone else while Master: adding it back"
                    );
                    if let Err(e) = links::add_vip(&self.handle, m.header.index, &vip).await {
                        error!("({inst}) re-adding {addr}: {e}");
                    }
                }
            }
            _ => {}
        }
    }

    /// An address came or went on interface `index`: core follows its
    /// instances' source addresses (its own addresses it ignores).
    fn address(&mut self, index: u32, address: std::net::IpAddr, added: bool) {
        let Some(name) = self
            .links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.clone())
        else {
            return;
        };
        let now = self.core_now();
        self.node.handle(
            now,
            Input::Address {
                interface: name,
                address,
                added,
            },
        );
    }
}
