//! The pool: each real server in it or out of it as its behaviour says
//! once the checker's bound has passed, and the sorry server active
//! exactly while the quorum is lost.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use holdfast_core::lvs::{pool, DestKey};
use holdfast_core::trace::Record;

use crate::behaviour;
use crate::bounds;
use crate::world::World;

use super::{Expect, Invariant, Monitor};

impl Monitor {
    /// Real servers in the pool, and the sorry server, as the servers'
    /// behaviour says they should be once the checker's bound has passed.
    pub(super) fn real_servers(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        for (d, dir) in w
            .directors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.node.is_some())
        {
            for (v, vs) in dir.config.virtual_servers.iter().enumerate() {
                let keys = pool::service_keys(&dir.config, vs);
                let mut settled = true;
                let mut live = 0u64;
                let mut expect = Vec::new();
                for (r, rs) in vs.real_servers.iter().enumerate() {
                    let (up, bound) = expected(w, d, rs);
                    seen.insert((d, v, r));
                    let e = self.rs.entry((d, v, r)).or_insert(Expect {
                        up,
                        since: w.now.max(dir.since),
                        bound,
                        reported: false,
                    });
                    if e.up != up || e.since < dir.since {
                        *e = Expect {
                            up,
                            since: w.now.max(dir.since),
                            bound,
                            reported: false,
                        };
                    }
                    if e.reported && e.since + e.bound > w.now {
                        e.reported = false;
                    }
                    if w.now < e.since + e.bound {
                        settled = false;
                        self.deadlines.push(e.since + e.bound);
                        continue;
                    }
                    if up {
                        live += u64::from(rs.weight);
                    }
                    expect.push((r, rs, up));
                }
                // A `misc_dynamic` script sets its server's weight (0 to
                // 253): the pool's live weight, hence its quorum, is not
                // known.
                let dynamic = |rs: &holdfast_core::config::model::RealServer| {
                    rs.checkers.iter().any(|c| c.kind.is_dynamic())
                };
                let weights_known = !vs.real_servers.iter().any(dynamic);
                // The quorum is known only once every server has settled:
                // lost whatever it was before, or held whatever it was
                // (in between, the hysteresis band, history decides).
                let (lost, kept) = if settled && weights_known {
                    (!pool::quorum(vs, live, true), pool::quorum(vs, live, false))
                } else {
                    (false, false)
                };
                let has_sorry = vs.sorry_server.is_some();
                // Active: present with its weight (a configured weight of 0
                // is active at 0; inhibit_on_failure's 0 is not).
                let dest_active = |address, port: Option<u16>, configured: u32| {
                    let key = DestKey {
                        address,
                        port: port.unwrap_or(0),
                    };
                    !keys.is_empty()
                        && keys.iter().all(|k| {
                            dir.table
                                .services
                                .get(k)
                                .and_then(|s| s.dests.get(&key))
                                .is_some_and(|p| p.weight > 0 || configured == 0)
                        })
                };
                for (r, rs, up) in expect {
                    // Its weight 0 (a status of 2) and an inhibited
                    // failure look alike in the table: the oracle judges
                    // its changes (`real_server_exact`).
                    if dynamic(rs) {
                        continue;
                    }
                    if has_sorry && !lost && !kept {
                        continue; // the quorum decides, and it is not known
                    }
                    let want = up && !(lost && has_sorry);
                    let have = dest_active(rs.address, rs.port, rs.weight);
                    if want != have {
                        let e = self.rs.get_mut(&(d, v, r)).expect("entry inserted above");
                        if !e.reported {
                            e.reported = true;
                            let what = if want { "is not in" } else { "is still in" };
                            found.push((
                                Invariant::RealServerPool,
                                dir.name.clone(),
                                format!(
                                    "real server {}:{} of virtual server #{v} {what} the pool {:.3}s after it {} (bound {:.3}s)",
                                    rs.address,
                                    rs.port.unwrap_or(0),
                                    (w.now - e.since).as_secs_f64(),
                                    if up { "recovered" } else { "failed" },
                                    e.bound.as_secs_f64()
                                ),
                            ));
                        }
                    }
                }
                if let (Some(s), true) = (&vs.sorry_server, settled && (lost || kept)) {
                    let duplicate = vs
                        .real_servers
                        .iter()
                        .any(|r| r.address == s.address && r.port == s.port);
                    let have = dest_active(s.address, s.port, 1);
                    if !duplicate && have != lost {
                        if self.sorry.insert((d, v)) {
                            found.push((
                                Invariant::SorryServer,
                                dir.name.clone(),
                                format!(
                                    "sorry server {}:{} of virtual server #{v} is {} though the quorum is {}",
                                    s.address,
                                    s.port.unwrap_or(0),
                                    if have { "active" } else { "not active" },
                                    if lost { "lost" } else { "held" }
                                ),
                            ));
                        }
                    } else {
                        self.sorry.remove(&(d, v));
                    }
                }
            }
        }
        self.rs.retain(|k, _| seen.contains(k));
        for (inv, host, detail) in found {
            self.report(w.now, inv, vec![host], detail, recent);
        }
    }
}

/// Whether real server `rs` should pass all its checkers as director `d`
/// sees it now, and the bound for the checkers to agree.
fn expected(
    w: &World,
    d: usize,
    rs: &holdfast_core::config::model::RealServer,
) -> (bool, Duration) {
    let mut up = true;
    let mut bound = Duration::ZERO;
    for ch in &rs.checkers {
        let address = ch.connect.ip.unwrap_or(rs.address);
        let port = ch.connect.port.or(rs.port).unwrap_or(0);
        let Some(server) = w.servers.get(&address) else {
            continue;
        };
        let rtt = w.rtt(server.host);
        let ok = w.server_reachable(d, server.host)
            && behaviour::passes(server.on(port), ch, rtt, bounds::probe_budget(ch));
        up &= ok;
        bound = bound.max(bounds::detect_down(ch).max(bounds::detect_up(ch)));
    }
    (up, bound)
}
