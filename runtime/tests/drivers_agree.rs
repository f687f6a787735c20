//! One logic, two drivers: the same inputs driven through the daemon's
//! driver loop (over a recording fake of the machine, on a virtual clock)
//! and through the simulator's engine give the same trace, record for
//! record, timestamps included.
//!
//! The director is alone: a peer that is not simulated sends its adverts
//! (injected as packets), its interface goes down and up, its source
//! address goes and comes back, a vrrp_script fails and passes, it is
//! reloaded with a new file, a real server hangs, a higher-priority peer
//! takes over, and SIGTERM stops it. Probes and scripts are answered on
//! both sides by the simulator's model of servers and scripts
//! (`holdfast_sim::behaviour`), so what is compared is the drivers: time,
//! arrival order, the drain and the trace.
//!
//! The fake is `fake_kernel/mod.rs`.
//!
//! No two inputs fall on the same nanosecond as a timer: on a tie the
//! daemon runs the timer first (its loop checks due timers before it
//! reads), the simulator the input it queued first.

mod fake_kernel;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fake_kernel::{Fake, Item};
use holdfast_core::node::Input;
use holdfast_core::time::Instant;
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::wire::{Auth, Packet, Repr, Version};
use holdfast_runtime::daemon::{Driver, Signal};
use holdfast_sim::scenario::seconds;
use holdfast_sim::scenario::Behaviour;
use holdfast_sim::{Scenario, Sim};

const NAME: &str = "director1";
const PEER: &str = "10.0.0.2";
const RTT_DELAY_MS: f64 = 0.125;

fn config(priority: u8, third_server: bool) -> String {
    let third = if third_server {
        "    real_server 10.0.0.13 80 {\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n"
    } else {
        ""
    };
    format!(
        r#"global_defs {{
    router_id {NAME}
}}
vrrp_script chk {{
    script "/bin/true"
    interval 2
    weight 10
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    track_script {{
        chk
    }}
    virtual_ipaddress {{
        10.0.0.100/24
    }}
}}
virtual_server 10.0.0.100 80 {{
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.0.11 80 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
    real_server 10.0.0.12 80 {{
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
        }}
    }}
{third}}}
"#
    )
}

/// A peer's advert for VRID 51.
fn advert(priority: u8) -> Input {
    advert_for(51, priority)
}

/// A peer's advert for `vrid`.
fn advert_for(vrid: u8, priority: u8) -> Input {
    let repr = Repr {
        version: Version::V2,
        vrid,
        priority,
        adver_int: 1,
        auth: Auth::NONE,
        addresses: vec!["10.0.0.100".parse().unwrap()],
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let (src, dst): (IpAddr, IpAddr) = (PEER.parse().unwrap(), "224.0.0.18".parse().unwrap());
    repr.emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        src,
        dst,
        Variant::Plain,
    );
    Input::Packet {
        interface: "eth0".into(),
        src,
        dst,
        ttl: 255,
        bytes: buf,
    }
}

fn at(s: f64) -> Duration {
    seconds(s).unwrap()
}

/// What happens, when: the inputs both drivers get.
fn inputs() -> Vec<(Duration, Input)> {
    let mut v = Vec::new();
    // A Master at 150 until 6.5 s; then silence: this director takes over.
    for k in 0..7 {
        v.push((at(0.5 + f64::from(k)), advert(150)));
    }
    let link = |up| Input::Link {
        interface: "eth0".into(),
        up,
    };
    v.push((at(12.25), link(false)));
    v.push((at(13.5), link(true)));
    let address = |added| Input::Address {
        interface: "eth0".into(),
        address: "10.0.0.1".parse().unwrap(),
        added,
    };
    v.push((at(16.1), address(false)));
    v.push((at(17.2), address(true)));
    // A peer at 200 takes over.
    for k in 0..4 {
        v.push((at(24.6 + f64::from(k)), advert(200)));
    }
    // Just before this director's master-down runs out (27.6 s + 3 s +
    // (256 - 130) / 256 s in keepalived's microseconds; 130 is priority
    // 120 plus the passing script's 10), an advert of another VRID and
    // then the peer's arrive. The daemon's loop reads them only after the
    // deadline (`READ_LATE`): the peer's must still restart the timer, as
    // it did in time (`Driver::take_arrived_before`).
    let due = at(27.6) + Duration::from_micros(3_492_187);
    v.push((due - Duration::from_micros(200), advert_for(52, 200)));
    v.push((due - Duration::from_micros(100), advert(200)));
    v
}

