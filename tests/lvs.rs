//! The case study's LVS half, for real, on the nftables data plane of this
//! kernel: real servers in namespaces on the servers' LAN (routing back
//! through the directors' NAT address 192.168.100.10), a client with 40
//! source addresses on the public LAN, holdfast on director 1.
//!
//! The case study's digests are opaque MD5 values: no body is known to
//! produce them. The test serves its own two pages, takes their digests
//! with `holdfast genhash` from the director (as an operator would), and
//! puts them in the case study's file in place of the originals. The
//! delay_loops (30 s and 20 s) become 3 s to keep the test short; every
//! other checker setting is the case study's.

#![allow(clippy::disallowed_methods)]

mod netns;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use holdfast_core::check::http::body_digest;
use netns::servers::{get, Server};
use netns::{available, case_study, write, Lab};

const PAGE_A: &[u8] = b"<html><body>holdfast case study: test page A</body></html>\n";
const PAGE_B: &[u8] = b"<html><body>holdfast case study: test page B</body></html>\n";
const URL1: &str = "/testurl/test.jsp";
const URL2: &str = "/testurl2/test.jsp";
const HTTP_MAP: &str = "s_192_168_200_10_tcp_80";
const VIP: &str = "192.168.200.10:80";

/// Polls every 50 ms (each look runs nft in a namespace: polling faster
/// would load the two cores the test shares); how long it took.
fn poll(limit: Duration, cond: impl FnMut() -> bool) -> Option<Duration> {
    netns::wait_every(Duration::from_millis(50), limit, cond)
}

fn nft_available() -> bool {
    if Command::new("nft").arg("--version").output().is_ok() {
        return true;
    }
    if std::env::var_os("HOLDFAST_REQUIRE_PRIVILEGED").is_some() {
        panic!("HOLDFAST_REQUIRE_PRIVILEGED is set but nft is missing (apt-get install nftables)");
    }
    eprintln!("skipped: no nft (apt-get install nftables)");
    false
}

/// nft in director 1's namespace.
fn nft_d1(lab: &Lab, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", &lab.ns("d1"), "nft"])
        .args(args)
        .output()
        .expect("nft runs")
}

