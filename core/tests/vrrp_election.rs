//! Virtual routers on one simulated segment, on a virtual clock that jumps
//! to the next deadline (as quinn-proto's test `Pair` does): elections,
//! failover, release and preemption at exactly the RFC's times.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::time::Instant;
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::instance::{Action, Instance, Reason, Settings, State, Transmit};
use holdfast_core::vrrp::wire::{Auth, Packet, Parsed, Repr, Version};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn settings(primary: &str, priority: u8) -> Settings {
    Settings {
        name: format!("VI_{primary}"),
        interface: Some("eth0".into()),
        primary: ip(primary),
        destinations: vec![ip("224.0.0.18")],
        vrid: 51,
        priority,
        version: Version::V2,
        advert_int: Duration::from_secs(1),
        auth: Auth::pass("k@l"),
        addresses: vec![ip("10.200.0.10")],
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        down_timer_adverts: 3,
        checksum: Variant::Plain,
        garp: holdfast_core::config::model::GarpTiming::default(),
        peer_ttl: Vec::new(),
    }
}

/// A VRRPv3 advert of VRID 51 at priority 200, 1 s, for `address`.
fn v3_repr(address: &str) -> Repr {
    Repr {
        version: Version::V3,
        vrid: 51,
        priority: 200,
        adver_int: 100,
        auth: Auth::NONE,
        addresses: vec![ip(address)],
    }
}

fn at(secs: f64) -> Instant {
    Instant::from_nanos((secs * 1e9).round() as u64)
}

struct Router {
    inst: Instance,
    up: bool,
    /// (time, new state, reason).
    changes: Vec<(Instant, State, Reason)>,
    adverts_sent: Vec<(Instant, u8)>,
}

/// A segment where every advert reaches every other running router at once.
struct Segment {
    now: Instant,
    routers: Vec<Router>,
}

impl Segment {
    fn new(settings: Vec<Settings>) -> Self {
        let routers = settings
            .into_iter()
            .map(|s| Router {
                inst: Instance::new(s),
                up: false,
                changes: vec![],
                adverts_sent: vec![],
            })
            .collect();
        Segment {
            now: Instant::ZERO,
            routers,
        }
    }

    fn start(&mut self, i: usize) {
        self.routers[i].up = true;
        self.routers[i].inst.start(self.now);
        self.settle();
    }

    /// Stops a router without a word (a crash).
    fn crash(&mut self, i: usize) {
        self.routers[i].up = false;
    }

    fn shutdown(&mut self, i: usize) {
        self.routers[i].inst.shutdown(self.now);
        self.settle();
        self.routers[i].up = false;
    }