/// The scenario's own faults (the simulator's way of saying them) and
/// the same events for the fake.
fn scenario(conf: &Path) -> String {
    let conf = conf.display();
    format!(
        r#"{{ "name": "drivers-agree", "duration": 36,
  "directors": [ {{ "name": "{NAME}", "config": "{conf}",
      "interfaces": [ {{ "name": "eth0", "segment": "lan", "ipv4": "10.0.0.1" }} ] }} ],
  "segments": [ {{ "name": "lan", "subnets": ["10.0.0.0/24"], "delay_ms": {RTT_DELAY_MS} }} ],
  "real_servers": [ {{ "address": "10.0.0.11" }}, {{ "address": "10.0.0.12" }},
                    {{ "address": "10.0.0.13" }} ],
  "faults": [
    {{ "at": 9.7, "kind": "script", "host": "{NAME}", "script": "chk", "ok": false }},
    {{ "at": 14.3, "kind": "script", "host": "{NAME}", "script": "chk", "ok": true }},
    {{ "at": 18.3, "kind": "reload", "host": "{NAME}", "config": "{conf}" }},
    {{ "at": 20.4, "kind": "serve", "server": "10.0.0.12", "behaviour": "hang" }},
    {{ "at": 35.3, "kind": "stop", "host": "{NAME}" }}
  ] }}"#
    )
}

/// The director's own records. The simulator's invariant checker also
/// writes verdicts under the director's name; it cannot see the injected
/// peer (so it finds this director slow to take over) and it is not a
/// driver: its records are left out.
fn records(trace: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(trace)
        .lines()
        .filter(|l| l.contains(&format!("\"host\":\"{NAME}\"")))
        .filter(|l| !l.contains("\"kind\":\"violation\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_daemon_loop_and_the_simulator_write_the_same_trace() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("drivers-agree");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("director1.conf");
    let (first, second) = (config(100, false), config(120, true));

    // The simulator: the first file at start; the reload reads the second.
    std::fs::write(&conf, &first).unwrap();
    let text = scenario(&conf);
    let sc = Scenario::parse("drivers-agree.json", &text).unwrap();
    let setup = holdfast_sim::setup::Setup::new(&sc, &dir, "drivers-agree.json").unwrap();
    let interfaces = setup.directors[0].interfaces.clone();
    let mut sim = Sim::new(&sc, setup, sc.seed, true).unwrap();
    let seed = sim.node_seed(NAME).unwrap();
    for (t, input) in inputs() {
        assert!(sim.inject(t, NAME, input));
    }
    std::fs::write(&conf, &second).unwrap();
    let report = sim.run();
    let simulated = records(report.trace.as_deref().unwrap());

    // The daemon's loop over the fake, with the same inputs and events.
    std::fs::write(&conf, &first).unwrap();
    let trace = dir.join("daemon.trace");
    let opts = fake_kernel::options(&conf, &dir, &trace);
    let rtt = Duration::from_secs_f64(2.0 * RTT_DELAY_MS / 1e3);
    let servers = ["10.0.0.11", "10.0.0.12", "10.0.0.13"];
    let mut fake = Fake::new(interfaces.clone(), &servers, rtt);
    let t = |s: f64| Instant::ZERO + at(s);
    for (d, input) in inputs() {
        let packet = matches!(input, Input::Packet { .. });
        fake.push(Instant::ZERO + d, Item::Input(input, packet));
    }
    let script = |ok: bool| -> Item {
        Item::World(Box::new(move |f: &mut Fake| {
            f.scripts.insert("chk".into(), ok);
        }))
    };
    fake.push(t(9.7), script(false));
    fake.push(t(14.3), script(true));
    let (path, text2) = (conf.clone(), second.clone());
    fake.push(
        t(18.3),
        Item::World(Box::new(move |_| std::fs::write(&path, text2).unwrap())),
    );
    fake.push(t(18.3), Item::Signal(Signal::Reload));
    fake.push(
        t(20.4),
        Item::World(Box::new(|f: &mut Fake| {
            f.servers
                .insert("10.0.0.12".parse().unwrap(), Behaviour::Hang);
        })),
    );
    // keepalived users' signals that must change nothing.
    fake.push(t(21.05), Item::Signal(Signal::Stats { clear: false }));
    fake.push(t(21.15), Item::Signal(Signal::Dump));
    fake.push(t(35.3), Item::Signal(Signal::Stop("SIGTERM")));
    let cfg = holdfast_runtime::daemon::load(&opts).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let driver = Driver::start(fake, opts, cfg, &interfaces, &[], seed).unwrap();
        driver.serve().await.unwrap();
    });
    let daemon = records(&std::fs::read(&trace).unwrap());

    // The story happened: a takeover, FAULT twice, a reload, a server
    // down, a hand-over to the peer, the stop.
    let all = daemon.join("\n");
    for needle in [
        "\"to\":\"Master\"",
        "\"to\":\"Fault\"",
        "\"kind\":\"reload\"",
        "\"up\":false",
        "\"to\":\"Backup\"",
        "\"reason\":\"SIGTERM\"",
    ] {
        assert!(
            all.contains(needle),
            "no {needle} in the daemon's trace:\n{all}"
        );
    }
    let first_difference = daemon
        .iter()
        .zip(&simulated)
        .position(|(a, b)| a != b)
        .unwrap_or(daemon.len().min(simulated.len()));
    assert!(
        daemon == simulated,
        "the traces differ from record {first_difference}:\n daemon: {:?}\n    sim: {:?}\n({} and {} records)",
        daemon.get(first_difference),
        simulated.get(first_difference),
        daemon.len(),
        simulated.len()
    );
}
