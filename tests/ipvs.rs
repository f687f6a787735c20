//! The IPVS data plane against a real kernel: each test makes its own
//! network namespaces (IPVS is per namespace), programs IPVS there over
//! generic netlink, and checks the result with `ipvsadm` and with traffic.
//!
//! They are `#[ignore]`d in a plain `cargo test`, so that a host without
//! IPVS (the CI host, most laptops) reports them as ignored rather than as
//! passed. `.ci/ipvs-uml.sh` runs them with `--include-ignored` inside
//! User-Mode Linux, with HOLDFAST_REQUIRE_IPVS=1; as root on a kernel with
//! IPVS, `cargo test --test ipvs -- --include-ignored` runs them too. Run
//! without IPVS, they print "SKIP: no IPVS" and pass, unless
//! HOLDFAST_REQUIRE_IPVS=1 makes that a failure. Nothing is written to the
//! file system: in the guest it is read-only.

// These tests wait on real connections in real time.
#![allow(clippy::disallowed_methods)]

mod netns;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use holdfast_core::config::model::{
    Family, ForwardingMethod, Scheduler, SchedulerFlags, TunnelChecksum, TunnelType,
};
use holdfast_core::config::{self, LoadOptions};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{pool, DestKey, DestParams, ServiceKey, ServiceParams, Table};
use holdfast_fs::FsLoader;
use holdfast_runtime::dataplane::ipvs::Ipvs;
use holdfast_runtime::dataplane::{DataPlane, DataPlaneError};
use netns::sh;

static NAMESPACES: AtomicU32 = AtomicU32::new(0);

/// Whether the tests can run here; if not, says why (or panics, when
/// HOLDFAST_REQUIRE_IPVS=1 asks for them to run).
fn available() -> bool {
    let required = std::env::var("HOLDFAST_REQUIRE_IPVS").as_deref() == Ok("1");
    let skip = |why: String| {
        assert!(!required, "HOLDFAST_REQUIRE_IPVS=1 but {why}");
        eprintln!("SKIP: {why}");
        false
    };
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return skip("not root (network namespaces and IPVS need it)".into());
    }
    for tool in ["ip", "ipvsadm"] {
        if Command::new(tool).arg("-h").output().is_err() {
            return skip(format!("no `{tool}` command"));
        }
    }
    match Ipvs::open() {
        Ok(_) => true,
        Err(DataPlaneError::Unavailable(m)) => skip(format!("no IPVS ({m})")),
        Err(e) => panic!("opening IPVS: {e}"),
    }
}

/// A network namespace this test made, deleted when dropped (also when the
/// test panics).
struct Netns {
    name: String,
}

