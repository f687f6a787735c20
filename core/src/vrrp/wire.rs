//! The VRRP advertisement on the wire, in smoltcp's style: [`Packet`] is a
//! zero-copy view of the bytes after the IP header, with field accessors;
//! [`Repr`] is what they mean, parsed and checked, and `emit`s back to the
//! same bytes, checksum included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Serialize;

use super::checksum::{self, Variant};
use super::Reject;
use crate::config::model::Family;

/// Byte offsets (RFC 3768 §5.1, RFC 5798 §5.1).
mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: authentication type.
    pub const AUTH_TYPE: usize = 4;
    /// v2: advertisement interval in seconds.
    pub const ADVER_INT_V2: usize = 5;
    /// v3: 4 reserved bits and a 12-bit interval in centiseconds.
    pub const ADVER_INT_V3: std::ops::Range<usize> = 4..6;
    pub const CHECKSUM: std::ops::Range<usize> = 6..8;
    pub const ADDRESSES: usize = 8;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 8;
/// Length of the v2 authentication data.
pub const AUTH_LEN: usize = 8;
/// The only message type.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// The IPv4 multicast group.
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group.
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit sent and required.
pub const TTL: u8 = 255;

/// Protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    /// RFC 3768: intervals in seconds, authentication data.
    V2,
    /// RFC 5798 / 9568: intervals in centiseconds, IPv6.
    V3,
}

impl Version {
    /// The version number on the wire.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

fn addr_len(family: Family) -> usize {
    match family {
        Family::Ipv4 => 4,
        Family::Ipv6 => 16,
    }
}

/// A view of VRRP message bytes.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks; accessors may panic on short buffers.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// A view whose accessors are safe for a message of `family`.
    pub fn new_checked(buffer: T, family: Family) -> Result<Self, Reject> {
        let p = Packet::new_unchecked(buffer);
        p.check_len(family)?;
        Ok(p)
    }

    /// Checks that the buffer is exactly the message its header describes
    /// (keepalived's `vrrp_check_packet` compares the lengths first, and
    /// counts any difference in `packet_len_err`), then that the version
    /// is one this codec reads.
    pub fn check_len(&self, family: Family) -> Result<(), Reject> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN || data.len() != self.message_len(family) {
            return Err(Reject::Truncated);
        }
        if !matches!(self.version_number(), 2 | 3) {
            return Err(Reject::BadVersion);
        }
        Ok(())
    }

    /// The message length the header describes (keepalived's
    /// `expected_vrrp_pkt_len`: authentication data for version 2 over
    /// IPv4 only).
    pub fn message_len(&self, family: Family) -> usize {
        let auth = if self.version_number() == 2 && family == Family::Ipv4 {
            AUTH_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(self.count()) * addr_len(family) + auth
    }

    /// The version field.
    pub fn version_number(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The type field.
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// Virtual router id.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// Priority.
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Number of addresses.
    pub fn count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2 authentication type.
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// v2 interval, seconds.
    pub fn adver_int_v2(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT_V2]
    }

    /// v3 maximum interval, centiseconds (the reserved bits masked off).
    pub fn max_adver_int_v3(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([
            d[field::ADVER_INT_V3.start],
            d[field::ADVER_INT_V3.start + 1],
        ]) & 0x0fff
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::CHECKSUM.start], d[field::CHECKSUM.start + 1]])
    }

    /// Address `i` of the list.
    pub fn address(&self, i: usize, family: Family) -> IpAddr {
        let d = self.buffer.as_ref();
        let at = field::ADDRESSES + i * addr_len(family);
        match family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::new(d[at], d[at + 1], d[at + 2], d[at + 3])),
            Family::Ipv6 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&d[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            }
        }
    }

    /// v2 authentication data.
    pub fn auth_data(&self, family: Family) -> [u8; AUTH_LEN] {
        let at = field::ADDRESSES + usize::from(self.count()) * addr_len(family);
        let mut out = [0u8; AUTH_LEN];
        out.copy_from_slice(&self.buffer.as_ref()[at..at + AUTH_LEN]);
        out
    }

    /// The message bytes (without padding).
    pub fn message(&self, family: Family) -> &[u8] {
        &self.buffer.as_ref()[..self.message_len(family)]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Computes and stores the checksum over the first `len` bytes.
    pub fn fill_checksum(&mut self, len: usize, variant: Variant, src: IpAddr, dst: IpAddr) {
        let d = self.bytes_mut();
        d[field::CHECKSUM].fill(0);
        let sum = checksum::compute(&d[..len], variant, src, dst);
        d[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    }
}

/// v2 authentication: the type byte and the 8 data bytes, as sent
/// (keepalived's PASS puts the password there, NUL-padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Auth {
    /// 0 none, 1 simple text password (RFC 2338), 2 IPsec AH.
    pub kind: u8,
    /// The authentication data field.
    pub data: [u8; AUTH_LEN],
}