    /// Carries out every pending action until nothing is left.
    fn settle(&mut self) {
        let mut wire: VecDeque<(usize, IpAddr, IpAddr, u8, Vec<u8>)> = VecDeque::new();
        for _round in 0..1000 {
            for (i, r) in self.routers.iter_mut().enumerate() {
                while let Some(a) = r.inst.poll_action() {
                    match a {
                        Action::Transmit(Transmit {
                            src,
                            dst,
                            ttl,
                            bytes,
                            ..
                        }) => {
                            r.adverts_sent.push((self.now, bytes[2]));
                            if r.up {
                                wire.push_back((i, src, dst, ttl, bytes));
                            }
                        }
                        Action::StateChanged { to, reason, .. } => {
                            r.changes.push((self.now, to, reason))
                        }
                        Action::AddVips
                        | Action::RemoveVips
                        | Action::Announce { .. }
                        | Action::WantMaster
                        | Action::HeardLowerPriority => {}
                    }
                }
            }
            let Some((from, src, dst, ttl, bytes)) = wire.pop_front() else {
                return;
            };
            let parsed = Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst)
                .expect("our own adverts parse");
            for (j, r) in self.routers.iter_mut().enumerate() {
                if j != from && r.up {
                    r.inst
                        .handle_advert(self.now, src, ttl, &parsed)
                        .expect("valid advert");
                }
            }
        }
        panic!("the segment does not settle");
    }

    /// Runs timers until `end`, jumping from deadline to deadline.
    fn run_until(&mut self, end: Instant) {
        for _ in 0..100_000 {
            let next = self
                .routers
                .iter()
                .filter(|r| r.up)
                .filter_map(|r| r.inst.poll_timeout())
                .min();
            match next {
                Some(t) if t <= end => {
                    assert!(
                        t >= self.now,
                        "a deadline in the past: {t:?} < {:?}",
                        self.now
                    );
                    self.now = t;
                    for r in self.routers.iter_mut().filter(|r| r.up) {
                        r.inst.handle_timeout(t);
                    }
                    self.settle();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("too many timer events");
    }

    fn state(&self, i: usize) -> State {
        self.routers[i].inst.state()
    }

    /// When router `i` last became master.
    fn became_master(&self, i: usize) -> Option<Instant> {
        self.routers[i]
            .changes
            .iter()
            .rev()
            .find(|c| c.1 == State::Master)
            .map(|c| c.0)
    }
}

#[test]
fn initial_election_at_master_down_of_the_highest_priority() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 150),
        settings("10.200.0.2", 100),
    ]);
    seg.start(0);
    seg.start(1);
    seg.run_until(at(20.0));
    // 3 × 1 s + (256 − 150)/256 s.
    assert_eq!(seg.became_master(0), Some(at(3.414062)));
    assert_eq!(seg.state(1), State::Backup);
    assert_eq!(seg.became_master(1), None);
    // Adverts every second from then on.
    let sent: Vec<Instant> = seg.routers[0].adverts_sent.iter().map(|a| a.0).collect();
    for pair in sent.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::from_secs(1));
    }
}

#[test]
fn first_advert_is_keepalived_s_bytes() {
    let mut inst = Instance::new(settings("10.200.0.1", 150));
    inst.start(Instant::ZERO);
    inst.handle_timeout(at(3.414062));
    let bytes = std::iter::from_fn(|| inst.poll_action())
        .find_map(|a| match a {
            Action::Transmit(Transmit { bytes, ttl, .. }) => {
                assert_eq!(ttl, 255);
                Some(bytes)
            }
            _ => None,
        })
        .unwrap();
    // testdata/vectors/vrrp-adverts.json: keepalived 2.2.7, d1, priority 150,
    // VRID 51, PASS "k@l".
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "21339601010165b70ac8000a6b406c0000000000");
}

#[test]
fn backup_takes_over_at_master_down_after_the_last_advert() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 150),
        settings("10.200.0.2", 100),
    ]);
    seg.start(0);
    seg.start(1);
    seg.run_until(at(10.5));
    seg.crash(0);
    seg.run_until(at(30.0));
    // A's last advert left at 10.414062 s; B's master-down is 3.609375 s.
    assert_eq!(seg.became_master(1), Some(at(10.414062 + 3.609375)));
    assert!(matches!(
        seg.routers[1].changes.last().unwrap().2,
        Reason::MasterDown
    ));
}

#[test]
fn graceful_release_hands_over_after_the_skew_only() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 150),
        settings("10.200.0.2", 100),
    ]);
    seg.start(0);
    seg.start(1);
    seg.run_until(at(10.5));
    seg.shutdown(0);
    assert_eq!(
        seg.routers[0].adverts_sent.last().unwrap(),
        &(at(10.5), 0),
        "priority 0 on release"
    );
    seg.run_until(at(30.0));
    assert_eq!(seg.became_master(1), Some(at(10.5 + 0.609375)));
}

#[test]
fn returning_higher_priority_preempts_at_its_master_down() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 150),
        settings("10.200.0.2", 100),
    ]);
    seg.start(1);
    seg.run_until(at(5.0));
    assert_eq!(seg.became_master(1), Some(at(3.609375)));
    seg.start(0);
    seg.run_until(at(30.0));
    // A ignores B's lower-priority adverts, so its master-down runs out.
    assert_eq!(seg.became_master(0), Some(at(5.0 + 3.414062)));
    let b_last = seg.routers[1].changes.last().unwrap();
    assert_eq!((b_last.0, b_last.1), (at(8.414062), State::Backup));
    assert!(matches!(
        b_last.2,
        Reason::HigherPriority { priority: 150, .. }
    ));
}

