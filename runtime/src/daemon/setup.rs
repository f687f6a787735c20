//! Start-up: the configuration, the interfaces as netlink lists them,
//! stale addresses of a crashed run, and the VRRP sockets and announcers
//! the instances need.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::config::model::{Config, Family};
use holdfast_core::node::{Input, Interface};
use holdfast_core::time::Instant;
use holdfast_core::trace::Kind;
use holdfast_core::Node;
use tokio::sync::{mpsc, Semaphore};
use tracing::{error, info, warn};

use crate::announce::Announcer;
use crate::clock::{monotonic_ns, Timer};
use crate::links::{self, Link};
use crate::probes;
use crate::vrrp_socket::VrrpSocket;

use holdfast_core::config::{self, FsLoader, LoadOptions, Severity};

use super::{sys, Daemon, DaemonError, Options, MAX_SCRIPTS};

/// Reads a configuration; errors are refused whole, warnings logged.
pub fn load(opts: &Options) -> Result<Config, DaemonError> {
    let lo = LoadOptions {
        config_id: opts.config_id.clone(),
        strict: false,
        ignore_unimplemented: opts.ignore_unimplemented,
    };
    let loaded = config::load(&opts.config, &FsLoader, &lo);
    for d in loaded.diagnostics.iter() {
        let text = d.render(&loaded.sources);
        match d.severity {
            Severity::Error => error!("{}", text.trim_end()),
            _ => warn!("{}", text.trim_end()),
        }
    }
    let mut config = loaded.config.ok_or_else(|| {
        DaemonError::Config(format!(
            "{}: {} error(s): the configuration is not used",
            opts.config.display(),
            loaded.diagnostics.count(Severity::Error)
        ))
    })?;
    config.global.fill_host_defaults(&host_name(), &user_name());
    Ok(config)
}

/// The host's name, as keepalived's default `router_id` (uname's nodename);
/// its first label is the default config id.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The name of the user the daemon runs as (keepalived's default alert
/// sender is USER@HOST).
fn user_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; the
    // name is copied out before any other call could reuse it.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

impl Daemon {
    /// The interfaces as core sees them.
    pub(super) fn core_interfaces(&self) -> Vec<Interface> {
        self.links
            .iter()
            .map(|l| Interface {
                name: l.name.clone(),
                ipv4: l.ipv4.map(IpAddr::V4),
                ipv6: l.ipv6.map(IpAddr::V6),
                up: l.up,
            })
            .collect()
    }

