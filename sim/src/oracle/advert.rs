//! The fields of a VRRP advertisement the election rules read, taken from
//! the bytes as RFC 3768 §5.1 (v2) and RFC 5798 §5.1 (v3) lay them out.
//! The oracle reads them itself rather than through core's codec, so a
//! codec bug is not also the oracle's.

use std::net::IpAddr;

use super::wire;

/// An advert as the oracle reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// The IP source.
    pub src: IpAddr,
    /// The version field (2 or 3 in a good one).
    pub version: u8,
    /// The type field (1: advertisement).
    pub kind: u8,
    /// Whether the message is exactly as long as its header says
    /// (keepalived's `expected_vrrp_pkt_len`: 8 bytes, the addresses, and
    /// for version 2 over IPv4 the 8 bytes of authentication data).
    pub length_ok: bool,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// v2: Adver Int in seconds; v3: Max Adver Int in centiseconds.
    pub interval_field: u16,
    /// v2 authentication type.
    pub auth_type: u8,
    /// v2 authentication data (a type-1 password).
    pub auth_data: [u8; 8],
    /// The addresses it lists, as far as the message holds them (its
    /// count is byte 3).
    pub addresses: Vec<IpAddr>,
    /// How many addresses its header says it lists.
    pub count: usize,
    /// Whether its checksum verifies without a pseudo-header, with the
    /// pseudo-header of its destination, and with that of the multicast
    /// group in place of a unicast destination (keepalived before 1.3.6).
    pub sums: Sums,
}

/// Which checksum variants an advert verifies under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sums {
    /// No pseudo-header (v2; v3 over IPv4 with `vrrp_v3_checksum_as_v2`).
    pub plain: bool,
    /// RFC 5798's pseudo-header.
    pub pseudo: bool,
    /// The pseudo-header with 224.0.0.18 as destination.
    pub legacy: bool,
}

impl Advert {
    /// Reads `bytes` (the VRRP message, after the IP header) from `src` to
    /// `dst`, whatever its type, version and length say; `None` if it is
    /// shorter than the 8-byte header (keepalived drops it unread).
    pub fn read(src: IpAddr, dst: IpAddr, bytes: &[u8]) -> Option<Advert> {
        let header = bytes.get(..8)?;
        let version = header[0] >> 4;
        let count = usize::from(header[3]);
        let v4 = src.is_ipv4();
        let expected = 8 + count * if v4 { 4 } else { 16 } + if version == 2 && v4 { 8 } else { 0 };
        let (interval_field, auth_type, auth_data) = if version == 2 {
            // Addresses (4 bytes each) then 8 bytes of authentication data.
            let at = 8 + 4 * count;
            let mut data = [0u8; 8];
            if let Some(d) = bytes.get(at..at + 8) {
                data.copy_from_slice(d);
            }
            (u16::from(header[5]), header[4], data)
        } else {
            let field = u16::from_be_bytes([header[4], header[5]]) & 0x0fff;
            (field, 0, [0; 8])
        };
        // The addresses follow the 8-byte header, 4 or 16 bytes each.
        let width = if v4 { 4 } else { 16 };
        let addresses = (0..count)
            .map_while(|n| bytes.get(8 + n * width..8 + (n + 1) * width))
            .map(|b| match <[u8; 4]>::try_from(b) {
                Ok(four) => IpAddr::from(four),
                Err(_) => IpAddr::from(<[u8; 16]>::try_from(b).expect("16 bytes")),
            })
            .collect();
        let group = IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18));
        let sums = Sums {
            plain: wire::verifies(bytes, true, src, dst),
            pseudo: wire::verifies(bytes, false, src, dst),
            legacy: src.is_ipv4() && wire::verifies(bytes, false, src, group),
        };
        Some(Advert {
            src,
            sums,
            version,
            kind: header[0] & 0x0f,
            length_ok: bytes.len() == expected,
            vrid: header[1],
            priority: header[2],
            interval_field,
            auth_type,
            auth_data,
            addresses,
            count,
        })
    }

    /// The v3 interval it carries, if any (a backup adopts it).
    pub fn v3_interval(&self) -> Option<std::time::Duration> {
        (self.version == 3 && self.interval_field > 0)
            .then(|| std::time::Duration::from_millis(u64::from(self.interval_field) * 10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_v2_advert_with_its_password_and_a_v3_one() {
        // v2, VRID 51, priority 150, 2 addresses, auth type 1, interval 1.
        let mut v2 = vec![0x21, 51, 150, 2, 1, 1, 0, 0];
        v2.extend_from_slice(&[192, 168, 200, 10, 192, 168, 200, 11]);
        v2.extend_from_slice(b"k@l!ve1\0");
        let src: IpAddr = "192.168.200.1".parse().unwrap();
        let dst: IpAddr = "224.0.0.18".parse().unwrap();
        let a = Advert::read(src, dst, &v2).unwrap();
        assert_eq!((a.version, a.vrid, a.priority), (2, 51, 150));
        assert_eq!((a.interval_field, a.auth_type), (1, 1));
        assert_eq!(&a.auth_data, b"k@l!ve1\0");
        let listed: Vec<IpAddr> = vec![
            "192.168.200.10".parse().unwrap(),
            "192.168.200.11".parse().unwrap(),
        ];
        assert_eq!((a.count, &a.addresses), (2, &listed));
        // Its checksum field is zero: it verifies under no variant.
        assert!(!a.sums.plain && !a.sums.pseudo && !a.sums.legacy);
        // v3, VRID 7, priority 100, max adver int 100 cs (1 s).
        let v3 = [0x31, 7, 100, 0, 0x00, 100, 0, 0];
        let b = Advert::read(src, dst, &v3).unwrap();
        assert_eq!(b.v3_interval(), Some(std::time::Duration::from_secs(1)));
        assert!(a.length_ok && b.length_ok && (a.kind, b.kind) == (1, 1));
        // Another type, read all the same; one byte more than its header
        // says; shorter than a header.
        let c = Advert::read(src, dst, &[0x22, 7, 100, 0, 0, 100, 0, 0]).unwrap();
        assert_eq!((c.kind, c.version), (2, 2));
        assert!(!c.length_ok, "a v2 header without its authentication data");
        let mut long = v3.to_vec();
        long.push(0);
        assert!(!Advert::read(src, dst, &long).unwrap().length_ok);
        assert!(Advert::read(src, dst, &v3[..5]).is_none());
    }
}