impl Auth {
    /// No authentication.
    pub const NONE: Auth = Auth {
        kind: 0,
        data: [0; AUTH_LEN],
    };

    /// A simple text password (at most 8 bytes are sent).
    pub fn pass(password: &str) -> Auth {
        let mut data = [0u8; AUTH_LEN];
        let p = password.as_bytes();
        let n = p.len().min(AUTH_LEN);
        data[..n].copy_from_slice(&p[..n]);
        Auth { kind: 1, data }
    }
}

/// A parsed advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Repr {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority (0: the master is leaving; 255: address owner).
    pub priority: u8,
    /// Interval in the version's unit: v2 seconds (8 bits), v3 centiseconds (12 bits).
    pub adver_int: u16,
    /// v2 authentication ([`Auth::NONE`] for v3).
    pub auth: Auth,
    /// Virtual addresses, all of one family.
    pub addresses: Vec<IpAddr>,
}

/// A received message as read, with its type and the checksum variants
/// it verifies with: [`Repr::parse`] accepts only an advertisement that
/// verifies; [`Repr::read`] leaves both to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The advert.
    pub repr: Repr,
    /// Its type field (1: advertisement).
    pub kind: u8,
    /// The first variant that verified, in keepalived's order (the first
    /// it tries, when none verifies: see `verified`).
    pub checksum: Variant,
    /// Every variant that verifies (for some address pairs more than one
    /// does); the instance accepts the advert if its own is among them.
    pub verified: Vec<Variant>,
}

impl Parsed {
    /// Whether the checksum verifies under `variant`.
    pub fn verifies(&self, variant: Variant) -> bool {
        self.verified.contains(&variant)
    }
}

