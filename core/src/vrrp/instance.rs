//! One virtual router: the RFC 5798 §6 state machine with keepalived's
//! semantics (docs/keepalived.md, "VRRP timers and election"; "Trackers
//! and Fault"; "Gratuitous ARP and neighbour advertisements"). Sans-IO:
//! adverts and time come in, and what to send, which addresses to add or
//! remove and which state changes happened come out of
//! [`Instance::poll_action`].
//!
//! Trackers and sync groups are decided by the `Node` that owns the
//! instance: it tells the instance its priority adjustment and whether it
//! is faulted, and settles a group member's wish to become master.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::checksum::Variant;
use super::timers;
use super::wire::{Auth, Parsed, Repr, Version, TTL};
use super::Reject;
use crate::config::model::{AuthType, GarpTiming, VrrpInstance};
use crate::defect::Defect;
use crate::time::Instant;

/// Protocol state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum State {
    /// Not started, or stopped.
    Initialize,
    /// Listening to a master.
    Backup,
    /// Forwarding for the virtual addresses.
    Master,
    /// Down because a tracked interface or script failed (keepalived's FAULT).
    Fault,
}

/// Why a state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Reason {
    /// Started as the address owner (priority 255).
    Owner,
    /// Started and waiting for a master.
    Startup,
    /// No advert within the master-down interval.
    MasterDown,
    /// An advert that wins the election arrived.
    HigherPriority {
        /// Its sender.
        from: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// Told to stop.
    Shutdown,
    /// A tracked interface or script failed, or a sync-group member did.
    Fault,
    /// Every fault cleared.
    FaultCleared,
    /// Its sync group moved together.
    SyncGroup,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Owner => f.write_str("owner"),
            Reason::Startup => f.write_str("startup"),
            Reason::MasterDown => f.write_str("master_down"),
            Reason::HigherPriority { from, priority } => {
                write!(f, "higher_priority {from} {priority}")
            }
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::Fault => f.write_str("fault"),
            Reason::FaultCleared => f.write_str("fault_cleared"),
            Reason::SyncGroup => f.write_str("sync_group"),
        }
    }
}

/// A VRRP message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transmit {
    /// Interface to send on.
    pub interface: Option<String>,
    /// Source address.
    pub src: IpAddr,
    /// Destination (the multicast group or a unicast peer).
    pub dst: IpAddr,
    /// IP TTL / hop limit.
    pub ttl: u8,
    /// The VRRP message (the bytes after the IP header).
    pub bytes: Vec<u8>,
}

/// What the instance wants done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Send an advert.
    Transmit(Transmit),
    /// Add the virtual addresses.
    AddVips,
    /// Remove the virtual addresses.
    RemoveVips,
    /// Announce the virtual addresses (gratuitous ARP / unsolicited NA), `count` times.
    Announce {
        /// Messages per address.
        count: u32,
    },
    /// A Master heard a lower priority and announced: the other members
    /// of its sync group announce too
    /// ([`Instance::announce_lower_priority`]).
    HeardLowerPriority,
    /// A sync-group member's master-down timer ran out: it would become
    /// master, if its group agrees (the owner asks every other member).
    WantMaster,
    /// The state changed.
    StateChanged {
        /// From.
        from: State,
        /// To.
        to: State,
        /// Why.
        reason: Reason,
    },
}

