//! Bugs put into core on purpose, for tests only: each is a small,
//! realistic mistake the simulator's oracle must catch, so the tests can
//! prove it does (`sim/tests/teeth.rs`). Only with the feature `defects`
//! can one be put into a node (`Node::inject`); without it the checks
//! compile to nothing.

/// A deliberate bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Defect {
    /// Members of a sync group stop following each other.
    SplitSyncGroups,
    /// A Backup no longer restarts its master-down timer when an advert
    /// arrives: it takes over from a healthy Master every master-down
    /// interval.
    NoTimerRestart,
    /// The skew time is computed without the priority: every Backup waits
    /// as if it had priority 255.
    SkewWithoutPriority,
    /// `preempt` is ignored: a Backup of higher priority never takes over
    /// from a lower-priority Master.
    IgnorePreempt,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 4] = [
        Defect::SplitSyncGroups,
        Defect::NoTimerRestart,
        Defect::SkewWithoutPriority,
        Defect::IgnorePreempt,
    ];
}
