//! Fault schedules generated from the topology, for sweeps that look for
//! trouble rather than replay a story (`holdfast sweep --generate`). From
//! the seed alone: the network's conditions, the configurations' settings
//! that decide elections (priorities, ties included, `nopreempt`,
//! `preempt_delay`, advert intervals, VRRPv3, weighted tracked links, sync groups'
//! tracking weight, checker schedules, real servers' weights and
//! `inhibit_on_failure`, quorum and hysteresis), and a timeline of
//! faults drawn from the topology: crashes and graceful stops with their
//! restarts, pauses, link flaps (some faster than the advert interval),
//! partitions and one-way splits that heal during a master-down countdown,
//! loss bursts (some flipping bits), reloads, real-server faults shorter than the retry window
//! and longer than the pool's bound, with every kind of answer a
//! simulated server gives (some in odd forms: no reason phrase, a
//! Content-Length shorter than the page, or malformed); checkers' schedules
//! and what their urls accept are varied too (some digests made the served
//! page's); so are the announcements' timing; some sync groups are
//! dissolved so that their instances run alone; some virtual routers move
//! to IPv6, others to unicast (some peers with a TTL range); some
//! instances track an interface the director lacks; and half the seeds
//! track a `vrrp_script` whose result fails and comes back.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::config::model::{Checker, CheckerKind, InitialState, TrackInterface};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{Behaviour, Fault, NetSpec};
use crate::setup::Setup;
use crate::swarm::draw_net;

/// Keeps the generator's random stream apart from the run's and the
/// swarm's.
const STREAM: u64 = 0x5343_4845_4455_4c45;

/// A second stream for what later versions of the generator vary (weighted
/// trackers, checker schedules, pools, kinds of answers): the first one
/// draws exactly what it drew before, so a seed keeps its timeline and its
/// priorities, and the corpus of schedules that found bugs keeps meaning
/// what it found.
const MORE: u64 = 0x4d4f_5245_5641_5259;

/// A third stream, for the announcement timing and sync groups dissolved
/// (added after the second; the same reason).
const THIRD: u64 = 0x4741_5250_4752_5053;

/// A fourth, for address families (added after the third; the same
/// reason).
const FOURTH: u64 = 0x4641_4d49_4c49_4553;

/// The generator's latest version. What a seed draws depends on the
/// version: 1 drew from the first three streams; 2 adds the fourth
/// (IPv6 and unicast virtual routers, digests of the served page and odd
/// answers, trackers of missing interfaces,
/// routers that rewrite the TTL, `vrrp_script`s and their failures,
/// statistics cleared), whose faults join the timeline; 3 adds foreign
/// routers that list other addresses, the real servers' and pools'
/// scripts with `omega`, address owners, and MISC_CHECK scripts (some
/// `misc_dynamic`) with the statuses servers make them exit with. The corpus of schedules that found
/// bugs names the version each was found with.
pub const LATEST: u32 = 3;

/// Replaces `setup`'s timeline (over `duration`) and varies its network
/// and configurations, all from `seed`, as the latest version does.
pub fn generate(setup: &mut Setup, seed: u64, duration: Duration) {
    generate_version(setup, seed, duration, LATEST)
}

/// [`generate`] as `version` of the generator did.
pub fn generate_version(setup: &mut Setup, seed: u64, duration: Duration, version: u32) {
    let v2 = version >= 2;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ STREAM);
    let mut more = ChaCha8Rng::seed_from_u64(seed ^ MORE);
    let mut base: Vec<NetSpec> = setup
        .topo
        .segments
        .iter_mut()
        .map(|s| {
            s.net = draw_net(&mut rng);
            s.net
        })
        .collect();
    // A reload brings a director back to its file: with intervals varied,
    // one director would then advertise at another interval than its
    // peer, and each would drop the other's adverts (two Masters, by the
    // configuration, not a bug). A seed varies the intervals or reloads.
    let reloads = rng.random::<f64>() < 0.5;
    vary_configs(setup, &mut rng, &mut more, !reloads);
    let mut third = ChaCha8Rng::seed_from_u64(seed ^ THIRD);
    vary_groups_and_garp(setup, &mut third, !reloads);
    let mut fourth = ChaCha8Rng::seed_from_u64(seed ^ FOURTH);
    let mut flips = Vec::new();
    if v2 {
        exact_timing(setup, &mut base, &mut fourth);
        // A tracked interface this machine does not have (a file written
        // for another): dropped, and said so.
        for d in &mut setup.directors {
            for i in &mut d.config.instances {
                if fourth.random::<f64>() < 0.1 {
                    i.track_interfaces.push(TrackInterface {
                        name: "bond9".into(),
                        weight: 0,
                        reverse: false,
                    });
                }
            }
        }
        vary_families(setup, &mut fourth, !reloads);
        let unicast = vary_unicast(setup, &mut fourth, !reloads);
        vary_digests(setup, &mut fourth);
        flips = vary_scripts(setup, &mut fourth, duration);
        flips.extend(foreign(setup, &mut fourth, duration, version));
        vary_notifies(setup, &mut fourth);
        // Unicast peers name the addresses: a renumbered director would
        // lose its peer by configuration.
        if !unicast {
            flips.extend(renumber(setup, &mut fourth, duration));
        }
    }
    // An operator clears a director's statistics now and then.
    for d in setup.directors.iter().filter(|_| v2) {
        if fourth.random::<f64>() < 0.5 {
            let at = secs(&mut fourth, 1.0, duration.as_secs_f64().max(2.0));
            let host = d.name.clone();
            flips.push((at, Fault::ClearStats { host }));
        }
    }
    if version >= 3 {
        vary_lvs_scripts(setup, &mut fourth);
        vary_owners(setup, &mut fourth);
        vary_misc(setup, &mut fourth);
    }
    let mut draws = [rng, more, fourth];
    setup.timeline = faults(setup, &mut draws, duration, &base, reloads, version);
    setup.timeline.extend(flips);
    setup.timeline.sort_by_key(|(t, _)| *t);
    as_read(setup);
}

