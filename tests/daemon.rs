//! `holdfast run` on real interfaces: two daemons with the case study's
//! configurations in network namespaces (root; see `netns/mod.rs`).

// Real processes in real time: these tests need the clock and sleep.
#![allow(clippy::disallowed_methods)]

mod netns;

use std::time::Duration;

use netns::{available, case_study, sh, wait_every, wait_for, Lab};

const VG1: [(&str, &str); 3] = [
    ("eth0", "192.168.200.10"),
    ("eth0", "192.168.200.11"),
    ("eth1", "192.168.100.10"),
];
const VG2: [(&str, &str); 3] = [
    ("eth0", "192.168.200.12"),
    ("eth0", "192.168.200.13"),
    ("eth1", "192.168.100.11"),
];

fn holds(lab: &Lab, host: &str, group: &[(&str, &str)]) -> bool {
    group.iter().all(|(dev, a)| lab.has(host, dev, a))
}

fn holds_none(lab: &Lab, host: &str, group: &[(&str, &str)]) -> bool {
    group.iter().all(|(dev, a)| !lab.has(host, dev, a))
}

/// Instance `name` of a dump.
fn instance(dump: &serde_json::Value, name: &str) -> serde_json::Value {
    dump["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {dump}"))
}

/// Both started: director 1 is Master of VG1, director 2 of VG2, and each
/// holds exactly its own addresses.
fn elected(lab: &mut Lab) -> (usize, usize) {
    let d1 = lab.holdfast("d1", &case_study(1));
    let d2 = lab.holdfast("d2", &case_study(2));
    let ok = wait_for(Duration::from_secs(8), || {
        holds(lab, "d1", &VG1) && holds(lab, "d2", &VG2)
    });
    assert!(ok.is_some(), "no election:\n{}", lab.logs());
    assert!(
        holds_none(lab, "d1", &VG2) && holds_none(lab, "d2", &VG1),
        "{}",
        lab.logs()
    );
    (d1, d2)
}

#[test]
fn the_case_study_pair_elects_fails_over_on_a_crash_and_preempts_after_a_restart() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("crash");
    let (d1, _) = elected(&mut lab);
    // The client learns director 1's MAC for the VIP.
    let (mac1, mac2) = (lab.mac("d1", "eth0"), lab.mac("d2", "eth0"));
    assert_eq!(
        lab.resolve("192.168.200.10").as_deref(),
        Some(mac1.as_str()),
        "{}",
        lab.logs()
    );
    // SIGKILL: no priority 0; director 2 waits out the master-down interval.
    lab.procs[d1].signal(libc::SIGKILL);
    let took = wait_for(Duration::from_secs(5), || holds(&lab, "d2", &VG1));
    let took = took.unwrap_or_else(|| panic!("no failover:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(4500), "failover took {took:?}");
    // The client's entry moves to director 2's MAC (its gratuitous ARPs).
    let moved = wait_for(Duration::from_secs(1), || {
        lab.neighbour("192.168.200.10").as_deref() == Some(mac2.as_str())
    });
    assert!(
        moved.is_some(),
        "client still at {:?}",
        lab.neighbour("192.168.200.10")
    );
    // A crashed process leaves its addresses (kernel state) ...
    assert!(holds(&lab, "d1", &VG1));
    // ... and a restart removes them before anything else, then preempts
    // after its own master-down interval (3.414 s at priority 150).
    lab.procs[d1].wait_exit(Duration::from_secs(1));
    lab.holdfast("d1", &case_study(1));
    let cleaned = wait_for(Duration::from_secs(2), || holds_none(&lab, "d1", &VG1));
    assert!(cleaned.is_some(), "stale VIPs kept:\n{}", lab.logs());
    let back = wait_for(Duration::from_secs(6), || {
        holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1)
    });
    let back = back.unwrap_or_else(|| panic!("no preemption:\n{}", lab.logs()));
    assert!(
        back > Duration::from_secs(3),
        "preempted before its master-down interval: {back:?}"
    );
}

