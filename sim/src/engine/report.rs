//! A run's outcome: incidents with their figures, violations, final
//! states, and the table `holdfast sim` prints.

use std::collections::BTreeMap;

use holdfast_core::vrrp::instance::State;
use serde::{Deserialize, Serialize};

use crate::incidents::Incident;
use crate::invariants::Violation;

/// The outcome of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Seed.
    pub seed: u64,
    /// Simulated seconds.
    pub duration: f64,
    /// Events processed.
    pub events: u64,
    /// The start-up and each fault, with its figures.
    pub incidents: Vec<Incident>,
    /// Every violation.
    pub violations: Vec<Violation>,
    /// Each director's instances and their final states.
    pub final_states: BTreeMap<String, BTreeMap<String, State>>,
    /// The trace, when asked for (JSON lines).
    #[serde(skip)]
    pub trace: Option<Vec<u8>>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.6}"))
}

impl Report {
    /// The summary `holdfast sim` prints: one row per incident, then the
    /// verdict and every violation.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let width = self
            .incidents
            .iter()
            .map(|i| i.label.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} (seed {}): {} s simulated, {} events",
            self.name, self.seed, self.duration, self.events
        );
        let _ = writeln!(
            s,
            "{:width$}  {:>11}  {:>10}  {:>10}  {:>12}  {:>11}  {:>10}  {:>10}",
            "incident",
            "at s",
            "detect s",
            "failover s",
            "after advert",
            "dual-master",
            "ARP switch",
            "pool s"
        );
        for i in &self.incidents {
            let _ = writeln!(
                s,
                "{:width$}  {:>11.6}  {:>10}  {:>10}  {:>12}  {:>11.6}  {:>10}  {:>10}",
                i.label,
                i.at,
                cell(i.detection),
                cell(i.failover),
                cell(i.takeover_after_advert),
                i.dual_master,
                cell(i.arp_switch),
                cell(i.pool_change)
            );
        }
        if self.violations.is_empty() {
            let _ = writeln!(s, "invariants: all held");
        } else {
            let _ = writeln!(s, "invariants: {} violated", self.violations.len());
            for v in &self.violations {
                let _ = write!(s, "{v}");
            }
        }
        s
    }
}