/// Each director's varied configuration as a file of it would read: printed
/// and read back by core's reader, which applies keepalived's corrections
/// (weighted scripts of sync-group members dropped without
/// `sync_group_tracking_weight`, an owner's `nopreempt` cleared, a script
/// nothing tracks removed...), so that no seed runs a model that no file
/// gives. Nothing is drawn here: every version's seeds keep their draws.
fn as_read(setup: &mut Setup) {
    use holdfast_core::config::{self, printer, LoadOptions, MemLoader};
    let opts = LoadOptions {
        ignore_unimplemented: true,
        ..LoadOptions::default()
    };
    for d in &mut setup.directors {
        let text = printer::print(&d.config);
        let loaded = config::parse_str("generated.conf", &text, &MemLoader::new(), &opts);
        match loaded.config {
            Some(c) => d.config = c,
            // A drawn configuration core refuses is the generator's bug.
            None => panic!(
                "the generator drew a configuration for {} that does not read:\n{}\n{text}",
                d.name,
                loaded.render()
            ),
        }
    }
}

/// The settings that decide elections and checks, drawn per VRID (both
/// directors of one virtual router share its interval, as they must) and
/// per instance.
fn vary_configs(
    setup: &mut Setup,
    rng: &mut ChaCha8Rng,
    more: &mut ChaCha8Rng,
    intervals_too: bool,
) {
    let mut intervals: BTreeMap<u8, Duration> = BTreeMap::new();
    let mut priorities: BTreeMap<u8, u8> = BTreeMap::new();
    let mut v3: BTreeMap<u8, bool> = BTreeMap::new();
    for d in &mut setup.directors {
        let names: Vec<String> = d.interfaces.iter().map(|i| i.name.clone()).collect();
        for g in &mut d.config.sync_groups {
            g.sync_group_tracking_weight = more.random::<f64>() < 0.5;
        }
        for i in &mut d.config.instances {
            // A weighted link: the priority moves with it (in a sync group
            // without tracking weight, it faults instead).
            let others: Vec<&String> = names
                .iter()
                .filter(|n| Some(n.as_str()) != i.interface.as_deref())
                .collect();
            if !others.is_empty() && more.random::<f64>() < 0.3 {
                let weight = match more.random_range(-60..=60) {
                    0 => 10,
                    w => w,
                };
                i.track_interfaces.push(TrackInterface {
                    name: others[more.random_range(0..others.len())].clone(),
                    weight,
                    reverse: more.random::<f64>() < 0.2,
                });
            }
            let vrid = i.virtual_router_id;
            let secs = *intervals
                .entry(vrid)
                .or_insert_with(|| Duration::from_secs(rng.random_range(1..=2)));
            if intervals_too {
                i.advert_int = secs;
                // VRRPv3 for half the virtual routers (both directors:
                // versions must match), each director at its own interval
                // in centiseconds, which a Backup adopts from its Master.
                if *v3.entry(vrid).or_insert_with(|| more.random::<f64>() < 0.5) {
                    i.version = 3;
                    i.advert_int = Duration::from_millis(10 * more.random_range(30..=200));
                }
            }
            if i.priority == 255 {
                continue;
            }
            i.priority = match rng.random_range(0..4) {
                0 => i.priority,
                // A tie with the other director: the higher address wins.
                1 => *priorities.entry(vrid).or_insert(i.priority),
                _ => rng.random_range(1..=254),
            };
            priorities.entry(vrid).or_insert(i.priority);
            // keepalived clears both for `state MASTER`.
            let backup = i.initial_state != InitialState::Master;
            i.nopreempt = backup && rng.random::<f64>() < 0.2;
            i.preempt_delay = if backup && rng.random::<f64>() < 0.15 {
                Duration::from_millis(rng.random_range(500..5000))
            } else {
                Duration::ZERO
            };
        }
        for vs in &mut d.config.virtual_servers {
            for rs in &mut vs.real_servers {
                rs.weight = more.random_range(1..=3);
                rs.inhibit_on_failure = more.random::<f64>() < 0.3;
                for ch in &mut rs.checkers {
                    ch.retry = rng.random_range(0..=3);
                    vary_checker(ch, more);
                }
            }
            // keepalived lowers a quorum above the total weight to it, and
            // a hysteresis at or above the quorum below it; a pool whose
            // quorum plus hysteresis is above its weight never gets its
            // quorum back, which no schedule needs to show again.
            let total: u32 = vs.real_servers.iter().map(|r| r.weight).sum();
            vs.quorum = more.random_range(1..=total.max(1));
            vs.hysteresis = more.random_range(0..vs.quorum.min(total - vs.quorum + 1));
            if let Some(s) = &mut vs.sorry_server {
                s.inhibit = more.random::<f64>() < 0.3;
            }
        }
    }
}

