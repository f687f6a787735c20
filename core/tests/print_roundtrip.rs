//! Property: for any valid model, printing it as keepalived syntax and
//! reading that text back gives the same model.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use holdfast_core::config::model::*;
use holdfast_core::config::{self, printer, LoadOptions, MemLoader};
use proptest::prelude::*;
use proptest::sample::select;

/// Text with the characters that need quoting (space, `#`, `!`, braces, quotes).
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_./:@-][a-zA-Z0-9_./:@!# {}\"\\\\-]{0,10}"
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.]{0,6}"
}

fn micros(max_secs: u64) -> impl Strategy<Value = Duration> {
    (0..=max_secs * 1_000_000).prop_map(Duration::from_micros)
}

fn positive_micros(max_secs: u64) -> impl Strategy<Value = Duration> {
    (1..=max_secs * 1_000_000).prop_map(Duration::from_micros)
}

fn whole_secs(max: u64) -> impl Strategy<Value = Duration> {
    (0..=max).prop_map(Duration::from_secs)
}

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n)))
}

fn addr(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::Ipv4 => v4().boxed(),
        Family::Ipv6 => v6().boxed(),
    }
}

fn any_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4(), v6()]
}

fn script() -> impl Strategy<Value = Script> {
    (
        text(),
        proptest::option::of((word(), proptest::option::of(word()))),
    )
        .prop_map(|(command, u)| {
            let (user, group) = match u {
                Some((u, g)) => (Some(u), g),
                None => (None, None),
            };
            Script {
                command,
                user,
                group,
            }
        })
}

fn garp() -> impl Strategy<Value = GarpTiming> {
    (
        whole_secs(1000),
        0..=1000u32,
        proptest::option::of((1..=86_400u64).prop_map(Duration::from_secs)),
        1..=1000u32,
        whole_secs(1000),
        0..=1000u32,
    )
        .prop_map(
            |(
                master_delay,
                master_repeat,
                master_refresh,
                master_refresh_repeat,
                lower_prio_delay,
                lower_prio_repeat,
            )| {
                GarpTiming {
                    master_delay,
                    master_repeat,
                    master_refresh,
                    master_refresh_repeat,
                    lower_prio_delay,
                    lower_prio_repeat,
                }
            },
        )
}