#[test]
fn nopreempt_leaves_the_lower_priority_master_in_place() {
    let mut a = settings("10.200.0.1", 150);
    a.nopreempt = true;
    let mut seg = Segment::new(vec![a, settings("10.200.0.2", 100)]);
    seg.start(1);
    seg.run_until(at(5.0));
    seg.start(0);
    seg.run_until(at(60.0));
    assert_eq!(seg.state(0), State::Backup);
    assert_eq!(seg.state(1), State::Master);
}

#[test]
fn preempt_delay_postpones_preemption() {
    let mut a = settings("10.200.0.1", 150);
    a.preempt_delay = Duration::from_secs(5);
    let mut seg = Segment::new(vec![a, settings("10.200.0.2", 100)]);
    seg.start(1);
    seg.run_until(at(5.0));
    seg.start(0);
    seg.run_until(at(60.0));
    // B advertises at 3.609375 + k s. A first hears it at 5.609375 and keeps
    // listening until 10.609375; the advert at 9.609375 was the last it took,
    // so its master-down runs out 3.414062 s later.
    assert_eq!(seg.became_master(0), Some(at(9.609375 + 3.414062)));
}

#[test]
fn equal_priorities_are_decided_by_the_higher_address() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 100),
        settings("10.200.0.2", 100),
    ]);
    seg.start(0);
    seg.start(1);
    seg.run_until(at(20.0));
    assert_eq!(seg.state(1), State::Master);
    assert_eq!(seg.state(0), State::Backup);
    assert_eq!(seg.became_master(1), Some(at(3.609375)));
}

#[test]
fn owner_is_master_at_once() {
    let mut seg = Segment::new(vec![
        settings("10.200.0.1", 255),
        settings("10.200.0.2", 100),
    ]);
    seg.start(1);
    seg.run_until(at(2.0));
    seg.start(0);
    assert_eq!(seg.became_master(0), Some(at(2.0)));
    assert_eq!(seg.state(1), State::Backup);
}

#[test]
fn adverts_that_do_not_match_the_instance_are_rejected_by_name() {
    use holdfast_core::vrrp::Reject;
    let mut b = Instance::new(settings("10.200.0.2", 100));
    b.start(Instant::ZERO);
    let send = |s: Settings| {
        let mut i = Instance::new(s);
        i.start(Instant::ZERO);
        i.handle_timeout(at(100.0));
        std::iter::from_fn(|| i.poll_action())
            .find_map(|a| match a {
                Action::Transmit(Transmit {
                    src, dst, bytes, ..
                }) => Some((src, dst, bytes)),
                _ => None,
            })
            .unwrap()
    };
    let parse = |(src, dst, bytes): &(IpAddr, IpAddr, Vec<u8>)| {
        Repr::parse(&Packet::new_unchecked(&bytes[..]), *src, *dst).unwrap()
    };
    let mut wrong_pass = settings("10.200.0.1", 100);
    wrong_pass.auth = Auth::pass("k@l!ve1");
    let m = send(wrong_pass);
    assert_eq!(
        b.handle_advert(at(1.0), m.0, 255, &parse(&m)),
        Err(Reject::AuthMismatch)
    );
    let mut slow = settings("10.200.0.1", 100);
    slow.advert_int = Duration::from_secs(2);
    let m = send(slow);
    assert_eq!(
        b.handle_advert(at(1.0), m.0, 255, &parse(&m)),
        Err(Reject::IntervalMismatch)
    );
    let m = send(settings("10.200.0.1", 100));
    assert_eq!(
        b.handle_advert(at(1.0), m.0, 64, &parse(&m)),
        Err(Reject::BadTtl)
    );
    let mut other = settings("10.200.0.1", 100);
    other.vrid = 52;
    let m = send(other);
    assert_eq!(
        b.handle_advert(at(1.0), m.0, 255, &parse(&m)),
        Err(Reject::WrongVrid)
    );
    // A rejected advert does not move the master-down deadline.
    assert_eq!(b.poll_timeout(), Some(at(3.609375)));
}