impl Netns {
    fn new(role: &str) -> Netns {
        let n = NAMESPACES.fetch_add(1, Ordering::Relaxed);
        let name = format!("hfipvs{}x{n}-{role}", std::process::id());
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ...`.
    fn ip(&self, args: &[&str]) -> String {
        let mut a: Vec<&str> = vec!["ip", "-n", self.name.as_str()];
        a.extend_from_slice(args);
        sh(&a)
    }

    /// A command run inside the namespace.
    fn exec(&self, args: &[&str]) -> String {
        let mut a: Vec<&str> = vec!["ip", "netns", "exec", self.name.as_str()];
        a.extend_from_slice(args);
        sh(&a)
    }

    /// Runs `f` on a thread that has entered the namespace: sockets it
    /// opens belong to the namespace for good, wherever they are used.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                enter(&self.name);
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    fn ipvs(&self) -> Ipvs {
        self.run(|| Ipvs::open().unwrap_or_else(|e| panic!("IPVS in {}: {e}", self.name)))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Moves the calling thread into namespace `name`.
fn enter(name: &str) {
    let f = std::fs::File::open(Path::new("/run/netns").join(name))
        .unwrap_or_else(|e| panic!("netns {name}: {e}"));
    // SAFETY: setns on a valid namespace fd; it affects only this thread
    // (network namespaces may be entered per thread).
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {name}: {}", std::io::Error::last_os_error());
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        address: ip(addr),
        port,
        protocol: ProtocolKey::Tcp,
    }
}

fn svc(scheduler: Scheduler, persistence: Option<u32>) -> ServiceParams {
    ServiceParams {
        scheduler,
        flags: SchedulerFlags::default(),
        persistence_timeout: persistence,
        persistence_granularity: None,
    }
}

fn dest(addr: &str, port: u16) -> DestKey {
    DestKey {
        address: ip(addr),
        port,
    }
}

fn nat(weight: u32) -> DestParams {
    DestParams {
        weight,
        method: ForwardingMethod::Nat,
        uthreshold: 0,
        lthreshold: 0,
    }
}

fn service(params: ServiceParams, dests: Vec<(DestKey, DestParams)>) -> Service {
    Service {
        params,
        dests: dests.into_iter().collect(),
    }
}

/// The case study's LVS table with every real server up, from
/// director1.conf through core's pool; checked against the table written
/// out by hand.
fn case_study_table() -> Table {
    let mut want = Table::default();
    want.services.insert(
        tcp("192.168.200.10", 80),
        service(
            svc(Scheduler::Wrr, Some(50)),
            vec![
                (dest("192.168.100.2", 80), nat(2)),
                (dest("192.168.100.3", 80), nat(1)),
            ],
        ),
    );
    want.services.insert(
        tcp("192.168.200.12", 443),
        service(
            svc(Scheduler::Rr, Some(360)),
            vec![
                (dest("192.168.100.2", 443), nat(1)),
                (dest("192.168.100.3", 443), nat(1)),
            ],
        ),
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/case-study/director1.conf");
    let loaded = config::load(&path, &FsLoader, &LoadOptions::default());
    let Some(cfg) = loaded.config.as_ref() else {
        panic!("{}: {}", path.display(), loaded.render());
    };
    let alive: Vec<Vec<bool>> = cfg
        .virtual_servers
        .iter()
        .map(|vs| vec![true; vs.real_servers.len()])
        .collect();
    let quorum = vec![true; cfg.virtual_servers.len()];
    let table = pool::desired(cfg, &alive, &pool::config_weights(cfg), &quorum);
    assert_eq!(table, want, "the case study's table");
    table
}

/// One service of `ipvsadm -Ln`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listed {
    /// "TCP 192.168.200.10:80", "FWM 1", "FWM 2 IPv6".
    service: String,
    scheduler: String,
    persistent: Option<u32>,
    /// (address:port, forwarding, weight), sorted.
    dests: Vec<(String, String, u32)>,
}

/// Parses `ipvsadm -Ln` in the namespace.
fn ipvsadm(ns: &Netns) -> Vec<Listed> {
    let text = ns.exec(&["ipvsadm", "-Ln"]);
    let mut out: Vec<Listed> = Vec::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.as_slice() {
            ["->", "RemoteAddress:Port", ..] => {}
            ["->", addr, fwd, weight, ..] => {
                let last = out
                    .last_mut()
                    .unwrap_or_else(|| panic!("dest first: {text}"));
                let w = weight
                    .parse()
                    .unwrap_or_else(|_| panic!("weight in {line:?}"));
                last.dests.push((addr.to_string(), fwd.to_string(), w));
            }
            [proto @ ("TCP" | "UDP" | "SCTP" | "FWM"), rest @ ..] => {
                // "FWM  2 IPv6 rr" names the family before the scheduler.
                let (id, rest) = match rest {
                    [m, "IPv6", r @ ..] if *proto == "FWM" => (format!("{m} IPv6"), r),
                    [a, r @ ..] => (a.to_string(), r),
                    [] => panic!("bad line {line:?}"),
                };
                let persistent = rest
                    .iter()
                    .position(|w| *w == "persistent")
                    .and_then(|i| rest.get(i + 1))
                    .map(|s| s.parse().unwrap_or_else(|_| panic!("timeout in {line:?}")));
                out.push(Listed {
                    service: format!("{proto} {id}"),
                    scheduler: rest.first().copied().unwrap_or("").to_string(),
                    persistent,
                    dests: Vec::new(),
                });
            }
            _ => {}
        }
    }
    for l in &mut out {
        l.dests.sort();
    }
    out.sort();
    out
}

/// What `ipvsadm -Ln` should list for `table`.
fn listing(table: &Table) -> Vec<Listed> {
    let sa = |a: IpAddr, p: u16| SocketAddr::new(a, p).to_string();
    let mut out: Vec<Listed> = table
        .services
        .iter()
        .map(|(k, s)| {
            let service = match k {
                ServiceKey::Addr {
                    address,
                    port,
                    protocol,
                } => {
                    let p = match protocol {
                        ProtocolKey::Tcp => "TCP",
                        ProtocolKey::Udp => "UDP",
                        ProtocolKey::Sctp => "SCTP",
                    };
                    format!("{p} {}", sa(*address, *port))
                }
                ServiceKey::Fwmark { mark, family } => match family {
                    Family::Ipv4 => format!("FWM {mark}"),
                    Family::Ipv6 => format!("FWM {mark} IPv6"),
                },
            };
            let mut dests: Vec<(String, String, u32)> = s
                .dests
                .iter()
                .map(|(d, p)| {
                    let fwd = match p.method {
                        ForwardingMethod::Nat => "Masq",
                        ForwardingMethod::Dr => "Route",
                        ForwardingMethod::Tun { .. } => "Tunnel",
                    };
                    (sa(d.address, d.port), fwd.to_string(), p.weight)
                })
                .collect();
            dests.sort();
            Listed {
                service,
                scheduler: s.params.scheduler.as_str().to_string(),
                persistent: s.params.persistence_timeout,
                dests,
            }
        })
        .collect();
    out.sort();
    out
}

/// `table` without the services `keep` rejects.
fn only(table: &Table, keep: impl Fn(&ServiceKey) -> bool) -> Table {
    Table {
        services: table
            .services
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect(),
    }
}

#[test]
#[ignore = "needs a kernel with IPVS: .ci/ipvs-uml.sh runs it in User-Mode Linux"]
fn case_study_table_is_installed_as_keepalived_would() {
    if !available() {
        return;
    }
    let table = case_study_table();
    let ns = Netns::new("a");
    let mut ipvs = ns.ipvs();
    assert_eq!(ipvs.name(), "ipvs");
    assert_eq!(ipvs.apply(&table).expect("apply"), 6);
    assert_eq!(ipvs.read().expect("read"), table);
    let listed = ipvsadm(&ns);
    eprintln!("{}", ns.exec(&["ipvsadm", "-Ln"]));
    assert_eq!(listed, listing(&table));
    // Spelled out, so that a bug shared by `listing` and the code cannot hide.
    assert_eq!(listed[0].service, "TCP 192.168.200.10:80");
    assert_eq!(listed[0].scheduler, "wrr");
    assert_eq!(listed[0].persistent, Some(50));
    assert_eq!(
        listed[0].dests,
        vec![
            ("192.168.100.2:80".into(), "Masq".into(), 2),
            ("192.168.100.3:80".into(), "Masq".into(), 1),
        ]
    );
    assert_eq!(listed[1].service, "TCP 192.168.200.12:443");
    assert_eq!(listed[1].scheduler, "rr");
    assert_eq!(listed[1].persistent, Some(360));
    assert_eq!(listed[1].dests.len(), 2);
    assert!(listed[1].dests.iter().all(|d| d.1 == "Masq" && d.2 == 1));
    // Nothing to do the second time.
    assert_eq!(ipvs.apply(&table).expect("apply again"), 0);
    assert_eq!(ipvs.repair(&table).expect("repair"), 0);
}

#[test]
#[ignore = "needs a kernel with IPVS: .ci/ipvs-uml.sh runs it in User-Mode Linux"]
fn drift_is_repaired_and_foreign_services_are_left_alone() {
    if !available() {
        return;
    }
    let table = case_study_table();
    let ns = Netns::new("b");
    // Someone else's service, there before holdfast.
    ns.exec(&["ipvsadm", "-A", "-t", "10.9.9.9:8080", "-s", "rr"]);
    ns.exec(&[
        "ipvsadm",
        "-a",
        "-t",
        "10.9.9.9:8080",
        "-r",
        "10.9.9.10:8080",
        "-m",
        "-w",
        "3",
    ]);
    let foreign = tcp("10.9.9.9", 8080);
    let foreign_table = {
        let mut t = Table::default();
        t.services.insert(
            foreign.clone(),
            service(
                svc(Scheduler::Rr, None),
                vec![(dest("10.9.9.10", 8080), nat(3))],
            ),
        );
        t
    };
    let ours = |k: &ServiceKey| *k != foreign;

    let mut ipvs = ns.ipvs();
    assert_eq!(ipvs.apply(&table).expect("apply"), 6);

    // Behind holdfast's back: a dest deleted, a weight changed, a stray
    // dest added, the scheduler changed.
    ns.exec(&[
        "ipvsadm",
        "-d",
        "-t",
        "192.168.200.10:80",
        "-r",
        "192.168.100.3:80",
    ]);
    ns.exec(&[
        "ipvsadm",
        "-e",
        "-t",
        "192.168.200.12:443",
        "-r",
        "192.168.100.2:443",
        "-m",
        "-w",
        "7",
    ]);
    ns.exec(&[
        "ipvsadm",
        "-a",
        "-t",
        "192.168.200.10:80",
        "-r",
        "192.168.100.9:80",
        "-m",
        "-w",
        "1",
    ]);
    ns.exec(&[
        "ipvsadm",
        "-E",
        "-t",
        "192.168.200.12:443",
        "-s",
        "wlc",
        "-p",
        "360",
    ]);
    assert_ne!(only(&ipvs.read().expect("read"), ours), table);
    assert_eq!(ipvs.repair(&table).expect("repair"), 4);
    let read = ipvs.read().expect("read");
    assert_eq!(only(&read, ours), table);
    assert_eq!(only(&read, |k| !ours(k)), foreign_table);
    assert_eq!(ipvs.repair(&table).expect("repair again"), 0);

    // A whole service deleted comes back with its dests.
    ns.exec(&["ipvsadm", "-D", "-t", "192.168.200.12:443"]);
    assert_eq!(ipvs.repair(&table).expect("repair"), 3);
    assert_eq!(only(&ipvs.read().expect("read"), ours), table);

    // The table shrinks: holdfast's dropped service goes, the foreign one stays.
    let smaller = only(&table, |k| *k == tcp("192.168.200.10", 80));
    assert_eq!(ipvs.apply(&smaller).expect("apply smaller"), 1);
    let read = ipvs.read().expect("read");
    assert_eq!(only(&read, ours), smaller);
    assert_eq!(only(&read, |k| !ours(k)), foreign_table);

    // A restarted holdfast (a new client) adopts what it wants and still
    // leaves the foreign service alone.
    drop(ipvs);
    let mut ipvs = ns.ipvs();
    assert_eq!(ipvs.apply(&table).expect("apply after restart"), 3);
    assert_eq!(only(&ipvs.read().expect("read"), ours), table);

    ipvs.remove().expect("remove");
    assert_eq!(ipvs.read().expect("read"), foreign_table);
    assert_eq!(ipvsadm(&ns), listing(&foreign_table));
    // Removing twice is harmless.
    ipvs.remove().expect("remove again");
}

fn tun(tunnel: TunnelType, checksum: Option<TunnelChecksum>, weight: u32) -> DestParams {
    DestParams {
        weight,
        method: ForwardingMethod::Tun { tunnel, checksum },
        uthreshold: 0,
        lthreshold: 0,
    }
}

#[test]
#[ignore = "needs a kernel with IPVS: .ci/ipvs-uml.sh runs it in User-Mode Linux"]
fn every_scheduler_family_method_and_flag_round_trips() {
    if !available() {
        return;
    }
    let ns = Netns::new("c");
    ns.exec(&["ipvsadm", "-A", "-u", "10.9.9.9:53", "-s", "rr"]);
    let foreign = ServiceKey::Addr {
        address: ip("10.9.9.9"),
        port: 53,
        protocol: ProtocolKey::Udp,
    };
    let mut ipvs = ns.ipvs();

    // Every scheduler, one service each; one missing from this kernel is
    // noted and skipped (the UML kernel has no twos).
    let mut table = Table::default();
    let mut skipped = Vec::new();
    for (i, (sched, name)) in Scheduler::ALL.iter().enumerate() {
        let n = i + 1;
        let mut t = table.clone();
        t.services.insert(
            tcp(&format!("10.1.0.{n}"), 80),
            service(
                svc(*sched, None),
                vec![(
                    dest(&format!("10.2.0.{n}"), 80),
                    DestParams {
                        uthreshold: 100 * n as u32,
                        lthreshold: 10 * n as u32,
                        ..nat(n as u32)
                    },
                )],
            ),
        );
        match ipvs.apply(&t) {
            Ok(ops) => {
                assert_eq!(ops, 2, "{name}");
                table = t;
            }
            Err(e) if !Path::new(&format!("/sys/module/ip_vs_{name}")).exists() => {
                assert!(e.to_string().contains("NEW_SERVICE TCP 10.1.0."), "{e}");
                eprintln!("note: scheduler {name} is not in this kernel, skipped ({e})");
                skipped.push(*name);
            }
            Err(e) => panic!("scheduler {name}: {e}"),
        }
    }
    assert!(skipped.len() <= 1, "schedulers missing: {skipped:?}");

    let flags = |set: &dyn Fn(&mut SchedulerFlags)| {
        let mut f = SchedulerFlags::default();
        set(&mut f);
        f
    };
    let with_flags = |s: Scheduler, f: SchedulerFlags| ServiceParams {
        flags: f,
        ..svc(s, None)
    };
    let s = &mut table.services;
    // Scheduler flags.
    s.insert(
        tcp("10.1.1.1", 80),
        service(
            with_flags(
                Scheduler::Sh,
                flags(&|f| (f.sh_port, f.sh_fallback) = (true, true)),
            ),
            vec![(dest("10.2.1.1", 80), nat(1))],
        ),
    );
    s.insert(
        tcp("10.1.1.2", 80),
        service(
            with_flags(Scheduler::Mh, flags(&|f| f.mh_port = true)),
            vec![(dest("10.2.1.2", 80), nat(1))],
        ),
    );
    s.insert(
        ServiceKey::Addr {
            address: ip("10.1.1.3"),
            port: 53,
            protocol: ProtocolKey::Udp,
        },
        service(
            with_flags(Scheduler::Rr, flags(&|f| (f.ops, f.flag_3) = (true, true))),
            vec![(dest("10.2.1.3", 53), nat(1))],
        ),
    );
    s.insert(
        ServiceKey::Addr {
            address: ip("10.1.1.4"),
            port: 9999,
            protocol: ProtocolKey::Sctp,
        },
        service(
            with_flags(Scheduler::Wlc, flags(&|f| f.flag_1 = true)),
            vec![(dest("10.2.1.4", 9999), nat(4))],
        ),
    );
    // Persistence with a granularity.
    s.insert(
        tcp("10.1.1.5", 443),
        service(
            ServiceParams {
                persistence_granularity: Some(24),
                ..svc(Scheduler::Wrr, Some(120))
            },
            vec![(dest("10.2.1.5", 443), nat(1))],
        ),
    );
    // Tunnels of every kind, and direct routing.
    s.insert(
        tcp("10.1.1.6", 80),
        service(
            svc(Scheduler::Rr, None),
            vec![
                (dest("10.2.3.1", 80), tun(TunnelType::Ipip, None, 1)),
                (
                    dest("10.2.3.2", 80),
                    tun(
                        TunnelType::Gue { port: 6080 },
                        Some(TunnelChecksum::Csum),
                        2,
                    ),
                ),
                (
                    dest("10.2.3.3", 80),
                    tun(TunnelType::Gre, Some(TunnelChecksum::Remcsum), 3),
                ),
                (dest("10.2.3.4", 80), tun(TunnelType::Gre, None, 4)),
                (
                    dest("10.2.3.5", 80),
                    DestParams {
                        method: ForwardingMethod::Dr,
                        ..nat(5)
                    },
                ),
            ],
        ),
    );
    // Firewall marks, IPv4 and IPv6.
    s.insert(
        ServiceKey::Fwmark {
            mark: 1,
            family: Family::Ipv4,
        },
        service(
            svc(Scheduler::Wrr, Some(30)),
            vec![(
                dest("10.2.4.1", 0),
                DestParams {
                    method: ForwardingMethod::Dr,
                    uthreshold: 100,
                    lthreshold: 50,
                    ..nat(5)
                },
            )],
        ),
    );
    s.insert(
        ServiceKey::Fwmark {
            mark: 2,
            family: Family::Ipv6,
        },
        service(
            svc(Scheduler::Rr, None),
            vec![(
                dest("2001:db8:4::1", 0),
                DestParams {
                    method: ForwardingMethod::Dr,
                    ..nat(1)
                },
            )],
        ),
    );
    // IPv6 with persistence by /64, an IPv6 NAT dest and an IPv4 tunnel.
    s.insert(
        tcp("2001:db8::100", 80),
        service(
            ServiceParams {
                persistence_granularity: Some(64),
                ..svc(Scheduler::Wrr, Some(300))
            },
            vec![
                (
                    dest("2001:db8:1::1", 80),
                    DestParams {
                        uthreshold: 100,
                        lthreshold: 10,
                        ..nat(2)
                    },
                ),
                (dest("10.2.5.1", 80), tun(TunnelType::Ipip, None, 1)),
            ],
        ),
    );
    let ours = |k: &ServiceKey| *k != foreign;
    ipvs.apply(&table).expect("apply everything");
    let read = ipvs.read().expect("read");
    assert_eq!(only(&read, ours), table);
    eprintln!("{}", ns.exec(&["ipvsadm", "-Ln"]));
    let listed: Vec<Listed> = ipvsadm(&ns)
        .into_iter()
        .filter(|l| l.service != "UDP 10.9.9.9:53")
        .collect();
    assert_eq!(listed, listing(&table));

    // Edits in place: a scheduler, persistence off, a weight, a threshold,
    // a method; one dest less.
    let mut edited = table.clone();
    let k6 = tcp("10.1.1.6", 80);
    let k5 = tcp("10.1.1.5", 443);
    {
        let s5 = edited.services.get_mut(&k5).expect("k5");
        s5.params.scheduler = Scheduler::Lc;
        s5.params.persistence_timeout = None;
        let s6 = edited.services.get_mut(&k6).expect("k6");
        s6.dests.remove(&dest("10.2.3.4", 80));
        if let Some(d) = s6.dests.get_mut(&dest("10.2.3.1", 80)) {
            d.weight = 9;
            d.uthreshold = 20;
        }
        if let Some(d) = s6.dests.get_mut(&dest("10.2.3.5", 80)) {
            d.method = ForwardingMethod::Nat;
        }
    }
    assert_eq!(ipvs.apply(&edited).expect("apply edits"), 4);
    assert_eq!(only(&ipvs.read().expect("read"), ours), edited);

    // The kernel's refusal names the operation and its target.
    let mut bad = edited.clone();
    if let Some(s) = bad.services.get_mut(&k6) {
        s.dests.insert(
            dest("10.2.3.9", 80),
            DestParams {
                uthreshold: 5,
                lthreshold: 10,
                ..nat(1)
            },
        );
    }
    let e = ipvs.apply(&bad).expect_err("lthreshold above uthreshold");
    let msg = e.to_string();
    assert!(
        msg.contains("NEW_DEST 10.2.3.9:80") && msg.contains("TCP 10.1.1.6:80"),
        "{msg}"
    );

    ipvs.remove().expect("remove");
    let left = ipvs.read().expect("read");
    assert_eq!(left.services.keys().collect::<Vec<_>>(), vec![&foreign]);
}

/// Serves `name` to every connection on `listener` until `stop`.
fn serve(listener: TcpListener, name: &'static str, stop: &AtomicBool) {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        match listener.accept() {
            Ok((mut c, _)) => {
                let _ = c.set_nonblocking(false);
                let _ = c.write_all(name.as_bytes());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("{name}: accept: {e}"),
        }
    }
}

/// Sets the flag when dropped, so that servers stop even when a test panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `n` new connections from the client to `vip`: who answered, by name.
fn hits(client: &Netns, vip: SocketAddr, n: usize) -> BTreeMap<String, usize> {
    client.run(|| {
        let mut got = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for i in 0..n {
            assert!(Instant::now() < deadline, "{i} of {n} connections in 60 s");
            let mut c = TcpStream::connect_timeout(&vip, Duration::from_secs(3))
                .unwrap_or_else(|e| panic!("connection {i} to {vip}: {e}"));
            c.set_read_timeout(Some(Duration::from_secs(3)))
                .expect("timeout");
            let mut s = String::new();
            c.read_to_string(&mut s)
                .unwrap_or_else(|e| panic!("connection {i}: {e}"));
            *got.entry(s).or_insert(0) += 1;
        }
        got
    })
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
#[ignore = "needs a kernel with IPVS: .ci/ipvs-uml.sh runs it in User-Mode Linux"]
fn nat_traffic_splits_by_weight() {
    if !available() {
        return;
    }
    // client 10.0.1.2 -- director 10.0.1.1 (VIP 10.0.1.100) -- rs1 10.0.2.11
    //                                                        -- rs2 10.0.3.12
    let dir = Netns::new("dir");
    let cli = Netns::new("cli");
    let rs1 = Netns::new("rs1");
    let rs2 = Netns::new("rs2");
    for (ifname, peer) in [("c0", &cli), ("r1", &rs1), ("r2", &rs2)] {
        dir.ip(&[
            "link", "add", ifname, "type", "veth", "peer", "name", "eth0", "netns", &peer.name,
        ]);
        dir.ip(&["link", "set", ifname, "up"]);
        peer.ip(&["link", "set", "eth0", "up"]);
    }
    dir.ip(&["addr", "add", "10.0.1.1/24", "dev", "c0"]);
    dir.ip(&["addr", "add", "10.0.1.100/32", "dev", "c0"]);
    dir.ip(&["addr", "add", "10.0.2.1/24", "dev", "r1"]);
    dir.ip(&["addr", "add", "10.0.3.1/24", "dev", "r2"]);
    dir.exec(&["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    for (ns, addr, gw) in [
        (&cli, "10.0.1.2/24", "10.0.1.1"),
        (&rs1, "10.0.2.11/24", "10.0.2.1"),
        (&rs2, "10.0.3.12/24", "10.0.3.1"),
    ] {
        ns.ip(&["addr", "add", addr, "dev", "eth0"]);
        // Replies go back through the director, which un-NATs them.
        ns.ip(&["route", "add", "default", "via", gw]);
    }
    let l1 = rs1.run(|| TcpListener::bind("0.0.0.0:80").expect("rs1 listen"));
    let l2 = rs2.run(|| TcpListener::bind("0.0.0.0:80").expect("rs2 listen"));

    let vip: SocketAddr = "10.0.1.100:80".parse().expect("vip");
    let key = tcp("10.0.1.100", 80);
    let (d1, d2) = (dest("10.0.2.11", 80), dest("10.0.3.12", 80));
    let table = |w1: u32, w2: u32| {
        let mut t = Table::default();
        t.services.insert(
            key.clone(),
            service(
                svc(Scheduler::Wrr, None),
                vec![(d1, nat(w1)), (d2, nat(w2))],
            ),
        );
        t
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let _stop = StopOnDrop(&stop);
        s.spawn(|| serve(l1, "rs1", &stop));
        s.spawn(|| serve(l2, "rs2", &stop));
        let mut ipvs = dir.ipvs();

        assert_eq!(ipvs.apply(&table(2, 1)).expect("apply 2:1"), 3);
        let got = hits(&cli, vip, 30);
        eprintln!("wrr 2:1, 30 connections: {got:?}");
        assert_eq!(got, counts(&[("rs1", 20), ("rs2", 10)]));

        // Weight 0: rs2 gets no new connections.
        assert_eq!(ipvs.apply(&table(2, 0)).expect("apply 2:0"), 1);
        let got = hits(&cli, vip, 10);
        eprintln!("wrr 2:0, 10 connections: {got:?}");
        assert_eq!(got, counts(&[("rs1", 10)]));

        // Back to 1:1 after rs1's weight was changed behind holdfast's back.
        dir.exec(&[
            "ipvsadm",
            "-e",
            "-t",
            "10.0.1.100:80",
            "-r",
            "10.0.2.11:80",
            "-m",
            "-w",
            "0",
        ]);
        assert_eq!(ipvs.repair(&table(1, 1)).expect("repair"), 2);
        let got = hits(&cli, vip, 10);
        eprintln!("wrr 1:1, 10 connections: {got:?}");
        assert_eq!(got, counts(&[("rs1", 5), ("rs2", 5)]));

        ipvs.remove().expect("remove");
        assert!(ipvs.read().expect("read").services.is_empty());
    });
}