#[test]
fn sigterm_releases_at_once_and_the_peer_takes_over_after_the_skew() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("term");
    let (d1, _) = elected(&mut lab);
    lab.procs[d1].signal(libc::SIGTERM);
    let gone = lab.procs[d1].wait_exit(Duration::from_secs(2));
    let gone = gone.unwrap_or_else(|| panic!("still running:\n{}", lab.logs()));
    assert!(
        gone < Duration::from_millis(300),
        "exit took {gone:?} (keepalived: ~1 s)"
    );
    assert!(
        holds_none(&lab, "d1", &VG1),
        "addresses left behind:\n{}",
        lab.logs()
    );
    // Priority 0 received: director 2 waits only the skew time (0.609 s).
    let took = wait_for(Duration::from_secs(3), || holds(&lab, "d2", &VG1));
    let took = took.unwrap_or_else(|| panic!("no takeover:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(1200), "takeover took {took:?}");
}

#[test]
fn link_down_on_eth1_moves_vg1_as_a_whole() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("link");
    elected(&mut lab);
    lab.link("d1", "eth1", false);
    let moved = wait_for(Duration::from_secs(6), || {
        holds(&lab, "d2", &VG1) && holds_none(&lab, "d1", &VG1)
    });
    assert!(moved.is_some(), "VG1 did not move:\n{}", lab.logs());
    // VG2 stays with director 2; director 1 is in FAULT for both groups.
    assert!(holds(&lab, "d2", &VG2));
    lab.link("d1", "eth1", true);
    let back = wait_for(Duration::from_secs(6), || holds(&lab, "d1", &VG1));
    assert!(back.is_some(), "VG1 did not come back:\n{}", lab.logs());
}

/// Sends a VRRP message from the client to 224.0.0.18 with a given TTL.
fn inject(lab: &Lab, bytes: &[u8], ttl: u8) {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)\n\
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, {ttl})\n\
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('192.168.200.100'))\n\
         s.sendto(bytes.fromhex('{hex}'), ('224.0.0.18', 0))\n"
    );
    netns::sh(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("c"),
        "python3",
        "-c",
        &script,
    ]);
}

fn advert(vrid: u8, priority: u8, password: &str) -> Vec<u8> {
    use holdfast_core::vrrp::checksum::Variant;
    use holdfast_core::vrrp::wire::{Auth, Packet, Repr, Version};
    let repr = Repr {
        version: Version::V2,
        vrid,
        priority,
        adver_int: 1,
        auth: Auth::pass(password),
        addresses: vec![
            "192.168.200.10".parse().unwrap(),
            "192.168.200.11".parse().unwrap(),
        ],
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let (src, dst) = (
        "192.168.200.100".parse().unwrap(),
        "224.0.0.18".parse().unwrap(),
    );
    repr.emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        src,
        dst,
        Variant::Plain,
    );
    buf
}

#[test]
fn bad_adverts_change_nothing_and_are_counted_by_reason() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("bad");
    let (d1, _) = elected(&mut lab);
    // Each would take VRID 51 over with priority 200 if it were accepted.
    let good = advert(51, 200, "k@l");
    let mut bad_checksum = good.clone();
    bad_checksum[6] ^= 0xff;
    inject(&lab, &good, 254);
    inject(&lab, &bad_checksum, 255);
    inject(&lab, &advert(51, 200, "nope"), 255);
    inject(&lab, &good[..6], 255);
    inject(&lab, &advert(99, 200, "k@l"), 255);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        holds(&lab, "d1", &VG1),
        "a bad advert changed state:\n{}",
        lab.logs()
    );
    let status = lab.dump(d1, "d1");
    let vi1 = instance(&status, "VI_1");
    assert_eq!(vi1["state"], "Master");
    for reason in ["bad_ttl", "bad_checksum", "auth_mismatch"] {
        assert_eq!(vi1["rejected"][reason], 1, "{reason}: {vi1}");
    }
    // Shorter than a VRRP header: keepalived's dispatcher drops it before
    // any instance sees it; holdfast counts it for the director alone.
    assert!(vi1["rejected"]["truncated"].is_null(), "{vi1}");
    for reason in ["wrong_vrid", "truncated"] {
        assert!(
            status["rejected"][reason].as_u64() >= Some(1),
            "{reason}: {status}"
        );
    }
    // The same advert, well formed, is obeyed: the injection path works.
    inject(&lab, &good, 255);
    let yielded = wait_for(Duration::from_secs(1), || {
        !lab.has("d1", "eth0", "192.168.200.10")
    });
    assert!(
        yielded.is_some(),
        "a valid higher-priority advert was ignored:\n{}",
        lab.logs()
    );
}