/// Sync groups dissolved (on every director alike: their instances then
/// run alone; only in seeds without reloads, since a reload brings the
/// file's groups back), and each instance's announcement timing
/// (`garp_master_delay`, `garp_master_repeat`, `garp_master_refresh` and
/// its repeat, `garp_lower_prio_delay` and its repeat), half of them left
/// at keepalived's defaults.
fn vary_groups_and_garp(setup: &mut Setup, rng: &mut ChaCha8Rng, ungroup: bool) {
    let names: std::collections::BTreeSet<String> = setup
        .directors
        .iter()
        .flat_map(|d| d.config.sync_groups.iter().map(|g| g.name.clone()))
        .collect();
    let dissolved: Vec<String> = names
        .into_iter()
        .filter(|_| rng.random::<f64>() < 0.3)
        .filter(|_| ungroup)
        .collect();
    let whole = |rng: &mut ChaCha8Rng, hi: u64| Duration::from_secs(rng.random_range(0..=hi));
    for d in &mut setup.directors {
        d.config
            .sync_groups
            .retain(|g| !dissolved.contains(&g.name));
        for i in &mut d.config.instances {
            if rng.random::<f64>() < 0.5 {
                continue;
            }
            let g = &mut i.garp;
            g.master_delay = whole(rng, 8);
            g.master_repeat = rng.random_range(0..=5);
            g.master_refresh =
                (rng.random::<f64>() < 0.4).then(|| whole(rng, 20).max(Duration::from_secs(1)));
            g.master_refresh_repeat = rng.random_range(1..=3);
            g.lower_prio_delay = whole(rng, 8);
            g.lower_prio_repeat = rng.random_range(0..=5);
        }
    }
}

/// In some seeds, a network without jitter and `preempt_delay`s in whole
/// seconds: adverts then arrive whole intervals apart to the nanosecond,
/// so one may arrive at exactly the instant a delay ends, the boundary
/// keepalived's comparison decides.
fn exact_timing(setup: &mut Setup, base: &mut [NetSpec], rng: &mut ChaCha8Rng) {
    if rng.random::<f64>() < 0.7 {
        return;
    }
    for (s, b) in setup.topo.segments.iter_mut().zip(base.iter_mut()) {
        s.net.jitter_ms = 0.0;
        b.jitter_ms = 0.0;
    }
    for d in &mut setup.directors {
        for i in &mut d.config.instances {
            if !i.preempt_delay.is_zero() {
                i.preempt_delay = Duration::from_secs(i.preempt_delay.as_secs().max(1));
            }
        }
    }
}

/// Some virtual routers moved to IPv6 (VRRPv3 over the interfaces'
/// link-local addresses, each VIP mapped into `fd00::/64`, some with no
/// VIP at all), on every director alike, so that their adverts, checksums
/// over the IPv6 pseudo-header and ties between link-local addresses are
/// judged too.
/// Only in seeds without reloads: a reload brings one director back to
/// its IPv4 file while its peer stays on IPv6.
fn vary_families(setup: &mut Setup, rng: &mut ChaCha8Rng, allowed: bool) {
    let vrids: std::collections::BTreeSet<u8> = setup
        .directors
        .iter()
        .flat_map(|d| d.config.instances.iter().map(|i| i.virtual_router_id))
        .collect();
    let moved: Vec<u8> = vrids
        .into_iter()
        .filter(|_| rng.random::<f64>() < 0.3)
        .filter(|_| allowed)
        .collect();
    // Some of them with no address at all: keepalived warns "No VIP
    // specified" and runs the election anyway.
    let bare: Vec<u8> = moved
        .iter()
        .copied()
        .filter(|_| rng.random::<f64>() < 0.25)
        .collect();
    for d in &mut setup.directors {
        for i in &mut d.config.instances {
            if !moved.contains(&i.virtual_router_id) {
                continue;
            }
            if bare.contains(&i.virtual_router_id) {
                i.virtual_ipaddress.clear();
            }
            i.family = holdfast_core::config::model::Family::Ipv6;
            i.version = 3;
            for vip in &mut i.virtual_ipaddress {
                if let IpAddr::V4(a) = vip.address {
                    let o = a.octets();
                    let word = |h: u8, l: u8| u16::from(h) << 8 | u16::from(l);
                    vip.address = IpAddr::V6(std::net::Ipv6Addr::new(
                        0xfd00,
                        0,
                        0,
                        0,
                        0,
                        0,
                        word(o[0], o[1]),
                        word(o[2], o[3]),
                    ));
                    vip.prefix_len = 64;
                    vip.broadcast = None;
                }
            }
        }
    }
}

