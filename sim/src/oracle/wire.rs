//! What an advert a director sends must look like, byte by byte (RFC 3768
//! §5.1 for v2, RFC 5798 §5.1 for v3, keepalived's choices where they
//! leave one): the oracle lays the message out from the sender's
//! configuration and compares. Its own layout and its own Internet
//! checksum (RFC 1071): a bug in core's codec is not the oracle's, and
//! every director in a simulation runs the same core, so nothing else
//! would notice one that both ends share.

use std::net::IpAddr;

use super::spec::Facts;

/// The IP protocol number of VRRP (the v3 pseudo-header's next header).
const PROTOCOL: u32 = 112;

/// What is wrong with `bytes`, sent from `src` to `dst` with TTL `ttl` by
/// the instance of `f` advertising `priority`; `None` when it is right.
/// The priority is the caller's to judge (trackers move it).
pub fn wrong(f: &Facts, src: IpAddr, dst: IpAddr, ttl: u8, bytes: &[u8]) -> Option<String> {
    if ttl != 255 {
        return Some(format!("sent with TTL {ttl}, not 255"));
    }
    if f.primary.is_some_and(|p| p != src) {
        return Some(format!("sent from {src}, not its address {:?}", f.primary));
    }
    if !f.destinations.contains(&dst) {
        return Some(format!("sent to {dst}, not to {:?}", f.destinations));
    }
    let want = layout(f, src, dst, bytes.get(2).copied().unwrap_or(0));
    if bytes == want.as_slice() {
        return None;
    }
    if bytes.len() != want.len() {
        return Some(format!(
            "{} bytes long, want {} ({} addresses)",
            bytes.len(),
            want.len(),
            f.addresses.len()
        ));
    }
    let at = bytes.iter().zip(&want).position(|(a, b)| a != b)?;
    Some(format!(
        "byte {at} ({}) is {:#04x}, want {:#04x}; sent {}, want {}",
        field(f.version, at),
        bytes[at],
        want[at],
        hex(bytes),
        hex(&want)
    ))
}

/// The advert the instance of `f` sends with `priority`.
pub fn layout(f: &Facts, src: IpAddr, dst: IpAddr, priority: u8) -> Vec<u8> {
    let mut m = vec![
        f.version << 4 | 1,
        f.vrid,
        priority,
        f.addresses.len() as u8,
        0,
        0,
        0,
        0,
    ];
    if f.version == 2 {
        m[4] = f.auth.0;
        m[5] = f.advert_int.as_secs() as u8;
    } else {
        // 4 reserved bits, then Max Adver Int in centiseconds.
        let centis = (f.advert_int.as_millis() / 10) as u16 & 0x0fff;
        m[4..6].copy_from_slice(&centis.to_be_bytes());
    }
    for a in &f.addresses {
        match a {
            IpAddr::V4(v) => m.extend_from_slice(&v.octets()),
            IpAddr::V6(v) => m.extend_from_slice(&v.octets()),
        }
    }
    if f.version == 2 {
        // Authentication Data: the password for type 1, zeros otherwise
        // (keepalived sends its AH data in an IP header we do not model).
        let data = if f.auth.0 == 1 { f.auth.1 } else { [0; 8] };
        m.extend_from_slice(&data);
    }
    let pseudo = if f.checksum_plain {
        0
    } else {
        pseudo_sum(src, dst, m.len())
    };
    let sum = internet_checksum(pseudo, &m);
    m[6..8].copy_from_slice(&sum.to_be_bytes());
    m
}

/// The sum of the v3 pseudo-header (RFC 5798 §5.2.8: the IPv4 one of RFC
/// 768, or IPv6's of RFC 8200 §8.1).
pub fn pseudo_sum(src: IpAddr, dst: IpAddr, len: usize) -> u32 {
    let mut bytes = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&[0, PROTOCOL as u8]);
            bytes.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&(len as u32).to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, PROTOCOL as u8]);
        }
        _ => {}
    }
    words(&bytes)
}