#[test]
fn a_broken_reload_keeps_running_and_a_new_instance_leaves_the_others_alone() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("reload");
    let text = std::fs::read_to_string(case_study(1)).unwrap();
    let conf = netns::write(&lab, "d1.conf", &text);
    let d1 = lab.holdfast("d1", &conf);
    lab.holdfast("d2", &case_study(2));
    let up = wait_for(Duration::from_secs(8), || {
        holds(&lab, "d1", &VG1) && holds(&lab, "d2", &VG2)
    });
    assert!(up.is_some(), "{}", lab.logs());
    // A file with an error: refused, everything keeps running.
    std::fs::write(&conf, "vrrp_instance VI_1 {\n    priority\n").unwrap();
    lab.procs[d1].signal(libc::SIGHUP);
    let refused = wait_for(Duration::from_secs(2), || {
        lab.procs[d1].log().contains("reload refused")
    });
    assert!(refused.is_some(), "{}", lab.logs());
    assert!(
        lab.procs[d1].child.try_wait().unwrap().is_none(),
        "the daemon stopped"
    );
    assert!(holds(&lab, "d1", &VG1));
    // A file with one more instance: it starts; VG1 never leaves.
    let more = format!(
        "{text}\nvrrp_instance VI_5 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 60\n    priority 150\n    advert_int 1\n    virtual_ipaddress {{\n        192.168.200.50\n    }}\n}}\n"
    );
    std::fs::write(&conf, more).unwrap();
    lab.procs[d1].signal(libc::SIGHUP);
    let mut kept = true;
    let started = wait_for(Duration::from_secs(6), || {
        kept &= holds(&lab, "d1", &VG1);
        lab.has("d1", "eth0", "192.168.200.50")
    });
    assert!(
        started.is_some(),
        "the new instance did not start:\n{}",
        lab.logs()
    );
    assert!(
        kept,
        "an unchanged instance lost its addresses during the reload:\n{}",
        lab.logs()
    );
    let log = lab.procs[d1].log();
    let after = log.split("reloading").last().unwrap_or_default();
    assert!(
        !after.contains("(VI_1) Entering"),
        "VI_1 changed state on reload:\n{after}"
    );
}

