//! Scenario files: the directors' configurations, the network, the real
//! servers' behaviours and a timeline of faults (documented for operators in
//! `scenarios/README.md`). Reading one checks every name it uses, so a typo
//! is an error with its place, never a fault that silently does nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Shown in summaries.
    #[serde(default)]
    pub name: Option<String>,
    /// Drives every random choice (loss, jitter, probe timing).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated seconds.
    pub duration: f64,
    /// The fault timeline starts again every this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<f64>,
    /// The directors.
    pub directors: Vec<DirectorSpec>,
    /// LAN segments; inferred from the configurations when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentSpec>,
    /// Real servers; those the configurations name and these are
    /// simulated, healthy unless said otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub real_servers: Vec<ServerSpec>,
    /// Clients whose ARP view is measured; one per segment when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientSpec>,
    /// The fault timeline.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Invariant settings.
    #[serde(default)]
    pub invariants: InvariantSpec,
}

fn default_seed() -> u64 {
    1
}

/// A director: its configuration and interfaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorSpec {
    /// Host name (default: the configuration file's stem).
    #[serde(default)]
    pub name: Option<String>,
    /// keepalived.conf, relative to the scenario file.
    pub config: PathBuf,
    /// Config id for `@ID` lines (default: the director's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_id: Option<String>,
    /// Interfaces; inferred from the configuration when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<InterfaceSpec>,
}

/// One interface of a director, attached to a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSpec {
    /// Interface name as the configuration uses it.
    pub name: String,
    /// Segment it is attached to.
    pub segment: String,
    /// Primary IPv4 address.
    #[serde(default)]
    pub ipv4: Option<Ipv4Addr>,
    /// Link-local IPv6 address.
    #[serde(default)]
    pub ipv6: Option<Ipv6Addr>,
}

/// One L2 segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    /// Its name.
    pub name: String,
    /// Subnets on it, `192.168.200.0/24`: real servers and mail relays
    /// in them are attached here.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Network conditions at the start.
    #[serde(default, flatten)]
    pub net: NetSpec,
}

/// Loss, delay, jitter and duplication on a segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSpec {
    /// Probability that a frame is lost, 0..=1.
    #[serde(default)]
    pub loss: f64,
    /// One-way delay, milliseconds.
    #[serde(default = "default_delay_ms")]
    pub delay_ms: f64,
    /// Extra delay drawn uniformly from 0..jitter, milliseconds.
    #[serde(default)]
    pub jitter_ms: f64,
    /// Probability that a frame arrives twice, 0..=1.
    #[serde(default)]
    pub duplicate: f64,
    /// Probability that a frame arrives with one bit flipped, 0..=1 (a bad
    /// cable, a broken NIC): the receiver must drop it and count it.
    #[serde(default)]
    pub corrupt: f64,
    /// The IP TTL (IPv6: hop limit) frames arrive with, when something
    /// between the hosts rewrites it (a router or an overlay that
    /// decrements it): keepalived drops a multicast advert whose TTL is not
    /// 255, and a unicast one outside its peer's `min_ttl`..`max_ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
}

fn default_delay_ms() -> f64 {
    0.1
}

impl Default for NetSpec {
    fn default() -> Self {
        NetSpec {
            loss: 0.0,
            delay_ms: default_delay_ms(),
            jitter_ms: 0.0,
            duplicate: 0.0,
            corrupt: 0.0,
            ttl: None,
        }
    }
}

/// A real server (or sorry server, or any host the directors probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Its address.
    pub address: IpAddr,
    /// How it answers at the start.
    #[serde(default)]
    pub behaviour: Behaviour,
}

