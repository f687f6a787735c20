//! A lab of network namespaces for the daemon's tests: a switch namespace
//! with two bridges (the public LAN br0 and the servers' LAN br1), two
//! directors with eth0 on br0 and eth1 on br1 (192.168.200.N and
//! 192.168.100.N), and a client on br0 (192.168.200.100). Names are unique
//! per test process and lab; everything the lab made — namespaces and the
//! processes it started — goes when it is dropped, even when a test fails.
//! Tests skip (with a message) without root or `ip`, unless
//! HOLDFAST_REQUIRE_PRIVILEGED is set, which makes that a failure.

#![allow(dead_code)]
// These tests watch real processes in real time: the clock and sleeping
// are what they need (the ban is for core and the simulator).
#![allow(clippy::disallowed_methods)]

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static LABS: AtomicU32 = AtomicU32::new(0);

/// Runs a command; its stdout, or a panic with its stderr.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether this machine can run the lab; when it cannot, a test returns
/// early after saying why, or fails if privileged tests are required.
pub fn available() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let ip = Command::new("ip").arg("-V").output().is_ok();
    if root && ip {
        return true;
    }
    let why = if root { "no `ip` command" } else { "not root" };
    if std::env::var_os("HOLDFAST_REQUIRE_PRIVILEGED").is_some() {
        panic!("HOLDFAST_REQUIRE_PRIVILEGED is set but {why}");
    }
    eprintln!("skipped: {why} (network namespaces need root and iproute2)");
    false
}

/// A running process in a namespace.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: a signal to a child we started.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits for it to exit; how long that took, if within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The lab.
pub struct Lab {
    pub prefix: String,
    short: String,
    pub dir: PathBuf,
    namespaces: Vec<String>,
    pub procs: Vec<Proc>,
}