fn global() -> impl Strategy<Value = GlobalDefs> {
    (
        (
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(text()),
            proptest::option::of(
                (text(), any::<u16>()).prop_map(|(host, port)| SmtpServer { host, port }),
            ),
            proptest::option::of(text()),
            (1_000_000..=3600u64 * 1_000_000).prop_map(Duration::from_micros),
        ),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            2..=3u8,
            garp(),
            micros(1),
            micros(1),
            1..=100u32,
        ),
        (
            proptest::option::of(
                (word(), proptest::option::of(word()))
                    .prop_map(|(user, group)| ScriptUser { user, group }),
            ),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(|(a, b, c)| GlobalDefs {
            router_id: a.0,
            notification_email: a.1,
            notification_email_from: a.2,
            smtp_server: a.3,
            smtp_helo_name: a.4,
            smtp_connect_timeout: a.5,
            smtp_alert: b.0,
            smtp_alert_vrrp: b.1,
            smtp_alert_checker: b.2,
            no_email_faults: c.2,
            no_checker_emails: c.4,
            vrrp_version: b.3,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: "ff02::12".parse().unwrap(),
            garp: b.4,
            vrrp_garp_interval: b.5,
            vrrp_gna_interval: b.6,
            vrrp_down_timer_adverts: b.7,
            script_user: c.0,
            enable_script_security: c.1,
            // Strict mode forbids authentication; the instance generator
            // below knows nothing of it, so keep it off here and test it by hand.
            vrrp_strict: false,
            v3_checksum_as_v2: c.3,
        })
}

fn vrrp_script(i: usize) -> impl Strategy<Value = VrrpScript> {
    (
        script(),
        positive_micros(100),
        positive_micros(100),
        -253..=253i32,
        any::<bool>(),
        1..=10u32,
        1..=10u32,
        any::<bool>(),
    )
        .prop_map(
            move |(script, interval, timeout, weight, reverse, rise, fall, init_fail)| VrrpScript {
                name: format!("chk {i}"),
                script,
                interval,
                timeout,
                weight,
                reverse,
                rise,
                fall,
                init_fail,
            },
        )
}

fn vip(family: Family) -> impl Strategy<Value = VirtualIp> {
    let max = if family == Family::Ipv4 { 32 } else { 128 };
    (
        addr(family),
        0..=max,
        proptest::option::of(addr(family)),
        proptest::option::of(word()),
        proptest::option::of(select(vec![
            Scope::Global,
            Scope::Site,
            Scope::Link,
            Scope::Host,
            Scope::Nowhere,
        ])),
        proptest::option::of(text()),
        any::<bool>(),
    )
        .prop_map(
            |(address, prefix_len, broadcast, dev, scope, label, no_track)| VirtualIp {
                address,
                prefix_len: prefix_len as u8,
                broadcast,
                dev,
                scope,
                label,
                no_track,
            },
        )
}

fn trackers(
    script_names: Vec<String>,
) -> impl Strategy<Value = (Vec<TrackInterface>, Vec<TrackScript>)> {
    let ifs = proptest::collection::vec(
        (word(), -254..=254i32, any::<bool>()).prop_map(|(name, weight, reverse)| TrackInterface {
            name,
            weight,
            reverse,
        }),
        0..3,
    );
    let scripts = if script_names.is_empty() {
        Just(Vec::new()).boxed()
    } else {
        proptest::collection::vec(
            (select(script_names), -253..=253i32, any::<bool>()).prop_map(
                |(name, weight, reverse)| TrackScript {
                    name,
                    weight,
                    reverse,
                },
            ),
            0..3,
        )
        .boxed()
    };
    (ifs, scripts)
}

fn notify() -> impl Strategy<Value = Notify> {
    proptest::collection::vec(proptest::option::of(script()), 5).prop_map(|mut v| Notify {
        stop: v.pop().unwrap(),
        fault: v.pop().unwrap(),
        backup: v.pop().unwrap(),
        master: v.pop().unwrap(),
        any: v.pop().unwrap(),
    })
}

fn instance(i: usize, scripts: Vec<String>) -> impl Strategy<Value = VrrpInstance> {
    (select(vec![Family::Ipv4, Family::Ipv6]), any::<bool>()).prop_flat_map(move |(family, v3)| {
        let version = if family == Family::Ipv6 || v3 { 3 } else { 2 };
        let advert = if version == 2 {
            (1..=255u64).prop_map(Duration::from_secs).boxed()
        } else {
            (1..=4095u64)
                .prop_map(|cs| Duration::from_millis(cs * 10))
                .boxed()
        };
        let auth = if version == 2 {
            proptest::option::of(
                (
                    select(vec![AuthType::Pass, AuthType::Ah]),
                    "[a-zA-Z0-9!#@ ]{1,8}",
                )
                    .prop_map(|(auth_type, password)| Authentication {
                        auth_type,
                        password,
                    }),
            )
            .boxed()
        } else {
            Just(None).boxed()
        };
        (
            (
                any::<bool>(),
                proptest::option::of(word()),
                1..=255u8,
                advert,
                auth,
            ),
            (
                proptest::collection::vec(vip(family), 1..3),
                proptest::collection::vec(any_addr().prop_flat_map(|a| vip(Family::of(&a))), 0..2),
            ),
            (
                any::<bool>(),
                micros(1000),
                proptest::option::of(any_addr()),
                proptest::option::of(addr(family)),
            ),
            proptest::collection::vec(
                (
                    addr(family),
                    proptest::option::of(any::<u8>()),
                    proptest::option::of(any::<u8>()),
                )
                    .prop_map(|(address, min_ttl, max_ttl)| UnicastPeer {
                        address,
                        min_ttl,
                        max_ttl,
                    }),
                0..3,
            ),
            (
                trackers(scripts.clone()),
                any::<bool>(),
                notify(),
                any::<bool>(),
                garp(),
            ),
            (proptest::option::of(word()), any::<bool>(), 1..=100u32),
        )
            .prop_map(move |(a, b, c, peers, d, e)| {
                let (master, interface, priority, advert_int, mut authentication) = a;
                // An instance needs an interface unless it has unicast
                // peers, a unicast_src_ip that is not link-local, and a
                // `dev` on every address (keepalived's rules).
                let link_local =
                    |a: &IpAddr| matches!(a, IpAddr::V6(v) if v.segments()[0] & 0xffc0 == 0xfe80);
                let without = !peers.is_empty()
                    && c.3.as_ref().is_some_and(|a| !link_local(a))
                    && b.0.iter().chain(&b.1).all(|v| v.dev.is_some());
                let interface = if without {
                    interface
                } else {
                    Some(interface.unwrap_or_else(|| "eth0".into()))
                };
                if master {
                    // keepalived refuses MASTER with AH; the reader turns it into BACKUP.
                    if authentication
                        .as_ref()
                        .is_some_and(|a| a.auth_type == AuthType::Ah)
                    {
                        authentication = None;
                    }
                }
                let (nopreempt, preempt_delay) = if master {
                    (false, Duration::ZERO)
                } else {
                    (c.0, c.1)
                };
                VrrpInstance {
                    name: format!("VI {i}"),
                    initial_state: if master {
                        InitialState::Master
                    } else {
                        InitialState::Backup
                    },
                    interface,
                    family,
                    // Unique per instance, so no interface/family clash.
                    virtual_router_id: (i + 1) as u8,
                    priority,
                    advert_int,
                    version,
                    authentication,
                    virtual_ipaddress: b.0,
                    virtual_ipaddress_excluded: b.1,
                    nopreempt,
                    preempt_delay,
                    mcast_src_ip: c.2,
                    unicast_src_ip: c.3,
                    unicast_peers: peers,
                    track_interfaces: d.0 .0,
                    track_scripts: d.0 .1,
                    dont_track_primary: d.1,
                    notify: d.2,
                    smtp_alert: d.3,
                    garp: d.4,
                    use_vmac: e.0,
                    accept: e.1,
                    down_timer_adverts: e.2,
                }
            })
    })
}

fn method() -> impl Strategy<Value = ForwardingMethod> {
    prop_oneof![
        Just(ForwardingMethod::Nat),
        Just(ForwardingMethod::Dr),
        (
            prop_oneof![
                Just(TunnelType::Ipip),
                Just(TunnelType::Gre),
                any::<u16>().prop_map(|port| TunnelType::Gue { port })
            ],
            proptest::option::of(select(vec![
                TunnelChecksum::Nocsum,
                TunnelChecksum::Csum,
                TunnelChecksum::Remcsum
            ])),
        )
            .prop_map(|(tunnel, checksum)| ForwardingMethod::Tun { tunnel, checksum }),
    ]
}

fn connect() -> impl Strategy<Value = Connect> {
    (
        proptest::option::of(any_addr()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any_addr()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(word()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(ip, port, bindto, bind_port, bind_if, fwmark)| Connect {
            ip,
            port,
            bindto,
            bind_port,
            bind_if,
            fwmark,
        })
}

fn http(ssl: bool) -> impl Strategy<Value = HttpCheck> {
    let url = (
        text(),
        proptest::option::of(any::<[u8; 16]>().prop_map(Digest)),
        proptest::collection::vec(
            (100..=999u16, 0..=100u16).prop_map(|(a, n)| (a, (a + n).min(999))),
            1..3,
        ),
        proptest::option::of(text()),
    )
        .prop_map(|(path, digest, status_codes, virtualhost)| Url {
            path,
            digest,
            status_codes,
            virtualhost,
        });
    (
        proptest::collection::vec(url, 1..3),
        select(vec![
            HttpProtocol::Http10,
            HttpProtocol::Http10Close,
            HttpProtocol::Http11,
        ]),
        any::<bool>(),
        proptest::option::of(text()),
        any::<bool>(),
        proptest::option::of(text()),
        any::<bool>(),
    )
        .prop_map(
            move |(urls, http_protocol, fast_recovery, virtualhost, sni, sni_name, tls)| {
                HttpCheck {
                    urls,
                    http_protocol,
                    fast_recovery,
                    virtualhost,
                    enable_sni: ssl && sni,
                    sni_name: if ssl { sni_name } else { None },
                    tls_compliant: ssl && tls,
                }
            },
        )
}

fn checker_kind() -> impl Strategy<Value = CheckerKind> {
    prop_oneof![
        http(false).prop_map(CheckerKind::HttpGet),
        http(true).prop_map(CheckerKind::SslGet),
        Just(CheckerKind::TcpCheck),
        (
            text(),
            proptest::option::of((1..=86_400u64).prop_map(Duration::from_secs)),
            any::<bool>(),
            proptest::option::of(word())
        )
            .prop_map(
                |(path, timeout, dynamic, user)| CheckerKind::MiscCheck(MiscCheck {
                    path,
                    timeout,
                    dynamic,
                    user
                })
            ),
        (
            proptest::option::of(text()),
            proptest::collection::vec(connect(), 0..2)
        )
            .prop_map(|(helo_name, hosts)| CheckerKind::SmtpCheck(SmtpCheck { helo_name, hosts })),
        (
            select(DnsType::ALL.iter().map(|(t, _)| *t).collect::<Vec<_>>()),
            text()
        )
            .prop_map(|(query_type, name)| CheckerKind::DnsCheck(DnsCheck { query_type, name })),
        (
            proptest::option::of("([0-9a-f]{2}){1,4}"),
            proptest::option::of(word()),
            proptest::option::of(0..=65_535u32),
            proptest::option::of(0..=65_535u32)
        )
            .prop_map(
                |(payload, require_reply, min_reply_length, max_reply_length)| {
                    CheckerKind::UdpCheck(UdpCheck {
                        payload,
                        require_reply,
                        min_reply_length,
                        max_reply_length,
                    })
                }
            ),
        Just(CheckerKind::PingCheck),
        (text(), any::<bool>(), -1000..=1000i32, any::<bool>()).prop_map(
            |(track_file, dynamic, weight, reverse)| CheckerKind::FileCheck(FileCheck {
                track_file,
                dynamic,
                weight,
                reverse
            })
        ),
    ]
}

fn checker() -> impl Strategy<Value = Checker> {
    (
        // The reader drops the kinds holdfast does not run (with a warning
        // under --ignore-unimplemented), so only those it runs round-trip.
        checker_kind().prop_filter("a kind holdfast runs", CheckerKind::is_implemented),
        connect(),
        positive_micros(100),
        0..=10u32,
        micros(100),
        micros(100),
        positive_micros(1000),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                kind,
                connect,
                connect_timeout,
                retry,
                delay_before_retry,
                warmup,
                delay_loop,
                alpha,
                log_all_failures,
            )| Checker {
                kind,
                connect,
                connect_timeout,
                retry,
                delay_before_retry,
                warmup,
                delay_loop,
                alpha,
                log_all_failures,
            },
        )
}

fn real_server(port_required: bool) -> impl Strategy<Value = RealServer> {
    let port = if port_required {
        any::<u16>().prop_map(Some).boxed()
    } else {
        proptest::option::of(any::<u16>()).boxed()
    };
    (
        (any_addr(), port, 0..=65_535u32, method(), any::<bool>()),
        (
            proptest::option::of(script()),
            proptest::option::of(script()),
            proptest::option::of((0..=1000u32, 0..=1000u32)),
        ),
        (
            any::<bool>(),
            proptest::option::of(text()),
            proptest::collection::vec(checker(), 0..3),
        ),
    )
        .prop_map(|(a, b, c)| RealServer {
            address: a.0,
            port: a.1,
            weight: a.2,
            method: a.3,
            inhibit_on_failure: a.4,
            notify_up: b.0.map(Box::new),
            notify_down: b.1.map(Box::new),
            lthreshold: b.2.map(|(lo, hi)| lo.min(hi)),
            uthreshold: b.2.map(|(lo, hi)| lo.max(hi)),
            smtp_alert: c.0,
            virtualhost: c.1,
            checkers: c.2,
        })
}

fn vsg(i: usize) -> impl Strategy<Value = VirtualServerGroup> {
    let entry = prop_oneof![
        (any_addr(), 0..=300u32, any::<u16>()).prop_map(|(first, n, port)| {
            let last = match first {
                IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a).saturating_add(n))),
                IpAddr::V6(a) => {
                    IpAddr::V6(Ipv6Addr::from(u128::from(a).saturating_add(u128::from(n))))
                }
            };
            VsgEntry::Range { first, last, port }
        }),
        (
            1..=u32::MAX,
            proptest::option::of(select(vec![Family::Ipv4, Family::Ipv6]))
        )
            .prop_map(|(mark, family)| VsgEntry::Fwmark { mark, family }),
    ];
    proptest::collection::vec(entry, 0..3).prop_map(move |entries| VirtualServerGroup {
        name: format!("VSG {i}"),
        entries,
    })
}

