//! keepalived's sync-group rules (docs/keepalived.md, "Sync groups"), as
//! pure decisions over the members' states; the `Node` applies them.
//!
//! - One member down (its own trackers) puts every other member down.
//! - A member goes master only when every member wants master ("prefer
//!   backup to avoid thrashing"); then all go in the same step.
//! - A member becoming master brings the others; a master pushed back to
//!   backup takes the others with it.

use super::instance::State;

/// For each member, whether another member's own fault holds it down.
pub fn shared_faults(own_faults: &[bool]) -> Vec<bool> {
    (0..own_faults.len())
        .map(|i| own_faults.iter().enumerate().any(|(j, &f)| j != i && f))
        .collect()
}

/// Whether the group may go master: every member wants it.
pub fn can_go_master(wants_master: &[bool]) -> bool {
    wants_master.iter().all(|&w| w)
}

/// What the other members must do when one changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Become master with it.
    Master,
    /// Fall back to backup with it.
    Backup,
    /// Nothing.
    Stay,
}

/// The others' move when one member goes `from` → `to`.
pub fn follow(from: State, to: State) -> Follow {
    match (from, to) {
        (_, State::Master) => Follow::Master,
        (State::Master, State::Backup) => Follow::Backup,
        _ => Follow::Stay,
    }
}

/// The group's state when all members share one.
pub fn common_state(states: &[State]) -> Option<State> {
    let first = *states.first()?;
    states.iter().all(|&s| s == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(shared_faults(&[false, true, false]), [true, false, true]);
        assert_eq!(shared_faults(&[true, true]), [true, true]);
        assert!(!can_go_master(&[true, false]));
        assert!(can_go_master(&[true, true]));
        assert_eq!(follow(State::Backup, State::Master), Follow::Master);
        assert_eq!(follow(State::Master, State::Backup), Follow::Backup);
        assert_eq!(follow(State::Master, State::Fault), Follow::Stay);
        assert_eq!(common_state(&[State::Backup, State::Master]), None);
        assert_eq!(
            common_state(&[State::Fault, State::Fault]),
            Some(State::Fault)
        );
    }
}
