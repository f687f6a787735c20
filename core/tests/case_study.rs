//! Director 1 of the case study, field by field: the whole model is spelled
//! out here, so any change in how the file is read shows up as a diff.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use holdfast_core::config::model::*;
use holdfast_core::config::{self, LoadOptions, Severity};
use holdfast_fs::FsLoader;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn vip(a: &str) -> VirtualIp {
    VirtualIp {
        address: ip(a),
        prefix_len: 32,
        broadcast: None,
        dev: None,
        scope: None,
        label: None,
        no_track: false,
    }
}

fn instance(
    name: &str,
    state: InitialState,
    ifname: &str,
    vrid: u8,
    prio: u8,
    vips: &[&str],
) -> VrrpInstance {
    VrrpInstance {
        name: name.into(),
        initial_state: state,
        interface: Some(ifname.into()),
        family: Family::Ipv4,
        virtual_router_id: vrid,
        priority: prio,
        advert_int: secs(1),
        version: 2,
        // `auth_pass k@l!ve1`: `!` starts a comment, as in keepalived.
        authentication: Some(Authentication {
            auth_type: AuthType::Pass,
            password: "k@l".into(),
        }),
        virtual_ipaddress: vips.iter().map(|a| vip(a)).collect(),
        virtual_ipaddress_excluded: vec![],
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        mcast_src_ip: None,
        unicast_src_ip: None,
        unicast_peers: vec![],
        track_interfaces: vec![],
        track_scripts: vec![],
        dont_track_primary: false,
        notify: Notify::default(),
        smtp_alert: false,
        garp: GarpTiming {
            master_delay: secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_delay: secs(5),
            lower_prio_repeat: 5,
        },
        use_vmac: None,
        accept: true,
        down_timer_adverts: 3,
    }
}

fn http(urls: &[(&str, &str)]) -> Checker {
    Checker {
        kind: CheckerKind::HttpGet(HttpCheck {
            urls: urls
                .iter()
                .map(|(path, digest)| Url {
                    path: (*path).into(),
                    digest: Some(Digest::from_hex(digest).unwrap()),
                    status_codes: vec![(200, 299)],
                    virtualhost: None,
                })
                .collect(),
            http_protocol: HttpProtocol::Http10,
            fast_recovery: false,
            virtualhost: None,
            enable_sni: false,
            sni_name: None,
            tls_compliant: false,
        }),
        connect: Connect::default(),
        connect_timeout: secs(3),
        retry: 3,
        delay_before_retry: secs(2),
        warmup: secs(30),
        delay_loop: secs(30),
        alpha: false,
        log_all_failures: false,
    }
}

fn tcp() -> Checker {
    Checker {
        kind: CheckerKind::TcpCheck,
        connect: Connect::default(),
        connect_timeout: secs(3),
        retry: 1,
        delay_before_retry: secs(1),
        warmup: secs(20),
        delay_loop: secs(20),
        alpha: false,
        log_all_failures: false,
    }
}

fn rs(addr: &str, port: u16, weight: u32, checker: Checker) -> RealServer {
    RealServer {
        address: ip(addr),
        port: Some(port),
        weight,
        method: ForwardingMethod::Nat,
        inhibit_on_failure: false,
        notify_up: None,
        notify_down: None,
        uthreshold: None,
        lthreshold: None,
        // keepalived: real servers alert by default.
        smtp_alert: true,
        virtualhost: None,
        checkers: vec![checker],
    }
}

fn vs(
    addr: &str,
    port: u16,
    sched: Scheduler,
    persistence: u32,
    delay: u64,
    sorry: Option<SorryServer>,
    rss: Vec<RealServer>,
) -> VirtualServer {
    VirtualServer {
        key: VsKey::Addr {
            address: ip(addr),
            port,
        },
        protocol: Protocol::Tcp,
        scheduler: sched,
        scheduler_flags: SchedulerFlags::default(),
        method: ForwardingMethod::Nat,
        persistence_timeout: Some(persistence),
        persistence_granularity: None,
        ip_family: None,
        delay_loop: secs(delay),
        sorry_server: sorry,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        alpha: false,
        omega: false,
        ha_suspend: false,
        virtualhost: None,
        smtp_alert: false,
        real_servers: rss,
    }
}

fn group(name: &str, members: &[&str]) -> SyncGroup {
    SyncGroup {
        name: name.into(),
        members: members.iter().map(|m| (*m).into()).collect(),
        notify: Notify::default(),
        smtp_alert: false,
        track_interfaces: vec![],
        track_scripts: vec![],
        sync_group_tracking_weight: false,
    }
}

