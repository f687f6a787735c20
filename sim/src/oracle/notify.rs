//! keepalived's notify scripts (`vrrp_notify.c`, `send_instance_notifies`,
//! `send_group_notifies`, `notify_shutdown`): on each change of state, the
//! script for the new state (`notify_master`, `notify_backup`,
//! `notify_fault`, `notify_stop`) if there is one, and the generic
//! `notify` with four arguments: `INSTANCE` or `GROUP`, the name, the
//! state's word and the effective priority (0 for a group). A sync group
//! changes state when all its members share a new one. On SIGTERM every
//! instance, then every sync group, goes to STOP.
//!
//! Every notify owed must run within its instant and every script run must
//! be owed (`notify_scripts`); the real servers' and pools' scripts join
//! the same runs owed (`lvs_notify.rs`). An instance in a sync group is not judged
//! on its own notifies: keepalived leaves out those of a member whose
//! state its group already has, by an order of events within the group
//! that this model does not follow; its group's are judged.

use holdfast_core::config::model::{Config, Notify};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

use crate::invariants::Invariant;

use super::lvs_notify::LvsNotifies;
use super::{secs, Finding, Oracle};

/// A script run owed: (command, arguments, why, since when).
pub(super) type Owed = (String, Vec<String>, String, Instant);

/// The notify settings of a director, as the oracle reads them.
#[derive(Debug, Clone, Default)]
pub(super) struct Notifies {
    /// Each instance's notify settings (by the facts' order), `None` for
    /// a sync group's member.
    instances: Vec<Option<Notify>>,
    /// Each sync group: its name, settings, members (by the facts'
    /// order) and the state they last shared.
    groups: Vec<(String, Notify, Vec<usize>, State)>,
    /// The commands of the sync groups' members' notifies, which are not
    /// judged.
    unjudged: Vec<String>,
    /// Script runs owed.
    pub(super) owed: Vec<Owed>,
    /// SIGTERM came: the groups' STOP is owed already.
    stopping: bool,
    /// The real servers' and pools' scripts (`lvs_notify.rs`).
    pub(super) lvs: LvsNotifies,
}

/// keepalived's word for a state in a notify's arguments.
fn word(s: State) -> &'static str {
    match s {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Initialize => "STOP",
    }
}

/// The runs owed for `kind` `name` entering `to` at priority `priority`.
fn runs(n: &Notify, kind: &str, name: &str, to: State, priority: u8, now: Instant) -> Vec<Owed> {
    let specific = match to {
        State::Master => &n.master,
        State::Backup => &n.backup,
        State::Fault => &n.fault,
        State::Initialize => &n.stop,
    };
    let why = format!("{kind} {name} entered {} at {}", word(to), secs(now));
    let mut out: Vec<Owed> = specific
        .iter()
        .map(|s| (s.command.clone(), Vec::new(), why.clone(), now))
        .collect();
    if let Some(s) = &n.any {
        let args = [kind, name, word(to), &priority.to_string()].map(String::from);
        out.push((s.command.clone(), args.to_vec(), why, now));
    }
    out
}

impl Notifies {
    /// The settings of `config`'s instances (in `names`' order) and groups.
    pub(super) fn new(config: &Config, names: &[String]) -> Notifies {
        let grouped = |n: &String| config.sync_groups.iter().any(|g| g.members.contains(n));
        Notifies {
            instances: names
                .iter()
                .map(|n| {
                    let i = config.instances.iter().find(|i| &i.name == n)?;
                    (!grouped(n)).then(|| i.notify.clone())
                })
                .collect(),
            groups: config
                .sync_groups
                .iter()
                .map(|g| {
                    let members = g
                        .members
                        .iter()
                        .filter_map(|m| names.iter().position(|n| n == m))
                        .collect();
                    (g.name.clone(), g.notify.clone(), members, State::Initialize)
                })
                .collect(),
            unjudged: config
                .instances
                .iter()
                .filter(|i| grouped(&i.name))
                .flat_map(|i| {
                    let n = &i.notify;
                    [&n.any, &n.master, &n.backup, &n.fault, &n.stop]
                })
                .flatten()
                .map(|s| s.command.clone())
                .collect(),
            owed: Vec::new(),
            stopping: false,
            lvs: LvsNotifies::new(config),
        }
    }
}

