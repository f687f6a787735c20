//! The frames that tell a LAN where a virtual address now lives: a
//! gratuitous ARP request (IPv4) and an unsolicited neighbour
//! advertisement (IPv6), byte for byte as keepalived 2.2.7 sends them
//! (`testdata/vectors/garp.json`). Pure functions; the daemon sends them.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A gratuitous ARP: an Ethernet broadcast ARP request whose sender and
/// target address are both `address`, sender hardware address `mac`, and
/// target hardware address ff:ff:ff:ff:ff:ff (as keepalived, not zeros).
pub fn garp_frame(mac: [u8; 6], address: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&address.octets());
    f[32..38].copy_from_slice(&[0xff; 6]);
    f[38..42].copy_from_slice(&address.octets());
    f
}

/// An unsolicited neighbour advertisement for `target` (RFC 4861 §7.2.6):
/// the ICMPv6 message to send to ff02::1 with hop limit 255, Override set,
/// and the target link-layer address option. The checksum is left 0: the
/// kernel fills it in for ICMPv6 raw sockets.
pub fn unsolicited_na(mac: [u8; 6], target: Ipv6Addr) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // neighbour advertisement
    m[4] = 0x20; // Override
    m[8..24].copy_from_slice(&target.octets());
    m[24] = 2; // target link-layer address
    m[25] = 1; // in units of 8 bytes
    m[26..32].copy_from_slice(&mac);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsolicited_na_carries_the_target_and_our_mac() {
        let m = unsolicited_na([2, 0, 0, 0, 0, 1], "2001:db8::10".parse().unwrap());
        assert_eq!(m[0], 136);
        assert_eq!(m[4], 0x20);
        assert_eq!(&m[8..10], &[0x20, 0x01]);
        assert_eq!(&m[24..32], &[2, 1, 2, 0, 0, 0, 0, 1]);
    }
}
