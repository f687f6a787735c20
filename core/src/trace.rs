//! The trace record: one JSON line per event, written by the simulator and
//! by the daemon (`holdfast run --trace`), and read by `reports` without
//! knowing which wrote it (docs/architecture.md, "Traces and reports").
//! Only changes are traced — state moves, addresses, pool changes, faults —
//! never the periodic adverts, so an hour of a quiet pair is a few lines.

use std::io::{self, BufRead, Write};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::config::model::Family;
use crate::lvs::{Op, ServiceKey};
use crate::node::{Event, Output};
use crate::vrrp::instance::State;

/// One line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Nanoseconds since the start of the run (virtual or wall clock).
    pub t_ns: u64,
    /// The host it happened on (a director, a client, or `sim` for faults).
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: Kind,
}

/// What a [`Record`] says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// A director started (or restarted) with this configuration.
    Start {
        /// Configuration file.
        config: String,
    },
    /// A director stopped or crashed.
    Stop {
        /// Why.
        reason: String,
    },
    /// A VRRP instance changed state.
    State {
        /// Instance.
        instance: String,
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Why, in words.
        reason: String,
    },
    /// A sync group's members now share a new state.
    Group {
        /// Group.
        group: String,
        /// Previous common state.
        from: State,
        /// New common state.
        to: State,
    },
    /// A virtual address was added.
    VipAdd {
        /// Instance.
        instance: String,
        /// Address.
        address: IpAddr,
        /// Device.
        dev: String,
    },
    /// A virtual address was removed.
    VipRemove {
        /// Instance.
        instance: String,
        /// Address.
        address: IpAddr,
        /// Device.
        dev: String,
    },
    /// Gratuitous ARPs / unsolicited NAs were sent.
    Announce {
        /// Instance.
        instance: String,
        /// Interface.
        interface: String,
        /// Addresses announced.
        addresses: Vec<IpAddr>,
        /// Messages per address.
        count: u32,
    },
    /// A real server's checkers now all pass, or one fails.
    RealServer {
        /// Virtual server index in the configuration.
        vs: usize,
        /// Address.
        address: IpAddr,
        /// Port.
        port: Option<u16>,
        /// Up now?
        up: bool,
        /// Why (a failure's reason).
        reason: String,
    },
    /// A change to the LVS table.
    Lvs {
        /// `add_service`, `edit_service`, `remove_service`, `add_dest`, `edit_dest`, `remove_dest`.
        action: String,
        /// The service, as ipvsadm writes it (`TCP 192.168.200.10:80`, `FWM 1`).
        service: String,
        /// The destination, `address:port`, for destination changes.
        dest: Option<String>,
        /// The destination's weight, when added or edited.
        weight: Option<u32>,
    },
    /// An alert mail was handed to the mail server (`smtp_alert`).
    Mail {
        /// Its subject.
        subject: String,
        /// Its body.
        body: String,
    },
    /// A notify or quorum script was run.
    Script {
        /// The command line.
        command: String,
        /// Arguments after it.
        args: Vec<String>,
    },
    /// A client's ARP / neighbour entry for a virtual address changed.
    Arp {
        /// The segment the client is on.
        segment: String,
        /// The virtual address.
        address: IpAddr,
        /// The director it now points at.
        owner: String,
    },
    /// A fault the simulator injected (the daemon writes none).
    Fault {
        /// What, in words.
        label: String,
    },
    /// A configuration reload.
    Reload {
        /// Applied?
        ok: bool,
        /// The file, or why it was refused.
        detail: String,
    },
    /// A simulated incident's figures (written at the end of a run).
    Incident(Incident),
    /// An invariant was violated.
    Violation {
        /// Which invariant.
        invariant: String,
        /// What was seen.
        detail: String,
    },
}

/// One fault (or the start-up) and what followed it until the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// When, in seconds.
    pub at: f64,
    /// The fault's kind (`crash`, `serve`...; `start-up`; `mixed` when
    /// faults of several kinds happened at once).
    pub fault: String,
    /// What.
    pub label: String,
    /// Until the first state change or real-server verdict, seconds.
    pub detection: Option<f64>,
    /// Until the last instance became Master, seconds.
    pub failover: Option<f64>,
    /// New Master's transition after the previous Master's last advert on
    /// that segment, seconds (the figure measured on the wire).
    pub takeover_after_advert: Option<f64>,
    /// How long two connected Masters of one VRID coexisted (the VRID
    /// with the longest total), seconds.
    pub dual_master: f64,
    /// Until the last client ARP entry for a virtual address moved, seconds.
    pub arp_switch: Option<f64>,
    /// Until the last change to a director's LVS table, seconds.
    pub pool_change: Option<f64>,
}

impl Incident {
    /// The figures by name, for sweeps.
    pub fn metrics(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("detection", self.detection),
            ("failover", self.failover),
            ("takeover_after_advert", self.takeover_after_advert),
            ("dual_master", Some(self.dual_master)),
            ("arp_switch", self.arp_switch),
            ("pool_change", self.pool_change),
        ]
    }
}