/// keepalived 2.2.7 drops an advert whose address list is not the
/// instance's: another count before the checksum, a missing address after
/// it; the order of the list does not matter.
#[test]
fn an_advert_with_another_address_list_is_dropped() {
    use holdfast_core::vrrp::Reject;
    let mut mine = settings("10.200.0.2", 100);
    mine.addresses = vec![ip("10.200.0.10"), ip("10.200.0.11")];
    let mut b = Instance::new(mine);
    b.start(Instant::ZERO);
    let advert = |addresses: &[&str], checksum_ok: bool| {
        let repr = Repr {
            version: Version::V2,
            vrid: 51,
            priority: 200,
            adver_int: 1,
            auth: Auth::pass("k@l"),
            addresses: addresses.iter().map(|a| ip(a)).collect(),
        };
        let (src, dst) = (ip("10.200.0.1"), ip("224.0.0.18"));
        let mut bytes = repr.to_bytes(src, dst, Variant::Plain);
        if !checksum_ok {
            bytes[6] ^= 0xff;
        }
        Repr::read(&Packet::new_unchecked(&bytes[..]), src, dst).unwrap()
    };
    let src = ip("10.200.0.1");
    assert_eq!(
        b.handle_advert(at(1.0), src, 255, &advert(&["10.200.0.10"], true)),
        Err(Reject::AddressCount)
    );
    // The count is judged before the checksum, the list after it.
    assert_eq!(
        b.handle_advert(at(1.0), src, 255, &advert(&["10.200.0.10"], false)),
        Err(Reject::AddressCount)
    );
    let other = ["10.200.0.10", "10.200.0.99"];
    assert_eq!(
        b.handle_advert(at(1.0), src, 255, &advert(&other, false)),
        Err(Reject::BadChecksum)
    );
    assert_eq!(
        b.handle_advert(at(1.0), src, 255, &advert(&other, true)),
        Err(Reject::AddressList)
    );
    // None of them moved the master-down deadline; the same list in
    // another order is the instance's and is heard.
    assert_eq!(b.poll_timeout(), Some(at(3.609375)));
    let swapped = ["10.200.0.11", "10.200.0.10"];
    assert_eq!(
        b.handle_advert(at(1.0), src, 255, &advert(&swapped, true)),
        Ok(())
    );
    assert!(b.poll_timeout() > Some(at(3.609375)));
}

#[test]
fn announcements_at_the_transition_again_after_five_seconds_and_on_refresh() {
    let mut s = settings("10.200.0.1", 150);
    s.garp.master_refresh = Some(Duration::from_secs(60));
    s.garp.master_refresh_repeat = 2;
    let mut inst = Instance::new(s);
    inst.start(Instant::ZERO);
    let mut announced = Vec::new();
    let mut now = Instant::ZERO;
    while let Some(t) = inst.poll_timeout().filter(|t| *t <= at(130.0)) {
        now = t;
        inst.handle_timeout(now);
        while let Some(a) = inst.poll_action() {
            if let Action::Announce { count } = a {
                announced.push((now, count));
            }
        }
    }
    assert!(now >= at(125.0));
    let master = 3.414062;
    assert_eq!(
        announced,
        [
            (at(master), 5),
            (at(master + 5.0), 5),
            (at(master + 60.0), 2),
            (at(master + 120.0), 2)
        ],
        "keepalived's defaults: 5 at once, 5 more 5 s later; then the refresh"
    );
}

