//! Rendering checked as text, and the generation parser on literal bytes.

use holdfast_core::config::model::{Family, ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{DestKey, DestParams, ServiceKey, ServiceParams, Table};

use super::generation::parse_generation;
use super::render::*;

fn service(sched: Scheduler, persist: Option<u32>, dests: &[(&str, u16, u32)]) -> Service {
    Service {
        params: ServiceParams {
            scheduler: sched,
            flags: SchedulerFlags::default(),
            persistence_timeout: persist,
            persistence_granularity: None,
        },
        dests: dests
            .iter()
            .map(|(a, port, w)| {
                (
                    DestKey {
                        address: a.parse().expect("address"),
                        port: *port,
                    },
                    DestParams {
                        weight: *w,
                        method: ForwardingMethod::Nat,
                        uthreshold: 0,
                        lthreshold: 0,
                    },
                )
            })
            .collect(),
    }
}

fn key(a: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        address: a.parse().expect("address"),
        port,
        protocol: ProtocolKey::Tcp,
    }
}

fn one(k: ServiceKey, s: Service) -> Table {
    let mut t = Table::default();
    t.services.insert(k, s);
    t
}

#[test]
fn wrr_weights_become_slot_ranges_reduced_by_their_gcd() {
    let t = one(
        key("192.168.200.10", 80),
        service(
            Scheduler::Wrr,
            None,
            &[("192.168.100.2", 80, 4), ("192.168.100.3", 80, 2)],
        ),
    );
    let s = render(&t).script(Some(&Rendered::default()));
    assert!(s.contains("add element inet holdfast s_192_168_200_10_tcp_80 { 1-2 : 192.168.100.2 . 80, 3 : 192.168.100.3 . 80 }"), "{s}");
    assert!(s.contains("add rule inet holdfast cs_192_168_200_10_tcp_80 meta l4proto tcp dnat ip addr . port to numgen inc mod 3 offset 1 map @s_192_168_200_10_tcp_80"), "{s}");
    assert!(s.contains("add element inet holdfast dispatch4 { 192.168.200.10 . tcp . 80 : jump cs_192_168_200_10_tcp_80 }"), "{s}");
}

#[test]
fn rr_ignores_weights_and_weight_zero_takes_no_slot() {
    let t = one(
        key("10.0.0.1", 443),
        service(
            Scheduler::Rr,
            None,
            &[
                ("10.0.1.1", 443, 5),
                ("10.0.1.2", 443, 1),
                ("10.0.1.3", 443, 0),
            ],
        ),
    );
    let s = render(&t).script(Some(&Rendered::default()));
    assert!(
        s.contains("{ 1 : 10.0.1.1 . 443, 2 : 10.0.1.2 . 443 }"),
        "{s}"
    );
    assert!(s.contains("numgen inc mod 2 offset 1"), "{s}");
    assert!(!s.contains("10.0.1.3"), "{s}");
}

#[test]
fn persistence_keeps_each_masked_source_on_its_server() {
    let mut svc = service(
        Scheduler::Wrr,
        Some(50),
        &[("192.168.100.2", 80, 2), ("192.168.100.3", 80, 0)],
    );
    svc.params.persistence_granularity = Some(24);
    let s = render(&one(key("192.168.200.10", 80), svc)).script(None);
    let set2 = "ps_192_168_200_10_tcp_80__192_168_100_2_80";
    let set3 = "ps_192_168_200_10_tcp_80__192_168_100_3_80";
    assert!(s.contains(&format!("add set inet holdfast {set2} {{ type ipv4_addr; size 1048576; flags dynamic,timeout; timeout 50s; }}")), "{s}");
    // Known clients first, even of a server at weight 0 (IPVS keeps
    // their templates); then a slot for new ones.
    assert!(s.contains(&format!("add rule inet holdfast cs_192_168_200_10_tcp_80 ip saddr and 255.255.255.0 @{set3} goto ds_192_168_200_10_tcp_80__192_168_100_3_80")), "{s}");
    assert!(s.contains("add rule inet holdfast cs_192_168_200_10_tcp_80 numgen inc mod 1 offset 1 vmap @s_192_168_200_10_tcp_80"), "{s}");
    assert!(s.contains("add element inet holdfast s_192_168_200_10_tcp_80 { 1 : goto ds_192_168_200_10_tcp_80__192_168_100_2_80 }"), "{s}");
    assert!(s.contains(&format!("add rule inet holdfast ds_192_168_200_10_tcp_80__192_168_100_2_80 meta l4proto tcp update @{set2} {{ ip saddr and 255.255.255.0 }} dnat ip to 192.168.100.2:80")), "{s}");
    assert!(
        !s.contains("meta mark set"),
        "no packet mark is touched: {s}"
    );
}

