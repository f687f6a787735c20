//! A reload is never half applied: when the machine refuses what the new
//! file needs (a VRRP socket on an interface it does not have), the driver
//! refuses the reload before core changes anything, says so in the trace,
//! and the running configuration goes on.

mod fake_kernel;

use std::path::PathBuf;
use std::time::Duration;

use fake_kernel::{Fake, Item};
use holdfast_core::node::Interface;
use holdfast_core::time::Instant;
use holdfast_runtime::daemon::{Driver, Signal};

fn instance(name: &str, interface: &str, vrid: u8) -> String {
    format!(
        "vrrp_instance {name} {{\n    interface {interface}\n    virtual_router_id {vrid}\n    priority 100\n    virtual_ipaddress {{\n        10.0.0.{vrid}/24\n    }}\n}}\n"
    )
}

#[test]
fn a_reload_the_machine_cannot_carry_out_is_refused_whole() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("driver-reload");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("d.conf");
    let first = format!(
        "global_defs {{\n    router_id d\n}}\n{}",
        instance("VI_1", "eth0", 51)
    );
    // A second instance on an interface this machine does not have.
    let second = format!("{first}{}", instance("VI_2", "eth9", 52));
    std::fs::write(&conf, &first).unwrap();
    let trace = dir.join("trace");
    let opts = fake_kernel::options(&conf, &dir, &trace);
    let eth0 = Interface {
        name: "eth0".into(),
        ipv4: Some("10.0.0.1".parse().unwrap()),
        ipv6: None,
        up: true,
    };
    let mut fake = Fake::new(vec![eth0.clone()], &[], Duration::from_millis(1));
    let at = |s: u64| Instant::ZERO + Duration::from_secs(s);
    let (path, text) = (conf.clone(), second.clone());
    fake.push(
        at(5),
        Item::World(Box::new(move |_| std::fs::write(&path, text).unwrap())),
    );
    fake.push(at(5), Item::Signal(Signal::Reload));
    fake.push(at(6), Item::Signal(Signal::Dump));
    fake.push(at(7), Item::Signal(Signal::Stop("SIGTERM")));
    let cfg = holdfast_runtime::daemon::load(&opts).unwrap();
    let dump = opts.dump.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let driver = Driver::start(fake, opts, cfg, &[eth0], &[], 1).unwrap();
        driver.serve().await.unwrap();
    });
    let trace = std::fs::read_to_string(&trace).unwrap();
    let reload = trace
        .lines()
        .find(|l| l.contains("\"kind\":\"reload\""))
        .unwrap_or_else(|| panic!("no reload record:\n{trace}"));
    assert!(
        reload.contains("\"ok\":false") && reload.contains("eth9"),
        "{reload}"
    );
    // VI_1 became Master on its own (no peer) and kept running; VI_2 never
    // existed.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    let names: Vec<&str> = state["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["VI_1"]);
    assert_eq!(state["instances"][0]["state"], "Master", "{state}");
    assert!(!trace.contains("VI_2"), "{trace}");
}