/// A slot map in director 1, as nft lists it ("" if there is none).
fn slot_map(lab: &Lab, name: &str) -> String {
    let out = nft_d1(lab, &["list", "map", "inet", "holdfast", name]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The HTTP service's slot map.
fn http_map(lab: &Lab) -> String {
    slot_map(lab, HTTP_MAP)
}

fn in_pool(lab: &Lab, server: &str) -> bool {
    // The service is persistent: its slots jump to a chain per server,
    // named after the server's address and port.
    http_map(lab).contains(&format!("__{}_80", server.replace('.', "_")))
}

/// Who answers `/who` for each source, one connection each.
fn ask(lab: &Lab, sources: Vec<IpAddr>) -> Vec<String> {
    lab.in_ns("c", move || {
        let vip: SocketAddr = VIP.parse().unwrap();
        sources
            .iter()
            .map(|s| get(Some(*s), vip, "/who").unwrap_or_else(|e| format!("error: {e}")))
            .collect()
    })
}

fn tally(names: &[String]) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for n in names {
        *t.entry(n.clone()).or_insert(0) += 1;
    }
    t
}

fn source(i: u8) -> IpAddr {
    IpAddr::from([192, 168, 200, i])
}

#[test]
fn case_study_pool_on_nftables_end_to_end() {
    if !available() || !nft_available() {
        return;
    }
    let mut lab = Lab::new("lvs-nft");
    for (host, cidr) in [
        ("rs2", "192.168.100.2/24"),
        ("rs3", "192.168.100.3/24"),
        ("rss", "192.168.100.100/24"),
    ] {
        lab.host(host, "br1", cidr, Some("192.168.100.10"));
    }
    let mut rs2 = Server::start(&lab, "rs2", "192.168.100.2:80".parse().unwrap(), "rs2");
    rs2.set(URL1, PAGE_A);
    rs2.set(URL2, PAGE_B);
    let mut rs3 = Server::start(&lab, "rs3", "192.168.100.3:80".parse().unwrap(), "rs3");
    rs3.set(URL1, PAGE_B);
    let _ssl2 = Server::start(&lab, "rs2", "192.168.100.2:443".parse().unwrap(), "rs2");
    let _ssl3 = Server::start(&lab, "rs3", "192.168.100.3:443".parse().unwrap(), "rs3");
    let sorry = Server::start(&lab, "rss", "192.168.100.100:80".parse().unwrap(), "sorry");
    lab.exec("d1", &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    for i in 101..=140 {
        lab.exec(
            "c",
            &[
                "ip",
                "addr",
                "add",
                &format!("192.168.200.{i}/24"),
                "dev",
                "eth0",
            ],
        );
    }

    // The digests, as an operator takes them.
    let bin = env!("CARGO_BIN_EXE_holdfast");
    let genhash = |server: &str| {
        lab.exec(
            "d1",
            &[bin, "genhash", "-s", server, "-p", "80", "-u", URL1],
        )
        .trim()
        .to_string()
    };
    let (digest_a, digest_b) = (genhash("192.168.100.2"), genhash("192.168.100.3"));
    let expect = |page: &[u8]| {
        let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        r.extend_from_slice(page);
        body_digest(&r).to_hex()
    };
    assert_eq!(digest_a, expect(PAGE_A));
    assert_eq!(digest_b, expect(PAGE_B));
    let text = std::fs::read_to_string(case_study(1))
        .unwrap()
        .replace("ec90a42b99ea9a2f5ecbe213ac9eba03", &digest_a)
        .replace("640205b7b0fc66c1ea91c463fac6334c", &digest_b)
        .replace("delay_loop 30", "delay_loop 3")
        .replace("delay_loop 20", "delay_loop 3");
    let conf = write(&lab, "director1.conf", &text);
    let d1 = lab.holdfast_with(
        "d1",
        &conf,
        &["--data-plane", "nftables", "--repair-interval", "1"],
    );

    // All up: both real servers in the pool, and still there after every
    // checker has run (delay_loop 3 s, first check within 1 s + warmup).
    let started = poll(Duration::from_secs(10), || {
        in_pool(&lab, "192.168.100.2")
            && in_pool(&lab, "192.168.100.3")
            && lab.has("d1", "eth0", "192.168.200.10")
            && lab.has("d1", "eth1", "192.168.100.10")
    });
    assert!(
        started.is_some(),
        "pool never programmed: {}\n{}",
        http_map(&lab),
        lab.logs()
    );
    std::thread::sleep(Duration::from_secs(5));
    let map = http_map(&lab);
    assert!(
        map.contains("__192_168_100_2_80")
            && map.contains("__192_168_100_3_80")
            && !map.contains("192.168.100.100"),
        "{map}\n{}",
        lab.logs()
    );

    // wrr 2:1, by client: persistence (50 s) gives each new source a slot
    // in turn, so 30 sources split exactly 20 / 10.
    let first: Vec<IpAddr> = (101..=130).map(source).collect();
    let answers = ask(&lab, first.clone());
    let t = tally(&answers);
    assert_eq!(t.get("rs2"), Some(&20), "{t:?}\n{}", lab.logs());
    assert_eq!(t.get("rs3"), Some(&10), "{t:?}");
    // Persistence: every source comes back to its server.
    let again = ask(&lab, first.iter().chain(&first).copied().collect());
    for (i, name) in again.iter().enumerate() {
        assert_eq!(
            name,
            &answers[i % first.len()],
            "source {} moved",
            first[i % first.len()]
        );
    }

    // Drift: the slot map emptied by hand is put back within the period.
    // (Whether the flush is seen before the repair is a race; the repair
    // itself is what counts.)
    lab.exec("d1", &["nft", "flush", "map", "inet", "holdfast", HTTP_MAP]);
    let repaired = poll(Duration::from_secs(4), || {
        in_pool(&lab, "192.168.100.2") && in_pool(&lab, "192.168.100.3")
    });
    assert!(
        repaired.is_some(),
        "drift not repaired: {}\n{}",
        http_map(&lab),
        lab.logs()
    );

    // A wrong body on rs3: out after retry (3) × delay_before_retry (2 s)
    // from the first failed check, which comes within one delay_loop (3 s).
    rs3.set(URL1, b"<html>changed</html>\n");
    let out = poll(Duration::from_secs(15), || !in_pool(&lab, "192.168.100.3"));
    let out =
        out.unwrap_or_else(|| panic!("rs3 never removed: {}\n{}", http_map(&lab), lab.logs()));
    assert!(
        out >= Duration::from_millis(5_900) && out <= Duration::from_millis(11_000),
        "rs3 removed after {out:?} (expected 6-9 s, and up to 2 s to see it)"
    );
    // No new connection reaches it: new clients and its old ones go to rs2.
    let before = rs3.hits();
    let newcomers = ask(&lab, (131..=140).map(source).collect());
    assert!(newcomers.iter().all(|n| n == "rs2"), "{newcomers:?}");
    let old = ask(&lab, first.clone());
    assert!(old.iter().all(|n| n == "rs2"), "{old:?}");
    assert_eq!(
        rs3.hits(),
        before,
        "rs3 got connections while out of the pool"
    );

    // Restored: back at its next check (delay_loop, 3 s) after the change.
    rs3.set(URL1, PAGE_B);
    let back = poll(Duration::from_secs(8), || in_pool(&lab, "192.168.100.3"));
    let back = back.unwrap_or_else(|| panic!("rs3 never back: {}\n{}", http_map(&lab), lab.logs()));
    assert!(
        back <= Duration::from_millis(4_500),
        "rs3 back after {back:?} (expected ≤ 3 s)"
    );
    // Persistence is to a server, not to a slot: every old client, the
    // ones moved off rs3 included, stays where it is as the pool grows.
    let settled = ask(&lab, first.clone());
    assert!(settled.iter().all(|n| n == "rs2"), "{settled:?}");
    eprintln!("rs3: out {out:?} after its body changed, back {back:?} after it was restored");

    // Both HTTP servers gone: the sorry server takes the service.
    rs2.stop();
    rs3.stop();
    let sorry_in = poll(Duration::from_secs(15), || {
        let m = http_map(&lab);
        m.contains("__192_168_100_100_80")
            && !m.contains("__192_168_100_2_80")
            && !m.contains("__192_168_100_3_80")
    });
    assert!(
        sorry_in.is_some(),
        "no sorry server: {}\n{}",
        http_map(&lab),
        lab.logs()
    );
    let late = ask(&lab, vec![source(101), source(139)]);
    assert!(late.iter().all(|n| n == "sorry"), "{late:?}");
    assert!(sorry.hits() >= 2);

    // SIGTERM: the table goes with the daemon.
    lab.procs[d1].signal(libc::SIGTERM);
    assert!(lab.procs[d1].wait_exit(Duration::from_secs(5)).is_some());
    let listed = nft_d1(&lab, &["list", "table", "inet", "holdfast"]);
    assert!(
        !listed.status.success(),
        "table left behind:\n{}",
        String::from_utf8_lossy(&listed.stdout)
    );
}

#[test]
fn kept_on_stop_when_asked_and_the_missing_data_plane_is_loud() {
    if !available() || !nft_available() {
        return;
    }
    let mut lab = Lab::new("lvs-keep");
    let text = std::fs::read_to_string(case_study(1)).unwrap();
    let conf = write(&lab, "director1.conf", &text);
    // -I: the table stays after a stop, as keepalived's --dont-release-ipvs.
    let d1 = lab.holdfast_with("d1", &conf, &["--data-plane", "nftables", "-I"]);
    let programmed = poll(Duration::from_secs(10), || in_pool(&lab, "192.168.100.3"));
    assert!(programmed.is_some(), "{}", lab.logs());
    lab.procs[d1].signal(libc::SIGTERM);
    assert!(lab.procs[d1].wait_exit(Duration::from_secs(5)).is_some());
    assert!(in_pool(&lab, "192.168.100.3"), "table not kept");

    // IPVS asked for on a kernel without it: said loudly, and VRRP runs.
    let d2 = lab.holdfast_with("d2", &netns::case_study(2), &["--data-plane", "ipvs"]);
    let up = poll(Duration::from_secs(8), || {
        lab.has("d2", "eth0", "192.168.200.12")
    });
    assert!(up.is_some(), "VRRP stopped: {}", lab.logs());
    let log = lab.procs[d2].log();
    if !std::path::Path::new("/proc/net/ip_vs").exists() {
        assert!(
            log.contains("ERROR")
                && log.contains("IPVS is not available")
                && log.contains("VRRP keeps running"),
            "{log}"
        );
    }
}

/// MISC_CHECK with misc_dynamic: exit 0 keeps the configured weight, 2..255
/// sets weight = status - 2, 1 takes the server out (keepalived's
/// check_misc.c); the data plane follows.
#[test]
fn misc_dynamic_weights_reach_the_data_plane() {
    if !available() || !nft_available() {
        return;
    }
    let mut lab = Lab::new("lvs-misc");
    let rs = |addr: &str, code: u8| {
        format!(
            "  real_server {addr} 80 {{\n    weight 1\n    MISC_CHECK {{\n      misc_path \"/bin/sh -c 'exit {code}'\"\n      misc_dynamic\n    }}\n  }}\n"
        )
    };
    let text = format!(
        "virtual_server 192.168.200.50 80 {{\n  delay_loop 1\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n{}{}{}}}\n",
        rs("192.168.100.21", 5),
        rs("192.168.100.22", 0),
        rs("192.168.100.23", 1)
    );
    let conf = write(&lab, "misc.conf", &text);
    lab.holdfast_with("d1", &conf, &["--data-plane", "nftables"]);
    let map = || slot_map(&lab, "s_192_168_200_50_tcp_80");
    // weight 3 (exit 5) : weight 1 (exit 0) -> slots 1-3 and 4; exit 1 is out.
    let settled = poll(Duration::from_secs(8), || {
        let m = map();
        m.contains("1-3 : 192.168.100.21 . 80")
            && m.contains("4 : 192.168.100.22 . 80")
            && !m.contains("192.168.100.23")
    });
    assert!(settled.is_some(), "{}\n{}", map(), lab.logs());
}
