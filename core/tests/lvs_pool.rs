//! The desired LVS table for the case study as its real servers fail and
//! return: the sorry server exactly when the quorum is lost.

mod common;

use std::net::IpAddr;
use std::path::Path;

use holdfast_core::config::{self, LoadOptions};
use holdfast_core::lvs::pool::{config_weights, desired, quorum};
use holdfast_core::lvs::table::ProtocolKey;
use holdfast_core::lvs::{diff, DestKey, Op, ServiceKey};
use holdfast_fs::FsLoader;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn case_study() -> config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director1.conf");
    config::load(&path, &FsLoader, &LoadOptions::default())
        .config
        .unwrap()
}

fn http() -> ServiceKey {
    ServiceKey::Addr {
        address: ip("192.168.200.10"),
        port: 80,
        protocol: ProtocolKey::Tcp,
    }
}

/// (address, weight) of the HTTP service's destinations.
fn http_dests(t: &holdfast_core::lvs::Table) -> Vec<(String, u32)> {
    t.services[&http()]
        .dests
        .iter()
        .map(|(k, p)| (k.address.to_string(), p.weight))
        .collect()
}

#[test]
fn sorry_server_exactly_when_both_http_servers_are_down() {
    let cfg = case_study();
    let vs = &cfg.virtual_servers[0];
    let all = desired(
        &cfg,
        &[vec![true, true], vec![true, true]],
        &config_weights(&cfg),
        &[true, true],
    );
    assert_eq!(
        http_dests(&all),
        [
            ("192.168.100.2".to_string(), 2),
            ("192.168.100.3".to_string(), 1)
        ]
    );
    assert_eq!(all.services.len(), 2);

    // Both down: no live weight, the quorum (1) is lost.
    assert!(!quorum(vs, 0, true));
    let down = desired(
        &cfg,
        &[vec![false, false], vec![true, true]],
        &config_weights(&cfg),
        &[false, true],
    );
    assert_eq!(http_dests(&down), [("192.168.100.100".to_string(), 1)]);
    let ops = diff(&all, &down);
    let sorry = DestKey {
        address: ip("192.168.100.100"),
        port: 80,
    };
    assert!(ops
        .iter()
        .any(|o| matches!(o, Op::AddDest(k, d, _) if *k == http() && *d == sorry)));
    assert_eq!(
        ops.len(),
        3,
        "two real servers out, the sorry server in: {ops:?}"
    );

    // 192.168.100.3 (weight 1) returns: 1 >= quorum 1 + hysteresis 0.
    assert!(quorum(vs, 1, false));
    let back = desired(
        &cfg,
        &[vec![false, true], vec![true, true]],
        &config_weights(&cfg),
        &[true, true],
    );
    assert_eq!(http_dests(&back), [("192.168.100.3".to_string(), 1)]);
}

#[test]
fn quorum_with_hysteresis() {
    let mut cfg = case_study();
    let vs = &mut cfg.virtual_servers[0];
    vs.quorum = 3;
    vs.hysteresis = 1;
    assert!(!quorum(vs, 3, false), "gained only at quorum + hysteresis");
    assert!(quorum(vs, 4, false));
    assert!(quorum(vs, 2, true), "kept down to quorum - hysteresis");
    assert!(!quorum(vs, 1, true));
}

#[test]
fn a_misc_dynamic_weight_replaces_the_configured_one() {
    let cfg = case_study();
    let mut weights = config_weights(&cfg);
    weights[0][0] = 7;
    let t = desired(
        &cfg,
        &[vec![true, true], vec![true, true]],
        &weights,
        &[true, true],
    );
    assert_eq!(
        http_dests(&t),
        [
            ("192.168.100.2".to_string(), 7),
            ("192.168.100.3".to_string(), 1)
        ]
    );
}

#[test]
fn inhibit_on_failure_keeps_a_dead_server_at_weight_zero() {
    let mut cfg = case_study();
    cfg.virtual_servers[0].real_servers[0].inhibit_on_failure = true;
    let t = desired(
        &cfg,
        &[vec![false, true], vec![true, true]],
        &config_weights(&cfg),
        &[true, true],
    );
    assert_eq!(
        http_dests(&t),
        [
            ("192.168.100.2".to_string(), 0),
            ("192.168.100.3".to_string(), 1)
        ]
    );
}

#[test]
fn losing_the_quorum_keeps_a_dead_inhibited_server_at_weight_zero() {
    let mut cfg = case_study();
    cfg.virtual_servers[0].real_servers[0].inhibit_on_failure = true;
    // Both down: the quorum is lost; .2 (inhibited) stays at 0 beside the sorry server.
    let t = desired(
        &cfg,
        &[vec![false, false], vec![true, true]],
        &config_weights(&cfg),
        &[false, true],
    );
    assert_eq!(
        http_dests(&t),
        [
            ("192.168.100.2".to_string(), 0),
            ("192.168.100.100".to_string(), 1)
        ]
    );
}

#[test]
fn a_sorry_server_that_is_a_real_server_keeps_its_weight_while_the_quorum_holds() {
    let mut cfg = case_study();
    let vs = &mut cfg.virtual_servers[0];
    let sorry = vs.sorry_server.as_mut().unwrap();
    sorry.address = ip("192.168.100.3");
    sorry.inhibit = true;
    let t = desired(
        &cfg,
        &[vec![true, true], vec![true, true]],
        &config_weights(&cfg),
        &[true, true],
    );
    assert_eq!(
        http_dests(&t),
        [
            ("192.168.100.2".to_string(), 2),
            ("192.168.100.3".to_string(), 1)
        ]
    );
}

#[test]
fn a_virtual_server_group_stands_for_each_address_of_its_ranges_up_to_a_limit() {
    use holdfast_core::lvs::pool::service_keys;
    let cfg = common::read(
        "virtual_server_group G {\n 10.9.0.1-3 80\n 10.10.0.0/15 443\n fwmark 7\n}\nvirtual_server group G {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 10.2.0.1 80 {\n  weight 1\n }\n}\n"
    );
    let keys = service_keys(&cfg, &cfg.virtual_servers[0]);
    let addr = |k: &ServiceKey| match k {
        ServiceKey::Addr { address, port, .. } => Some((address.to_string(), *port)),
        ServiceKey::Fwmark { .. } => None,
    };
    let listed: Vec<_> = keys.iter().filter_map(addr).collect();
    assert_eq!(
        listed[..3],
        [
            ("10.9.0.1".to_string(), 80),
            ("10.9.0.2".to_string(), 80),
            ("10.9.0.3".to_string(), 80)
        ]
    );
    // A /15 is 131,072 addresses: the first 65,536 (a /16) are taken.
    let wide: Vec<_> = listed.iter().filter(|(_, p)| *p == 443).collect();
    assert_eq!(wide.len(), 65_536);
    assert_eq!(wide[0].0, "10.10.0.0");
    assert_eq!(wide[65_535].0, "10.10.255.255");
    assert_eq!(keys.len(), 3 + 65_536 + 1, "and the fwmark");
}