impl Oracle {
    /// Instance `i` of director `d` entered `to` now: its notifies, and its
    /// group's when the members now share a new state.
    pub(super) fn owe_notifies(&mut self, now: Instant, d: usize, i: usize, to: State) {
        let dir = &mut self.dirs[d];
        // After SIGTERM, STOP is owed once for all (`owe_stop_notifies`).
        if dir.reloaded || dir.notifies.stopping {
            return;
        }
        let name = &dir.facts[i].name;
        let priority = dir.tracks[i].priority;
        let n = &mut dir.notifies;
        if let Some(Some(settings)) = n.instances.get(i) {
            let owed = runs(settings, "INSTANCE", name, to, priority, now);
            n.owed.extend(owed);
        }
        for (gname, settings, members, shared) in &mut n.groups {
            let states: Vec<State> = members.iter().map(|&m| dir.tracks[m].state).collect();
            let Some(&first) = states.first() else {
                continue;
            };
            if states.iter().all(|&s| s == first) && first != *shared {
                *shared = first;
                n.owed.extend(runs(settings, "GROUP", gname, first, 0, now));
            }
        }
    }

    /// SIGTERM reaches director `d` now: every instance goes to STOP, then
    /// every sync group.
    pub(super) fn owe_stop_notifies(&mut self, now: Instant, d: usize) {
        let dir = &mut self.dirs[d];
        if dir.reloaded || !dir.running {
            return;
        }
        let n = &mut dir.notifies;
        n.stopping = true;
        for (i, settings) in n.instances.iter().enumerate() {
            if let Some(s) = settings {
                let (name, priority) = (&dir.facts[i].name, dir.tracks[i].priority);
                n.owed
                    .extend(runs(s, "INSTANCE", name, State::Initialize, priority, now));
            }
        }
        for (gname, settings, _, shared) in &mut n.groups {
            *shared = State::Initialize;
            n.owed
                .extend(runs(settings, "GROUP", gname, State::Initialize, 0, now));
        }
    }

    /// Director `d` runs `command` with `args` now: it must be owed.
    pub fn script_run(&mut self, d: usize, command: &str, args: &[String]) -> Option<Finding> {
        let dir = &mut self.dirs[d];
        if !dir.running || dir.reloaded {
            return None;
        }
        let owed = &mut dir.notifies.owed;
        if let Some(k) = owed.iter().position(|o| o.0 == command && o.1 == args) {
            owed.remove(k);
            return None;
        }
        let notify = dir
            .notifies
            .instances
            .iter()
            .flatten()
            .chain(dir.notifies.groups.iter().map(|g| &g.1));
        let is_notify = notify
            .flat_map(|n| [&n.any, &n.master, &n.backup, &n.fault, &n.stop])
            .flatten()
            .any(|s| s.command == command);
        let is_notify = is_notify || dir.notifies.lvs.commands.contains(command);
        let unjudged = dir.notifies.unjudged.iter().any(|c| c == command);
        (is_notify && !unjudged).then(|| Finding {
            rule: Invariant::NotifyScripts,
            director: d,
            detail: format!("it ran the notify {command} {args:?}, which no change of state owed"),
        })
    }

    /// Notifies owed before `now` that did not run.
    pub(super) fn notifies_missing(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = Vec::new();
        for d in 0..self.dirs.len() {
            if !self.dirs[d].paused {
                found.extend(self.notifies_late(d, now));
            }
        }
        found
    }

    /// Director `d`'s notifies owed before `before` that did not run.
    pub(super) fn notifies_late(&mut self, d: usize, before: Instant) -> Vec<Finding> {
        let owed = &mut self.dirs[d].notifies.owed;
        let (late, keep): (Vec<Owed>, Vec<Owed>) = owed.drain(..).partition(|o| o.3 < before);
        *owed = keep;
        late.into_iter()
            .map(|(command, args, why, _)| Finding {
                rule: Invariant::NotifyScripts,
                director: d,
                detail: format!("{why} and did not run {command} {args:?}"),
            })
            .collect()
    }
}