/// Notify scripts get keepalived's arguments; smtp_alert mail reaches the
/// SMTP server (Python's smtpd in the director's namespace); a script a
/// non-root user could change is refused under enable_script_security.
#[test]
fn notify_scripts_and_alert_mail() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("notify");
    let out = lab.dir.join("notify.out");
    let script = netns::write(
        &lab,
        "notify.sh",
        &format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    );
    let unsafe_script = netns::write(&lab, "unsafe.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&unsafe_script, std::fs::Permissions::from_mode(0o777)).unwrap();
    let conf = format!(
        "global_defs {{\n    router_id LVS_TEST\n    notification_email {{\n        ops@example.com\n    }}\n    notification_email_from holdfast@example.com\n    smtp_server 127.0.0.1 2525\n    smtp_connect_timeout 5\n    enable_script_security\n}}\n\
         vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 1\n    smtp_alert\n\
         notify_master \"{s} master-arg\"\n    notify \"{s}\"\n    notify_backup \"{u}\"\n    virtual_ipaddress {{\n        192.168.200.10\n    }}\n}}\n\
         virtual_server 192.168.200.10 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n\
         real_server 127.0.0.1 9 {{\n        TCP_CHECK {{\n            connect_timeout 1\n            retry 0\n        }}\n    }}\n}}\n",
        s = script.display(),
        u = unsafe_script.display()
    );
    let conf = netns::write(&lab, "d1.conf", &conf);
    lab.spawn(
        "d1",
        "smtpd",
        &[
            "python3",
            "-u",
            "-m",
            "smtpd",
            "-n",
            "-c",
            "DebuggingServer",
            "127.0.0.1:2525",
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    lab.holdfast_with("d1", &conf, &["--data-plane", "none"]);
    let master = wait_for(Duration::from_secs(6), || {
        lab.has("d1", "eth0", "192.168.200.10")
    });
    assert!(master.is_some(), "{}", lab.logs());
    let ran = wait_for(Duration::from_secs(3), || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() >= 3)
    });
    assert!(ran.is_some(), "scripts did not run:\n{}", lab.logs());
    let lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    // BACKUP at start (the generic script), then MASTER: the specific
    // script with its own argument, and the generic one with keepalived's four.
    for want in [
        "INSTANCE VI_1 BACKUP 150",
        "master-arg",
        "INSTANCE VI_1 MASTER 150",
    ] {
        assert!(lines.iter().any(|l| l == want), "no {want:?} in {lines:?}");
    }
    let log = lab.logs();
    assert!(
        log.contains("writable by a non-root user"),
        "the unsafe script was not refused:\n{log}"
    );
    let mailed = wait_for(Duration::from_secs(5), || {
        lab.logs()
            .contains("[LVS_TEST] VRRP Instance VI_1 - Entering MASTER state")
    });
    assert!(mailed.is_some(), "no alert mail:\n{}", lab.logs());
    assert!(lab.logs().contains("ops@example.com"));
    // The real server's TCP_CHECK fails (nothing listens on port 9): its
    // checker's alert, worded as keepalived 2.2.7 words it.
    let checker_mail = wait_for(Duration::from_secs(8), || {
        let logs = lab.logs();
        logs.contains(
            "[LVS_TEST] Realserver [127.0.0.1]:tcp:9 of virtual server [192.168.200.10]:tcp:80 - DOWN",
        ) && logs.contains("=> TCP CHECK failed on service <=")
    });
    assert!(checker_mail.is_some(), "no checker alert:\n{}", lab.logs());
    // On SIGTERM the generic script hears STOP before the process ends.
    let d1 = lab.procs.len() - 1;
    lab.procs[d1].signal(libc::SIGTERM);
    lab.procs[d1].wait_exit(Duration::from_secs(6));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("INSTANCE VI_1 STOP")),
        "no STOP notify: {text}"
    );
}

/// VRRPv3 over IPv6: adverts to ff02::12 from the link-local address, the
/// virtual address moving on a crash.
#[test]
fn ipv6_instances_elect_and_fail_over() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("ipv6");
    // Link-local addresses must have finished duplicate address detection.
    let ready = wait_for(Duration::from_secs(5), || {
        ["d1", "d2"].iter().all(|h| {
            let out = netns::sh(&[
                "ip",
                "-n",
                &lab.ns(h),
                "-6",
                "-o",
                "addr",
                "show",
                "dev",
                "eth0",
                "scope",
                "link",
            ]);
            out.contains("fe80") && !out.contains("tentative")
        })
    });
    assert!(ready.is_some(), "no link-local addresses");
    let conf = |prio: u8| {
        format!(
            "global_defs {{\n    vrrp_version 3\n}}\nvrrp_instance V6 {{\n    interface eth0\n    virtual_router_id 61\n    priority {prio}\n    advert_int 1\n    virtual_ipaddress {{\n        fd00:200::10/64\n    }}\n}}\n"
        )
    };
    let (c1, c2) = (
        netns::write(&lab, "v6-1.conf", &conf(150)),
        netns::write(&lab, "v6-2.conf", &conf(100)),
    );
    let d1 = lab.holdfast("d1", &c1);
    lab.holdfast("d2", &c2);
    // Held and usable: not tentative (DAD) and not failed DAD.
    let has = |lab: &Lab, h: &str| {
        let out = netns::sh(&[
            "ip",
            "-n",
            &lab.ns(h),
            "-6",
            "-o",
            "addr",
            "show",
            "dev",
            "eth0",
        ]);
        out.lines().any(|l| {
            l.contains("fd00:200::10") && !l.contains("tentative") && !l.contains("dadfailed")
        })
    };
    let up = wait_for(Duration::from_secs(8), || has(&lab, "d1"));
    assert!(up.is_some(), "{}", lab.logs());
    std::thread::sleep(Duration::from_secs(2));
    assert!(!has(&lab, "d2"), "two Masters:\n{}", lab.logs());
    lab.procs[d1].signal(libc::SIGKILL);
    let took = wait_for(Duration::from_secs(5), || has(&lab, "d2"));
    assert!(took.is_some(), "no failover:\n{}", lab.logs());
}

