//! Helpers shared by the node tests: the case study's files, inline
//! configurations, the directors' interfaces and a virtual clock.
#![allow(dead_code)] // each test file uses a part

use std::net::IpAddr;
use std::path::Path;

use holdfast_core::config::{self, LoadOptions};
use holdfast_core::node::{Interface, Node, Output};
use holdfast_core::time::Instant;
use holdfast_fs::FsLoader;

pub fn at(secs: f64) -> Instant {
    Instant::from_nanos((secs * 1e9).round() as u64)
}

pub fn load(file: &str) -> config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/case-study")
        .join(file);
    config::load(&path, &FsLoader, &LoadOptions::default())
        .config
        .expect("case study reads")
}

/// Runs a lone node until `until`: every output goes to `f` (which may feed
/// inputs back), then the clock jumps to the next deadline.
pub fn drive(
    node: &mut Node,
    now: &mut Instant,
    until: Instant,
    mut f: impl FnMut(&mut Node, Instant, Output),
) {
    for _ in 0..100_000 {
        while let Some(o) = node.poll_output() {
            f(node, *now, o);
        }
        match node.poll_timeout() {
            Some(t) if t <= until => {
                *now = t;
                node.handle_timeout(t);
            }
            _ => return,
        }
    }
    panic!("too many events before {until:?}");
}

/// Reads a configuration written inline in a test.
pub fn read(text: &str) -> config::Config {
    let loaded = config::parse_str(
        "test.conf",
        text,
        &config::MemLoader::new(),
        &LoadOptions::default(),
    );
    loaded
        .config
        .clone()
        .unwrap_or_else(|| panic!("{}", loaded.render()))
}

pub fn ifaces(n: u8) -> Vec<Interface> {
    let ip = |s: String| Some(s.parse::<IpAddr>().unwrap());
    vec![
        Interface {
            name: "eth0".into(),
            ipv4: ip(format!("192.168.200.{n}")),
            ipv6: None,
            up: true,
        },
        Interface {
            name: "eth1".into(),
            ipv4: ip(format!("192.168.100.{n}")),
            ipv6: None,
            up: true,
        },
    ]
}
