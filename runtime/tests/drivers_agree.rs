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
//! No two inputs fall on the same nanosecond as a timer: on a tie the
//! daemon runs the timer first (its loop checks due timers before it
//! reads), the simulator the input it queued first.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_core::config::model::Config;
use holdfast_core::lvs::Table;
use holdfast_core::node::{Input, Interface, Output};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::wire::{Auth, Packet, Repr, Version};
use holdfast_runtime::daemon::{Arrival, DaemonError, Driver, Kernel, Signal, Wake};
use holdfast_runtime::dataplane::worker::Choice;
use holdfast_runtime::Options;
use holdfast_sim::behaviour;
use holdfast_sim::scenario::seconds;
use holdfast_sim::scenario::Behaviour;
use holdfast_sim::{Scenario, Sim};

const NAME: &str = "director1";
const PEER: &str = "10.0.0.2";
const RTT_DELAY_MS: f64 = 0.125;
/// How long after its arrival the fake's loop reads a packet: core must
/// still be told the arrival time (the socket's receive timestamp).
const READ_LATE: Duration = Duration::from_micros(250);

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
    let repr = Repr {
        version: Version::V2,
        vrid: 51,
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
    v
}

/// The scenario's own faults (the simulator's way of saying them) and
/// the same events for the fake.
fn scenario(conf: &Path) -> String {
    let conf = conf.display();
    format!(
        r#"{{ "name": "drivers-agree", "duration": 31,
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
    {{ "at": 30.2, "kind": "stop", "host": "{NAME}" }}
  ] }}"#
    )
}

/// One thing the fake hands the loop at its time.
enum Item {
    Input(Input, bool),
    Signal(Signal),
    /// A scripted change of the world: a vrrp_script's result, a server's
    /// behaviour, the configuration file's contents.
    World(Box<dyn FnOnce(&mut Fake)>),
}

/// The machine, faked: a virtual clock, scripted arrivals, probes and
/// scripts answered by the simulator's model, every effect recorded.
struct Fake {
    now: Instant,
    seq: u64,
    queue: BTreeMap<(Instant, u64), Item>,
    interfaces: Vec<Interface>,
    servers: BTreeMap<IpAddr, Behaviour>,
    scripts: BTreeMap<String, bool>,
    rtt: Duration,
    effects: Vec<String>,
    tables: usize,
}

impl Fake {
    fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.queue.insert((at, self.seq), item);
    }
}

impl Kernel for Fake {
    fn now(&self) -> Instant {
        self.now
    }
    fn interfaces(&self) -> Vec<Interface> {
        self.interfaces.clone()
    }
    fn try_next(&mut self) -> Option<Arrival> {
        // A packet that has arrived (but was not read yet) is waiting.
        let (&key, item) = self.queue.iter().next()?;
        if key.0 > self.now || !matches!(item, Item::Input(_, true)) {
            return None;
        }
        match self.queue.remove(&key) {
            Some(Item::Input(input, true)) => Some((input, Some(key.0))),
            _ => None,
        }
    }
    async fn next(&mut self, deadline: Option<Instant>) -> Result<Wake, DaemonError> {
        loop {
            let first = self.queue.keys().next().copied();
            match (deadline, first) {
                (Some(d), Some((t, _))) if d <= t => {
                    self.now = d;
                    return Ok(Wake::Timer);
                }
                (Some(d), None) => {
                    self.now = d;
                    return Ok(Wake::Timer);
                }
                (_, Some(key)) => {
                    let item = self.queue.remove(&key).unwrap();
                    self.now = self.now.max(key.0);
                    match item {
                        Item::Input(input, packet) => {
                            if packet {
                                self.now = key.0 + READ_LATE;
                            }
                            return Ok(Wake::Input((input, packet.then_some(key.0))));
                        }
                        Item::Signal(s) => return Ok(Wake::Signal(s)),
                        Item::World(f) => f(self),
                    }
                }
                (None, None) => return Ok(Wake::Signal(Signal::Stop("SIGTERM"))),
            }
        }
    }
    async fn carry_out(&mut self, output: Output) -> Option<Input> {
        self.effects.push(format!("{:?} {output:?}", self.now));
        match output {
            Output::AddVip { instance, vip, .. } => Some(Input::VipResult {
                instance,
                address: vip.address,
                error: None,
            }),
            Output::Probe {
                id,
                checker,
                address,
                port,
                url,
                timeout,
            } => {
                // One behaviour per server, every port (as the scenario).
                let _ = port;
                let b = &self.servers[&address];
                let r = behaviour::probe(b, &checker, url, self.rtt, timeout, true);
                let input = Input::ProbeDone {
                    id,
                    outcome: r.outcome,
                };
                self.push(self.now + r.after, Item::Input(input, false));
                None
            }
            Output::RunTrackScript { id, name, .. } => {
                let success = self.scripts.get(&name).copied().unwrap_or(true);
                let input = Input::ScriptDone { id, success };
                self.push(self.now + behaviour::SCRIPT_RUN, Item::Input(input, false));
                None
            }
            _ => None,
        }
    }
    fn apply_table(&mut self, _table: &Table) {
        self.tables += 1;
    }
    fn configure(&mut self, _config: &Config) -> Result<(), DaemonError> {
        Ok(())
    }
    fn data_plane(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    fn reap(&mut self) {}
    fn stopping(&mut self) {}
    async fn stop(&mut self) {}
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
    let opts = Options {
        config: conf.clone(),
        config_id: None,
        dump: dir.join("dump.json"),
        trace: Some(trace.clone()),
        data_plane: Choice::None,
        repair_interval: Duration::from_secs(60),
        keep_lvs: false,
        ssl_verify: false,
        ignore_unimplemented: false,
    };
    let servers = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
        .iter()
        .map(|a| (a.parse().unwrap(), Behaviour::Ok))
        .collect();
    let mut fake = Fake {
        now: Instant::ZERO,
        seq: 0,
        queue: BTreeMap::new(),
        interfaces: interfaces.clone(),
        servers,
        scripts: BTreeMap::new(),
        rtt: Duration::from_secs_f64(2.0 * RTT_DELAY_MS / 1e3),
        effects: Vec::new(),
        tables: 0,
    };
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
    fake.push(t(30.2), Item::Signal(Signal::Stop("SIGTERM")));
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