#[test]
fn an_empty_pool_rejects_and_sh_hashes_the_source() {
    let t = one(
        key("10.0.0.1", 80),
        service(Scheduler::Wrr, None, &[("10.0.1.1", 80, 0)]),
    );
    let s = render(&t).script(Some(&Rendered::default()));
    assert!(
        s.contains("add rule inet holdfast cs_10_0_0_1_tcp_80 reject"),
        "{s}"
    );
    let t = one(
        key("10.0.0.1", 80),
        service(
            Scheduler::Sh,
            None,
            &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
        ),
    );
    assert!(render(&t)
        .script(Some(&Rendered::default()))
        .contains("jhash ip saddr mod 2 seed 0x1 offset 1"));
}

#[test]
fn ipv6_and_fwmark_services_use_their_family() {
    let t = one(
        key("2001:db8::10", 80),
        service(Scheduler::Wrr, None, &[("2001:db8:1::2", 8080, 1)]),
    );
    let s = render(&t).script(Some(&Rendered::default()));
    assert!(s.contains("add element inet holdfast dispatch6 { 2001:db8::10 . tcp . 80 : jump cs_2001_db8_0_0_0_0_0_10_tcp_80 }"), "{s}");
    assert!(s.contains("dnat ip6 addr . port to numgen"), "{s}");
    assert!(s.contains("1 : 2001:db8:1::2 . 8080"), "{s}");
    let t = one(
        ServiceKey::Fwmark {
            mark: 7,
            family: Family::Ipv4,
        },
        service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
    );
    let s = render(&t).script(Some(&Rendered::default()));
    assert!(
        s.contains("add element inet holdfast fwmark4 { 0x7 : jump cs_fwm4_7 }"),
        "{s}"
    );
    assert!(s.contains("add rule inet holdfast cs_fwm4_7 meta l4proto { tcp, udp, sctp } dnat ip addr . port to"), "{s}");
}

#[test]
fn what_nft_cannot_do_is_said_and_not_programmed() {
    let mut svc = service(Scheduler::Wlc, None, &[("10.0.1.1", 80, 1)]);
    let r = render(&one(key("10.0.0.1", 80), svc.clone()));
    assert_eq!(r.chunks.len(), 1);
    assert!(r.warnings[0].contains("runs as wrr"), "{:?}", r.warnings);
    for d in svc.dests.values_mut() {
        d.method = ForwardingMethod::Dr;
    }
    let r = render(&one(key("10.0.0.1", 80), svc));
    assert!(r.chunks.is_empty());
    assert!(r.warnings[0].contains("NAT only"), "{:?}", r.warnings);
    let r = render(&one(
        key("10.0.0.1", 0),
        service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
    ));
    assert!(r.chunks.is_empty() && r.warnings[0].contains("port-0"));
}

