//! The Internet checksum (RFC 1071) over a VRRP message, with or without the
//! IP pseudo-header, in the variants keepalived sends and accepts.

use std::net::{IpAddr, Ipv4Addr};

/// IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;

/// Which bytes the checksum covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The VRRP message only: VRRPv2 (RFC 3768), and VRRPv3 over IPv4 with
    /// `v3_checksum_as_v2` (RFC 9568).
    Plain,
    /// The message plus the IP pseudo-header of the real source and
    /// destination: VRRPv3 over IPv6 always, over IPv4 by keepalived's default.
    PseudoHeader,
    /// keepalived before 1.3.6 put 224.0.0.18 in the pseudo-header even for
    /// unicast adverts; keepalived still recognises it (`old_unicast_checksum`).
    LegacyUnicast,
}

/// The one's-complement sum of `data` folded into a running 32-bit sum.
fn add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header sum for `variant` (zero for [`Variant::Plain`]).
fn pseudo(variant: Variant, src: IpAddr, dst: IpAddr, len: usize) -> u32 {
    let dst = match (variant, dst) {
        (Variant::Plain, _) => return 0,
        (Variant::LegacyUnicast, IpAddr::V4(_)) => IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
        (_, dst) => dst,
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut sum = add(0, &s.octets());
            sum = add(sum, &d.octets());
            sum + u32::from(PROTOCOL) + len as u32
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut sum = add(0, &s.octets());
            sum = add(sum, &d.octets());
            // RFC 8200 §8.1: 32-bit length, three zero bytes, next header.
            sum + (len as u32 >> 16) + (len as u32 & 0xffff) + u32::from(PROTOCOL)
        }
        // Mixed families cannot be on one packet; sum the message alone.
        _ => 0,
    }
}

/// The checksum of `message` (its checksum field must be zero).
pub fn compute(message: &[u8], variant: Variant, src: IpAddr, dst: IpAddr) -> u16 {
    fold(add(pseudo(variant, src, dst, message.len()), message))
}

/// Whether `message` (checksum field included) verifies under `variant`.
pub fn verify(message: &[u8], variant: Variant, src: IpAddr, dst: IpAddr) -> bool {
    fold(add(pseudo(variant, src, dst, message.len()), message)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071: an odd byte at the end counts as the high byte of a last
    /// word padded with zero.
    #[test]
    fn an_odd_length_pads_its_last_byte_with_zero() {
        let (src, dst) = ("10.0.0.1".parse().unwrap(), "224.0.0.18".parse().unwrap());
        assert_eq!(compute(&[0x01], Variant::Plain, src, dst), !0x0100);
        assert_eq!(
            compute(&[0x12, 0x34, 0x56], Variant::Plain, src, dst),
            !(0x1234 + 0x5600)
        );
    }
}