/// What an instance needs to run, from its configuration and its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Instance name.
    pub name: String,
    /// Interface adverts go out on.
    pub interface: Option<String>,
    /// Our source address (the interface's primary address, or `unicast_src_ip`).
    pub primary: IpAddr,
    /// Where adverts go: the multicast group, or each unicast peer.
    pub destinations: Vec<IpAddr>,
    /// Virtual router id.
    pub vrid: u8,
    /// Configured priority.
    pub priority: u8,
    /// Protocol version.
    pub version: Version,
    /// Our advertisement interval.
    pub advert_int: Duration,
    /// v2 authentication.
    pub auth: Auth,
    /// Advertised addresses.
    pub addresses: Vec<IpAddr>,
    /// Do not preempt a lower-priority master.
    pub nopreempt: bool,
    /// Wait this long before preempting.
    pub preempt_delay: Duration,
    /// Intervals in the master-down interval.
    pub down_timer_adverts: u32,
    /// Checksum variant to send (v3 over IPv4).
    pub checksum: Variant,
    /// When gratuitous ARPs / unsolicited NAs go out while master.
    pub garp: GarpTiming,
    /// Unicast peers' accepted TTL ranges (`min_ttl` / `max_ttl`).
    pub peer_ttl: Vec<(IpAddr, Option<u8>, Option<u8>)>,
}

impl Settings {
    /// Settings for a configured instance whose interface has `primary`,
    /// with keepalived's defaults for the rest.
    pub fn from_config(
        inst: &VrrpInstance,
        global: &crate::config::model::GlobalDefs,
        primary: IpAddr,
    ) -> Self {
        let version = if inst.version == 3 {
            Version::V3
        } else {
            Version::V2
        };
        let destinations = if inst.unicast_peers.is_empty() {
            vec![match primary {
                IpAddr::V4(_) => IpAddr::V4(global.vrrp_mcast_group4),
                IpAddr::V6(_) => IpAddr::V6(global.vrrp_mcast_group6),
            }]
        } else {
            inst.unicast_peers.iter().map(|p| p.address).collect()
        };
        let auth = match &inst.authentication {
            Some(a) if a.auth_type == AuthType::Pass => Auth::pass(&a.password),
            // keepalived leaves the VRRP authentication data empty with AH:
            // the password keys the IPsec header instead.
            Some(_) => Auth {
                kind: 2,
                ..Auth::NONE
            },
            None => Auth::NONE,
        };
        let checksum = match (version, primary, global.v3_checksum_as_v2) {
            (Version::V2, _, _) | (Version::V3, IpAddr::V4(_), true) => Variant::Plain,
            _ => Variant::PseudoHeader,
        };
        Settings {
            name: inst.name.clone(),
            interface: inst.interface.clone(),
            primary: inst.unicast_src_ip.or(inst.mcast_src_ip).unwrap_or(primary),
            destinations,
            vrid: inst.virtual_router_id,
            priority: inst.priority,
            version,
            advert_int: inst.advert_int,
            auth,
            addresses: inst.virtual_ipaddress.iter().map(|v| v.address).collect(),
            nopreempt: inst.nopreempt,
            preempt_delay: inst.preempt_delay,
            down_timer_adverts: inst.down_timer_adverts,
            checksum,
            garp: inst.garp,
            peer_ttl: inst
                .unicast_peers
                .iter()
                .map(|p| (p.address, p.min_ttl, p.max_ttl))
                .collect(),
        }
    }

    fn unicast(&self) -> bool {
        !self.destinations.iter().any(IpAddr::is_multicast)
    }
}

/// One virtual router.
#[derive(Debug, Clone)]
pub struct Instance {
    s: Settings,
    state: State,
    /// The interval of the current master (v3 adopts it; v2 always ours).
    master_adver_int: Duration,
    /// Backup: when the master is declared down. Master: next advert.
    timer: Option<Instant>,
    /// When a lower-priority master was first heard, for preempt_delay.
    preempt_since: Option<Instant>,
    /// Master: the second burst of announcements (keepalived: 5 s after).
    garp_at: Vec<Instant>,
    /// Master: the next periodic refresh of announcements.
    refresh_at: Option<Instant>,
    /// Master: the delayed burst after a lower-priority advert.
    lower_prio_garp_at: Vec<Instant>,
    /// Sum of the weighted trackers' adjustments.
    adjustment: i32,
    /// Its own trackers say it is down.
    own_fault: bool,
    /// Another member of its sync group is down.
    group_fault: bool,
    /// Becoming master waits for its sync group.
    in_group: bool,
    /// It wants MASTER at start (see [`Instance::set_start_master`]).
    start_master: bool,
    /// A deliberate bug (tests of the simulator's oracle).
    #[cfg(feature = "defects")]
    defect: Option<Defect>,
    /// keepalived's wantstate: what it would be alone.
    want_master: bool,
    actions: VecDeque<Action>,
}