fn virtual_server(groups: Vec<String>) -> impl Strategy<Value = VirtualServer> {
    let key = if groups.is_empty() {
        prop_oneof![
            (any_addr(), any::<u16>()).prop_map(|(address, port)| VsKey::Addr { address, port }),
            (1..=u32::MAX).prop_map(|mark| VsKey::Fwmark { mark }),
        ]
        .boxed()
    } else {
        prop_oneof![
            (any_addr(), any::<u16>()).prop_map(|(address, port)| VsKey::Addr { address, port }),
            (1..=u32::MAX).prop_map(|mark| VsKey::Fwmark { mark }),
            select(groups).prop_map(|name| VsKey::Group { name }),
        ]
        .boxed()
    };
    key.prop_flat_map(|key| {
        let is_addr = matches!(key, VsKey::Addr { .. });
        let protocol = if matches!(key, VsKey::Fwmark { .. }) {
            Just(Protocol::Tcp).boxed()
        } else {
            select(vec![Protocol::Tcp, Protocol::Udp, Protocol::Sctp]).boxed()
        };
        (
            (
                Just(key),
                protocol,
                select(Scheduler::ALL.iter().map(|(s, _)| *s).collect::<Vec<_>>()),
                any::<[bool; 8]>(),
                method(),
            ),
            (
                proptest::option::of(1..=2_678_400u32),
                proptest::option::of(0..=128u8),
                proptest::option::of(select(vec![Family::Ipv4, Family::Ipv6])),
                positive_micros(1000),
            ),
            (
                proptest::option::of(
                    (any_addr(), any::<u16>(), method(), any::<bool>()).prop_map(
                        |(address, port, method, inhibit)| SorryServer {
                            address,
                            port: Some(port),
                            method,
                            inhibit,
                        },
                    ),
                ),
                1..=100u32,
                0..=100u32,
                proptest::option::of(script()),
                proptest::option::of(script()),
            ),
            (
                any::<[bool; 4]>(),
                proptest::option::of(text()),
                proptest::collection::vec(real_server(is_addr), 1..4),
            ),
        )
            .prop_map(|(a, b, c, mut d)| {
                let f = a.3;
                // The model holds resolved values: an HTTP checker without a
                // virtualhost takes its real server's, then its virtual server's.
                for rs in &mut d.2 {
                    for ch in &mut rs.checkers {
                        if let CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) = &mut ch.kind {
                            if h.virtualhost.is_none() {
                                h.virtualhost = rs.virtualhost.clone().or_else(|| d.1.clone());
                            }
                        }
                    }
                }
                let mut vs = VirtualServer {
                    key: a.0,
                    protocol: a.1,
                    scheduler: a.2,
                    scheduler_flags: SchedulerFlags {
                        flag_1: f[0],
                        flag_2: f[1],
                        flag_3: f[2],
                        sh_port: f[3],
                        sh_fallback: f[4],
                        mh_port: f[5],
                        mh_fallback: f[6],
                        ops: f[7],
                    },
                    method: a.4,
                    persistence_timeout: b.0,
                    persistence_granularity: b.1,
                    ip_family: b.2,
                    delay_loop: b.3,
                    sorry_server: c.0,
                    quorum: c.1,
                    hysteresis: c.2,
                    quorum_up: c.3,
                    quorum_down: c.4,
                    alpha: d.0[0],
                    omega: d.0[1],
                    ha_suspend: d.0[2],
                    smtp_alert: d.0[3],
                    virtualhost: d.1,
                    real_servers: d.2,
                };
                normalise(&mut vs);
                vs
            })
    })
}