#[test]
fn director1_model_field_by_field() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director1.conf");
    let loaded = config::load(&path, &FsLoader, &LoadOptions::default());
    let cfg = loaded
        .config
        .clone()
        .unwrap_or_else(|| panic!("{}", loaded.render()));

    let expected = Config {
        global: GlobalDefs {
            router_id: Some("LVS_MAIN".into()),
            notification_email: vec!["admin@domain.com".into(), "0633225522@domain.com".into()],
            notification_email_from: Some("keepalived@domain.com".into()),
            smtp_server: Some(SmtpServer {
                host: "192.168.200.20".into(),
                port: 25,
            }),
            smtp_connect_timeout: secs(30),
            ..GlobalDefs::default()
        },
        vrrp_scripts: vec![],
        sync_groups: vec![
            group("VG1", &["VI_1", "VI_2"]),
            group("VG2", &["VI_3", "VI_4"]),
        ],
        instances: vec![
            instance(
                "VI_1",
                InitialState::Master,
                "eth0",
                51,
                150,
                &["192.168.200.10", "192.168.200.11"],
            ),
            instance(
                "VI_2",
                InitialState::Master,
                "eth1",
                52,
                150,
                &["192.168.100.10"],
            ),
            instance(
                "VI_3",
                InitialState::Backup,
                "eth0",
                53,
                100,
                &["192.168.200.12", "192.168.200.13"],
            ),
            instance(
                "VI_4",
                InitialState::Backup,
                "eth1",
                54,
                100,
                &["192.168.100.11"],
            ),
        ],
        virtual_server_groups: vec![],
        virtual_servers: vec![
            vs(
                "192.168.200.10",
                80,
                Scheduler::Wrr,
                50,
                30,
                Some(SorryServer {
                    address: ip("192.168.100.100"),
                    port: Some(80),
                    method: ForwardingMethod::Nat,
                    inhibit: false,
                }),
                vec![
                    rs(
                        "192.168.100.2",
                        80,
                        2,
                        http(&[
                            ("/testurl/test.jsp", "ec90a42b99ea9a2f5ecbe213ac9eba03"),
                            ("/testurl2/test.jsp", "640205b7b0fc66c1ea91c463fac6334c"),
                        ]),
                    ),
                    rs(
                        "192.168.100.3",
                        80,
                        1,
                        http(&[("/testurl/test.jsp", "640205b7b0fc66c1ea91c463fac6334c")]),
                    ),
                ],
            ),
            vs(
                "192.168.200.12",
                443,
                Scheduler::Rr,
                360,
                20,
                None,
                vec![
                    rs("192.168.100.2", 443, 1, tcp()),
                    rs("192.168.100.3", 443, 1, tcp()),
                ],
            ),
        ],
        ssl: None,
    };
    // Field-by-field diffs are easier to read than one big inequality.
    assert_eq!(cfg.global, expected.global);
    assert_eq!(cfg.sync_groups, expected.sync_groups);
    for (got, want) in cfg.instances.iter().zip(&expected.instances) {
        assert_eq!(got, want, "instance {}", want.name);
    }
    for (got, want) in cfg.virtual_servers.iter().zip(&expected.virtual_servers) {
        assert_eq!(got, want, "virtual server {:?}", want.key);
    }
    assert_eq!(cfg, expected);
    assert_eq!(cfg.global.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 18));

    // What `check` says about it: lvs_id is deprecated, and each `!` in a
    // password is pointed out with the value it leaves.
    let warnings: Vec<(u32, u32, &str)> = loaded
        .diagnostics
        .iter()
        .map(|d| {
            assert_eq!(d.severity, Severity::Warning);
            (d.span.line, d.span.col, d.message.as_str())
        })
        .collect();
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    assert_eq!((warnings[0].0, warnings[0].1), (10, 5));
    assert!(warnings[0].2.contains("lvs_id"));
    for (w, (line, n)) in warnings[1..]
        .iter()
        .zip([(33, 1), (48, 2), (62, 3), (77, 4)])
    {
        assert_eq!((w.0, w.1), (line, 22));
        assert!(
            w.2.contains(&format!("`k@l!ve{n}`")) && w.2.contains("`k@l`"),
            "{}",
            w.2
        );
    }
}

#[test]
fn director2_mirrors_director1() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study");
    let read = |f: &str| {
        config::load(&dir.join(f), &FsLoader, &LoadOptions::default())
            .config
            .unwrap()
    };
    let d1 = read("director1.conf");
    let d2 = read("director2.conf");
    for (a, b) in d1.instances.iter().zip(&d2.instances) {
        assert_eq!(a.virtual_router_id, b.virtual_router_id);
        assert_eq!(a.virtual_ipaddress, b.virtual_ipaddress);
        assert_ne!(a.priority, b.priority);
        assert_ne!(a.initial_state, b.initial_state);
        assert_eq!(u16::from(a.priority) + u16::from(b.priority), 250);
    }
    assert_eq!(d1.virtual_servers, d2.virtual_servers);
    assert_eq!(d1.sync_groups, d2.sync_groups);
}