/// In half the seeds, a `vrrp_script` on every director (one definition,
/// as a pair shares it: its interval, `rise`, `fall` and `init_fail`
/// drawn), tracked by about half the instances, each with a weight that
/// faults the instance (0) or moves its priority, some `reverse`d; and a
/// few times per director its result turns to failure and back, for less
/// than `fall` runs or longer. Returns those flips.
fn vary_scripts(
    setup: &mut Setup,
    rng: &mut ChaCha8Rng,
    duration: Duration,
) -> Vec<(Duration, Fault)> {
    use holdfast_core::config::model::{Script, TrackScript, VrrpScript};
    if rng.random::<f64>() < 0.5 || setup.directors.is_empty() {
        return Vec::new();
    }
    let name = "chk_service".to_string();
    let interval = Duration::from_secs(rng.random_range(1..=3));
    let script = VrrpScript {
        name: name.clone(),
        script: Script::new("/usr/local/bin/chk_service"),
        interval,
        timeout: interval,
        weight: 0,
        reverse: false,
        rise: rng.random_range(1..=3),
        fall: rng.random_range(1..=3),
        init_fail: rng.random::<f64>() < 0.2,
    };
    let mut flips = Vec::new();
    let span = duration.as_secs_f64();
    let (start, end) = (5.0_f64.min(span / 4.0), (span - 10.0).max(span / 2.0));
    for d in &mut setup.directors {
        d.config.vrrp_scripts.push(script.clone());
        for i in &mut d.config.instances {
            if rng.random::<f64>() < 0.5 {
                continue;
            }
            let weight = match rng.random_range(0..10) {
                0..=2 => 0,
                _ => rng.random_range(10..=60) * if rng.random::<bool>() { 1 } else { -1 },
            };
            i.track_scripts.push(TrackScript {
                name: name.clone(),
                weight,
                reverse: rng.random::<f64>() < 0.2,
            });
        }
        for _ in 0..rng.random_range(1..=4) {
            let at = secs(rng, start, end);
            let back = at + secs(rng, 0.5, 15.0);
            let flip = |ok| Fault::Script {
                host: d.name.clone(),
                script: name.clone(),
                ok,
            };
            flips.push((at, flip(false)));
            flips.push((back, flip(true)));
        }
    }
    flips.retain(|(t, _)| *t < duration);
    flips
}

/// The page a simulated server serves when a fault gives it one.
const PAGE: &str = "simulated page";