/// A virtual address someone else removes while holdfast is Master is put
/// back (the kernel tells the daemon over netlink).
#[test]
fn a_vip_removed_by_hand_comes_back() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("readd");
    elected(&mut lab);
    netns::sh(&[
        "ip",
        "-n",
        &lab.ns("d1"),
        "addr",
        "del",
        "192.168.200.10/32",
        "dev",
        "eth0",
    ]);
    let back = wait_for(Duration::from_secs(2), || {
        lab.has("d1", "eth0", "192.168.200.10")
    });
    assert!(back.is_some(), "not put back:\n{}", lab.logs());
    assert!(lab.logs().contains("removed by someone else"));
}

/// Unicast peers instead of multicast, VRRPv3, each director sending from
/// a secondary address (the checksum covers it: the source on the wire
/// must be the one configured), and a SIGTERM handing over at once.
#[test]
fn a_unicast_pair_elects_and_fails_over() {
    unicast_pair(true);
}

/// The same pair without `interface` (keepalived allows it with
/// `unicast_src_ip`; the address names its `dev`): adverts leave by the
/// route to the peer from the socket bound to no interface, and arrive on
/// it. One Master, then the takeover at SIGTERM.
#[test]
fn a_unicast_pair_without_an_interface_elects_and_fails_over() {
    unicast_pair(false);
}

fn unicast_pair(with_interface: bool) {
    if !available() {
        return;
    }
    let mut lab = Lab::new(if with_interface {
        "unicast"
    } else {
        "unicast-noif"
    });
    let (interface, dev) = if with_interface {
        ("    interface eth0\n", "")
    } else {
        ("", " dev eth0")
    };
    // Beside the interface-less one, a multicast instance on eth0: its
    // adverts must reach only eth0's socket, not the unbound one too.
    let multicast = if with_interface {
        ""
    } else {
        "vrrp_instance M {\n    interface eth0\n    virtual_router_id 71\n    advert_int 1\n    virtual_ipaddress {\n        192.168.200.71/24\n    }\n}\n"
    };
    for n in [1, 2] {
        let ns = lab.ns(&format!("d{n}"));
        netns::sh(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            &format!("192.168.200.20{n}/24"),
            "dev",
            "eth0",
        ]);
    }
    let conf = |prio: u8, me: u8, peer: u8| {
        format!(
            "global_defs {{\n    vrrp_version 3\n}}\nvrrp_instance U {{\n{interface}    virtual_router_id 70\n    priority {prio}\n    advert_int 1\n    unicast_src_ip 192.168.200.20{me}\n    unicast_peer {{\n        192.168.200.20{peer}\n    }}\n    virtual_ipaddress {{\n        192.168.200.70/24{dev}\n    }}\n}}\n{multicast}"
        )
    };
    let (c1, c2) = (
        netns::write(&lab, "u1.conf", &conf(150, 1, 2)),
        netns::write(&lab, "u2.conf", &conf(100, 2, 1)),
    );
    let d1 = lab.holdfast("d1", &c1);
    let d2 = lab.holdfast("d2", &c2);
    let up = wait_for(Duration::from_secs(8), || {
        lab.has("d1", "eth0", "192.168.200.70")
    });
    assert!(up.is_some(), "{}", lab.logs());
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !lab.has("d2", "eth0", "192.168.200.70"),
        "two Masters: adverts not accepted:\n{}",
        lab.logs()
    );
    // On the Backup, which hears director 1's adverts of both: each of U's
    // unicast adverts also reaches eth0's socket, which has no instance
    // for it (the kernel gives every raw socket a copy; keepalived's
    // sockets see the same), but none of M's multicast adverts reaches
    // the unbound socket.
    let state = lab.dump(d2, "d2");
    let wrong = state["rejected"]["wrong_vrid"].as_u64().unwrap_or(0);
    let heard = state["instances"][0]["stats"]["advert_rcvd"]
        .as_u64()
        .unwrap_or(0);
    assert!(heard >= 2, "{state}");
    // One in flight between the two sockets' readers at most.
    assert!(wrong <= heard + 1, "{state}");
    lab.procs[d1].signal(libc::SIGTERM);
    // Priority 0 over unicast: the skew (0.61 s), not a master-down interval.
    let took = wait_for(Duration::from_secs(4), || {
        lab.has("d2", "eth0", "192.168.200.70")
    });
    let took = took.unwrap_or_else(|| panic!("no takeover:\n{}", lab.logs()));
    assert!(
        took < Duration::from_millis(1500),
        "takeover took {took:?}: no priority 0?"
    );
}

