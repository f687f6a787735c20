//! One Master per VRID: two connected Masters must resolve within the
//! hand-over window (the protocol's master-down interval, or the
//! scenario's `handover_window_ms`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use holdfast_core::config::model::Family;
use holdfast_core::trace::Record;
use holdfast_core::vrrp::instance::State;

use crate::incidents::Incidents;
use crate::world::World;

use super::{overdue, Invariant, Monitor};

impl Monitor {
    /// Two Masters of one (segment, family, VRID). Any two count for the
    /// incident figure — clients may be sent to either. The invariant is
    /// broken when the protocol should have resolved them and did not
    /// within the hand-over window: the one that loses the election hears
    /// the winner (a one-way path is enough), unless since both were
    /// Master every advert of the winner's to it was lost or had a bit
    /// flipped.
    pub(super) fn dual_masters(
        &mut self,
        w: &World,
        incidents: &mut Incidents,
        recent: &VecDeque<Record>,
    ) {
        type Key = (usize, Family, u8);
        let mut masters: BTreeMap<Key, Vec<(usize, usize)>> = BTreeMap::new();
        for (d, dir) in w
            .directors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.node.is_some())
        {
            for (i, info) in dir.info.iter().enumerate() {
                if let (State::Master, Some(seg)) = (dir.states[i], info.segment) {
                    masters
                        .entry((seg, info.family, info.vrid))
                        .or_default()
                        .push((d, i));
                }
            }
        }
        // The figure.
        let both: BTreeSet<Key> = masters
            .iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, _)| *k)
            .collect();
        let ended: Vec<Key> = self
            .figure
            .keys()
            .filter(|k| !both.contains(k))
            .copied()
            .collect();
        for k in ended {
            if let Some(since) = self.figure.remove(&k) {
                incidents.dual_master(&format!("{k:?}"), since, w.now);
            }
        }
        for k in &both {
            self.figure.entry(*k).or_insert(w.now);
        }
        // The invariant.
        let mut unresolved = BTreeMap::new();
        for (key, ms) in masters.iter().filter(|(k, _)| both.contains(k)) {
            let active: Vec<&(usize, usize)> = ms
                .iter()
                .filter(|(d, _)| w.directors[*d].active())
                .collect();
            for (a, &&(da, ia)) in active.iter().enumerate() {
                for &&(db, ib) in &active[a + 1..] {
                    let (win, lose) = if wins(w, key, (da, ia), (db, ib)) {
                        ((da, ia), (db, ib))
                    } else {
                        ((db, ib), (da, ia))
                    };
                    let (hw, hl) = (w.directors[win.0].host, w.directors[lose.0].host);
                    // The network may hide the winner for a while: since
                    // both were Master, its adverts to the loser were lost
                    // or had a bit flipped, and none reached it intact.
                    // No protocol sees through that; the window waits.
                    let since = self.figure.get(key).copied().unwrap_or(w.now);
                    let link = (key.0, key.1 == Family::Ipv6, key.2, win.0, lose.0);
                    let heard = w
                        .heard
                        .get(&link)
                        .is_some_and(|at| *at >= since && *at <= w.now);
                    let hidden = !heard && w.hidden.get(&link).is_some_and(|at| *at >= since);
                    if w.topo.reaches(key.0, hw, hl) && !hidden {
                        let md = w.directors[da].info[ia]
                            .master_down
                            .max(w.directors[db].info[ib].master_down);
                        unresolved.insert(*key, (win.0, lose.0, md));
                    }
                }
            }
        }
        self.dual.retain(|k, _| unresolved.contains_key(k));
        for (key, (dw, dl, md)) in unresolved {
            let bound = self.handover.unwrap_or(md);
            if let Some((since, bound)) =
                overdue(&mut self.dual, &mut self.deadlines, key, w.now, bound)
            {
                let names = vec![w.directors[dw].name.clone(), w.directors[dl].name.clone()];
                let detail = format!(
                    "{} and {} are both Master of VRID {} on {} since t={:.6}s, and {} hears {}: past the {:.3}s hand-over window",
                    names[0],
                    names[1],
                    key.2,
                    w.topo.segments[key.0].name,
                    since.as_nanos() as f64 / 1e9,
                    names[1],
                    names[0],
                    bound.as_secs_f64()
                );
                self.report(w.now, Invariant::SingleMaster, names, detail, recent);
            }
        }
    }
}

/// Whether instance `a` wins the election over `b` on `key`'s segment:
/// higher effective priority, then the higher primary address (RFC 5798
/// §6.4.3).
fn wins(w: &World, key: &(usize, Family, u8), a: (usize, usize), b: (usize, usize)) -> bool {
    let prio = |(d, i): (usize, usize)| {
        let dir = &w.directors[d];
        dir.node
            .as_ref()
            .and_then(|n| n.priority(&dir.info[i].name))
            .unwrap_or(0)
    };
    let addr = |(d, _): (usize, usize)| {
        let e = w.topo.on_segment(w.directors[d].host, key.0)?;
        let att = &w.topo.graph[e];
        match key.1 {
            Family::Ipv4 => att.ipv4,
            Family::Ipv6 => att.ipv6,
        }
    };
    (prio(a), addr(a)) > (prio(b), addr(b))
}