/// Some urls' digests made the one of [`PAGE`], so that a server serving
/// it passes exactly when its answer's framing (its Content-Length, as
/// keepalived reads it) leaves that page to hash.
fn vary_digests(setup: &mut Setup, rng: &mut ChaCha8Rng) {
    use md5::{Digest as _, Md5};
    let page = holdfast_core::config::model::Digest(Md5::digest(PAGE.as_bytes()).into());
    for d in &mut setup.directors {
        for vs in &mut d.config.virtual_servers {
            for rs in &mut vs.real_servers {
                for ch in &mut rs.checkers {
                    if let CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) = &mut ch.kind {
                        for u in &mut h.urls {
                            if rng.random::<f64>() < 0.3 {
                                u.digest = Some(page);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An answer in an odd form, as real servers give them: no reason phrase,
/// a Content-Length shorter than what follows (or after a tab, or
/// malformed, or spelt in lower case, which keepalived does not read),
/// bare line feeds, or no status keepalived can read.
fn raw(rng: &mut ChaCha8Rng) -> String {
    let n = PAGE.len();
    let code = [200, 204, 302, 500][rng.random_range(0..4)];
    match rng.random_range(0..8) {
        0 => format!("HTTP/1.1 {code}\r\n\r\n"),
        // Bare line feeds, and a status line without a code.
        6 => format!("HTTP/1.0 {code}\n\n"),
        7 => "HTTP/1.1 OK\r\n\r\n".to_string(),
        1 => format!("HTTP/1.1 200\r\nContent-Length:\t{n}\r\n\r\n{PAGE} and more"),
        2 => format!("HTTP/1.0 200 OK\r\nContent-Length: {n}\r\n\r\n{PAGE}, then more"),
        3 => format!("HTTP/1.0 200 OK\r\nContent-Length: {n}x\r\n\r\n{PAGE}"),
        4 => format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n{PAGE}!"),
        _ => format!("HTTP/1.1 {code}0 Odd\r\n\r\n"),
    }
}

/// Some IPv4 virtual routers made unicast, on every director alike: each
/// instance sends to the other directors' addresses on its interface
/// (keepalived's `unicast_peer`), some peers with a TTL range
/// (`min_ttl`/`max_ttl`) that a router rewriting the TTL may fall outside.
/// Only in seeds without reloads (the file is multicast).
fn vary_unicast(setup: &mut Setup, rng: &mut ChaCha8Rng, allowed: bool) -> bool {
    use holdfast_core::config::model::{Family, UnicastPeer};
    let vrids: std::collections::BTreeSet<u8> = setup
        .directors
        .iter()
        .flat_map(|d| d.config.instances.iter())
        .filter(|i| i.family == Family::Ipv4)
        .map(|i| i.virtual_router_id)
        .collect();
    let mut chosen: Vec<(u8, Option<u8>, Option<u8>)> = Vec::new();
    for vrid in vrids {
        if rng.random::<f64>() >= 0.3 {
            continue;
        }
        // No range, one that takes 254 (one router), or 255 alone.
        let (min, max) = match rng.random_range(0..3) {
            0 => (None, None),
            1 => (Some(250), None),
            _ => (Some(255), Some(255)),
        };
        if allowed {
            chosen.push((vrid, min, max));
        }
    }
    // Each director's address on each interface.
    let addresses: Vec<Vec<(String, IpAddr)>> = setup
        .directors
        .iter()
        .map(|d| {
            d.interfaces
                .iter()
                .filter_map(|i| Some((i.name.clone(), i.ipv4?)))
                .collect()
        })
        .collect();
    for (n, d) in setup.directors.iter_mut().enumerate() {
        for i in &mut d.config.instances {
            let Some(&(_, min_ttl, max_ttl)) = chosen.iter().find(|c| c.0 == i.virtual_router_id)
            else {
                continue;
            };
            let Some(interface) = i.interface.clone() else {
                continue;
            };
            i.unicast_peers = addresses
                .iter()
                .enumerate()
                .filter(|(m, _)| *m != n)
                .flat_map(|(_, a)| a.iter().filter(|(name, _)| *name == interface))
                .map(|(_, address)| UnicastPeer {
                    address: *address,
                    min_ttl,
                    max_ttl,
                })
                .collect();
        }
    }
    !chosen.is_empty()
}

/// In half the seeds, notify scripts on every instance and sync group:
/// the generic `notify`, and each state's own script half the time.
fn vary_notifies(setup: &mut Setup, rng: &mut ChaCha8Rng) {
    use holdfast_core::config::model::{Notify, Script};
    if rng.random::<f64>() < 0.5 {
        return;
    }
    // Each instance and group with scripts of its own, as a file that
    // names them per router would.
    let draw = |rng: &mut ChaCha8Rng, name: &str| {
        let mut some = |state: &str| {
            (rng.random::<f64>() < 0.5)
                .then(|| Script::new(format!("/etc/keepalived/{name}_{state}.sh")))
        };
        Notify {
            master: some("master"),
            backup: some("backup"),
            fault: some("fault"),
            stop: some("stop"),
            any: Some(Script::new(format!("/etc/keepalived/{name}_notify.sh"))),
        }
    };
    for d in &mut setup.directors {
        for i in &mut d.config.instances {
            i.notify = draw(rng, &i.name);
        }
        for g in &mut d.config.sync_groups {
            g.notify = draw(rng, &g.name);
        }
    }
}

/// Some TCP checks (version 3 on) become `MISC_CHECK` scripts, half of
/// them `misc_dynamic` (their statuses 2 to 255 pass and set the weight),
/// as real pools check with scripts of their own.
fn vary_misc(setup: &mut Setup, rng: &mut ChaCha8Rng) {
    use holdfast_core::config::model::MiscCheck;
    for d in &mut setup.directors {
        for vs in &mut d.config.virtual_servers {
            for rs in &mut vs.real_servers {
                for ch in &mut rs.checkers {
                    if !matches!(ch.kind, CheckerKind::TcpCheck) || rng.random::<f64>() >= 0.3 {
                        continue;
                    }
                    ch.kind = CheckerKind::MiscCheck(MiscCheck {
                        path: format!("/etc/keepalived/check_rs.sh {}", rs.address),
                        // At least 2 s, in keepalived's whole seconds: a
                        // script that meets a lost segment waits TCP's 1 s
                        // retransmission, which the bound-based pool
                        // invariant does not count.
                        timeout: Some(Duration::from_secs(rng.random_range(2..=5))),
                        dynamic: rng.random::<bool>(),
                        user: None,
                    });
                }
            }
        }
    }
}

/// Some virtual routers (version 3 on) get an address owner: one
/// director's instances of a sync group (or one instance outside any),
/// priority 255, most wanting MASTER (`state MASTER`: Master at once when
/// the whole group is), some with `state BACKUP` written (keepalived then
/// counts a master-down interval); `nopreempt` and `preempt_delay` off, as
/// keepalived clears them for an owner.
fn vary_owners(setup: &mut Setup, rng: &mut ChaCha8Rng) {
    use holdfast_core::config::model::InitialState;
    if setup.directors.is_empty() {
        return;
    }
    // The routers: each sync group's members, or an instance alone.
    let first = &setup.directors[0].config;
    let mut routers: Vec<Vec<String>> = first
        .sync_groups
        .iter()
        .map(|g| g.members.clone())
        .collect();
    routers.extend(
        first
            .instances
            .iter()
            .filter(|i| {
                !first
                    .sync_groups
                    .iter()
                    .any(|g| g.members.contains(&i.name))
            })
            .map(|i| vec![i.name.clone()]),
    );
    for members in routers {
        if rng.random::<f64>() >= 0.2 {
            continue;
        }
        let d = rng.random_range(0..setup.directors.len());
        let wants = if rng.random::<f64>() < 0.8 {
            InitialState::Master
        } else {
            InitialState::Backup
        };
        for i in &mut setup.directors[d].config.instances {
            if members.contains(&i.name) {
                i.priority = 255;
                i.initial_state = wants;
                i.nopreempt = false;
                i.preempt_delay = Duration::ZERO;
            }
        }
        // One owner per virtual router.
        for (k, other) in setup.directors.iter_mut().enumerate() {
            for i in &mut other.config.instances {
                if k != d && members.contains(&i.name) && i.priority == 255 {
                    i.priority = 254;
                }
            }
        }
    }
}

/// In half the seeds (version 3 on), the real servers' and pools'
/// scripts: each real server's `notify_up` and `notify_down`, each pool's
/// `quorum_up` and `quorum_down`, half of them drawn, and `omega` on half
/// the pools, per director (each runs its own).
fn vary_lvs_scripts(setup: &mut Setup, rng: &mut ChaCha8Rng) {
    use holdfast_core::config::model::Script;
    if rng.random::<f64>() < 0.5 {
        return;
    }
    let some = |rng: &mut ChaCha8Rng, name: String| {
        (rng.random::<f64>() < 0.5).then(|| Script::new(format!("/etc/keepalived/{name}.sh")))
    };
    for d in &mut setup.directors {
        for (v, vs) in d.config.virtual_servers.iter_mut().enumerate() {
            vs.omega = rng.random::<f64>() < 0.5;
            vs.quorum_up = some(rng, format!("vs{v}_quorum_up"));
            vs.quorum_down = some(rng, format!("vs{v}_quorum_down"));
            for (r, rs) in vs.real_servers.iter_mut().enumerate() {
                rs.notify_up = some(rng, format!("vs{v}_rs{r}_up")).map(Box::new);
                rs.notify_down = some(rng, format!("vs{v}_rs{r}_down")).map(Box::new);
            }
        }
    }
}

/// In some seeds, a foreign speaker on the segment of one instance sends
/// a few adverts for its VRID that a director must drop, each in
/// keepalived's counter for its first failed check: an unknown or another
/// authentication type, another password, an unknown version (with a TTL
/// a router left), another type, a bad checksum, another interval, and
/// from version 3 another address list.
fn foreign(
    setup: &Setup,
    rng: &mut ChaCha8Rng,
    duration: Duration,
    version: u32,
) -> Vec<(Duration, Fault)> {
    use crate::scenario::ForeignAdvert;
    use holdfast_core::config::model::AuthType;
    if setup.directors.is_empty() || rng.random::<f64>() < 0.6 {
        return Vec::new();
    }
    let d = &setup.directors[rng.random_range(0..setup.directors.len())];
    if d.config.instances.is_empty() {
        return Vec::new();
    }
    let i = &d.config.instances[rng.random_range(0..d.config.instances.len())];
    let Some(name) = &i.interface else {
        return Vec::new();
    };
    let Some((seg, _)) = setup.topo.interface(d.host, name) else {
        return Vec::new();
    };
    let own = d.interfaces.iter().find(|x| &x.name == name);
    let src = match (i.family, own.and_then(|x| x.ipv4)) {
        (holdfast_core::config::model::Family::Ipv4, Some(IpAddr::V4(a))) => {
            let o = a.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(o[0], o[1], o[2], 239))
        }
        _ => IpAddr::V6(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x239)),
    };
    let (kind, password) = match &i.authentication {
        Some(a) => (
            match a.auth_type {
                AuthType::Pass => 1,
                AuthType::Ah => 2,
            },
            a.password.clone(),
        ),
        None => (0, String::new()),
    };
    let v3 = i.version == 3;
    let mut a = ForeignAdvert {
        src,
        version: i.version,
        vrid: i.virtual_router_id,
        priority: rng.random_range(1..=254),
        interval: if v3 {
            (i.advert_int.as_millis() / 10) as u16
        } else {
            i.advert_int.as_secs() as u16
        },
        auth_type: if v3 { 0 } else { kind },
        password: if v3 { String::new() } else { password },
        addresses: i.virtual_ipaddress.iter().map(|v| v.address).collect(),
        ttl: 255,
        kind: 1,
        bad_checksum: false,
        count: rng.random_range(1..=5),
        every_ms: 1000.0,
    };
    // Version 3 adds a router that lists other addresses: one more or one
    // fewer (keepalived compares the count first), or one of them another.
    match rng.random_range(0..if version >= 3 { 9 } else { 7 }) {
        0 => {
            a.version = 2;
            a.auth_type = rng.random_range(3..=255);
        }
        1 => {
            a.version = 2;
            a.auth_type = if kind == 1 { 0 } else { 1 };
        }
        2 => {
            a.version = 2;
            a.auth_type = 1;
            a.password = "foreign".into();
        }
        3 => {
            a.version = rng.random_range(4..=15);
            a.ttl = [255, 254][rng.random_range(0..2)];
        }
        4 => a.kind = rng.random_range(2..=15),
        5 => a.bad_checksum = true,
        6 => {
            a.version = 2;
            a.interval = a.interval.wrapping_add(rng.random_range(1..=3));
        }
        7 if a.addresses.is_empty() || rng.random::<bool>() => a.addresses.push(other(src)),
        7 => {
            a.addresses.pop();
        }
        _ => match a.addresses.last_mut() {
            Some(last) => *last = other(src),
            None => a.addresses.push(other(src)),
        },
    }
    let span = duration.as_secs_f64();
    let at = secs(rng, 5.0_f64.min(span / 4.0), (span - 10.0).max(span / 2.0));
    let segment = setup.topo.segments[seg].name.clone();
    vec![(at, Fault::Foreign { segment, advert: a })]
}

/// An address of `src`'s family no configuration has.
fn other(src: IpAddr) -> IpAddr {
    match src {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 239)),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x239)),
    }
}

/// In some seeds, a director renumbered: one of its interfaces gains a
/// new IPv4 address, later loses its first one (the new one becomes the
/// source of the instances that follow the interface, and may win or
/// lose ties it did not), and sometimes gets the old one back (a
/// secondary now, which changes nothing).
fn renumber(setup: &Setup, rng: &mut ChaCha8Rng, duration: Duration) -> Vec<(Duration, Fault)> {
    if setup.directors.is_empty() || rng.random::<f64>() < 0.7 {
        return Vec::new();
    }
    let d = &setup.directors[rng.random_range(0..setup.directors.len())];
    let own: Vec<(String, std::net::Ipv4Addr)> = d
        .interfaces
        .iter()
        .filter_map(|i| match i.ipv4 {
            Some(IpAddr::V4(a)) => Some((i.name.clone(), a)),
            _ => None,
        })
        .collect();
    if own.is_empty() {
        return Vec::new();
    }
    let (interface, old) = own[rng.random_range(0..own.len())].clone();
    // An address of the same /24 that nothing else uses.
    let used: std::collections::BTreeSet<IpAddr> = setup
        .directors
        .iter()
        .flat_map(|x| {
            let own = x.interfaces.iter().filter_map(|i| i.ipv4);
            let vips = x.config.instances.iter().flat_map(|i| {
                i.virtual_ipaddress
                    .iter()
                    .chain(&i.virtual_ipaddress_excluded)
                    .map(|v| v.address)
            });
            own.chain(vips).collect::<Vec<_>>()
        })
        .chain(setup.servers.keys().copied())
        .collect();
    let o = old.octets();
    let Some(new) = (240..=254)
        .map(|last| IpAddr::V4(std::net::Ipv4Addr::new(o[0], o[1], o[2], last)))
        .filter(|a| !used.contains(a))
        .nth(rng.random_range(0..5))
    else {
        return Vec::new();
    };
    let span = duration.as_secs_f64();
    let at = secs(rng, 5.0_f64.min(span / 4.0), (span - 10.0).max(span / 2.0));
    let gone = at + secs(rng, 0.5, 30.0);
    let change = |address, up| Fault::Address {
        host: d.name.clone(),
        interface: interface.clone(),
        address,
        up,
    };
    let mut out = vec![
        (at, change(new, true)),
        (gone, change(IpAddr::V4(old), false)),
    ];
    if rng.random::<bool>() {
        out.push((gone + secs(rng, 1.0, 60.0), change(IpAddr::V4(old), true)));
    }
    out.retain(|(t, _)| *t < duration);
    out
}

/// A checker's schedule and, for HTTP, what counts as a good answer:
/// intervals, `alpha`, `warmup`, `fast_recovery`, and per url
/// the accepted status codes, with or without its digest (a url without
/// one passes on its status alone, so a served status decides).
fn vary_checker(ch: &mut Checker, rng: &mut ChaCha8Rng) {
    ch.delay_loop = secs(rng, 1.0, 30.0);
    ch.delay_before_retry = secs(rng, 0.2, 5.0);
    ch.warmup = secs(rng, 0.0, 1.0) * rng.random_range(0..=1);
    // At least 1.5 s: a probe's lost segment costs TCP's 1 s
    // retransmission, which the bound-based pool invariant does not count.
    ch.connect_timeout = secs(rng, 1.5, 5.0);
    ch.alpha = rng.random::<f64>() < 0.2;
    if let CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) = &mut ch.kind {
        h.fast_recovery = rng.random::<f64>() < 0.3;
        for u in &mut h.urls {
            if rng.random::<f64>() < 0.5 {
                u.digest = None;
            }
            u.status_codes = match rng.random_range(0..4) {
                0 => vec![(200, 299)], // keepalived's default
                1 => vec![(200, 200)],
                2 => vec![(200, 204), (301, 302)],
                _ => vec![(500, 503)],
            };
        }
    }
}