impl Repr {
    /// Parses the message that came from `src` to `dst` (their family is the
    /// message's). Checks length, version, type and checksum; what depends on
    /// an instance's configuration (TTL, VRID, authentication, interval) is
    /// the receiver's to check.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Parsed, Reject> {
        let parsed = Repr::read(packet, src, dst)?;
        if parsed.kind != TYPE_ADVERTISEMENT {
            return Err(Reject::BadType);
        }
        if parsed.verified.is_empty() {
            return Err(Reject::BadChecksum);
        }
        Ok(parsed)
    }

    /// Reads the message that came from `src` to `dst` as far as it can be
    /// read: its length must be exactly what its header says and its
    /// version one this codec knows; its type and checksum are left to the
    /// receiver, which judges them after the authentication and the
    /// interval, in keepalived's order (`Instance::handle_advert`).
    pub fn read<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Parsed, Reject> {
        let family = Family::of(&src);
        if Family::of(&dst) != family {
            return Err(Reject::FamilyMismatch);
        }
        packet.check_len(family)?;
        let version = match packet.version_number() {
            2 => Version::V2,
            3 => Version::V3,
            _ => return Err(Reject::BadVersion),
        };
        if version == Version::V2 && family == Family::Ipv6 {
            // VRRPv2 has no IPv6 (RFC 3768).
            return Err(Reject::BadVersion);
        }
        // keepalived's order: the variant its configuration expects first,
        // then the others it recognises.
        let variants: &[Variant] = match (version, family) {
            (Version::V2, _) => &[Variant::Plain],
            (Version::V3, Family::Ipv4) => &[
                Variant::PseudoHeader,
                Variant::Plain,
                Variant::LegacyUnicast,
            ],
            (Version::V3, Family::Ipv6) => &[Variant::PseudoHeader],
        };
        let message = packet.message(family);
        let verified: Vec<Variant> = variants
            .iter()
            .copied()
            .filter(|v| checksum::verify(message, *v, src, dst))
            .collect();
        let checksum = verified.first().copied().unwrap_or(variants[0]);
        let (adver_int, auth) = match version {
            Version::V2 => (
                u16::from(packet.adver_int_v2()),
                Auth {
                    kind: packet.auth_type(),
                    data: packet.auth_data(family),
                },
            ),
            Version::V3 => (packet.max_adver_int_v3(), Auth::NONE),
        };
        let addresses = (0..usize::from(packet.count()))
            .map(|i| packet.address(i, family))
            .collect();
        Ok(Parsed {
            repr: Repr {
                version,
                vrid: packet.vrid(),
                priority: packet.priority(),
                adver_int,
                auth,
                addresses,
            },
            kind: packet.kind(),
            checksum,
            verified,
        })
    }

    /// The address family (IPv4 when there are no addresses).
    pub fn family(&self) -> Family {
        self.addresses.first().map(Family::of).unwrap_or_default()
    }

    /// The interval as a duration.
    pub fn interval(&self) -> Duration {
        match self.version {
            Version::V2 => Duration::from_secs(u64::from(self.adver_int)),
            Version::V3 => Duration::from_millis(u64::from(self.adver_int) * 10),
        }
    }

    /// Bytes needed to emit it.
    pub fn buffer_len(&self) -> usize {
        let auth = if self.version == Version::V2 {
            AUTH_LEN
        } else {
            0
        };
        HEADER_LEN + self.addresses.len() * addr_len(self.family()) + auth
    }

    /// Writes the message into `packet` (at least [`Repr::buffer_len`] bytes)
    /// with its checksum for `src` → `dst`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
        variant: Variant,
    ) {
        let len = self.buffer_len();
        let d = &mut packet.bytes_mut()[..len];
        d[field::VER_TYPE] = self.version.number() << 4 | TYPE_ADVERTISEMENT;
        d[field::VRID] = self.vrid;
        d[field::PRIORITY] = self.priority;
        d[field::COUNT] = self.addresses.len() as u8;
        match self.version {
            Version::V2 => {
                d[field::AUTH_TYPE] = self.auth.kind;
                d[field::ADVER_INT_V2] = self.adver_int as u8;
            }
            Version::V3 => {
                d[field::ADVER_INT_V3].copy_from_slice(&(self.adver_int & 0x0fff).to_be_bytes())
            }
        }
        let mut at = field::ADDRESSES;
        for a in &self.addresses {
            match a {
                IpAddr::V4(v4) => {
                    d[at..at + 4].copy_from_slice(&v4.octets());
                    at += 4;
                }
                IpAddr::V6(v6) => {
                    d[at..at + 16].copy_from_slice(&v6.octets());
                    at += 16;
                }
            }
        }
        if self.version == Version::V2 {
            d[at..at + AUTH_LEN].copy_from_slice(&self.auth.data);
        }
        packet.fill_checksum(len, variant, src, dst);
    }

    /// The message as a new vector.
    pub fn to_bytes(&self, src: IpAddr, dst: IpAddr, variant: Variant) -> Vec<u8> {
        let mut buf = vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut buf[..]), src, dst, variant);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v2_advert_from_keepalived() {
        // d2, priority 100, VRID 51, PASS "k@l", VIP 10.200.0.10
        // (testdata/vectors/vrrp-adverts.json).
        let bytes = [
            0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x97, 0xb7, 0x0a, 0xc8, 0x00, 0x0a, 0x6b, 0x40,
            0x6c, 0, 0, 0, 0, 0,
        ];
        let (src, dst) = (v4("10.200.0.2"), v4("224.0.0.18"));
        let p = Repr::parse(
            &Packet::new_checked(&bytes[..], Family::Ipv4).unwrap(),
            src,
            dst,
        )
        .unwrap();
        assert_eq!(p.checksum, Variant::Plain);
        assert_eq!(p.repr.version, Version::V2);
        assert_eq!(
            (p.repr.vrid, p.repr.priority, p.repr.adver_int),
            (51, 100, 1)
        );
        assert_eq!(p.repr.auth, Auth::pass("k@l"));
        assert_eq!(p.repr.addresses, [v4("10.200.0.10")]);
        assert_eq!(p.repr.to_bytes(src, dst, Variant::Plain), bytes);
    }

    #[test]
    fn rejections_are_named() {
        let repr = Repr {
            version: Version::V3,
            vrid: 7,
            priority: 100,
            adver_int: 100,
            auth: Auth::NONE,
            addresses: vec![v4("10.0.0.1")],
        };
        let (src, dst) = (v4("10.0.0.2"), v4("224.0.0.18"));
        let good = repr.to_bytes(src, dst, Variant::PseudoHeader);
        let parse = |b: &[u8]| Repr::parse(&Packet::new_unchecked(b), src, dst).map(|p| p.repr);
        assert_eq!(parse(&good), Ok(repr.clone()));
        assert_eq!(parse(&good[..good.len() - 1]), Err(Reject::Truncated));
        assert_eq!(parse(&good[..3]), Err(Reject::Truncated));
        let mut bad = good.clone();
        bad[0] = 0x41;
        assert_eq!(parse(&bad), Err(Reject::BadVersion));
        bad[0] = 0x32;
        assert_eq!(parse(&bad), Err(Reject::BadType));
        let mut bad = good.clone();
        bad[2] ^= 1;
        assert_eq!(parse(&bad), Err(Reject::BadChecksum));
        // Bytes after the message: keepalived's packet_len_err.
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(parse(&padded), Err(Reject::Truncated));
        // The other checksum variants keepalived recognises.
        for variant in [Variant::Plain, Variant::LegacyUnicast] {
            let unicast_dst = v4("10.0.0.1");
            let b = repr.to_bytes(src, unicast_dst, variant);
            let p = Repr::parse(&Packet::new_unchecked(&b[..]), src, unicast_dst).unwrap();
            assert_eq!(p.checksum, variant);
        }
    }

    #[test]
    fn v3_advert_over_ipv6() {
        // VRID 51, priority 100, 1 s, VIP 2001:db8::10, from fe80::1 to
        // ff02::12; checksum over RFC 8200's pseudo-header, computed apart
        // from this code (Python's struct and ipaddress).
        let bytes = [
            0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x3e, 0x7f, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0x10,
        ];
        let src: IpAddr = "fe80::1".parse().unwrap();
        let dst: IpAddr = "ff02::12".parse().unwrap();
        let packet = Packet::new_checked(&bytes[..], Family::Ipv6).unwrap();
        assert_eq!(packet.checksum(), 0x3e7f);
        assert_eq!(
            packet.address(0, Family::Ipv6),
            "2001:db8::10".parse::<IpAddr>().unwrap()
        );
        let p = Repr::parse(&packet, src, dst).unwrap();
        assert_eq!(p.checksum, Variant::PseudoHeader);
        assert_eq!(
            p.repr,
            Repr {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                adver_int: 100,
                auth: Auth::NONE,
                addresses: vec!["2001:db8::10".parse().unwrap()],
            }
        );
        assert_eq!(p.repr.to_bytes(src, dst, Variant::PseudoHeader), bytes);
        // VRRPv2 has no IPv6 (keepalived expects no authentication data
        // after IPv6 addresses, so the length fits and the version does not).
        let mut v2 = bytes.to_vec();
        v2[0] = 0x21;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&v2[..]), src, dst).map(|p| p.repr),
            Err(Reject::BadVersion)
        );
    }
}
