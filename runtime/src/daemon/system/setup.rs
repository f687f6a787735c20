//! Start-up: the interfaces as netlink lists them (after subscribing to
//! its events, so no change between the two is lost), and the VRRP
//! sockets and announcers the instances need.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use holdfast_core::config::model::Config;
use holdfast_core::node::{Input, Interface};
use holdfast_core::time::Instant;
use rtnetlink::MulticastGroup;
use tokio::sync::{mpsc, Semaphore};
use tracing::{error, warn};

use crate::announce::Announcer;
use crate::clock::{monotonic_ns, Timer};
use crate::links;
use crate::probes;
use crate::vrrp_socket::VrrpSocket;

use super::super::kernel::Kernel;
use super::super::{sys, DaemonError, Options};
use super::{signals, streams, Needs, System, MAX_SCRIPTS};

impl System {
    /// Subscribes to link and address events and lists the interfaces;
    /// returns the kernel with the interfaces and every address they have,
    /// for core (which removes what a crashed run left).
    #[allow(clippy::type_complexity)]
    pub async fn start(
        opts: &Options,
    ) -> Result<(System, Vec<Interface>, Vec<(String, IpAddr)>), DaemonError> {
        let origin = monotonic_ns();
        let (conn, _, events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(sys("netlink"))?;
        tokio::spawn(conn);
        let (conn, handle, _) = rtnetlink::new_connection().map_err(sys("netlink"))?;
        tokio::spawn(conn);
        let links = links::discover(&handle)
            .await
            .map_err(|e| DaemonError::System(format!("netlink: listing interfaces: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let [term, int, hup, usr1] = streams()?;
        let s = System {
            keep_lvs: opts.keep_lvs,
            ssl_verify: opts.ssl_verify,
            data_plane: opts.data_plane,
            repair_interval: opts.repair_interval,
            origin,
            handle,
            events: events.boxed(),
            links,
            needs: Needs::default(),
            sockets: BTreeMap::new(),
            announcers: BTreeMap::new(),
            held: BTreeMap::new(),
            tx,
            rx,
            timer: Timer::new().map_err(sys("timerfd"))?,
            slots: Arc::new(Semaphore::new(MAX_SCRIPTS)),
            tasks: tokio::task::JoinSet::new(),
            mails: tokio::task::JoinSet::new(),
            probe_env: probes::ProbeEnv {
                tls: Arc::new(probes::Tls::new(None, false)),
                script_user: None,
                enforce_security: false,
            },
            dataplane: None,
            term,
            int,
            hup,
            usr1,
            others: signals::other_signals()?,
        };
        let interfaces = s.interfaces();
        let addresses = s
            .links
            .iter()
            .flat_map(|l| l.addresses.iter().map(move |a| (l.name.clone(), *a)))
            .collect();
        Ok((s, interfaces, addresses))
    }

    /// What every probe shares: TLS settings, script user and security.
    pub(super) fn make_probe_env(&self, config: &Config) -> probes::ProbeEnv {
        let tls = probes::Tls::new(config.ssl.as_ref(), self.ssl_verify);
        if let Some(e) = tls.error() {
            error!("{e}: every SSL_GET check fails until it is fixed");
        }
        probes::ProbeEnv {
            tls: Arc::new(tls),
            script_user: config
                .global
                .script_user
                .as_ref()
                .map(|u| (u.user.clone(), u.group.clone())),
            enforce_security: config.global.enable_script_security,
        }
    }

    /// One VRRP socket per interface and family the instances use, and an
    /// announcer for every interface a virtual address lives on. An
    /// interface the configuration names for an instance must exist at
    /// start; one deleted later gets its socket again when it comes back
    /// (`netlink.rs`).
    pub(super) fn open_sockets(&mut self) -> Result<(), DaemonError> {
        for dev in self.needs.vip_devs.clone() {
            if self.link(&dev).is_some() {
                self.open_announcer(&dev)?;
            }
        }
        for (ifname, v6) in self.needs.sockets.clone() {
            if self.sockets.contains_key(&(ifname.clone(), v6)) {
                continue;
            }
            if ifname.is_empty() {
                self.open_socket(&ifname, v6)?;
                continue;
            }
            if self.link(&ifname).is_none() {
                if self.links.iter().any(|l| l.name == ifname) {
                    // Deleted since start: its sockets open when it is
                    // created again (`netlink.rs`).
                    continue;
                }
                return Err(DaemonError::Config(format!(
                    "interface {ifname} does not exist"
                )));
            }
            self.open_socket(&ifname, v6)?;
            self.open_announcer(&ifname)?;
        }
        Ok(())
    }

    /// The announcer (packet socket) of interface `dev`, unless it has one.
    pub(super) fn open_announcer(&mut self, dev: &str) -> Result<(), DaemonError> {
        let Some(link) = self.link(dev).cloned() else {
            return Ok(());
        };
        if let std::collections::btree_map::Entry::Vacant(slot) =
            self.announcers.entry(dev.to_string())
        {
            let a = Announcer::open(dev, link.index, link.mac)
                .map_err(|e| DaemonError::System(format!("packet socket on {dev}: {e}")))?;
            slot.insert(a);
        }
        Ok(())
    }

    /// The VRRP socket of `(ifname, v6)` on the interface's current index,
    /// and its reader task.
    pub(super) fn open_socket(&mut self, ifname: &str, v6: bool) -> Result<(), DaemonError> {
        let sock = if ifname.is_empty() {
            VrrpSocket::open_unbound(v6)
                .map_err(|e| DaemonError::System(format!("unbound VRRP socket: {e}")))?
        } else {
            match self.bound_socket(ifname, v6)? {
                Some(s) => s,
                None => return Ok(()),
            }
        };
        self.read(ifname, v6, Arc::new(sock));
        Ok(())
    }

    /// The VRRP socket on interface `ifname`, if it exists now.
    fn bound_socket(&self, ifname: &str, v6: bool) -> Result<Option<VrrpSocket>, DaemonError> {
        let Some(link) = self.link(ifname).cloned() else {
            return Ok(None);
        };
        let (local, group) = if v6 {
            (
                link.ipv6.map(IpAddr::V6),
                IpAddr::V6(self.needs.global.vrrp_mcast_group6),
            )
        } else {
            (
                link.ipv4.map(IpAddr::V4),
                IpAddr::V4(self.needs.global.vrrp_mcast_group4),
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
        VrrpSocket::open(ifname, link.index, local, group)
            .map(Some)
            .map_err(|e| DaemonError::System(format!("VRRP socket on {ifname}: {e}")))
    }

    /// Starts the task that reads `sock` and hands its adverts to core as
    /// having come in on `ifname`.
    fn read(&mut self, ifname: &str, v6: bool, sock: Arc<VrrpSocket>) {
        let (tx, reader, name) = (self.tx.clone(), sock.clone(), ifname.to_string());
        let origin = self.origin;
        let task = tokio::spawn(async move {
            loop {
                match reader.recv().await {
                    // The unbound socket is for unicast: multicast is the
                    // interfaces' sockets' to hear (an IPv6 raw socket gets
                    // every group joined on the host).
                    Ok(r) if name.is_empty() && r.dst.is_multicast() => {}
                    Ok(r) => {
                        let input = Input::Packet {
                            interface: name.clone(),
                            src: r.src,
                            dst: r.dst,
                            ttl: r.ttl,
                            bytes: r.bytes,
                        };
                        let arrived = r
                            .arrived_ns
                            .map(|a| Instant::from_nanos(a.saturating_sub(origin)));
                        if tx.send((input, arrived)).is_err() {
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
        let old = self
            .sockets
            .insert((ifname.to_string(), v6), (sock, task.abort_handle()));
        if let Some((_, reader)) = old {
            reader.abort();
        }
    }
}
