//! holdfast and Debian's keepalived 2.2.7 as a pair, both ways round, with
//! VRRPv2 (PASS, the same unquoted `auth_pass k@l!ve1` on both sides) and
//! VRRPv3, failing over in both directions (root and network namespaces;
//! see `netns/mod.rs`).

// Real processes in real time: these tests need the clock and sleep.
#![allow(clippy::disallowed_methods)]

mod netns;

use std::path::Path;
use std::time::Duration;

use netns::{available, wait_for, write, Lab};

const VIP: &str = "192.168.200.10";

fn conf(version: u8, state: &str, priority: u8) -> String {
    let auth = if version == 2 {
        "    authentication {\n        auth_type PASS\n        auth_pass k@l!ve1\n    }\n"
    } else {
        ""
    };
    format!(
        "global_defs {{\n    vrrp_version {version}\n}}\n\
         vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n    advert_int 1\n{auth}    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// Starts keepalived (VRRP only) on `host`; returns its process index and
/// the file holding the VRRP child's pid.
fn keepalived(lab: &mut Lab, host: &str, config: &Path) -> (usize, std::path::PathBuf) {
    let dir = lab.dir.clone();
    let pid = |name: &str| dir.join(format!("{host}-{name}.pid")).display().to_string();
    let vrrp_pid = dir.join(format!("{host}-vrrp.pid"));
    let conf = config.display().to_string();
    let i = lab.spawn(
        host,
        &format!("keepalived-{host}-{}", lab.procs.len()),
        &[
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-G",
            "-P",
            "-f",
            &conf,
            "-p",
            &pid("main"),
            "-r",
            &vrrp_pid.display().to_string(),
            "-c",
            &pid("checker"),
            "-b",
            &pid("bfd"),
        ],
    );
    (i, vrrp_pid)
}

/// A real crash of keepalived: its parent and its VRRP child together
/// (killing the parent alone makes the child shut down gracefully).
fn crash_keepalived(lab: &mut Lab, i: usize, vrrp_pid: &Path) {
    let child: Option<i32> = std::fs::read_to_string(vrrp_pid)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    if let Some(c) = child {
        // SAFETY: a signal to a process this test started.
        unsafe { libc::kill(c, libc::SIGKILL) };
    }
    lab.procs[i].signal(libc::SIGKILL);
    lab.procs[i].wait_exit(Duration::from_secs(2));
}

fn keepalived_available() -> bool {
    let ok = std::process::Command::new("keepalived")
        .arg("--version")
        .output()
        .is_ok();
    if !ok {
        if std::env::var_os("HOLDFAST_REQUIRE_PRIVILEGED").is_some() {
            panic!("HOLDFAST_REQUIRE_PRIVILEGED is set but keepalived is not installed");
        }
        eprintln!("skipped: keepalived is not installed (apt-get install keepalived)");
    }
    ok
}

/// `first` (priority 150) on director 1, `second` (priority 100) on
/// director 2: director 1 becomes Master; its crash moves the address to
/// director 2; its restart takes it back.
fn pair(version: u8, holdfast_first: bool) {
    if !available() || !keepalived_available() {
        return;
    }
    let mut lab = Lab::new(&format!("interop-v{version}-{holdfast_first}"));
    let c1 = write(&lab, "d1.conf", &conf(version, "MASTER", 150));
    let c2 = write(&lab, "d2.conf", &conf(version, "BACKUP", 100));
    let start_first = |lab: &mut Lab| -> (usize, Option<std::path::PathBuf>) {
        if holdfast_first {
            (lab.holdfast("d1", &c1), None)
        } else {
            let (i, p) = keepalived(lab, "d1", &c1);
            (i, Some(p))
        }
    };
    let (first, vrrp_pid) = start_first(&mut lab);
    if holdfast_first {
        keepalived(&mut lab, "d2", &c2);
    } else {
        lab.holdfast("d2", &c2);
    }
    let elected = wait_for(Duration::from_secs(8), || lab.has("d1", "eth0", VIP));
    assert!(elected.is_some(), "director 1 not Master:\n{}", lab.logs());
    // Stable: director 2 stays Backup while director 1 advertises.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!lab.has("d2", "eth0", VIP), "two Masters:\n{}", lab.logs());
    // Director 1 crashes: director 2 takes over.
    match &vrrp_pid {
        Some(p) => crash_keepalived(&mut lab, first, p),
        None => {
            lab.procs[first].signal(libc::SIGKILL);
            lab.procs[first].wait_exit(Duration::from_secs(2));
        }
    }
    let took = wait_for(Duration::from_secs(5), || lab.has("d2", "eth0", VIP));
    let took = took.unwrap_or_else(|| panic!("no failover to director 2:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(4500), "failover took {took:?}");
    // Director 1 comes back and preempts; director 2 gives the address up.
    start_first(&mut lab);
    let back = wait_for(Duration::from_secs(8), || {
        lab.has("d1", "eth0", VIP) && !lab.has("d2", "eth0", VIP)
    });
    assert!(
        back.is_some(),
        "no preemption back to director 1:\n{}",
        lab.logs()
    );
}

#[test]
fn holdfast_master_keepalived_backup_vrrp2() {
    pair(2, true);
}

#[test]
fn keepalived_master_holdfast_backup_vrrp2() {
    pair(2, false);
}

#[test]
fn holdfast_master_keepalived_backup_vrrp3() {
    pair(3, true);
}

#[test]
fn keepalived_master_holdfast_backup_vrrp3() {
    pair(3, false);
}