/// The 16-bit one's complement of the one's complement sum (RFC 1071) of
/// `message` and a pseudo-header's sum.
pub fn internet_checksum(pseudo: u32, message: &[u8]) -> u16 {
    let mut sum = u64::from(pseudo) + u64::from(words(message));
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Whether `message` (checksum included) sums to all ones, with the
/// pseudo-header of `src`, `dst` unless `plain`.
pub fn verifies(message: &[u8], plain: bool, src: IpAddr, dst: IpAddr) -> bool {
    let pseudo = if plain {
        0
    } else {
        pseudo_sum(src, dst, message.len())
    };
    internet_checksum(pseudo, message) == 0
}

/// Big-endian 16-bit words, the last padded with a zero byte.
fn words(bytes: &[u8]) -> u32 {
    bytes
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(c.get(1).copied().unwrap_or(0)))
        .sum()
}

/// The name of the field byte `at` belongs to.
fn field(version: u8, at: usize) -> &'static str {
    match at {
        0 => "version and type",
        1 => "VRID",
        2 => "priority",
        3 => "address count",
        4 if version == 2 => "auth type",
        4 | 5 if version == 3 => "max adver int",
        5 => "adver int",
        6 | 7 => "checksum",
        _ => "addresses or authentication data",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use holdfast_core::config::model::Family;

    fn facts(version: u8) -> Facts {
        Facts {
            name: "VI_1".into(),
            interface: "eth0".into(),
            family: Family::Ipv4,
            vrid: 51,
            priority: 150,
            version,
            advert_int: Duration::from_secs(1),
            down_adverts: 3,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            primary: Some("192.168.200.1".parse().unwrap()),
            auth: (1, *b"k@l!ve1\0"),
            unicast: false,
            peer_ttl: Vec::new(),
            follows: true,
            untracked: Vec::new(),
            group: None,
            addresses: vec!["192.168.200.10".parse().unwrap()],
            starts_master: false,
            destinations: vec!["224.0.0.18".parse().unwrap()],
            checksum_plain: version == 2,
            fault_links: Some(vec![("eth0".into(), false)]),
            weights: Vec::new(),
            judged: true,
            garp: Default::default(),
            announce_on: vec!["eth0".into()],
        }
    }

    #[test]
    fn lays_out_a_v2_advert_with_its_password_and_checksum() {
        let f = facts(2);
        let (src, dst) = (f.primary.unwrap(), f.destinations[0]);
        let m = layout(&f, src, dst, 150);
        // Worked by hand: the words 0x2133 0x9601 0x0101 0xc0a8 0xc80a
        // and "k@l!ve1\0" sum to 0x3bfad, fold to 0xbfb0, complement
        // to 0x404f.
        assert_eq!(
            m,
            [
                0x21, 51, 150, 1, 1, 1, 0x40, 0x4f, 192, 168, 200, 10, b'k', b'@', b'l', b'!',
                b'v', b'e', b'1', 0
            ]
        );
        assert!(verifies(&m, true, src, dst));
        assert_eq!(wrong(&f, src, dst, 255, &m), None);
        let mut bad = m.clone();
        bad[2] = 100; // another priority: the checksum no longer fits
        assert!(wrong(&f, src, dst, 255, &bad).unwrap().contains("checksum"));
        assert!(wrong(&f, src, dst, 64, &m).unwrap().contains("TTL"));
    }

    #[test]
    fn a_v3_checksum_covers_the_pseudo_header() {
        let f = facts(3);
        let (src, dst) = (f.primary.unwrap(), f.destinations[0]);
        let m = layout(&f, src, dst, 150);
        assert_eq!(&m[..6], &[0x31, 51, 150, 1, 0, 100]);
        assert!(verifies(&m, false, src, dst));
        assert!(!verifies(&m, true, src, dst));
        assert!(!verifies(&m, false, src, "224.0.0.19".parse().unwrap()));
    }
}