/// Applies keepalived's completions of a virtual server that the reader
/// makes (with a warning), so the generated model is one the reader keeps
/// as it is.
fn normalise(vs: &mut VirtualServer) {
    let vs_port = match vs.key {
        VsKey::Addr { port: 0, .. } => {
            vs.persistence_timeout.get_or_insert(360);
            None
        }
        VsKey::Addr { port, .. } => Some(port),
        _ => None,
    };
    if let (Some(sorry), Some(port)) = (&mut vs.sorry_server, vs_port) {
        if sorry.method == ForwardingMethod::Dr {
            sorry.port = Some(port);
        }
    }
    let mut seen = Vec::new();
    vs.real_servers.retain_mut(|rs| {
        if let (ForwardingMethod::Dr, Some(port)) = (rs.method, vs_port) {
            rs.port = Some(port);
        }
        let key = (rs.address, rs.port);
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    let total: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
    vs.quorum = vs.quorum.min(total.max(1) as u32);
    vs.hysteresis = vs.hysteresis.min(vs.quorum - 1);
}

fn config() -> impl Strategy<Value = Config> {
    (global(), 0..3usize, 0..4usize, 0..2usize).prop_flat_map(
        |(global, n_scripts, n_inst, n_vsg)| {
            let scripts: Vec<BoxedStrategy<VrrpScript>> =
                (0..n_scripts).map(|i| vrrp_script(i).boxed()).collect();
            let names: Vec<String> = (0..n_scripts).map(|i| format!("chk {i}")).collect();
            let instances: Vec<BoxedStrategy<VrrpInstance>> = (0..n_inst)
                .map(|i| instance(i, names.clone()).boxed())
                .collect();
            let vsgs: Vec<BoxedStrategy<VirtualServerGroup>> =
                (0..n_vsg).map(|i| vsg(i).boxed()).collect();
            let group_names: Vec<String> = (0..n_vsg).map(|i| format!("VSG {i}")).collect();
            let inst_names: Vec<String> = (0..n_inst).map(|i| format!("VI {i}")).collect();
            // Sync groups: a split of some instances into disjoint non-empty groups.
            let groups = if inst_names.is_empty() {
                Just(Vec::new()).boxed()
            } else {
                (
                    Just(inst_names.clone()),
                    proptest::collection::vec(0..3usize, inst_names.len()),
                    proptest::collection::vec(notify(), 3),
                    trackers(names.clone()),
                    any::<[bool; 2]>(),
                )
                    .prop_map(|(names, assign, notifies, (ifs, scs), flags)| {
                        (0..2)
                            .filter_map(|g| {
                                let members: Vec<String> = names
                                    .iter()
                                    .zip(&assign)
                                    .filter(|(_, a)| **a == g)
                                    .map(|(n, _)| n.clone())
                                    .collect();
                                (!members.is_empty()).then(|| SyncGroup {
                                    name: format!("VG {g}"),
                                    members,
                                    notify: notifies[g].clone(),
                                    smtp_alert: flags[g],
                                    track_interfaces: ifs.clone(),
                                    track_scripts: scs.clone(),
                                    sync_group_tracking_weight: flags[1 - g],
                                })
                            })
                            .collect()
                    })
                    .boxed()
            };
            (
                Just(global),
                scripts,
                instances,
                groups,
                vsgs,
                proptest::collection::vec(virtual_server(group_names), 0..3),
                proptest::option::of(
                    (
                        proptest::option::of("[a-z]{1,8}"),
                        proptest::option::of("[a-z]{1,8}"),
                        proptest::option::of("[a-z]{1,8}"),
                    )
                        .prop_map(|(ca, cert, password)| SslSettings {
                            ca: ca.map(|c| format!("/etc/ssl/{c}.pem")),
                            key: cert.as_ref().map(|c| format!("/etc/ssl/{c}.key")),
                            certificate: cert.map(|c| format!("/etc/ssl/{c}.pem")),
                            password,
                        }),
                ),
            )
                .prop_map(
                    |(
                        global,
                        vrrp_scripts,
                        instances,
                        sync_groups,
                        virtual_server_groups,
                        virtual_servers,
                        ssl,
                    )| {
                        let mut c = Config {
                            global,
                            vrrp_scripts,
                            sync_groups,
                            instances,
                            virtual_server_groups,
                            virtual_servers,
                            ssl,
                        };
                        as_keepalived_reads_it(&mut c);
                        c
                    },
                )
        },
    )
}

/// The model in the form keepalived's reading leaves it (the reader
/// applies these rules, each with a warning; a model outside them would
/// not read back as itself): an owner has no `nopreempt` and no weighted
/// scripts, nor has a member of a sync group without
/// `sync_group_tracking_weight`; a group with an owner tracks with weight
/// 0; a script nothing tracks is gone.
fn as_keepalived_reads_it(c: &mut Config) {
    for i in &mut c.instances {
        let group = c.sync_groups.iter().find(|g| g.members.contains(&i.name));
        let unweighted = group.is_some_and(|g| !g.sync_group_tracking_weight);
        if i.priority == 255 {
            i.nopreempt = false;
        }
        let owner = i.priority == 255;
        i.track_scripts
            .retain(|t| t.weight == 0 || !(unweighted || owner));
    }
    for g in &mut c.sync_groups {
        let has_owner = c
            .instances
            .iter()
            .any(|i| g.members.contains(&i.name) && i.priority == 255);
        if has_owner {
            g.track_scripts.iter_mut().for_each(|t| t.weight = 0);
            g.track_interfaces.iter_mut().for_each(|t| t.weight = 0);
        }
    }
    let used: Vec<String> = c
        .instances
        .iter()
        .flat_map(|i| &i.track_scripts)
        .chain(c.sync_groups.iter().flat_map(|g| &g.track_scripts))
        .map(|t| t.name.clone())
        .collect();
    c.vrrp_scripts.retain(|s| used.contains(&s.name));
}

/// The lines of the two models' JSON that differ, for a readable failure.
fn json_diff(want: &Config, got: &Config) -> String {
    let a = serde_json::to_string_pretty(want).unwrap();
    let b = serde_json::to_string_pretty(got).unwrap();
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .take(10)
        .map(|(i, (x, y))| format!("line {i}: want {x}\n         got  {y}\n"))
        .collect()
}

/// The model as written, unimplemented features included (as warnings):
/// printing and reading back is a property of the model, whatever holdfast
/// acts on.
fn model_level() -> LoadOptions {
    LoadOptions {
        ignore_unimplemented: true,
        ..LoadOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(cfg in config()) {
        let text = printer::print(&cfg);
        let loaded = config::parse_str("printed.conf", &text, &MemLoader::new(), &model_level());
        let reread = loaded.config.clone();
        prop_assert!(reread.is_some(), "printed text does not read back:\n{}\n--- text ---\n{}", loaded.render(), text);
        let reread = reread.unwrap();
        prop_assert!(reread == cfg, "print-then-parse changed the model:\n{}\n--- printed ---\n{}", json_diff(&cfg, &reread), text);
    }
}

#[test]
fn strict_mode_round_trips_without_authentication() {
    let text = "global_defs {\n    vrrp_strict\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 7\n    virtual_ipaddress {\n        10.1.1.1/24\n    }\n}\n";
    let cfg = config::parse_str("t.conf", text, &MemLoader::new(), &model_level())
        .config
        .unwrap();
    assert!(cfg.global.vrrp_strict);
    assert!(
        !cfg.instances[0].accept,
        "strict mode defaults to no_accept"
    );
    let again = config::parse_str(
        "p.conf",
        &printer::print(&cfg),
        &MemLoader::new(),
        &model_level(),
    )
    .config
    .unwrap();
    assert_eq!(again, cfg);
}