/// Every signal a keepalived user sends is safe. SIGUSR2 writes keepalived's
/// statistics beside the dump and SIGJSON (SIGRTMIN+2) the JSON state;
/// SIGSTATS_CLEAR (SIGRTMAX-1) writes and zeroes the counters; stray
/// signals whose default would kill the process are ignored. The Master
/// stays Master through all of them. SIGQUIT stops it as SIGTERM does: the
/// priority-0 advert hands VG1 over at once, and the addresses go.
#[test]
fn signals_keepalived_users_send_leave_the_master_running() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("signals");
    let (d1, _) = elected(&mut lab);
    let stats = lab.dir.join("d1.stats");
    let read_stats = |lab: &Lab, sig: i32| {
        let _ = std::fs::remove_file(&stats);
        lab.procs[d1].signal(sig);
        let written = wait_for(Duration::from_secs(2), || stats.exists());
        assert!(written.is_some(), "no statistics file:\n{}", lab.logs());
        std::fs::read_to_string(&stats).unwrap()
    };
    let text = read_stats(&lab, libc::SIGUSR2);
    let vi1 = text
        .split("VRRP Instance: ")
        .find(|b| b.starts_with("VI_1\n"))
        .unwrap_or_else(|| panic!("no VI_1 block in:\n{text}"));
    assert!(vi1.contains("\n  Became master: 1\n"), "{vi1}");
    assert!(vi1.contains("\n  Released master: 0\n"), "{vi1}");
    assert!(vi1.contains("\n  Advertisements:\n    Received: "), "{vi1}");
    assert!(
        !vi1.contains("    Sent: 0\n  Became"),
        "a Master sends: {vi1}"
    );
    // SIGJSON: the JSON state, where the dump goes.
    let json = lab.dir.join("d1.json");
    let _ = std::fs::remove_file(&json);
    lab.procs[d1].signal(libc::SIGRTMIN() + 2);
    assert!(wait_for(Duration::from_secs(2), || json.exists()).is_some());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        state["instances"][0]["stats"]["become_master"], 1,
        "{state}"
    );
    // SIGSTATS_CLEAR writes, then zeroes.
    let cleared = read_stats(&lab, libc::SIGRTMAX() - 1);
    assert!(cleared.contains("Became master: 1"), "{cleared}");
    for sig in [
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPWR,
        libc::SIGIO,
        libc::SIGRTMIN() + 5,
    ] {
        lab.procs[d1].signal(sig);
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        lab.procs[d1].child.try_wait().unwrap().is_none(),
        "a stray signal ended the daemon:\n{}",
        lab.logs()
    );
    assert!(holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1));
    let after = read_stats(&lab, libc::SIGUSR2);
    assert!(after.contains("Became master: 0"), "not cleared: {after}");
    // SIGQUIT: an orderly stop.
    lab.procs[d1].signal(libc::SIGQUIT);
    let gone = lab.procs[d1].wait_exit(Duration::from_secs(3));
    assert!(gone.is_some(), "SIGQUIT did not stop it:\n{}", lab.logs());
    assert!(holds_none(&lab, "d1", &VG1), "addresses left after SIGQUIT");
    // Priority 0: director 2 takes over after its skew time (0.61 s), not
    // the master-down interval (3.6 s).
    let took = wait_for(Duration::from_secs(3), || holds(&lab, "d2", &VG1));
    let took = took.unwrap_or_else(|| panic!("no takeover:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(1500), "takeover took {took:?}");
}

/// A virtual address the kernel refuses (IPv6 is disabled on the
/// interface) is reported in the dump with the kernel's error and retried
/// by core while the instance is Master; once the kernel accepts it, it is
/// added and the error is gone.
#[test]
fn a_refused_virtual_address_is_retried_and_reported() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("viprty");
    lab.exec(
        "d1",
        &["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"],
    );
    let conf = netns::write(
        &lab,
        "d1.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 1\n\
         virtual_ipaddress {\n        192.168.200.10\n    }\n    virtual_ipaddress_excluded {\n        fd00:1::10/64\n    }\n}\n",
    );
    let d1 = lab.holdfast("d1", &conf);
    let master = wait_for(Duration::from_secs(6), || {
        lab.has("d1", "eth0", "192.168.200.10")
    });
    assert!(master.is_some(), "{}", lab.logs());
    let errors = |lab: &Lab| lab.dump(d1, "d1")["instances"][0]["vip_errors"].clone();
    let refused = errors(&lab);
    assert_eq!(
        refused[0]["address"],
        "fd00:1::10",
        "{refused}\n{}",
        lab.logs()
    );
    assert!(refused[0]["attempts"].as_u64() >= Some(1), "{refused}");
    assert!(!refused[0]["error"].as_str().unwrap_or("").is_empty());
    let has_v6 = |lab: &Lab| {
        lab.exec("d1", &["ip", "-6", "addr", "show", "dev", "eth0"])
            .contains("fd00:1::10/64")
    };
    assert!(!has_v6(&lab));
    lab.exec(
        "d1",
        &["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"],
    );
    // The retries back off to at most 30 s apart.
    let added = wait_every(Duration::from_millis(100), Duration::from_secs(35), || {
        has_v6(&lab)
    });
    assert!(added.is_some(), "never retried:\n{}", lab.logs());
    assert_eq!(errors(&lab), serde_json::json!([]));
    assert!(lab.has("d1", "eth0", "192.168.200.10"));
}