/// An answer a real server may give: refusing, hanging, a status (some
/// accepted by some urls), a page (its digest never the configured one),
/// or a slow answer (well inside the checker's budget, or past it).
fn behaviour(draws: &mut [ChaCha8Rng; 3], version: u32) -> Behaviour {
    // The first stream's draw as it always was; the second refines an
    // answer into a status, a page or a slow answer; the fourth gives half
    // the pages an odd form, and from version 3 makes a quarter of the
    // answers a status for the check scripts (MISC_CHECK).
    let v2 = version >= 2;
    let [rng, more, fourth] = draws;
    if version >= 3 && fourth.random::<f64>() < 0.25 {
        return Behaviour::Exit([0, 1, 2, 3, 5, 12, 255][fourth.random_range(0..7)]);
    }
    match rng.random_range(0..3) {
        0 => Behaviour::Refuse,
        1 => Behaviour::Hang,
        _ => match more.random_range(0..4) {
            0 => Behaviour::Status([200, 204, 302, 404, 500, 503][more.random_range(0..6)]),
            1 if v2 && fourth.random::<f64>() < 0.5 => Behaviour::Raw(raw(fourth)),
            1 => Behaviour::Body(PAGE.into()),
            // Well inside every probe budget (3 to 10 s), or past all.
            2 if more.random::<f64>() < 0.5 => Behaviour::SlowMs(more.random_range(0.0..1000.0)),
            2 => Behaviour::SlowMs(more.random_range(12_000.0..15_000.0)),
            _ => Behaviour::Status(500),
        },
    }
}