impl Instance {
    /// An instance in Initialize.
    pub fn new(s: Settings) -> Self {
        let master_adver_int = s.advert_int;
        Instance {
            s,
            state: State::Initialize,
            master_adver_int,
            timer: None,
            preempt_since: None,
            garp_at: Vec::new(),
            refresh_at: None,
            lower_prio_garp_at: Vec::new(),
            adjustment: 0,
            own_fault: false,
            group_fault: false,
            in_group: false,
            start_master: true,
            #[cfg(feature = "defects")]
            defect: None,
            want_master: false,
            actions: VecDeque::new(),
        }
    }

    /// Test-only: puts `defect` into this instance.
    #[cfg(feature = "defects")]
    pub fn inject(&mut self, defect: Defect) {
        self.defect = Some(defect);
    }

    /// Whether the deliberate bug `d` is in (always false without the
    /// `defects` feature).
    #[allow(unused_variables)]
    fn has(&self, d: Defect) -> bool {
        #[cfg(feature = "defects")]
        return self.defect == Some(d);
        #[cfg(not(feature = "defects"))]
        return false;
    }

    /// Whether, as an address owner, it is Master at once when it starts
    /// (keepalived's `wantstate` is MASTER: `state MASTER`, or priority 255
    /// with no state written; and its sync group, if any, is all such
    /// owners). True unless set.
    pub fn set_start_master(&mut self, start_master: bool) {
        self.start_master = start_master;
    }

    /// Makes becoming master wait for the sync group (see [`Action::WantMaster`]).
    pub fn set_in_group(&mut self, in_group: bool) {
        self.in_group = in_group;
    }

    /// Whether, alone, it would be master now.
    pub fn wants_master(&self) -> bool {
        self.want_master || self.state == State::Master
    }

    /// The priority it advertises and elects with: the configured one plus
    /// the weighted trackers, kept within 1..=254; the owner's 255 never moves.
    pub fn effective_priority(&self) -> u8 {
        if self.s.priority == 255 {
            255
        } else {
            (i32::from(self.s.priority) + self.adjustment).clamp(1, 254) as u8
        }
    }

    /// Sets the weighted trackers' total adjustment.
    pub fn set_priority_adjustment(&mut self, now: Instant, adjustment: i32) {
        let before = self.master_down();
        self.adjustment = adjustment;
        // keepalived moves a running master-down deadline by the change.
        if let (State::Backup, Some(t)) = (self.state, self.timer) {
            let after = self.master_down();
            let moved = if after >= before {
                t + (after - before)
            } else {
                Instant::from_nanos(
                    t.as_nanos()
                        .saturating_sub((before - after).as_nanos() as u64),
                )
            };
            self.timer = Some(moved.max(now));
        }
    }

    /// Sets whether its own trackers say it is down.
    pub fn set_fault(&mut self, now: Instant, fault: bool) {
        self.own_fault = fault;
        self.update_fault(now);
    }

    /// Sets whether another member of its sync group is down.
    pub fn set_group_fault(&mut self, now: Instant, fault: bool) {
        self.group_fault = fault;
        self.update_fault(now);
    }

    /// Whether its own trackers hold it down.
    pub fn own_fault(&self) -> bool {
        self.own_fault
    }

