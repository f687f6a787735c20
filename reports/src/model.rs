//! From trace records to what the timeline shows: lanes of time bands (an
//! instance's state, a virtual address's owner as clients see it or — in a
//! trace without clients, such as the daemon's — who holds it, a real
//! server's place in a director's pool) and the fault markers. Only trace
//! records are read, so a simulated and a real run render alike.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use holdfast_core::trace::{Incident, Kind, Record};
use holdfast_core::vrrp::instance::State;

/// What a band says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// An instance's state.
    State(State),
    /// The director is down (crashed or stopped).
    Down,
    /// The director (index into [`Timeline::directors`]) a virtual address's
    /// clients send to; `None` before any announcement reached them.
    Owner(Option<usize>),
    /// How many directors hold a virtual address, and the first of them.
    Held(usize, Option<usize>),
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
    /// Virtual addresses, by the directors that hold them (traces without
    /// clients' views).
    Holders,
    /// Real servers, one lane per director and destination.
    Pool,
}

impl Section {
    /// Its heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Instances => "VRRP instances (state)",
            Section::Addresses => "Virtual addresses (owner as clients see it)",
            Section::Holders => "Virtual addresses (director holding them)",
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

/// The most lanes a picture gets (a bitmap grows with them); beyond it,
/// pool lanes that never changed go first.
pub const MAX_LANES: usize = 400;

/// Everything one trace shows.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// End of the picture, seconds.
    pub end: f64,
    /// Directors, in order of appearance.
    pub directors: Vec<String>,
    /// Lanes, by section.
    pub lanes: Vec<Lane>,
    /// Lanes left out to stay under [`MAX_LANES`].
    pub omitted: usize,
    /// Faults: (time s, label).
    pub faults: Vec<(f64, String)>,
    /// Incident figures, when the trace has them (simulator runs).
    pub incidents: Vec<Incident>,
    /// Violations: (time s, invariant, host, detail).
    pub violations: Vec<(f64, String, String, String)>,
}

impl Timeline {
    /// Whether invariants were checked for this trace (the simulator
    /// writes incident figures at the end of every run).
    pub fn checked(&self) -> bool {
        !self.incidents.is_empty()
    }
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

/// Index of a director by name, added on first sight.
fn director(t: &mut Timeline, name: &str) -> usize {
    match t.directors.iter().position(|d| d == name) {
        Some(i) => i,
        None => {
            t.directors.push(name.to_string());
            t.directors.len() - 1
        }
    }
}

impl Timeline {
    /// Builds the picture's content from a trace (records in any order).
    pub fn from_records(records: &[Record]) -> Timeline {
        let mut records: Vec<&Record> = records.iter().collect();
        records.sort_by_key(|r| r.t_ns);
        let last = records.last().map_or(0.0, |r| secs(r.t_ns));
        let simulated = records.iter().any(|r| matches!(r.kind, Kind::Incident(_)));
        let mut t = Timeline {
            // A simulated run ends with its figures; a daemon's trace ends
            // at its last event, whose state deserves to be seen.
            end: if simulated {
                last
            } else {
                last + 1.0_f64.max(last * 0.02)
            },
            ..Timeline::default()
        };
        let clients_seen = records.iter().any(|r| matches!(r.kind, Kind::Arp { .. }));
        let mut instances: BTreeMap<(usize, String), Open> = BTreeMap::new();
        let mut addresses: BTreeMap<IpAddr, Open> = BTreeMap::new();
        let mut holders: BTreeMap<IpAddr, (BTreeSet<usize>, Open)> = BTreeMap::new();
        // (director, service, dest) → lane.
        let mut pool: BTreeMap<(usize, String, String), Open> = BTreeMap::new();
        let hold = |holders: &mut BTreeMap<IpAddr, (BTreeSet<usize>, Open)>,
                    now: f64,
                    address: IpAddr,
                    d: usize,
                    on: bool| {
            let (set, lane) = holders.entry(address).or_default();
            if on {
                set.insert(d);
            } else {
                set.remove(&d);
            }
            lane.set(now, Band::Held(set.len(), set.iter().next().copied()));
        };
        for r in records {
            let now = secs(r.t_ns);
            match &r.kind {
                Kind::Start { .. } | Kind::Stop { .. } => {
                    let d = director(&mut t, &r.host);
                    let band = if matches!(r.kind, Kind::Start { .. }) {
                        Band::State(State::Initialize)
                    } else {
                        Band::Down
                    };
                    // A start after an unclean end resets what was shown.
                    for ((h, _), lane) in instances.iter_mut() {
                        if *h == d {
                            lane.set(now, band);
                        }
                    }
                    for ((h, _, _), lane) in pool.iter_mut() {
                        if *h == d {
                            lane.set(now, Band::Pool(None));
                        }
                    }
                    let held: Vec<IpAddr> = holders
                        .iter()
                        .filter(|(_, (set, _))| set.contains(&d))
                        .map(|(a, _)| *a)
                        .collect();
                    for a in held {
                        hold(&mut holders, now, a, d, false);
                    }
                }
                Kind::State {
                    instance, from, to, ..
                } => {
                    let d = director(&mut t, &r.host);
                    let lane = instances.entry((d, instance.clone())).or_insert_with(|| {
                        // A trace that starts mid-run knows the state before.
                        let mut l = Open::default();
                        if *from != State::Initialize {
                            l.set(now, Band::State(*from));
                        }
                        l
                    });
                    lane.set(now, Band::State(*to));
                }
                Kind::VipAdd { address, .. } | Kind::VipRemove { address, .. } => {
                    let d = director(&mut t, &r.host);
                    let on = matches!(r.kind, Kind::VipAdd { .. });
                    hold(&mut holders, now, *address, d, on);
                }
                Kind::Arp { address, owner, .. } => {
                    let o = director(&mut t, owner);
                    let lane = addresses.entry(*address).or_insert_with(|| {
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
                            .set(now, Band::Pool(Some(weight.unwrap_or(1)))),
                        ("remove_dest", Some(dest)) => pool
                            .entry((d, service.clone(), dest.clone()))
                            .or_default()
                            .set(now, Band::Pool(None)),
                        ("remove_service", None) => {
                            for ((h, s, _), lane) in pool.iter_mut() {
                                if *h == d && s == service {
                                    lane.set(now, Band::Pool(None));
                                }
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
        if clients_seen {
            for (address, lane) in addresses {
                t.lanes.push(Lane {
                    section: Section::Addresses,
                    title: address.to_string(),
                    bands: lane.close(end),
                });
            }
        } else {
            for (address, (_, lane)) in holders {
                t.lanes.push(Lane {
                    section: Section::Holders,
                    title: address.to_string(),
                    bands: lane.close(end),
                });
            }
        }
        let mut pool_lanes: Vec<Lane> = pool
            .into_iter()
            .map(|((d, service, dest), lane)| Lane {
                section: Section::Pool,
                title: format!("{} {service} → {dest}", t.directors[d]),
                bands: lane.close(end),
            })
            .collect();
        let room = MAX_LANES.saturating_sub(t.lanes.len());
        if pool_lanes.len() > room {
            // Keep the destinations whose place changed.
            let before = pool_lanes.len();
            pool_lanes.retain(|l| l.bands.len() > 1);
            pool_lanes.truncate(room);
            t.omitted = before - pool_lanes.len();
        }
        t.lanes.extend(pool_lanes);
        if t.lanes.len() > MAX_LANES {
            t.omitted += t.lanes.len() - MAX_LANES;
            t.lanes.truncate(MAX_LANES);
        }
        t
    }
}