#[test]
fn v3_checksum_variant_must_be_the_configured_one() {
    use holdfast_core::vrrp::Reject;
    let v3 = |primary: &str, dst: &str, checksum: Variant| Settings {
        version: Version::V3,
        auth: Auth::NONE,
        destinations: vec![ip(dst)],
        checksum,
        ..settings(primary, 100)
    };
    let advert = |s: &Settings, variant: Variant| {
        let repr = v3_repr("10.200.0.10");
        let dst = s.destinations[0];
        let src = ip("10.200.0.9");
        let bytes = repr.to_bytes(src, dst, variant);
        (
            src,
            Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst).unwrap(),
        )
    };
    // Multicast, keepalived's default (pseudo-header): an RFC 9568 advert is refused.
    let s = v3("10.200.0.2", "224.0.0.18", Variant::PseudoHeader);
    let mut i = Instance::new(s.clone());
    i.start(Instant::ZERO);
    let (src, p) = advert(&s, Variant::Plain);
    assert_eq!(
        i.handle_advert(at(1.0), src, 255, &p),
        Err(Reject::BadChecksum)
    );
    let (src, p) = advert(&s, Variant::PseudoHeader);
    assert_eq!(i.handle_advert(at(1.0), src, 255, &p), Ok(()));
    // v3_checksum_as_v2: only the plain form.
    let s = v3("10.200.0.2", "224.0.0.18", Variant::Plain);
    let mut i = Instance::new(s.clone());
    i.start(Instant::ZERO);
    let (src, p) = advert(&s, Variant::PseudoHeader);
    assert_eq!(
        i.handle_advert(at(1.0), src, 255, &p),
        Err(Reject::BadChecksum)
    );
    // Unicast: the pre-1.3.6 form (224.0.0.18 in the pseudo-header) is recognised too.
    let s = v3("10.200.0.2", "10.200.0.9", Variant::PseudoHeader);
    let mut i = Instance::new(s.clone());
    i.start(Instant::ZERO);
    let (src, p) = advert(
        &Settings {
            destinations: vec![ip("10.200.0.2")],
            ..s.clone()
        },
        Variant::LegacyUnicast,
    );
    assert_eq!(p.checksum, Variant::LegacyUnicast);
    assert_eq!(
        i.handle_advert(at(1.0), src, 64, &p),
        Ok(()),
        "unicast: no TTL 255 rule either"
    );
}

/// An advert of VRID 51 from `src` with `priority`, parsed as received.
fn heard(src: &str, dst: &str, priority: u8, adver_int: u16) -> (IpAddr, Parsed) {
    let repr = Repr {
        version: Version::V2,
        vrid: 51,
        priority,
        adver_int,
        auth: Auth::pass("k@l"),
        addresses: vec![ip("10.200.0.10")],
    };
    let (src, dst) = (ip(src), ip(dst));
    let bytes = repr.to_bytes(src, dst, Variant::Plain);
    (
        src,
        Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst).unwrap(),
    )
}

#[test]
fn a_unicast_peer_s_ttl_range_is_enforced_and_other_peers_have_none() {
    use holdfast_core::vrrp::Reject;
    let mut s = settings("10.200.0.2", 100);
    s.destinations = vec![ip("10.200.0.9"), ip("10.200.0.8")];
    s.peer_ttl = vec![(ip("10.200.0.9"), Some(250), Some(254))];
    let mut b = Instance::new(s);
    b.start(Instant::ZERO);
    let (src, p) = heard("10.200.0.9", "10.200.0.2", 200, 1);
    for (ttl, verdict) in [
        (249, Err(Reject::BadTtl)),
        (250, Ok(())),
        (254, Ok(())),
        (255, Err(Reject::BadTtl)),
    ] {
        assert_eq!(b.handle_advert(at(1.0), src, ttl, &p), verdict, "TTL {ttl}");
    }
    // Unicast crosses routers: a peer without a range may come with any TTL.
    let (src, p) = heard("10.200.0.8", "10.200.0.2", 200, 1);
    assert_eq!(b.handle_advert(at(1.0), src, 64, &p), Ok(()));
}

/// Every `Announce` of `inst` until `end`, feeding it each advert of
/// `feed` at its time.
fn announcements(
    inst: &mut Instance,
    feed: &[(Instant, (IpAddr, Parsed))],
    end: Instant,
) -> Vec<(Instant, u32)> {
    let mut announced = Vec::new();
    let mut feed = feed.iter();
    let mut next_feed = feed.next();
    for _ in 0..10_000 {
        let now;
        let next = inst.poll_timeout().filter(|t| *t <= end);
        match (next, next_feed) {
            (Some(t), Some((when, _))) if t < *when => {
                now = t;
                inst.handle_timeout(t);
            }
            (_, Some((when, (src, advert)))) => {
                now = *when;
                next_feed = feed.next();
                inst.handle_advert(now, *src, 255, advert).unwrap();
            }
            (Some(t), None) => {
                now = t;
                inst.handle_timeout(t);
            }
            (None, None) => return announced,
        }
        while let Some(a) = inst.poll_action() {
            if let Action::Announce { count } = a {
                announced.push((now, count));
            }
        }
    }
    panic!("too many timer events before {end:?}");
}

