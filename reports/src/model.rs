//! From trace records to what the timeline shows: lanes of time bands (an
//! instance's state, a virtual address's owner as clients see it, a real
//! server's place in a director's pool) and the fault markers. Only trace
//! records are read, so a simulated and a real run render alike.

use std::collections::BTreeMap;

use holdfast_core::trace::{Incident, Kind, Record};
use holdfast_core::vrrp::instance::State;

/// What a band says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// An instance's state.
    State(State),
    /// The director (index into [`Timeline::directors`]) a virtual address's
    /// clients send to; `None` before any announcement reached them.
    Owner(Option<usize>),
    /// A real server's weight in a director's pool; `None` when out.
    Pool(Option<u32>),
}

/// Which part of the picture a lane is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// VRRP instances, one lane per director and instance.
    Instances,
    /// Virtual addresses, as the clients' ARP caches say.
    Addresses,
    /// Real servers, one lane per director and destination.
    Pool,
}

impl Section {
    /// Its heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Instances => "VRRP instances (state)",
            Section::Addresses => "Virtual addresses (owner as clients see it)",
            Section::Pool => "Real servers (weight in each director's pool)",
        }
    }
}

/// One row of the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// Section.
    pub section: Section,
    /// Its label.
    pub title: String,
    /// (start s, end s, what), in time order, not overlapping.
    pub bands: Vec<(f64, f64, Band)>,
}

impl Lane {
    /// The band at time `t`.
    pub fn at(&self, t: f64) -> Option<Band> {
        self.bands
            .iter()
            .find(|(s, e, _)| *s <= t && t < *e)
            .map(|b| b.2)
    }
}

/// Everything one trace shows.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// End of the run, seconds.
    pub end: f64,
    /// Directors, in order of appearance.
    pub directors: Vec<String>,
    /// Lanes, by section.
    pub lanes: Vec<Lane>,
    /// Faults: (time s, label).
    pub faults: Vec<(f64, String)>,
    /// Incident figures, when the trace has them (simulator runs).
    pub incidents: Vec<Incident>,
    /// Violations: (time s, invariant, host, detail).
    pub violations: Vec<(f64, String, String, String)>,
}

/// A lane being built: its open band.
#[derive(Default)]
struct Open {
    bands: Vec<(f64, f64, Band)>,
    current: Option<(f64, Band)>,
}

impl Open {
    fn set(&mut self, t: f64, band: Band) {
        if let Some((s, b)) = self.current.take() {
            if b == band {
                self.current = Some((s, b));
                return;
            }
            if t > s {
                self.bands.push((s, t, b));
            }
        }
        self.current = Some((t, band));
    }

    fn close(mut self, end: f64) -> Vec<(f64, f64, Band)> {
        if let Some((s, b)) = self.current.take() {
            if end > s {
                self.bands.push((s, end, b));
            }
        }
        self.bands
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl Timeline {
    /// Builds the picture's content from a trace.
    pub fn from_records(records: &[Record]) -> Timeline {
        let mut t = Timeline {
            end: records.iter().map(|r| secs(r.t_ns)).fold(0.0, f64::max),
            ..Timeline::default()
        };
        let mut instances: BTreeMap<(usize, String), Open> = BTreeMap::new();
        let mut addresses: BTreeMap<String, Open> = BTreeMap::new();
        // (director, service, dest) → lane.
        let mut pool: BTreeMap<(usize, String, String), Open> = BTreeMap::new();
        let director =
            |t: &mut Timeline, name: &str| match t.directors.iter().position(|d| d == name) {
                Some(i) => i,
                None => {
                    t.directors.push(name.to_string());
                    t.directors.len() - 1
                }
            };
        for r in records {
            let now = secs(r.t_ns);
            match &r.kind {
                Kind::Start { .. } => {
                    director(&mut t, &r.host);
                }
                Kind::State { instance, to, .. } => {
                    let d = director(&mut t, &r.host);
                    instances
                        .entry((d, instance.clone()))
                        .or_default()
                        .set(now, Band::State(*to));
                }
                Kind::Stop { .. } => {
                    let d = director(&mut t, &r.host);
                    for ((h, _), lane) in instances.iter_mut().filter(|((h, _), _)| *h == d) {
                        let _ = h;
                        lane.set(now, Band::State(State::Initialize));
                    }
                    for (_, lane) in pool.iter_mut().filter(|((h, _, _), _)| *h == d) {
                        lane.set(now, Band::Pool(None));
                    }
                }
                Kind::Arp { address, owner, .. } => {
                    let o = director(&mut t, owner);
                    let lane = addresses.entry(address.to_string()).or_insert_with(|| {
                        let mut l = Open::default();
                        l.set(0.0, Band::Owner(None));
                        l
                    });
                    lane.set(now, Band::Owner(Some(o)));
                }
                Kind::Lvs {
                    action,
                    service,
                    dest,
                    weight,
                } => {
                    let d = director(&mut t, &r.host);
                    match (action.as_str(), dest) {
                        ("add_dest" | "edit_dest", Some(dest)) => pool
                            .entry((d, service.clone(), dest.clone()))
                            .or_default()
                            .set(now, Band::Pool(*weight)),
                        ("remove_dest", Some(dest)) => pool
                            .entry((d, service.clone(), dest.clone()))
                            .or_default()
                            .set(now, Band::Pool(None)),
                        ("remove_service", None) => {
                            for (_, lane) in pool
                                .iter_mut()
                                .filter(|((h, s, _), _)| *h == d && s == service)
                            {
                                lane.set(now, Band::Pool(None));
                            }
                        }
                        _ => {}
                    }
                }
                Kind::Fault { label } => t.faults.push((now, label.clone())),
                Kind::Incident(i) => t.incidents.push(i.clone()),
                Kind::Violation { invariant, detail } => {
                    t.violations
                        .push((now, invariant.clone(), r.host.clone(), detail.clone()));
                }
                _ => {}
            }
        }
        let end = t.end;
        for ((d, name), lane) in instances {
            t.lanes.push(Lane {
                section: Section::Instances,
                title: format!("{} {name}", t.directors[d]),
                bands: lane.close(end),
            });
        }
        for (address, lane) in addresses {
            t.lanes.push(Lane {
                section: Section::Addresses,
                title: address,
                bands: lane.close(end),
            });
        }
        for ((d, service, dest), lane) in pool {
            t.lanes.push(Lane {
                section: Section::Pool,
                title: format!("{} {service} → {dest}", t.directors[d]),
                bands: lane.close(end),
            });
        }
        t
    }
}