impl Lab {
    /// Builds the topology.
    pub fn new(test: &str) -> Lab {
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("hf{}x{n}", std::process::id());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-{test}-{prefix}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            short: format!("{n}p{}", std::process::id() % 100_000),
            prefix,
            dir,
            namespaces: Vec::new(),
            procs: Vec::new(),
        };
        lab.build();
        lab
    }

    pub fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    fn add_ns(&mut self, name: &str) -> String {
        let ns = self.ns(name);
        sh(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// Connects `eth` in namespace `host` to bridge `br` in the switch.
    pub fn plug(&self, host: &str, eth: &str, br: &str) {
        let (sw, ns) = (self.ns("sw"), self.ns(host));
        // Host-side names must be unique and within 15 bytes.
        let outer = format!("h{}{host}{eth}", self.short);
        sh(&[
            "ip", "link", "add", &outer, "type", "veth", "peer", "name", eth, "netns", &ns,
        ]);
        sh(&["ip", "link", "set", &outer, "netns", &sw]);
        sh(&["ip", "-n", &sw, "link", "set", &outer, "master", br, "up"]);
        sh(&["ip", "-n", &ns, "link", "set", eth, "up"]);
    }

    fn build(&mut self) {
        let sw = self.add_ns("sw");
        for br in ["br0", "br1"] {
            sh(&[
                "ip",
                "-n",
                &sw,
                "link",
                "add",
                br,
                "type",
                "bridge",
                "forward_delay",
                "0",
                "mcast_snooping",
                "0",
            ]);
            sh(&["ip", "-n", &sw, "link", "set", br, "up"]);
        }
        for n in 1..=2 {
            let host = format!("d{n}");
            let ns = self.add_ns(&host);
            self.plug(&host, "eth0", "br0");
            self.plug(&host, "eth1", "br1");
            sh(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("192.168.200.{n}/24"),
                "dev",
                "eth0",
            ]);
            sh(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("192.168.100.{n}/24"),
                "dev",
                "eth1",
            ]);
        }
        let c = self.add_ns("c");
        self.plug("c", "eth0", "br0");
        sh(&[
            "ip",
            "-n",
            &c,
            "addr",
            "add",
            "192.168.200.100/24",
            "dev",
            "eth0",
        ]);
    }

    /// Starts a program in a namespace; its output goes to a log file.
    pub fn spawn(&mut self, host: &str, name: &str, args: &[&str]) -> usize {
        let log = self.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(host)])
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.procs.push(Proc { child, log });
        self.procs.len() - 1
    }

    /// Adds a host on bridge `br` with address `cidr` and, if given, a
    /// default route via `gateway` (a real server routes back through the
    /// directors' NAT address).
    pub fn host(&mut self, name: &str, br: &str, cidr: &str, gateway: Option<&str>) -> String {
        let ns = self.add_ns(name);
        self.plug(name, "eth0", br);
        sh(&["ip", "-n", &ns, "addr", "add", cidr, "dev", "eth0"]);
        if let Some(gw) = gateway {
            sh(&["ip", "-n", &ns, "route", "add", "default", "via", gw]);
        }
        ns
    }

    /// Runs `f` on a thread inside `host`'s network namespace; sockets it
    /// makes belong to that namespace and may be used from any thread.
    pub fn in_ns<T: Send + 'static>(
        &self,
        host: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let path = format!("/run/netns/{}", self.ns(host));
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            // SAFETY: a valid namespace fd; setns changes this thread only.
            let rc =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("thread in namespace")
    }

    /// Runs a command in a namespace; its stdout, or a panic.
    pub fn exec(&self, host: &str, args: &[&str]) -> String {
        let ns = self.ns(host);
        let mut full = vec!["ip", "netns", "exec", &ns];
        full.extend_from_slice(args);
        sh(&full)
    }

    /// Starts holdfast on director `host` with `config` (a file path).
    pub fn holdfast(&mut self, host: &str, config: &Path) -> usize {
        self.holdfast_with(host, config, &[])
    }

    /// Starts holdfast with extra command-line arguments.
    pub fn holdfast_with(&mut self, host: &str, config: &Path, extra: &[&str]) -> usize {
        let dump = self.dir.join(format!("{host}.json"));
        let bin = env!("CARGO_BIN_EXE_holdfast");
        let (conf, dump) = (config.display().to_string(), dump.display().to_string());
        let mut args = vec![
            bin,
            "run",
            "-f",
            &conf,
            "--config-id",
            host,
            "--dump",
            &dump,
            "--log",
            "debug",
        ];
        args.extend_from_slice(extra);
        self.spawn(
            host,
            &format!("holdfast-{host}-{}", self.procs.len()),
            &args,
        )
    }

    /// The IPv4 addresses on a host's interface.
    pub fn addrs(&self, host: &str, dev: &str) -> Vec<String> {
        let out = sh(&[
            "ip",
            "-n",
            &self.ns(host),
            "-4",
            "-o",
            "addr",
            "show",
            "dev",
            dev,
        ]);
        out.lines()
            .filter_map(|l| l.split_whitespace().nth(3))
            .map(|a| a.split('/').next().unwrap_or(a).to_string())
            .collect()
    }

    pub fn has(&self, host: &str, dev: &str, addr: &str) -> bool {
        self.addrs(host, dev).iter().any(|a| a == addr)
    }

    pub fn mac(&self, host: &str, dev: &str) -> String {
        let out = sh(&["ip", "-n", &self.ns(host), "-o", "link", "show", "dev", dev]);
        out.split("link/ether ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_default()
            .to_string()
    }

    /// The client's neighbour entry (MAC) for an address.
    pub fn neighbour(&self, addr: &str) -> Option<String> {
        let out = sh(&["ip", "-n", &self.ns("c"), "neigh", "show", addr]);
        out.split("lladdr ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .map(String::from)
    }

    /// Makes the client resolve an address (a UDP datagram to it, through
    /// bash's /dev/udp: no ping needed), then waits for the neighbour entry.
    pub fn resolve(&self, addr: &str) -> Option<String> {
        let _ = Command::new("ip")
            .args(["netns", "exec", &self.ns("c"), "bash", "-c"])
            .arg(format!("echo x > /dev/udp/{addr}/9"))
            .output();
        let mut mac = None;
        wait_for(Duration::from_secs(2), || {
            mac = self.neighbour(addr).filter(|m| !m.is_empty());
            mac.is_some()
        });
        mac
    }

    /// Sets a link down or up.
    pub fn link(&self, host: &str, dev: &str, up: bool) {
        sh(&[
            "ip",
            "-n",
            &self.ns(host),
            "link",
            "set",
            dev,
            if up { "up" } else { "down" },
        ]);
    }

    /// Director `host`'s state dump: SIGUSR1 to its process `i`, then the
    /// file it writes (whole, then renamed). `None` if none came.
    pub fn try_dump(&self, i: usize, host: &str) -> Option<serde_json::Value> {
        let path = self.dir.join(format!("{host}.json"));
        let _ = std::fs::remove_file(&path);
        self.procs[i].signal(libc::SIGUSR1);
        wait_for(Duration::from_secs(2), || path.exists())?;
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()
    }

    /// [`Lab::try_dump`], failing the test when no dump comes.
    pub fn dump(&self, i: usize, host: &str) -> serde_json::Value {
        self.try_dump(i, host)
            .unwrap_or_else(|| panic!("no dump from {host}:\n{}", self.logs()))
    }

    /// The logs of every process, for failure messages.
    pub fn logs(&self) -> String {
        self.procs
            .iter()
            .map(|p| format!("--- {}\n{}", p.log.display(), p.log()))
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Polls `cond` every 5 ms until it holds or `limit` passes; how long it took.
pub fn wait_for(limit: Duration, cond: impl FnMut() -> bool) -> Option<Duration> {
    wait_every(Duration::from_millis(5), limit, cond)
}

/// Polls `cond` every `every` until it holds or `limit` passes.
pub fn wait_every(
    every: Duration,
    limit: Duration,
    mut cond: impl FnMut() -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// A case-study config with its interfaces as the lab has them.
pub fn case_study(n: u8) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/case-study/director{n}.conf"))
}

/// Writes a config into the lab's directory.
pub fn write(lab: &Lab, name: &str, text: &str) -> PathBuf {
    let p = lab.dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
