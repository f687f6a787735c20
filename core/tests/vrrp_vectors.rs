//! Every VRRP advert captured from keepalived 2.2.7 (`testdata/vectors/`)
//! decodes to the fields the capture notes list and re-emits byte for byte,
//! checksum included.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use holdfast_core::config::model::Family;
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::wire::{Packet, Repr, Version};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Parses, checks the checksum variant a keepalived default build sends, and
/// re-emits: the bytes must be identical.
fn roundtrip(message: &[u8], src: IpAddr, dst: IpAddr) -> Repr {
    let packet = Packet::new_checked(message, Family::of(&src)).expect("length");
    let parsed = Repr::parse(&packet, src, dst)
        .unwrap_or_else(|e| panic!("{src} -> {dst}: {e}: {message:02x?}"));
    let expected = match parsed.repr.version {
        Version::V2 => Variant::Plain,
        Version::V3 => Variant::PseudoHeader,
    };
    assert_eq!(parsed.checksum, expected, "keepalived's default checksum");
    let again = parsed.repr.to_bytes(src, dst, parsed.checksum);
    assert_eq!(again, &message[..again.len()], "re-emitted bytes differ");
    parsed.repr
}

#[test]
fn json_vectors_decode_to_their_fields_and_reemit() {
    let text = std::fs::read_to_string(vectors().join("vrrp-adverts.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let adverts = doc["adverts"].as_array().unwrap();
    assert_eq!(adverts.len(), 24);
    for a in adverts {
        let src: IpAddr = a["ip_src"].as_str().unwrap().parse().unwrap();
        let dst: IpAddr = a["ip_dst"].as_str().unwrap().parse().unwrap();
        let bytes = hex(a["vrrp_hex"].as_str().unwrap());
        let repr = roundtrip(&bytes, src, dst);
        let what = a["description"].as_str().unwrap();
        assert_eq!(
            u64::from(repr.version.number()),
            a["version"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(u64::from(repr.vrid), a["vrid"].as_u64().unwrap(), "{what}");
        assert_eq!(
            u64::from(repr.priority),
            a["priority"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            u64::from(repr.adver_int),
            a["advert_int"].as_u64().unwrap(),
            "{what}"
        );
        let addresses: Vec<String> = repr.addresses.iter().map(ToString::to_string).collect();
        let want: Vec<&str> = a["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(addresses, want, "{what}");
        if repr.version == Version::V2 {
            assert_eq!(
                u64::from(repr.auth.kind),
                a["auth_type"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(
                repr.auth.data.to_vec(),
                hex(a["auth_data_hex"].as_str().unwrap()),
                "{what}"
            );
        }
        assert_eq!(a["ttl"].as_u64(), Some(255));
    }
}

/// The VRRP messages in a pcap of Ethernet frames: (src, dst, ttl, message).
fn pcap_vrrp(path: &Path) -> Vec<(IpAddr, IpAddr, u8, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => true,
        0xd4c3b2a1 | 0x4d3cb2a1 => false,
        other => panic!("{}: not a pcap file ({other:#x})", path.display()),
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = data[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    assert_eq!(
        u32_at(20),
        1,
        "{}: link type must be Ethernet",
        path.display()
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let len = u32_at(at + 8) as usize;
        let frame = &data[at + 16..at + 16 + len];
        at += 16 + len;
        let mut eth = 12;
        let mut ethertype = u16::from_be_bytes([frame[eth], frame[eth + 1]]);
        if ethertype == 0x8100 {
            eth += 4;
            ethertype = u16::from_be_bytes([frame[eth], frame[eth + 1]]);
        }
        if ethertype != 0x0800 {
            continue;
        }
        let ip = &frame[eth + 2..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip[9] != 112 {
            continue;
        }
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let src = IpAddr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap());
        let dst = IpAddr::from(<[u8; 4]>::try_from(&ip[16..20]).unwrap());
        out.push((src, dst, ip[8], ip[ihl..total].to_vec()));
    }
    out
}

#[test]
fn every_captured_advert_reemits_byte_for_byte() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [vectors(), vectors().join("captures")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "pcap") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut total = 0;
    let mut priority_zero = 0;
    for f in &files {
        for (src, dst, ttl, message) in pcap_vrrp(f) {
            assert_eq!(ttl, 255, "{}", f.display());
            let repr = roundtrip(&message, src, dst);
            total += 1;
            if repr.priority == 0 {
                priority_zero += 1;
            }
        }
    }
    assert!(files.len() >= 10, "{files:?}");
    assert!(total > 500, "only {total} adverts found");
    assert!(priority_zero > 0, "no priority-0 advert found");
}

/// Every gratuitous ARP keepalived 2.2.7 sent in the captures is built byte
/// for byte from its sender MAC and address.
#[test]
fn garps_are_built_as_keepalived_sends_them() {
    let path = vectors().join("garp.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let garps = json["garps"].as_array().unwrap();
    assert!(!garps.is_empty());
    for g in garps {
        let mac: Vec<u8> = g["sender_mac"]
            .as_str()
            .unwrap()
            .split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let ip: std::net::Ipv4Addr = g["sender_ip"].as_str().unwrap().parse().unwrap();
        let frame = holdfast_core::announce::garp_frame(mac.try_into().unwrap(), ip);
        let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            g["frame_hex"].as_str().unwrap(),
            "{}",
            g["description"]
        );
    }
}