/// How a real server answers probes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Behaviour {
    /// Accepts connections and serves the pages the configuration expects.
    #[default]
    Ok,
    /// Refuses connections (RST): probes fail after one round trip.
    Refuse,
    /// Does not answer at all: probes fail at their timeout.
    Hang,
    /// Accepts connections; HTTP answers with this status code.
    Status(u16),
    /// Accepts connections; HTTP answers 200 with this body (its MD5 is
    /// what the checker compares).
    Body(String),
    /// Accepts connections; HTTP answers after this many milliseconds.
    SlowMs(f64),
    /// Accepts connections; HTTP answers with exactly these bytes (status
    /// line, headers and body as written, `\r\n` included): a server whose
    /// answer is odd in form (no reason phrase, a Content-Length shorter
    /// than what follows, or malformed), judged as keepalived reads it.
    Raw(String),
    /// Serves as `ok` does; a `MISC_CHECK` script that checks it exits
    /// with this status (with `misc_dynamic`, 2 to 255 set the weight to
    /// the status less 2).
    Exit(u8),
}

/// The adverts of a [`Fault::Foreign`] speaker: the message's fields as
/// it writes them, right or wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignAdvert {
    /// Its source address.
    pub src: IpAddr,
    /// VRRP version (any 4 bits).
    #[serde(default = "two")]
    pub version: u8,
    /// VRID.
    pub vrid: u8,
    /// Priority.
    #[serde(default = "hundred")]
    pub priority: u8,
    /// The interval field: seconds (v2) or centiseconds (v3).
    #[serde(default = "one")]
    pub interval: u16,
    /// v2 authentication type (0 none, 1 password, 2 AH; others unknown).
    #[serde(default)]
    pub auth_type: u8,
    /// v2 password (up to 8 bytes).
    #[serde(default)]
    pub password: String,
    /// The virtual addresses it lists.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
    /// IP TTL / hop limit.
    #[serde(default = "ttl255")]
    pub ttl: u8,
    /// VRRP message type (1: advertisement).
    #[serde(default = "one_u8")]
    pub kind: u8,
    /// A checksum that does not verify.
    #[serde(default)]
    pub bad_checksum: bool,
    /// How many.
    #[serde(default = "one_u32")]
    pub count: u32,
    /// Milliseconds between them.
    #[serde(default = "second_ms")]
    pub every_ms: f64,
}

fn two() -> u8 {
    2
}
fn hundred() -> u8 {
    100
}
fn one() -> u16 {
    1
}
fn one_u8() -> u8 {
    1
}
fn one_u32() -> u32 {
    1
}
fn ttl255() -> u8 {
    255
}
fn second_ms() -> f64 {
    1000.0
}

impl ForeignAdvert {
    /// What is odd about it, for its label.
    pub fn odd(&self) -> String {
        let mut odd = Vec::new();
        if self.version == 2 && self.auth_type != 0 {
            odd.push(format!("auth type {}", self.auth_type));
        }
        if self.ttl != 255 {
            odd.push(format!("TTL {}", self.ttl));
        }
        if self.kind != 1 {
            odd.push(format!("type {}", self.kind));
        }
        if self.bad_checksum {
            odd.push("a bad checksum".into());
        }
        odd.iter().map(|o| format!(", {o}")).collect()
    }
}

/// A client whose ARP cache is watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Host name.
    pub name: String,
    /// Segment.
    pub segment: String,
}

/// A fault at a time (unknown fields are refused by [`Fault`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// Seconds from the start.
    pub at: f64,
    /// What happens.
    #[serde(flatten)]
    pub fault: Fault,
}

