//! keepalived's notify scripts for a state change: the specific script,
//! then the generic `notify` with its four arguments.

use super::Output;
use crate::config::model::Notify;
use crate::vrrp::instance::{Reason, State};

/// The state word keepalived passes to notify scripts.
pub(super) fn state_word(state: State, reason: &Reason) -> &'static str {
    match (state, reason) {
        (State::Master, _) => "MASTER",
        (State::Backup, _) => "BACKUP",
        (State::Fault, _) => "FAULT",
        (State::Initialize, _) => "STOP",
    }
}

/// The notify scripts for a transition to `to`: the specific one, then the
/// generic `notify` with keepalived's four arguments.
pub(super) fn notify_outputs(
    notify: &Notify,
    kind: &str,
    name: &str,
    to: State,
    reason: &Reason,
    priority: u8,
) -> Vec<Output> {
    let specific = match to {
        State::Master => &notify.master,
        State::Backup => &notify.backup,
        State::Fault => &notify.fault,
        State::Initialize => &notify.stop,
    };
    let mut out: Vec<Output> = specific
        .iter()
        .map(|s| Output::RunScript {
            script: s.clone(),
            args: Vec::new(),
        })
        .collect();
    if let Some(s) = &notify.any {
        let args = vec![
            kind.to_string(),
            name.to_string(),
            state_word(to, reason).to_string(),
            priority.to_string(),
        ];
        out.push(Output::RunScript {
            script: s.clone(),
            args,
        });
    }
    out
}
