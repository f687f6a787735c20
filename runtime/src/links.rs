//! rtnetlink: learn the interfaces (index, MAC, primary addresses, link
//! state), add and remove virtual addresses, and hear about link and
//! address changes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::stream::TryStreamExt;
use holdfast_core::config::model::{Scope, VirtualIp};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::AddressFamily;
use rtnetlink::Handle;

/// An interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address.
    pub mac: [u8; 6],
    /// Administratively up with carrier.
    pub up: bool,
    /// Primary IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// Link-local IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// Every address on it, as discovered.
    pub addresses: Vec<IpAddr>,
}

impl Link {
    /// An address appeared: the first primary one of each family becomes
    /// the one adverts come from.
    pub fn learn(&mut self, a: IpAddr, secondary: bool) {
        if !self.addresses.contains(&a) {
            self.addresses.push(a);
        }
        if !is_source_kind(a, secondary) {
            return;
        }
        match a {
            IpAddr::V4(a) if self.ipv4.is_none() => self.ipv4 = Some(a),
            IpAddr::V6(a) if self.ipv6.is_none() => self.ipv6 = Some(a),
            _ => {}
        }
    }

    /// An address went.
    pub fn forget(&mut self, a: IpAddr) {
        self.addresses.retain(|x| *x != a);
        if self.ipv4.map(IpAddr::V4) == Some(a) {
            self.ipv4 = None;
        }
        if self.ipv6.map(IpAddr::V6) == Some(a) {
            self.ipv6 = None;
        }
    }
}

/// What a link message says about a link: index, name, up.
pub fn link_state(msg: &LinkMessage) -> (u32, Option<String>, bool) {
    let name = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    });
    let flags = msg.header.flags;
    let up = flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::LowerUp);
    (msg.header.index, name, up)
}

/// The interface a link message describes, without its addresses.
pub fn link_of(msg: &LinkMessage) -> Link {
    let (index, name, up) = link_state(msg);
    let mac = msg
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::Address(m) if m.len() == 6 => {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(m);
                Some(mac)
            }
            _ => None,
        })
        .unwrap_or_default();
    Link {
        index,
        name: name.unwrap_or_default(),
        mac,
        up,
        ipv4: None,
        ipv6: None,
        addresses: Vec::new(),
    }
}

/// Whether an address message is about a secondary address.
pub fn is_secondary(msg: &AddressMessage) -> bool {
    msg.header
        .flags
        .contains(netlink_packet_route::address::AddressHeaderFlags::Secondary)
}

/// Whether `a` is the kind of address adverts come from: the first
/// primary IPv4 address, or a link-local IPv6 one.
pub fn is_source_kind(a: IpAddr, secondary: bool) -> bool {
    match a {
        IpAddr::V4(_) => !secondary,
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// The address a message is about.
pub fn address_of(msg: &AddressMessage) -> Option<IpAddr> {
    // IFA_LOCAL is the interface's own address on point-to-point links;
    // IFA_ADDRESS otherwise.
    let mut address = None;
    for a in &msg.attributes {
        match a {
            AddressAttribute::Local(ip) => return Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    address
}

/// Every interface with its addresses.
pub async fn discover(handle: &Handle) -> Result<Vec<Link>, rtnetlink::Error> {
    let mut links = Vec::new();
    let mut stream = handle.link().get().execute();
    while let Some(msg) = stream.try_next().await? {
        links.push(link_of(&msg));
    }
    let mut addrs = handle.address().get().execute();
    while let Some(msg) = addrs.try_next().await? {
        let Some(link) = links.iter_mut().find(|l| l.index == msg.header.index) else {
            continue;
        };
        if let Some(a) = address_of(&msg) {
            link.learn(a, is_secondary(&msg));
        }
    }
    Ok(links)
}

fn scope(s: Option<Scope>) -> AddressScope {
    match s {
        None | Some(Scope::Global) => AddressScope::Universe,
        Some(Scope::Site) => AddressScope::Site,
        Some(Scope::Link) => AddressScope::Link,
        Some(Scope::Host) => AddressScope::Host,
        Some(Scope::Nowhere) => AddressScope::Nowhere,
    }
}

/// The message describing `vip` on interface `index`.
fn message(index: u32, vip: &VirtualIp) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.index = index;
    m.header.prefix_len = vip.prefix_len;
    m.header.scope = scope(vip.scope);
    m.header.family = match vip.address {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    m.attributes.push(AddressAttribute::Address(vip.address));
    if vip.address.is_ipv4() {
        m.attributes.push(AddressAttribute::Local(vip.address));
    }
    if let (Some(label), IpAddr::V4(_)) = (&vip.label, vip.address) {
        m.attributes.push(AddressAttribute::Label(label.clone()));
    }
    if let Some(IpAddr::V4(b)) = vip.broadcast {
        m.attributes.push(AddressAttribute::Broadcast(b));
    }
    if vip.address.is_ipv6() {
        // As keepalived: a VIP is usable at once, not after duplicate
        // address detection (which the old Master's copy would fail).
        m.attributes.push(AddressAttribute::Flags(
            netlink_packet_route::address::AddressFlags::Nodad,
        ));
    }
    m
}

/// Adds a virtual address (an address already there is fine).
pub async fn add_vip(handle: &Handle, index: u32, vip: &VirtualIp) -> Result<(), rtnetlink::Error> {
    let mut req = handle
        .address()
        .add(index, vip.address, vip.prefix_len)
        .replace();
    *req.message_mut() = message(index, vip);
    req.execute().await
}

/// Removes a virtual address (one already gone is fine).
pub async fn remove_vip(
    handle: &Handle,
    index: u32,
    vip: &VirtualIp,
) -> Result<(), rtnetlink::Error> {
    match handle.address().del(message(index, vip)).execute().await {
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EADDRNOTAVAIL => Ok(()),
        other => other,
    }
}
