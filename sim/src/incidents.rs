//! Per-incident figures: for each fault, what it took the pair to notice
//! and to recover, as an operator would measure it.

use std::collections::BTreeMap;
use std::time::Duration;

use holdfast_core::time::Instant;
pub use holdfast_core::trace::Incident;

fn secs(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

/// The incidents of a run.
#[derive(Debug, Clone, Default)]
pub struct Incidents {
    list: Vec<(Instant, Incident)>,
    /// Dual-master time per incident and VRID key.
    dual: BTreeMap<(usize, String), f64>,
}

impl Incidents {
    /// Starts a new incident at `now`.
    pub fn open(&mut self, now: Instant, kind: &str, label: String) {
        self.list.push((
            now,
            Incident {
                at: secs(now - Instant::ZERO),
                fault: kind.to_string(),
                label,
                detection: None,
                failover: None,
                takeover_after_advert: None,
                dual_master: 0.0,
                arp_switch: None,
                pool_change: None,
            },
        ));
    }

    /// Faults at one instant are one incident.
    pub fn open_or_join(&mut self, now: Instant, kind: &str, label: String) {
        match self.list.last_mut() {
            Some((at, i)) if *at == now && now > Instant::ZERO => {
                i.label = format!("{}; {label}", i.label);
                if i.fault != kind {
                    i.fault = "mixed".into();
                }
            }
            _ => self.open(now, kind, label),
        }
    }

    fn current(&mut self, now: Instant) -> Option<(Instant, &mut Incident)> {
        self.list
            .iter_mut()
            .rev()
            .find(|(at, _)| *at <= now)
            .map(|(at, i)| (*at, i))
    }

    /// Something changed (a state, a real server's verdict).
    pub fn detected(&mut self, now: Instant) {
        if let Some((at, i)) = self.current(now) {
            i.detection.get_or_insert(secs(now - at));
        }
    }

    /// An instance became Master; `after_advert` is the time since the
    /// previous Master's last advert, when there was one.
    pub fn master(&mut self, now: Instant, after_advert: Option<Duration>) {
        if let Some((at, i)) = self.current(now) {
            i.detection.get_or_insert(secs(now - at));
            i.failover = Some(secs(now - at));
            // Several VRIDs may move: the slowest counts.
            if let Some(a) = after_advert.map(secs) {
                i.takeover_after_advert = Some(i.takeover_after_advert.map_or(a, |b| b.max(a)));
            }
        }
    }

    /// A client's ARP entry moved.
    pub fn arp(&mut self, now: Instant) {
        if let Some((at, i)) = self.current(now) {
            i.arp_switch = Some(secs(now - at));
        }
    }

    /// A director's table changed.
    pub fn pool(&mut self, now: Instant) {
        if let Some((at, i)) = self.current(now) {
            i.pool_change = Some(secs(now - at));
        }
    }

    /// Two Masters coexisted from `start` to `end`: the time is charged to
    /// the incidents it overlaps.
    pub fn dual_master(&mut self, key: &str, start: Instant, end: Instant) {
        let n = self.list.len();
        for k in 0..n {
            let from = self.list[k].0.max(start);
            let to = if k + 1 < n {
                self.list[k + 1].0.min(end)
            } else {
                end
            };
            if to > from {
                let total = self.dual.entry((k, key.to_string())).or_default();
                *total += secs(to - from);
                let i = &mut self.list[k].1;
                i.dual_master = i.dual_master.max(*total);
            }
        }
    }

    /// The incidents, in time order.
    pub fn into_list(self) -> Vec<Incident> {
        self.list.into_iter().map(|(_, i)| i).collect()
    }
}