/// The faults a scenario can inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// A director's machine stops: its addresses and table are gone.
    Crash {
        /// Director.
        host: String,
    },
    /// A director is stopped as SIGTERM stops it: its Masters send
    /// priority 0 and remove their addresses, then the process ends.
    Stop {
        /// Director.
        host: String,
    },
    /// A crashed or stopped director boots again (its node is rebuilt
    /// from config).
    Restart {
        /// Director.
        host: String,
    },
    /// A director is not scheduled for `ms`; then what arrived meanwhile
    /// is read, and its late timers fire.
    Pause {
        /// Director.
        host: String,
        /// Milliseconds.
        ms: f64,
    },
    /// An interface's link goes down or up.
    Link {
        /// Host (director, real server address, or client).
        host: String,
        /// Interface (directors; ignored for other hosts).
        #[serde(default)]
        interface: Option<String>,
        /// Up?
        up: bool,
    },
    /// A segment splits into groups that cannot reach each other; the
    /// hosts not named form one more group.
    Partition {
        /// Segment.
        segment: String,
        /// Host names per group.
        groups: Vec<Vec<String>>,
    },
    /// Frames from `from` to `to` are dropped; the other way works.
    OneWay {
        /// Segment.
        segment: String,
        /// Senders.
        from: Vec<String>,
        /// Receivers.
        to: Vec<String>,
    },
    /// Partitions and one-way blocks on a segment end.
    Heal {
        /// Segment.
        segment: String,
    },
    /// A segment's loss, delay, jitter and duplication change.
    Net {
        /// Segment.
        segment: String,
        /// The new conditions.
        #[serde(flatten)]
        net: NetSpec,
    },
    /// A real server starts answering differently.
    Serve {
        /// Its address.
        server: IpAddr,
        /// Only this port (default: every port).
        #[serde(default)]
        port: Option<u16>,
        /// How.
        behaviour: Behaviour,
    },
    /// A director's `vrrp_script` starts passing or failing.
    Script {
        /// Director.
        host: String,
        /// The vrrp_script's name.
        script: String,
        /// Exit status 0?
        ok: bool,
    },
    /// An address is added to, or removed from, a director's interface
    /// (renumbering): an instance without a configured source follows its
    /// interface's primary address as keepalived does.
    Address {
        /// Director.
        host: String,
        /// Its interface.
        interface: String,
        /// The address.
        address: IpAddr,
        /// Added (else removed).
        up: bool,
    },
    /// Another VRRP speaker on a segment (a second cluster that uses the
    /// same VRID, a misconfigured router, a garbled sender) sends adverts
    /// to the multicast group.
    Foreign {
        /// Segment.
        segment: String,
        /// What it sends, how often.
        #[serde(flatten)]
        advert: ForeignAdvert,
    },
    /// The operator sends a director SIGSTATS_CLEAR (`keepalived
    /// --signum=STATS_CLEAR`): it writes its statistics file, then zeroes
    /// every instance's counters.
    ClearStats {
        /// Director.
        host: String,
    },
    /// A director reloads with this configuration (relative to the scenario).
    Reload {
        /// Director.
        host: String,
        /// The new file.
        config: PathBuf,
    },
}