/// Seconds drawn in `lo..hi`.
fn secs(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(lo..hi))
}

/// The timeline: 5 to 15 faults from the topology's catalogue, each with
/// its end when it has one.
fn faults(
    setup: &Setup,
    draws: &mut [ChaCha8Rng; 3],
    duration: Duration,
    base: &[NetSpec],
    reloads: bool,
    version: u32,
) -> Vec<(Duration, Fault)> {
    let v2 = version >= 2;
    let directors: Vec<String> = setup.directors.iter().map(|d| d.name.clone()).collect();
    let segments: Vec<String> = setup.topo.segments.iter().map(|s| s.name.clone()).collect();
    let servers: Vec<IpAddr> = setup.servers.keys().copied().collect();
    let mut out = Vec::new();
    if directors.is_empty() {
        return out;
    }

    let span = duration.as_secs_f64();
    let (start, end) = (5.0_f64.min(span / 4.0), (span - 10.0).max(span / 2.0));
    for _ in 0..draws[0].random_range(5..=15) {
        let at = Duration::from_secs_f64(draws[0].random_range(start..end));
        let d = draws[0].random_range(0..directors.len());
        let host = directors[d].clone();
        match draws[0].random_range(0..9) {
            0 => {
                out.push((at, Fault::Crash { host: host.clone() }));
                out.push((at + secs(&mut draws[0], 1.0, 30.0), Fault::Restart { host }));
            }
            1 => {
                out.push((at, Fault::Stop { host: host.clone() }));
                out.push((at + secs(&mut draws[0], 1.0, 20.0), Fault::Restart { host }));
            }
            2 => {
                let ms = draws[0].random_range(100.0..5000.0);
                out.push((at, Fault::Pause { host, ms }));
            }
            3 => {
                let ifaces = &setup.directors[d].interfaces;
                if ifaces.is_empty() {
                    continue;
                }
                let name = ifaces[draws[0].random_range(0..ifaces.len())].name.clone();
                let link = |up| Fault::Link {
                    host: host.clone(),
                    interface: Some(name.clone()),
                    up,
                };
                out.push((at, link(false)));
                // Some flaps are faster than an advert interval.
                out.push((at + secs(&mut draws[0], 0.05, 3.0), link(true)));
            }
            4 | 5 if !segments.is_empty() => {
                let segment = segments[draws[0].random_range(0..segments.len())].clone();
                let fault = if draws[0].random::<f64>() < 0.5 {
                    Fault::Partition {
                        segment: segment.clone(),
                        groups: vec![vec![host]],
                    }
                } else {
                    let other = directors[(d + 1) % directors.len()].clone();
                    Fault::OneWay {
                        segment: segment.clone(),
                        from: vec![host],
                        to: vec![other],
                    }
                };
                out.push((at, fault));
                // Healed within a master-down countdown, or later.
                out.push((at + secs(&mut draws[0], 0.5, 5.0), Fault::Heal { segment }));
            }
            6 if !segments.is_empty() => {
                let s = draws[0].random_range(0..segments.len());
                let burst = NetSpec {
                    loss: draws[0].random_range(0.2..0.9),
                    // Half the bursts also flip bits in what gets through.
                    corrupt: if draws[1].random::<f64>() < 0.5 {
                        draws[1].random_range(0.05..0.5)
                    } else {
                        0.0
                    },
                    // Some cross a router that rewrites the TTL.
                    ttl: (v2 && draws[2].random::<f64>() < 0.2)
                        .then(|| [254, 128, 1][draws[2].random_range(0..3)]),
                    ..base[s]
                };
                let segment = segments[s].clone();
                out.push((
                    at,
                    Fault::Net {
                        segment: segment.clone(),
                        net: burst,
                    },
                ));
                out.push((
                    at + secs(&mut draws[0], 0.5, 4.0),
                    Fault::Net {
                        segment,
                        net: base[s],
                    },
                ));
            }
            7 if !servers.is_empty() => {
                let server = servers[draws[0].random_range(0..servers.len())];
                let behaviour = behaviour(draws, version);
                // One port of it, or all.
                let port = [None, Some(80), Some(443)][draws[1].random_range(0..3)];
                out.push((
                    at,
                    Fault::Serve {
                        server,
                        port,
                        behaviour,
                    },
                ));
                // Shorter than the retry window, or longer than the bound.
                let back = if draws[0].random::<f64>() < 0.5 {
                    secs(&mut draws[0], 0.5, 3.0)
                } else {
                    secs(&mut draws[0], 60.0, 200.0)
                };
                out.push((
                    at + back,
                    Fault::Serve {
                        server,
                        port,
                        behaviour: Behaviour::Ok,
                    },
                ));
            }
            _ if reloads => {
                // The file as written: the varied settings give way to it
                // in the middle of whatever is happening.
                // As the scenario names it: a reload reads it from the
                // scenario's directory.
                let config = std::path::PathBuf::from(&setup.directors[d].config_shown);
                out.push((at, Fault::Reload { host, config }));
            }
            _ => {}
        }
    }
    out.retain(|(t, _)| *t < duration);
    out.sort_by_key(|(t, _)| *t);
    out
}