#[test]
fn a_master_that_hears_a_lower_priority_announces_again_after_the_delay() {
    let mut s = settings("10.200.0.1", 150);
    s.garp.lower_prio_delay = Duration::from_secs(3);
    s.garp.lower_prio_repeat = 2;
    let mut inst = Instance::new(s.clone());
    inst.start(Instant::ZERO);
    let lower = heard("10.200.0.2", "224.0.0.18", 100, 1);
    let got = announcements(&mut inst, &[(at(20.0), lower.clone())], at(30.0));
    assert_eq!(
        got,
        [
            (at(3.414062), 5),
            (at(8.414062), 5),
            (at(20.0), 2),
            (at(23.0), 2)
        ]
    );
    // vrrp_garp_lower_prio_delay 0: no second burst.
    s.garp.lower_prio_delay = Duration::ZERO;
    let mut inst = Instance::new(s);
    inst.start(Instant::ZERO);
    let got = announcements(&mut inst, &[(at(20.0), lower.clone())], at(30.0));
    assert_eq!(got, [(at(3.414062), 5), (at(8.414062), 5), (at(20.0), 2)]);
    // Each lower priority heard adds its own delayed burst (keepalived's
    // timer threads are not replaced).
    let mut s = settings("10.200.0.1", 150);
    s.garp.lower_prio_delay = Duration::from_secs(3);
    s.garp.lower_prio_repeat = 1;
    let mut inst = Instance::new(s);
    inst.start(Instant::ZERO);
    let feed = [(at(20.0), lower.clone()), (at(21.0), lower)];
    let got = announcements(&mut inst, &feed, at(30.0));
    assert_eq!(
        got[2..],
        [(at(20.0), 1), (at(21.0), 1), (at(23.0), 1), (at(24.0), 1)]
    );
}

#[test]
fn the_refresh_comes_with_the_first_periodic_advert_after_its_time() {
    let mut s = settings("10.200.0.1", 150);
    s.advert_int = Duration::from_secs(3);
    s.garp.master_delay = Duration::ZERO;
    s.garp.master_refresh = Some(Duration::from_secs(10));
    s.garp.master_refresh_repeat = 2;
    let mut inst = Instance::new(s);
    inst.start(Instant::ZERO);
    let got = announcements(&mut inst, &[], at(40.0));
    // Master at 3 × 3 + 0.414062 s; adverts every 3 s after.
    let m = 9.414062;
    assert_eq!(
        got,
        [(at(m), 5), (at(m + 12.0), 2), (at(m + 24.0), 2)],
        "keepalived checks the refresh in vrrp_state_master_tx"
    );
}

#[test]
fn a_delayed_burst_still_comes_if_master_again_before_its_time() {
    let mut s = settings("10.200.0.1", 150);
    s.garp.master_delay = Duration::from_secs(5);
    s.garp.master_repeat = 1;
    let mut inst = Instance::new(s);
    inst.start(Instant::ZERO);
    let m = 3.414062;
    // A higher priority at m + 1 takes over; it stops at m + 2 (priority
    // 0): back to Master after the skew.
    let feed = [
        (at(m + 1.0), heard("10.200.0.9", "224.0.0.18", 200, 1)),
        (at(m + 2.0), heard("10.200.0.9", "224.0.0.18", 0, 1)),
    ];
    let got = announcements(&mut inst, &feed, at(m + 20.0));
    let back = m + 2.0 + (256.0 - 150.0) / 256.0;
    let times: Vec<f64> = got.iter().map(|(t, _)| t.as_nanos() as f64 / 1e9).collect();
    let expect = [m, back, m + 5.0, back + 5.0];
    assert_eq!(times.len(), 4, "{times:?}");
    for (t, e) in times.iter().zip(expect) {
        assert!((t - e).abs() < 1e-6, "{times:?} against {expect:?}");
    }
}