impl Fault {
    /// Its `kind` in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Crash { .. } => "crash",
            Fault::Stop { .. } => "stop",
            Fault::Restart { .. } => "restart",
            Fault::Pause { .. } => "pause",
            Fault::Link { .. } => "link",
            Fault::Partition { .. } => "partition",
            Fault::OneWay { .. } => "one_way",
            Fault::Heal { .. } => "heal",
            Fault::Net { .. } => "net",
            Fault::Serve { .. } => "serve",
            Fault::Script { .. } => "script",
            Fault::Reload { .. } => "reload",
            Fault::ClearStats { .. } => "clear_stats",
            Fault::Address { .. } => "address",
            Fault::Foreign { .. } => "foreign",
        }
    }

    /// One line for summaries and traces.
    pub fn label(&self) -> String {
        match self {
            Fault::Crash { host } => format!("{host} crashes"),
            Fault::Stop { host } => format!("{host} stops (SIGTERM)"),
            Fault::Restart { host } => format!("{host} restarts"),
            Fault::Pause { host, ms } => format!("{host} paused {ms} ms"),
            Fault::Link {
                host,
                interface,
                up,
            } => {
                let dir = if *up { "up" } else { "down" };
                match interface {
                    Some(i) => format!("{host} {i} link {dir}"),
                    None => format!("{host} link {dir}"),
                }
            }
            Fault::Partition { segment, groups } => {
                let g: Vec<String> = groups.iter().map(|g| g.join(",")).collect();
                format!("{segment} partitioned {}", g.join(" | "))
            }
            Fault::OneWay { segment, from, to } => {
                format!("{segment} one-way {} -/-> {}", from.join(","), to.join(","))
            }
            Fault::Heal { segment } => format!("{segment} healed"),
            Fault::Net { segment, net } => {
                let mut corrupt = if net.corrupt > 0.0 {
                    format!(" corrupt {}", net.corrupt)
                } else {
                    String::new()
                };
                if let Some(ttl) = net.ttl {
                    corrupt.push_str(&format!(" ttl {ttl}"));
                }
                format!(
                    "{segment} loss {} delay {} ms jitter {} ms dup {}{corrupt}",
                    net.loss, net.delay_ms, net.jitter_ms, net.duplicate
                )
            }
            Fault::Serve {
                server,
                port,
                behaviour,
            } => {
                let what = match behaviour {
                    Behaviour::Ok => "serves correctly".to_string(),
                    Behaviour::Refuse => "refuses connections".to_string(),
                    Behaviour::Hang => "hangs".to_string(),
                    Behaviour::Status(c) => format!("answers HTTP {c}"),
                    Behaviour::Body(_) => "serves a wrong body".to_string(),
                    Behaviour::SlowMs(ms) => format!("answers after {ms} ms"),
                    Behaviour::Raw(r) => format!("answers {r:?}"),
                    Behaviour::Exit(code) => format!("makes its check script exit {code}"),
                };
                match port {
                    Some(p) => format!("{server}:{p} {what}"),
                    None => format!("{server} {what}"),
                }
            }
            Fault::Script { host, script, ok } => {
                format!(
                    "{host} script {script} {}",
                    if *ok { "passes" } else { "fails" }
                )
            }
            Fault::Reload { host, config } => format!("{host} reloads {}", config.display()),
            Fault::ClearStats { host } => format!("{host} clears its statistics"),
            Fault::Foreign { segment, advert: a } => format!(
                "{segment} hears {} adverts from {} (v{} VRID {} priority {}{})",
                a.count,
                a.src,
                a.version,
                a.vrid,
                a.priority,
                a.odd()
            ),
            Fault::Address {
                host,
                interface,
                address,
                up,
            } => format!(
                "{host} {interface} {} {address}",
                if *up { "gains" } else { "loses" }
            ),
        }
    }
}

/// Invariant settings.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvariantSpec {
    /// How long two connected Masters of one VRID are tolerated (default:
    /// the instance's master-down interval, within which the protocol
    /// resolves any dual master once adverts flow).
    #[serde(default)]
    pub handover_window_ms: Option<f64>,
}

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// File.
        path: String,
        /// Error.
        error: std::io::Error,
    },
    /// Not valid JSON for a scenario.
    #[error("{path}:{line}:{column}: {error}")]
    Syntax {
        /// File.
        path: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// Error.
        error: String,
    },
    /// Valid JSON that does not make sense.
    #[error("{path}: {place}: {message}")]
    Invalid {
        /// File.
        path: String,
        /// Where in the scenario (`faults[3]`).
        place: String,
        /// What is wrong.
        message: String,
    },
    /// A director's configuration has errors.
    #[error("{path}: director {director}: configuration has errors:\n{rendered}")]
    Config {
        /// Scenario file.
        path: String,
        /// Director.
        director: String,
        /// The diagnostics, rendered.
        rendered: String,
    },
}

/// The most faults a timeline may hold once `repeat` is applied.
pub const MAX_FAULTS: usize = 1_000_000;

/// Seconds as a duration; rejects negative, infinite and absurd values.
pub fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && (0.0..1e9).contains(&s))
        .then(|| Duration::from_nanos((s * 1e9).round() as u64))
}