/// Adds (`add`) or removes (`del`) director 1's only eth1 address.
fn eth1_address(lab: &Lab, op: &str) {
    let ns = lab.ns("d1");
    sh(&[
        "ip",
        "-n",
        &ns,
        "addr",
        op,
        "192.168.100.1/24",
        "dev",
        "eth1",
    ]);
}

/// An instance whose interface loses its only IPv4 address goes to FAULT,
/// as keepalived's "no IPv4 address for interface": its sync group goes
/// with it and director 2 takes VG1. When an address comes back, the
/// instance leaves FAULT and director 1, the higher priority, takes VG1
/// back.
#[test]
fn an_interface_that_loses_its_address_faults_and_recovers_when_it_returns() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("addr");
    let (d1, _) = elected(&mut lab);
    eth1_address(&lab, "del");
    let moved = wait_for(Duration::from_secs(6), || {
        holds(&lab, "d2", &VG1) && holds_none(&lab, "d1", &VG1)
    });
    let moved = moved.unwrap_or_else(|| panic!("VG1 did not move:\n{}", lab.logs()));
    // Its priority-0 advert, sent from the address just removed, still
    // leaves: director 2 waits its skew time (0.61 s), not the master-down
    // interval (3.6 s).
    assert!(
        moved < Duration::from_millis(1500),
        "takeover took {moved:?}"
    );
    let state = lab.dump(d1, "d1");
    let vi2 = instance(&state, "VI_2");
    assert_eq!(vi2["state"], "Fault", "{vi2}");
    eth1_address(&lab, "add");
    let back = wait_for(Duration::from_secs(8), || {
        holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1)
    });
    assert!(back.is_some(), "VG1 did not come back:\n{}", lab.logs());
}

/// An interface without an address at start: the daemon runs, the
/// instance on it starts in FAULT (keepalived: "no IPv4 address for
/// interface") and director 2 holds VG1; the address added, director 1
/// takes VG1.
#[test]
fn an_interface_without_an_address_at_start_faults_until_one_is_added() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("noaddr");
    eth1_address(&lab, "del");
    let d1 = lab.holdfast("d1", &case_study(1));
    lab.holdfast("d2", &case_study(2));
    let d2_holds = wait_for(Duration::from_secs(8), || {
        holds(&lab, "d2", &VG1) && holds(&lab, "d2", &VG2)
    });
    assert!(d2_holds.is_some(), "{}", lab.logs());
    assert!(
        lab.procs[d1].child.try_wait().unwrap().is_none(),
        "the daemon refused to run:\n{}",
        lab.logs()
    );
    assert!(holds_none(&lab, "d1", &VG1));
    eth1_address(&lab, "add");
    let back = wait_for(Duration::from_secs(8), || {
        holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1)
    });
    assert!(
        back.is_some(),
        "VG1 did not come to director 1:\n{}",
        lab.logs()
    );
}