#[test]
fn a_reloaded_v2_backup_counts_master_down_with_its_new_interval() {
    let mut b = Instance::new(settings("10.200.0.2", 100));
    b.start(Instant::ZERO);
    let (src, p) = heard("10.200.0.9", "224.0.0.18", 200, 1);
    b.handle_advert(at(1.0), src, 255, &p).unwrap();
    assert_eq!(b.poll_timeout(), Some(at(1.0 + 3.609375)));
    let mut s = settings("10.200.0.2", 100);
    s.advert_int = Duration::from_secs(2);
    b.reconfigure(at(2.0), s);
    assert_eq!(b.state(), State::Backup);
    let (src, p) = heard("10.200.0.9", "224.0.0.18", 200, 2);
    b.handle_advert(at(3.0), src, 255, &p).unwrap();
    // 3 × 2 s + (256 − 100) / 256 s: VRRPv2's skew is in seconds
    // whatever the interval (keepalived's VRRP_TIMER_SKEW).
    assert_eq!(b.poll_timeout(), Some(at(3.0 + 6.0 + 0.609375)));
}

/// VRRPv3 over IPv6 (RFC 5798): `fe80::1` and `fe80::2` at equal priority.
fn v6(primary: &str, priority: u8) -> Settings {
    Settings {
        primary: ip(primary),
        destinations: vec![ip("ff02::12")],
        version: Version::V3,
        auth: Auth::NONE,
        addresses: vec![ip("2001:db8::10")],
        checksum: Variant::PseudoHeader,
        ..settings("10.200.0.1", priority)
    }
}

#[test]
fn over_ipv6_an_equal_priority_is_decided_by_the_higher_address() {
    let mut seg = Segment::new(vec![v6("fe80::1", 100), v6("fe80::2", 100)]);
    seg.start(0);
    seg.start(1);
    seg.run_until(at(10.0));
    assert_eq!((seg.state(0), seg.state(1)), (State::Backup, State::Master));
}

#[test]
fn an_advert_of_the_other_family_is_refused() {
    use holdfast_core::vrrp::Reject;
    // An IPv4 VRRPv3 instance handed an IPv6 advert (the node never does:
    // it hands an instance only adverts of its own family).
    let repr = v3_repr("2001:db8::10");
    let (src, dst) = (ip("fe80::9"), ip("ff02::12"));
    let bytes = repr.to_bytes(src, dst, Variant::PseudoHeader);
    let p = Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst).unwrap();
    let mut v3 = settings("10.200.0.2", 100);
    v3.version = Version::V3;
    v3.auth = Auth::NONE;
    v3.checksum = Variant::PseudoHeader;
    let mut b3 = Instance::new(v3);
    b3.start(Instant::ZERO);
    assert_eq!(
        b3.handle_advert(at(1.0), src, 255, &p),
        Err(Reject::FamilyMismatch)
    );
}

/// A VRRPv3 Backup takes its Master's interval, but not an interval of 0
/// (a garbled or hostile sender's): with it the master-down timer would
/// fire at once.
#[test]
fn a_v3_backup_does_not_take_an_interval_of_zero() {
    let mut s = settings("10.200.0.2", 100);
    s.version = Version::V3;
    s.auth = Auth::NONE;
    s.checksum = Variant::PseudoHeader;
    let mut b = Instance::new(s);
    b.start(Instant::ZERO);
    let (src, dst) = (ip("10.200.0.9"), ip("224.0.0.18"));
    let heard = |adver_int: u16| {
        let repr = Repr {
            adver_int,
            ..v3_repr("10.200.0.10")
        };
        let bytes = repr.to_bytes(src, dst, Variant::PseudoHeader);
        Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst).unwrap()
    };
    assert_eq!(b.handle_advert(at(1.0), src, 255, &heard(0)), Ok(()));
    // Its own 1 s: 3 intervals and a skew of (256 - 100) × 100 cs / 256.
    let skew = Duration::from_micros(609_375);
    assert_eq!(b.poll_timeout(), Some(at(4.0) + skew));
    // 2 s, taken: 6 s and twice the skew.
    assert_eq!(b.handle_advert(at(5.0), src, 255, &heard(200)), Ok(()));
    assert_eq!(b.poll_timeout(), Some(at(11.0) + skew * 2));
}
