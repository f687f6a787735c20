//! A fake of the machine under the daemon's driver loop: a virtual clock,
//! scripted arrivals, probes and scripts answered by the simulator's model
//! (`holdfast_sim::behaviour`), every effect recorded. Shared by the
//! driver tests.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::config::model::Config;
use holdfast_core::lvs::Table;
use holdfast_core::node::{Input, Interface, Output};
use holdfast_core::time::Instant;
use holdfast_runtime::daemon::{Arrival, DaemonError, Kernel, Signal, Wake};
use holdfast_runtime::dataplane::worker::Choice;
use holdfast_runtime::Options;
use holdfast_sim::behaviour;
use holdfast_sim::scenario::Behaviour;

/// How long after its arrival the fake's loop reads a packet: core must
/// still be told the arrival time (the socket's receive timestamp).
pub const READ_LATE: Duration = Duration::from_micros(250);

/// One thing the fake hands the loop at its time.
pub enum Item {
    Input(Input, bool),
    Signal(Signal),
    /// A scripted change of the world: a vrrp_script's result, a server's
    /// behaviour, the configuration file's contents.
    World(Box<dyn FnOnce(&mut Fake)>),
}

/// The machine, faked: a virtual clock, scripted arrivals, probes and
/// scripts answered by the simulator's model, every effect recorded.
pub struct Fake {
    pub now: Instant,
    pub seq: u64,
    pub queue: BTreeMap<(Instant, u64), Item>,
    pub interfaces: Vec<Interface>,
    pub servers: BTreeMap<IpAddr, Behaviour>,
    pub scripts: BTreeMap<String, bool>,
    pub rtt: Duration,
    pub effects: Vec<String>,
    pub tables: usize,
}

impl Fake {
    pub fn push(&mut self, at: Instant, item: Item) {
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
    fn configure(&mut self, config: &Config) -> Result<(), DaemonError> {
        // As the system refuses a socket on an interface it does not have.
        for i in &config.instances {
            let name = i.interface.as_deref().unwrap_or("");
            if !name.is_empty() && !self.interfaces.iter().any(|x| x.name == name) {
                return Err(DaemonError::Config(format!(
                    "interface {name} does not exist"
                )));
            }
        }
        Ok(())
    }
    fn data_plane(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    fn reap(&mut self) {}
    fn stopping(&mut self) {}
    async fn stop(&mut self) {}
}

impl Fake {
    /// A fake with these interfaces and servers (every one `ok`), at time
    /// zero.
    pub fn new(interfaces: Vec<Interface>, servers: &[&str], rtt: Duration) -> Fake {
        Fake {
            now: Instant::ZERO,
            seq: 0,
            queue: BTreeMap::new(),
            interfaces,
            servers: servers
                .iter()
                .map(|a| (a.parse().unwrap(), Behaviour::Ok))
                .collect(),
            scripts: BTreeMap::new(),
            rtt,
            effects: Vec::new(),
            tables: 0,
        }
    }
}

/// The daemon's options for a test: configuration `config`, dump and trace
/// in `dir`, no data plane.
pub fn options(
    config: &std::path::Path,
    dir: &std::path::Path,
    trace: &std::path::Path,
) -> Options {
    Options {
        config: config.to_path_buf(),
        config_id: None,
        dump: dir.join("dump.json"),
        trace: Some(trace.to_path_buf()),
        data_plane: Choice::None,
        repair_interval: Duration::from_secs(60),
        keep_lvs: false,
        ssl_verify: false,
        ignore_unimplemented: false,
    }
}
