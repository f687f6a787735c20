//! Virtual addresses the kernel refused to add: core keeps each one with
//! its error, asks the driver to add it again after a growing delay while
//! its instance is still Master, and reports them in the status. A Master
//! whose address could not be added is otherwise silent to everyone but
//! its log: its peer sees adverts and stays Backup, and the clients reach
//! nobody.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::time::Instant;
use crate::vrrp::instance::State;

use super::{Node, Output};

/// The first delay before adding a refused address again; it doubles with
/// each refusal.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest delay between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// One refused address, as the status reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VipError {
    /// The address.
    pub address: IpAddr,
    /// What the kernel said the last time.
    pub error: String,
    /// Refusals in a row.
    pub attempts: u32,
}

#[derive(Debug, Clone)]
struct Pending {
    error: VipError,
    /// When to try again; `None` while an attempt is out.
    retry_at: Option<Instant>,
}

/// The refused addresses of every instance, keyed by (instance, address).
#[derive(Debug, Clone, Default)]
pub(super) struct VipRetries {
    pending: BTreeMap<(String, IpAddr), Pending>,
}

/// The delay after `attempts` refusals in a row.
fn delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_RETRY * (1 << doublings)).min(MAX_RETRY)
}

impl VipRetries {
    /// The outcome of adding `address` for `instance`: a refusal schedules
    /// the next attempt, a success forgets the address. True when a retry
    /// succeeded (the address arrived after the Master's announcements).
    pub(super) fn result(
        &mut self,
        now: Instant,
        instance: &str,
        address: IpAddr,
        error: Option<String>,
    ) -> bool {
        let key = (instance.to_string(), address);
        let Some(error) = error else {
            return self.pending.remove(&key).is_some();
        };
        let attempts = self.pending.get(&key).map_or(0, |p| p.error.attempts) + 1;
        self.pending.insert(
            key,
            Pending {
                error: VipError {
                    address,
                    error,
                    attempts,
                },
                retry_at: Some(now + delay(attempts)),
            },
        );
        false
    }

    /// The instance no longer wants its addresses (it left Master, or is
    /// gone): nothing of it is retried.
    pub(super) fn forget(&mut self, instance: &str) {
        self.pending.retain(|(i, _), _| i != instance);
    }

    /// One address is no longer wanted.
    pub(super) fn drop_address(&mut self, instance: &str, address: IpAddr) {
        self.pending.remove(&(instance.to_string(), address));
    }

    /// The addresses due for another attempt at `now`, marked as out.
    pub(super) fn due(&mut self, now: Instant) -> Vec<(String, IpAddr)> {
        let mut out = Vec::new();
        for ((instance, address), p) in &mut self.pending {
            if p.retry_at.is_some_and(|t| t <= now) {
                p.retry_at = None;
                out.push((instance.clone(), *address));
            }
        }
        out
    }

    /// The earliest retry.
    pub(super) fn next(&self) -> Option<Instant> {
        self.pending.values().filter_map(|p| p.retry_at).min()
    }

    /// What `instance` could not add, for the status.
    pub(super) fn errors(&self, instance: &str) -> Vec<VipError> {
        self.pending
            .iter()
            .filter(|((i, _), _)| i == instance)
            .map(|(_, p)| p.error.clone())
            .collect()
    }
}

impl Node {
    /// Adds again the refused addresses that are due, of instances still
    /// Master.
    pub(super) fn retry_vips(&mut self, now: Instant) {
        for (instance, address) in self.vips.due(now) {
            let Some(m) = self
                .members
                .iter()
                .find(|m| m.cfg.name == instance && m.inst.state() == State::Master)
            else {
                self.vips.forget(&instance);
                continue;
            };
            let Some(vip) = m.vips().find(|v| v.address == address) else {
                // A reload dropped it: nothing to retry.
                self.vips.drop_address(&instance, address);
                continue;
            };
            let (vip, dev) = (vip.clone(), m.vip_dev(vip));
            self.outputs
                .push_back(Output::AddVip { instance, vip, dev });
        }
    }

    /// A refused address arrived after its Master's announcements: it gets
    /// its own burst of gratuitous ARPs / unsolicited NAs, as many as a new
    /// Master sends.
    pub(super) fn announce_late(&mut self, instance: &str, address: IpAddr) {
        let Some(m) = self.members.iter().find(|m| m.cfg.name == instance) else {
            return;
        };
        let Some(vip) = m.vips().find(|v| v.address == address) else {
            return;
        };
        let count = m.inst.settings().garp.master_repeat;
        if count > 0 {
            self.outputs.push_back(Output::Announce {
                instance: instance.to_string(),
                interface: m.vip_dev(vip),
                addresses: vec![address],
                count,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(s)
    }

    #[test]
    fn a_refused_address_is_retried_after_a_doubling_delay_until_it_is_added() {
        let a: IpAddr = "fd00::10".parse().unwrap();
        let mut r = VipRetries::default();
        r.result(at(10), "VI_1", a, Some("Permission denied".into()));
        assert_eq!(r.next(), Some(at(11)));
        assert!(r.due(at(10)).is_empty());
        assert_eq!(r.due(at(11)), vec![("VI_1".to_string(), a)]);
        // While the attempt is out, nothing else is due.
        assert_eq!(r.next(), None);
        r.result(at(11), "VI_1", a, Some("Permission denied".into()));
        assert_eq!(r.next(), Some(at(13)));
        assert_eq!(r.errors("VI_1")[0].attempts, 2);
        assert!(r.result(at(13), "VI_1", a, None), "a retry that succeeded");
        assert!(!r.result(at(14), "VI_1", a, None), "nothing was pending");
        assert!(r.errors("VI_1").is_empty());
        assert_eq!(r.next(), None);
    }

    #[test]
    fn the_delay_stops_growing_at_its_cap_and_leaving_master_forgets() {
        assert_eq!(delay(1), Duration::from_secs(1));
        assert_eq!(delay(5), Duration::from_secs(16));
        assert_eq!(delay(6), MAX_RETRY);
        assert_eq!(delay(1000), MAX_RETRY);
        let mut r = VipRetries::default();
        r.result(at(0), "VI_1", "10.0.0.1".parse().unwrap(), Some("x".into()));
        r.result(at(0), "VI_2", "10.0.0.2".parse().unwrap(), Some("y".into()));
        r.forget("VI_1");
        assert!(r.errors("VI_1").is_empty());
        assert_eq!(r.errors("VI_2").len(), 1);
    }
}