    fn update_fault(&mut self, now: Instant) {
        let faulted = self.own_fault || self.group_fault;
        match (self.state, faulted) {
            (State::Fault, false) => {
                self.transition(State::Backup, Reason::FaultCleared);
                self.want_master = false;
                self.master_adver_int = self.s.advert_int;
                // keepalived's try_up_instance: a fault left `wantstate`
                // FAULT, so the owner too counts a whole master-down
                // interval (measured: 3.005 s at advert_int 1).
                self.timer = Some(now + self.master_down());
            }
            (State::Backup | State::Master, true) => {
                if self.state == State::Master {
                    // keepalived leaves master with a priority-0 advert.
                    self.send_advert(0);
                    self.actions.push_back(Action::RemoveVips);
                }
                self.transition(State::Fault, Reason::Fault);
                self.want_master = false;
                self.timer = None;
                self.preempt_since = None;
            }
            _ => {}
        }
    }

    /// Its sync group decided to go master together.
    pub fn force_master(&mut self, now: Instant) {
        if self.state == State::Backup {
            self.become_master(now, Reason::SyncGroup);
        }
    }

    /// Its sync group decided to go backup together.
    pub fn force_backup(&mut self, now: Instant) {
        if self.state == State::Master {
            self.transition(State::Backup, Reason::SyncGroup);
            self.actions.push_back(Action::RemoveVips);
            self.want_master = false;
            self.timer = Some(now + self.master_down());
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Its settings.
    pub fn settings(&self) -> &Settings {
        &self.s
    }

    /// The next time [`Instance::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
            .into_iter()
            .chain(self.garp_at.iter().copied())
            .chain(self.lower_prio_garp_at.iter().copied())
            .min()
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// v3: a backup takes the master's interval (an interval of 0 would
    /// make the master-down timer fire at once, so it is not taken).
    fn adopt_interval(&mut self, repr: &Repr) {
        if self.s.version == Version::V3 && repr.adver_int > 0 {
            self.master_adver_int = repr.interval();
        }
    }

    /// Its interface's primary address changed: the next advert leaves from
    /// `primary`, on its schedule (keepalived swaps `saddr` and sends
    /// nothing more, `netlink_if_address_filter`).
    pub fn set_primary(&mut self, primary: IpAddr) {
        self.s.primary = primary;
    }

    /// Takes new settings on a reload without leaving its state: a master
    /// advertises at once with them (keepalived's `reload_master`).
    pub fn reconfigure(&mut self, now: Instant, s: Settings) {
        let in_master = self.state == State::Master;
        self.s = s;
        if self.s.version == Version::V2 || in_master {
            self.master_adver_int = self.s.advert_int;
        }
        if in_master {
            self.timer = Some(now);
        }
    }

    /// The priority the timers count with: keepalived uses the effective
    /// priority (after trackers).
    fn timer_priority(&self) -> u8 {
        if self.has(Defect::SkewWithoutPriority) {
            return 255;
        }
        self.effective_priority()
    }

    fn skew(&self) -> Duration {
        timers::skew(self.s.version, self.timer_priority(), self.master_adver_int)
    }

    fn master_down(&self) -> Duration {
        timers::master_down(
            self.s.version,
            self.timer_priority(),
            self.master_adver_int,
            self.s.down_timer_adverts,
        )
    }

    fn transition(&mut self, to: State, reason: Reason) {
        let from = self.state;
        self.state = to;
        // The refresh is read only while Master and set on becoming Master
        // (`become_master`); the delayed bursts are keepalived's timer
        // threads, which leaving Master does not cancel: they fire, and
        // announce if Master again.
        self.actions
            .push_back(Action::StateChanged { from, to, reason });
    }

    fn send_advert(&mut self, priority: u8) {
        let adver_int = match self.s.version {
            Version::V2 => self.s.advert_int.as_secs() as u16,
            Version::V3 => (self.s.advert_int.as_millis() / 10) as u16,
        };
        let repr = Repr {
            version: self.s.version,
            vrid: self.s.vrid,
            priority,
            adver_int,
            auth: if self.s.version == Version::V2 {
                self.s.auth
            } else {
                Auth::NONE
            },
            addresses: self.s.addresses.clone(),
        };
        for &dst in &self.s.destinations {
            let bytes = repr.to_bytes(self.s.primary, dst, self.s.checksum);
            self.actions.push_back(Action::Transmit(Transmit {
                interface: self.s.interface.clone(),
                src: self.s.primary,
                dst,
                ttl: TTL,
                bytes,
            }));
        }
    }

    /// Starts the instance (RFC 5798 §6.4.1): the owner becomes master at
    /// once; everyone else, `state MASTER` included, waits as backup for the
    /// master-down interval, as keepalived does.
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        self.master_adver_int = self.s.advert_int;
        if self.own_fault || self.group_fault {
            self.transition(State::Fault, Reason::Fault);
        } else if self.s.priority == 255 && self.start_master {
            self.become_master(now, Reason::Owner);
        } else {
            // `state MASTER` included, and an owner that wants BACKUP or
            // is in a sync group with others (keepalived starts the group
            // in BACKUP, and its members count a whole master-down
            // interval).
            self.transition(State::Backup, Reason::Startup);
            self.timer = Some(now + self.master_down());
        }
    }

    /// Stops the instance: a master sends priority 0 so backups take over
    /// after their skew time, and removes its addresses.
    pub fn shutdown(&mut self, _now: Instant) {
        if self.state == State::Master {
            self.send_advert(0);
            self.actions.push_back(Action::RemoveVips);
        }
        if self.state != State::Initialize {
            self.transition(State::Initialize, Reason::Shutdown);
        }
        self.timer = None;
        self.preempt_since = None;
        self.want_master = false;
    }

    /// keepalived sends the advert first ("the old master needs to remove the
    /// VIPs before we send the gratuitous ARPs"), then adds and announces.
    fn become_master(&mut self, now: Instant, reason: Reason) {
        self.transition(State::Master, reason);
        self.master_adver_int = self.s.advert_int;
        self.preempt_since = None;
        self.want_master = true;
        self.send_advert(self.effective_priority());
        self.actions.push_back(Action::AddVips);
        self.announce(self.s.garp.master_repeat);
        let g = self.s.garp;
        if !g.master_delay.is_zero() {
            self.garp_at.push(now + g.master_delay);
        }
        self.refresh_at = g.master_refresh.map(|r| now + r);
        self.timer = Some(now + self.s.advert_int);
    }

    fn announce(&mut self, count: u32) {
        if count > 0 {
            self.actions.push_back(Action::Announce { count });
        }
    }

    /// keepalived's answer to a lower priority heard while Master, by this
    /// instance or another of its sync group: a burst of announcements now
    /// if Master, and another after `vrrp_garp_lower_prio_delay` (each
    /// advert heard adds its own; none is cancelled).
    pub fn announce_lower_priority(&mut self, now: Instant) {
        let g = self.s.garp;
        if g.lower_prio_repeat == 0 {
            return;
        }
        if self.state == State::Master {
            self.announce(g.lower_prio_repeat);
        }
        if !g.lower_prio_delay.is_zero() {
            self.lower_prio_garp_at.push(now + g.lower_prio_delay);
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let g = self.s.garp;
        let bursts = [
            (take_due(&mut self.garp_at, now), g.master_repeat),
            (
                take_due(&mut self.lower_prio_garp_at, now),
                g.lower_prio_repeat,
            ),
        ];
        // keepalived's vrrp_send_link_update: only while the addresses
        // are set.
        if self.state == State::Master {
            for (due, count) in bursts {
                for _ in 0..due {
                    self.announce(count);
                }
            }
        }
        let Some(at) = self.timer else { return };
        if at > now {
            return;
        }
        match self.state {
            State::Backup if self.in_group => {
                // keepalived "prefers backup to avoid thrashing": the member
                // waits another master-down unless its group goes master.
                self.want_master = true;
                self.timer = Some(now + self.master_down());
                self.actions.push_back(Action::WantMaster);
            }
            State::Backup => self.become_master(now, Reason::MasterDown),
            State::Master => {
                self.send_advert(self.effective_priority());
                self.timer = Some(now + self.s.advert_int);
                // keepalived's vrrp_state_master_tx: the refresh is due at
                // the first periodic advert after its time.
                if let (Some(every), Some(at)) = (g.master_refresh, self.refresh_at) {
                    if at <= now {
                        self.refresh_at = Some(now + every);
                        self.announce(g.master_refresh_repeat);
                    }
                }
            }
            State::Initialize | State::Fault => self.timer = None,
        }
    }

    /// Why it drops a message meant for it that the codec could not read
    /// (`reason`, from [`Repr::read`]): keepalived judges the length, then
    /// the TTL, then the version, so an unknown version of the right
    /// length with a bad TTL is a TTL error.
    pub fn unread(&self, src: IpAddr, ttl: u8, reason: Reject) -> Reject {
        match reason {
            Reject::BadVersion => self.check_ttl(src, ttl).err().unwrap_or(reason),
            _ => reason,
        }
    }

    /// The TTL (IPv6: hop limit) rule: 255 for multicast; unicast crosses
    /// routers, so only a peer's range if one is given.
    fn check_ttl(&self, src: IpAddr, ttl: u8) -> Result<(), Reject> {
        if self.s.unicast() {
            if let Some(&(_, min, max)) = self.s.peer_ttl.iter().find(|p| p.0 == src) {
                if min.is_some_and(|m| ttl < m) || max.is_some_and(|m| ttl > m) {
                    return Err(Reject::BadTtl);
                }
            }
        } else if ttl != TTL {
            return Err(Reject::BadTtl);
        }
        Ok(())
    }

    /// The receive checks of keepalived's `vrrp_check_packet`, in its
    /// order (which decides the counter a bad packet lands in): the
    /// length (the codec's, before this), the TTL, the version, for v2 the
    /// authentication type (known, then the instance's), the password and
    /// the interval, then the type, the address count, the checksum, and
    /// last the address list.
    fn check(&self, src: IpAddr, ttl: u8, parsed: &Parsed) -> Result<(), Reject> {
        let repr = &parsed.repr;
        self.check_ttl(src, ttl)?;
        if repr.version != self.s.version {
            return Err(Reject::BadVersion);
        }
        if repr.vrid != self.s.vrid {
            return Err(Reject::WrongVrid);
        }
        if self.s.version == Version::V2 {
            if repr.auth.kind > 2 {
                return Err(Reject::InvalidAuthType);
            }
            if repr.auth.kind != self.s.auth.kind {
                return Err(Reject::AuthTypeMismatch);
            }
            if repr.auth.kind == 1 && repr.auth.data != self.s.auth.data {
                return Err(Reject::AuthMismatch);
            }
            // v2 drops a different interval "to prevent concurrent VRID running".
            if repr.interval() != self.s.advert_int {
                return Err(Reject::IntervalMismatch);
            }
        }
        if parsed.kind != super::wire::TYPE_ADVERTISEMENT {
            return Err(Reject::BadType);
        }
        // keepalived 2.2.7 compares the address count before the checksum
        // (`vrrp_skip_check_adv_addr`, which would skip it for the same
        // master, is refused as not implemented).
        if repr.addresses.len() != self.s.addresses.len() {
            return Err(Reject::AddressCount);
        }
        // The checksum variant this instance sends is the one it accepts;
        // keepalived also recognises the pre-1.3.6 unicast form from a
        // unicast peer.
        let legacy_ok = self.s.checksum == Variant::PseudoHeader && self.s.unicast();
        let accepted = parsed.verifies(self.s.checksum)
            || (legacy_ok && parsed.verifies(Variant::LegacyUnicast));
        if !accepted {
            return Err(Reject::BadChecksum);
        }
        if repr.family() != crate::config::model::Family::of(&self.s.primary)
            && !repr.addresses.is_empty()
        {
            return Err(Reject::FamilyMismatch);
        }
        // Last, each of its addresses must be in the list (in any order);
        // keepalived has counted the advert as received by then.
        if !self.s.addresses.iter().all(|a| repr.addresses.contains(a)) {
            return Err(Reject::AddressList);
        }
        Ok(())
    }

    /// An advert arrived from `src` with IP TTL `ttl`. A rejected one
    /// changes nothing (its reason is returned for counting).
    pub fn handle_advert(
        &mut self,
        now: Instant,
        src: IpAddr,
        ttl: u8,
        parsed: &Parsed,
    ) -> Result<(), Reject> {
        let repr = &parsed.repr;
        self.check(src, ttl, parsed)?;
        if src == self.s.primary {
            // Our own advert looped back.
            return Ok(());
        }
        match self.state {
            State::Initialize | State::Fault => {}
            State::Backup => self.backup_rx(now, src, repr),
            State::Master => self.master_rx(now, src, repr),
        }
        Ok(())
    }

    /// keepalived's `vrrp_state_backup`.
    fn backup_rx(&mut self, now: Instant, _src: IpAddr, repr: &Repr) {
        if repr.priority == 0 {
            // The master is leaving: take over after the skew alone.
            self.timer = Some(now + self.skew());
            return;
        }
        let lower = repr.priority < self.effective_priority();
        let delaying = lower
            && !self.s.preempt_delay.is_zero()
            && match self.preempt_since {
                None => {
                    self.preempt_since = Some(now);
                    true
                }
                Some(since) => now < since + self.s.preempt_delay,
            };
        let nopreempt = self.s.nopreempt || self.has(Defect::IgnorePreempt);
        if (nopreempt || !lower || delaying) && !self.has(Defect::NoTimerRestart) {
            if !lower {
                self.preempt_since = None;
            }
            self.adopt_interval(repr);
            self.want_master = false;
            self.timer = Some(now + self.master_down());
        }
        // Otherwise a lower-priority master is ignored and the master-down
        // timer runs out: that is how a backup preempts.
    }

    /// keepalived's `vrrp_state_master_rx`, with its default RFC 9568
    /// behaviour of answering a lower priority with an advert.
    fn master_rx(&mut self, now: Instant, src: IpAddr, repr: &Repr) {
        // Elections and answers use the effective priority, as keepalived.
        let ours = self.effective_priority();
        if repr.priority == 0 {
            self.send_advert(ours);
            self.timer = Some(now + self.s.advert_int);
            return;
        }
        let wins =
            repr.priority > ours || (repr.priority == ours && ip_greater(src, self.s.primary));
        if wins {
            self.adopt_interval(repr);
            self.transition(
                State::Backup,
                Reason::HigherPriority {
                    from: src,
                    priority: repr.priority,
                },
            );
            self.actions.push_back(Action::RemoveVips);
            self.want_master = false;
            self.timer = Some(now + self.master_down());
        } else {
            // keepalived (RFC 9568 behaviour): answer at once, and announce
            // again so that clients the other side took come back here.
            self.send_advert(ours);
            self.announce_lower_priority(now);
            // The other members of its sync group announce too.
            self.actions.push_back(Action::HeardLowerPriority);
            self.timer = Some(now + self.s.advert_int);
        }
    }
}

/// Removes the times in `pending` that are due at `now`; how many.
fn take_due(pending: &mut Vec<Instant>, now: Instant) -> usize {
    let before = pending.len();
    pending.retain(|t| *t > now);
    before - pending.len()
}

/// RFC 5798 §6.4.3: on equal priority the higher primary address wins.
fn ip_greater(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a > b,
        (IpAddr::V6(a), IpAddr::V6(b)) => a > b,
        _ => false,
    }
}