impl Scenario {
    /// Parses scenario JSON; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = serde_json::from_str(text).map_err(|e| ScenarioError::Syntax {
            path: path.to_string(),
            line: e.line(),
            column: e.column(),
            error: e.to_string(),
        })?;
        s.validate(path)?;
        Ok(s)
    }

    /// Reads a scenario file.
    pub fn read(path: &Path) -> Result<Scenario, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Io {
            path: shown.clone(),
            error,
        })?;
        Scenario::parse(&shown, &text)
    }

    /// Checks every number: times, probabilities, durations, the size of
    /// the repeated timeline. `path` names the scenario in errors.
    pub fn validate(&self, path: &str) -> Result<(), ScenarioError> {
        let bad = |place: String, message: &str| ScenarioError::Invalid {
            path: path.to_string(),
            place,
            message: message.to_string(),
        };
        if seconds(self.duration).is_none_or(|d| d.is_zero()) {
            return Err(bad(
                "duration".into(),
                "must be a positive number of seconds",
            ));
        }
        if let Some(r) = self.repeat {
            if seconds(r).is_none_or(|d| d.is_zero()) {
                return Err(bad("repeat".into(), "must be a positive number of seconds"));
            }
            // Each repetition copies the whole fault list.
            if (self.duration / r).ceil() * self.faults.len() as f64 > MAX_FAULTS as f64 {
                return Err(bad(
                    "repeat".into(),
                    "repeats the faults more than a million times over the duration",
                ));
            }
        }
        let net_ok = |n: &NetSpec| {
            (0.0..=1.0).contains(&n.loss)
                && (0.0..=1.0).contains(&n.duplicate)
                && seconds(n.delay_ms / 1e3).is_some()
                && seconds(n.jitter_ms / 1e3).is_some()
        };
        for (i, s) in self.segments.iter().enumerate() {
            if !net_ok(&s.net) {
                return Err(bad(
                    format!("segments[{i}]"),
                    "loss and duplicate must be in 0..=1, delay_ms and jitter_ms not negative",
                ));
            }
        }
        for r in &self.real_servers {
            if let Behaviour::SlowMs(ms) = r.behaviour {
                if seconds(ms / 1e3).is_none() {
                    return Err(bad(
                        format!("real server {}: behaviour", r.address),
                        "slow_ms must not be negative",
                    ));
                }
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            if seconds(f.at).is_none() {
                return Err(bad(
                    format!("faults[{i}].at"),
                    "must be seconds from the start, not negative",
                ));
            }
            match &f.fault {
                Fault::Net { net, .. } if !net_ok(net) => {
                    return Err(bad(
                        format!("faults[{i}]"),
                        "loss and duplicate must be in 0..=1, delay_ms and jitter_ms not negative",
                    ))
                }
                Fault::Pause { ms, .. } if seconds(ms / 1e3).is_none() => {
                    return Err(bad(format!("faults[{i}].ms"), "must not be negative"))
                }
                Fault::Serve {
                    behaviour: Behaviour::SlowMs(ms),
                    ..
                } if seconds(ms / 1e3).is_none() => {
                    return Err(bad(
                        format!("faults[{i}].behaviour"),
                        "slow_ms must not be negative",
                    ))
                }
                _ => {}
            }
        }
        if let Some(w) = self.invariants.handover_window_ms {
            if seconds(w / 1e3).is_none() {
                return Err(bad(
                    "invariants.handover_window_ms".into(),
                    "must not be negative",
                ));
            }
        }
        Ok(())
    }

    /// The fault timeline over the whole duration, `repeat` applied, in time
    /// order (faults at one time keep their order in the file).
    pub fn timeline(&self) -> Vec<(Duration, Fault)> {
        let end = seconds(self.duration).unwrap_or_default();
        let period = self.repeat.and_then(seconds).filter(|p| !p.is_zero());
        let mut out = Vec::new();
        let mut offset = Duration::ZERO;
        loop {
            for f in &self.faults {
                let at = offset + seconds(f.at).unwrap_or_default();
                if at < end {
                    out.push((at, f.fault.clone()));
                }
            }
            match period {
                Some(p) if offset + p < end => offset += p,
                _ => break,
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }
}