/// Nearest-rank percentile `p` (0..=100) of sorted values, as sweeps and
/// reports print them; NaN for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A service key as ipvsadm writes it.
pub fn service_text(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            address,
            port,
            protocol,
        } => {
            let proto = format!("{protocol:?}").to_uppercase();
            match address {
                IpAddr::V4(a) => format!("{proto} {a}:{port}"),
                IpAddr::V6(a) => format!("{proto} [{a}]:{port}"),
            }
        }
        // ipvsadm names the family of an IPv6 fwmark service only.
        ServiceKey::Fwmark { mark, family } => match family {
            Family::Ipv4 => format!("FWM {mark}"),
            Family::Ipv6 => format!("FWM {mark} IPv6"),
        },
    }
}

fn socket_text(address: IpAddr, port: u16) -> String {
    match address {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

impl From<&Op> for Kind {
    fn from(op: &Op) -> Kind {
        let (action, key, dest, weight) = match op {
            Op::AddService(k, _) => ("add_service", k, None, None),
            Op::EditService(k, _) => ("edit_service", k, None, None),
            Op::RemoveService(k) => ("remove_service", k, None, None),
            Op::AddDest(k, d, p) => ("add_dest", k, Some(d), Some(p.weight)),
            Op::EditDest(k, d, p) => ("edit_dest", k, Some(d), Some(p.weight)),
            Op::RemoveDest(k, d) => ("remove_dest", k, Some(d), None),
        };
        Kind::Lvs {
            action: action.to_string(),
            service: service_text(key),
            dest: dest.map(|d| socket_text(d.address, d.port)),
            weight,
        }
    }
}

impl From<&Event> for Kind {
    fn from(e: &Event) -> Kind {
        Kind::State {
            instance: e.instance.clone(),
            from: e.from,
            to: e.to,
            reason: e.reason.to_string(),
        }
    }
}

impl Kind {
    /// The record for a node output worth tracing: everything but adverts,
    /// probes and tracked-script runs (periodic, and their effects are
    /// traced). The output says all the record needs.
    pub fn of_output(output: &Output) -> Option<Kind> {
        Some(match output {
            Output::Event(e) => Kind::from(e),
            Output::GroupChanged { group, from, to } => Kind::Group {
                group: group.clone(),
                from: *from,
                to: *to,
            },
            Output::AddVip { instance, vip, dev } => Kind::VipAdd {
                instance: instance.clone(),
                address: vip.address,
                dev: dev.clone(),
            },
            Output::RemoveVip { instance, vip, dev } => Kind::VipRemove {
                instance: instance.clone(),
                address: vip.address,
                dev: dev.clone(),
            },
            Output::Announce {
                instance,
                interface,
                addresses,
                count,
            } => Kind::Announce {
                instance: instance.clone(),
                interface: interface.clone(),
                addresses: addresses.clone(),
                count: *count,
            },
            Output::Lvs(op) => Kind::from(op),
            Output::RealServerChanged {
                vs,
                address,
                port,
                up,
                reason,
            } => Kind::RealServer {
                vs: *vs,
                address: *address,
                port: *port,
                up: *up,
                reason: reason.clone(),
            },
            Output::RunScript { script, args } => Kind::Script {
                command: script.command.clone(),
                args: args.clone(),
            },
            Output::Alert(mail) => Kind::Mail {
                subject: mail.subject.clone(),
                body: mail.body.clone(),
            },
            Output::Transmit(_) | Output::Probe { .. } | Output::RunTrackScript { .. } => {
                return None
            }
        })
    }
}

/// Writes records as JSON lines.
pub fn write(out: &mut impl Write, record: &Record) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// Why a trace cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error("reading the trace: {0}")]
    Io(#[from] io::Error),
    /// A line is not a record.
    #[error("line {line}: {error}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        error: serde_json::Error,
    },
}

/// Reads JSON-lines records; blank lines are skipped.
pub fn read(input: impl BufRead) -> Result<Vec<Record>, ReadError> {
    let mut records = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record =
            serde_json::from_str(&line).map_err(|error| ReadError::Line { line: i + 1, error })?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_json_line_and_reads_back() {
        let r = Record {
            t_ns: 3_414_062_500,
            host: "director1".into(),
            kind: Kind::State {
                instance: "VI_1".into(),
                from: State::Backup,
                to: State::Master,
                reason: "master_down".into(),
            },
        };
        let mut buf = Vec::new();
        write(&mut buf, &r).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert_eq!(
            text,
            "{\"t_ns\":3414062500,\"host\":\"director1\",\"kind\":\"state\",\"instance\":\"VI_1\",\"from\":\"Backup\",\"to\":\"Master\",\"reason\":\"master_down\"}\n"
        );
        assert_eq!(read(&buf[..]).unwrap(), vec![r]);
        let err = read(&b"{\"t_ns\":1}\n"[..]).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