#[test]
fn a_fresh_script_builds_all_and_a_change_touches_only_its_service() {
    let t = one(
        key("10.0.0.1", 80),
        service(Scheduler::Rr, None, &[("10.0.1.1", 80, 1)]),
    );
    let r = render(&t);
    let s = r.script(None);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "add table inet holdfast",
            "delete table inet holdfast",
            "add table inet holdfast"
        ]
    );
    assert!(s.contains("vmap @dispatch4"), "{s}");
    assert_eq!(r.script(Some(&r)), "", "nothing changed, nothing sent");

    // From a persistent service on another address to this one: the
    // old one leaves dispatch, its rules go, then its chains and sets.
    let before = render(&one(
        key("10.0.0.9", 80),
        service(Scheduler::Rr, Some(60), &[("10.0.1.1", 80, 1)]),
    ));
    let s = r.script(Some(&before));
    assert!(
        !s.contains("delete table") && !s.contains("prerouting"),
        "{s}"
    );
    let at = |needle: &str| {
        s.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{s}"))
    };
    let out = at("delete element inet holdfast dispatch4 { 10.0.0.9 . tcp . 80 }");
    let flush = at("flush chain inet holdfast cs_10_0_0_9_tcp_80");
    let emptied = at("flush map inet holdfast s_10_0_0_9_tcp_80");
    let chain = at("delete chain inet holdfast ds_10_0_0_9_tcp_80__10_0_1_1_80");
    let set = at("delete set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_1_80");
    let map = at("delete map inet holdfast s_10_0_0_9_tcp_80");
    assert!(
        out < flush && flush < emptied && emptied < chain && chain < set && chain < map,
        "{s}"
    );
    at("add element inet holdfast dispatch4 { 10.0.0.1 . tcp . 80 : jump cs_10_0_0_1_tcp_80 }");

    // A second server joins the persistent service: the first one's
    // set (its clients) stays; no dispatch change.
    let grown = render(&one(
        key("10.0.0.9", 80),
        service(
            Scheduler::Rr,
            Some(60),
            &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
        ),
    ));
    let s = grown.script(Some(&before));
    assert!(!s.contains("delete set"), "{s}");
    assert!(
        s.contains("add set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_2_80"),
        "{s}"
    );
    assert!(!s.contains("dispatch4"), "{s}");
    // Another timeout: the sets are made anew.
    let longer = render(&one(
        key("10.0.0.9", 80),
        service(Scheduler::Rr, Some(90), &[("10.0.1.1", 80, 1)]),
    ));
    let s = longer.script(Some(&before));
    assert!(
        s.contains("delete set inet holdfast ps_10_0_0_9_tcp_80__10_0_1_1_80"),
        "{s}"
    );
    assert!(
        !s.contains("delete map inet holdfast s_10_0_0_9_tcp_80"),
        "{s}"
    );

    // Two services, one changes: the other is not in the script.
    let mut two = t.clone();
    two.services.extend(before_table().services);
    let mut changed = two.clone();
    // (weights 1:1 to 3:1; 5:5 would be the same slots as 1:1)
    if let Some(d) = changed
        .services
        .values_mut()
        .last()
        .unwrap()
        .dests
        .values_mut()
        .next()
    {
        d.weight = 3;
    }
    let (a, b) = (render(&two), render(&changed));
    assert_eq!(b.changes(&a), 1);
    let s = b.script(Some(&a));
    assert!(
        s.contains("cs_10_0_0_9_tcp_80") && !s.contains("10_0_0_1"),
        "{s}"
    );
}

#[test]
fn the_generation_is_read_from_a_newgen_answer() {
    // nlmsghdr (type 10 << 8 | 15), nfgenmsg, then NFTA_GEN_ID = 0x1234.
    let mut m = Vec::new();
    m.extend_from_slice(&28u32.to_ne_bytes());
    m.extend_from_slice(&((10u16 << 8) | 15).to_ne_bytes());
    m.extend_from_slice(&[0; 10]);
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&8u16.to_ne_bytes());
    m.extend_from_slice(&1u16.to_ne_bytes());
    m.extend_from_slice(&0x1234u32.to_be_bytes());
    assert_eq!(parse_generation(&m, (10 << 8) | 15, 1), Some(0x1234));
    // Another message type, or cut short: nothing, no panic.
    assert_eq!(parse_generation(&m, (10 << 8) | 16, 1), None);
    for cut in 0..m.len() {
        let _ = parse_generation(&m[..cut], (10 << 8) | 15, 1);
    }
}

fn before_table() -> Table {
    one(
        key("10.0.0.9", 80),
        service(
            Scheduler::Wrr,
            None,
            &[("10.0.1.1", 80, 1), ("10.0.1.2", 80, 1)],
        ),
    )
}