    /// The interface called `name`, as listed at start.
    pub(super) fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// Reads the configuration, lists the interfaces, builds the node and
    /// opens what its instances need.
    pub(super) async fn start(opts: Options) -> Result<Daemon, DaemonError> {
        let origin = monotonic_ns();
        let config = load(&opts)?;
        let (conn, handle, _) = rtnetlink::new_connection().map_err(sys("netlink"))?;
        tokio::spawn(conn);
        let links = links::discover(&handle)
            .await
            .map_err(|e| DaemonError::System(format!("netlink: listing interfaces: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let trace = match &opts.trace {
            Some(p) => Some(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(sys("trace file"))?,
            )),
            None => None,
        };
        let seed = monotonic_ns() ^ u64::from(std::process::id());
        let mut d = Daemon {
            node: Node::new(Instant::ZERO, &Config::default(), &[])
                .map_err(|e| DaemonError::System(e.to_string()))?,
            opts,
            config,
            origin,
            handle,
            links,
            sockets: BTreeMap::new(),
            announcers: BTreeMap::new(),
            held: BTreeMap::new(),
            tx,
            rx,
            fed: std::cell::Cell::new(Instant::ZERO),
            timer: Timer::new().map_err(sys("timerfd"))?,
            slots: Arc::new(Semaphore::new(MAX_SCRIPTS)),
            tasks: tokio::task::JoinSet::new(),
            mails: tokio::task::JoinSet::new(),
            trace,
            dataplane: None,
            lvs_changed: false,
            stash: None,
            probe_env: probes::ProbeEnv {
                tls: Arc::new(probes::Tls::new(None, false)),
                script_user: None,
                enforce_security: false,
            },
        };
        d.probe_env = d.make_probe_env();
        d.remove_stale_vips().await;
        let now = d.core_now();
        d.node = Node::with_seed(now, &d.config, &d.core_interfaces(), seed)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        // Every other address the interfaces had at start: core picks an
        // instance's next source among them if its primary goes.
        let extra: Vec<(String, std::net::IpAddr)> = d
            .links
            .iter()
            .flat_map(|l| l.addresses.iter().map(move |a| (l.name.clone(), *a)))
            .collect();
        for (interface, address) in extra {
            d.node.handle(
                now,
                holdfast_core::node::Input::Address {
                    interface,
                    address,
                    added: true,
                },
            );
        }
        d.open_sockets()?;
        d.record(Kind::Start {
            config: d.opts.config.display().to_string(),
        });
        info!(
            "started: {} VRRP instance(s), {} virtual server(s)",
            d.config.instances.len(),
            d.config.virtual_servers.len()
        );
        Ok(d)
    }

    /// What every probe shares: TLS settings, script user and security.
    pub(super) fn make_probe_env(&self) -> probes::ProbeEnv {
        let tls = probes::Tls::new(self.config.ssl.as_ref(), self.opts.ssl_verify);
        if let Some(e) = tls.error() {
            error!("{e}: every SSL_GET check fails until it is fixed");
        }
        probes::ProbeEnv {
            tls: Arc::new(tls),
            script_user: self.script_user(),
            enforce_security: self.config.global.enable_script_security,
        }
    }

    /// A crashed run may have left its addresses: they go before anything
    /// starts (keepalived: "removing VIPs" before BACKUP(init)).
    pub(super) async fn remove_stale_vips(&mut self) {
        let mut stale = Vec::new();
        for inst in &self.config.instances {
            for vip in inst.vips() {
                let dev = inst.vip_dev(vip);
                // The discovery's address dump says what is there.
                let link = self
                    .link(&dev)
                    .filter(|l| l.addresses.contains(&vip.address));
                if let Some(l) = link {
                    stale.push((inst.name.clone(), l.index, dev, vip.clone()));
                }
            }
        }
        for (inst, index, dev, vip) in stale {
            info!("({inst}) removing stale VIP {} from {dev}", vip.address);
            if let Err(e) = links::remove_vip(&self.handle, index, &vip).await {
                warn!("({inst}) cannot remove {} from {dev}: {e}", vip.address);
            }
        }
    }

    /// One VRRP socket per interface and family the instances use, and an
    /// announcer for every interface a virtual address lives on.
    pub(super) fn open_sockets(&mut self) -> Result<(), DaemonError> {
        let devs: Vec<String> = self
            .config
            .instances
            .iter()
            .flat_map(|i| i.vips().map(|v| i.vip_dev(v)))
            .filter(|dev| !dev.is_empty())
            .collect();
        for dev in devs {
            let Some(link) = self.link(&dev).cloned() else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.announcers.entry(dev.clone())
            {
                let a = Announcer::open(&dev, link.index, link.mac)
                    .map_err(|e| DaemonError::System(format!("packet socket on {dev}: {e}")))?;
                slot.insert(a);
            }
        }
        let wanted: Vec<(String, Family)> = self
            .config
            .instances
            .iter()
            .filter_map(|i| Some((i.interface.clone()?, i.family)))
            .collect();
        for (ifname, family) in wanted {
            let v6 = family == Family::Ipv6;
            if self.sockets.contains_key(&(ifname.clone(), v6)) {
                continue;
            }
            let link = self
                .link(&ifname)
                .ok_or_else(|| DaemonError::Config(format!("interface {ifname} does not exist")))?
                .clone();
            let (local, group) = if v6 {
                (
                    link.ipv6.map(IpAddr::V6),
                    IpAddr::V6(self.config.global.vrrp_mcast_group6),
                )
            } else {
                (
                    link.ipv4.map(IpAddr::V4),
                    IpAddr::V4(self.config.global.vrrp_mcast_group4),
                )
            };
            // An interface without an address still gets its socket: its
            // instances are in FAULT (core) until one is added, and each
            // advert names its source anyway (IP_PKTINFO).
            let local = local.unwrap_or(if v6 {
                IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
            });
            let sock = Arc::new(
                VrrpSocket::open(&ifname, link.index, local, group)
                    .map_err(|e| DaemonError::System(format!("VRRP socket on {ifname}: {e}")))?,
            );
            let (tx, reader, name) = (self.tx.clone(), sock.clone(), ifname.clone());
            tokio::spawn(async move {
                loop {
                    match reader.recv().await {
                        Ok(r) => {
                            let input = Input::Packet {
                                interface: name.clone(),
                                src: r.src,
                                dst: r.dst,
                                ttl: r.ttl,
                                bytes: r.bytes,
                            };
                            if tx.send((input, r.arrived_ns)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            warn!("{name}: reading VRRP: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
            self.sockets.insert((ifname.clone(), v6), sock);
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.announcers.entry(ifname.clone())
            {
                let a = Announcer::open(&ifname, link.index, link.mac)
                    .map_err(|e| DaemonError::System(format!("packet socket on {ifname}: {e}")))?;
                slot.insert(a);
            }
        }
        Ok(())
    }
}