/// An interface deleted and created again (a new index), as keepalived
/// follows it: while it is gone, the instance on it is in FAULT and
/// director 2 takes VG1, and a reload meanwhile is not refused for it and
/// changes nothing; when it comes back under the same name, with its
/// address, director 1 opens its sockets on the new interface and, the
/// higher priority, takes VG1 back.
#[test]
fn an_interface_deleted_and_created_again_is_followed() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("relink");
    let (d1, _) = elected(&mut lab);
    let ns = lab.ns("d1");
    sh(&["ip", "-n", &ns, "link", "del", "eth1"]);
    // (Director 1's VG1 addresses went with its eth1.)
    let moved = wait_for(Duration::from_secs(6), || holds(&lab, "d2", &VG1));
    assert!(moved.is_some(), "VG1 did not move:\n{}", lab.logs());
    let state = lab.dump(d1, "d1");
    let vi2 = instance(&state, "VI_2");
    assert_eq!(vi2["state"], "Fault", "{vi2}");
    // A reload while it is gone keeps following it: not refused for the
    // missing interface, and the instance stays in FAULT.
    lab.procs[d1].signal(libc::SIGHUP);
    let reloaded = wait_for(Duration::from_secs(3), || {
        lab.procs[d1].log().contains("reloading")
    });
    assert!(reloaded.is_some(), "{}", lab.logs());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !lab.procs[d1].log().contains("reload refused"),
        "{}",
        lab.logs()
    );
    let state = lab.dump(d1, "d1");
    let states: Vec<String> = state["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}={}", i["name"], i["state"]))
        .collect();
    assert!(
        states.iter().all(|s| !s.contains("Master")) && holds(&lab, "d2", &VG1),
        "{states:?}"
    );
    lab.plug("d1", "eth1", "br1");
    eth1_address(&lab, "add");
    let back = wait_for(Duration::from_secs(10), || {
        holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1)
    });
    assert!(
        back.is_some(),
        "VG1 did not come back to director 1:\n{}",
        lab.logs()
    );
    assert!(
        lab.procs[d1].log().contains("eth1: interface added"),
        "{}",
        lab.logs()
    );
}

/// A `track_interface` naming an interface that does not exist at start is
/// dropped, as keepalived drops it ("tracked interface eth5 doesn't
/// exist"): the instance is not held in FAULT by it and becomes Master; an
/// eth5 created later, even down, changes nothing (keepalived follows only
/// interfaces that existed at start; `dynamic_interfaces` is refused as
/// unimplemented).
#[test]
fn an_interface_created_after_start_is_not_tracked_as_keepalived() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("latecomer");
    let conf = netns::write(
        &lab,
        "late.conf",
        "vrrp_instance L {\n    interface eth0\n    virtual_router_id 80\n    priority 150\n    advert_int 1\n    track_interface {\n        eth5\n    }\n    virtual_ipaddress {\n        192.168.200.80/24\n    }\n}\n",
    );
    let d1 = lab.holdfast("d1", &conf);
    let up = wait_for(Duration::from_secs(8), || {
        lab.has("d1", "eth0", "192.168.200.80")
    });
    assert!(up.is_some(), "held in FAULT by eth5:\n{}", lab.logs());
    assert!(
        lab.procs[d1]
            .log()
            .contains("tracked interface eth5 doesn't exist"),
        "{}",
        lab.logs()
    );
    let ns = lab.ns("d1");
    sh(&[
        "ip", "-n", &ns, "link", "add", "eth5", "type", "veth", "peer", "name", "eth5p",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(instance(&lab.dump(d1, "d1"), "L")["state"], "Master");
    assert!(lab.has("d1", "eth0", "192.168.200.80"), "{}", lab.logs());
}
