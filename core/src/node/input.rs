//! What a driver hands the node: packets, link changes, probe and script
//! results, shutdown; each with the time it happened.

use std::net::IpAddr;

#[cfg(doc)]
use super::Output;
use crate::check::schedule::{Outcome, ProbeId};

/// Something that happened to the director.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// A VRRP message arrived (the bytes after the IP header).
    Packet {
        /// Interface it came in on: the name of the socket's interface,
        /// or "" for the socket bound to none (instances without an
        /// interface, unicast).
        interface: String,
        /// IP source.
        src: IpAddr,
        /// IP destination.
        dst: IpAddr,
        /// IP TTL / hop limit.
        ttl: u8,
        /// The message.
        bytes: Vec<u8>,
    },
    /// An interface's link went up or down.
    Link {
        /// Interface name.
        interface: String,
        /// Up?
        up: bool,
    },
    /// An address the interface had when the driver started, before any
    /// instance acted. One of this configuration's virtual addresses on its
    /// device was left by a run that did not stop cleanly: core removes it
    /// ([`Output::RemoveVip`]), as keepalived removes them before it
    /// starts. Any other is a source-address candidate, as
    /// [`Input::Address`].
    Found {
        /// Interface name.
        interface: String,
        /// The address.
        address: IpAddr,
    },
    /// An address appeared on, or left, one of the director's interfaces
    /// (the driver reports them all, its own virtual addresses included).
    /// A Master's virtual address removed by someone else is added again
    /// ([`Output::AddVip`]); other virtual addresses are not a source.
    Address {
        /// Interface name.
        interface: String,
        /// The address.
        address: IpAddr,
        /// Added (else removed).
        added: bool,
    },
    /// Stop: masters release with priority 0.
    Shutdown,
    /// A checker's probe ([`Output::Probe`]) finished.
    ProbeDone {
        /// The probe.
        id: ProbeId,
        /// How it went.
        outcome: Outcome,
    },
    /// What became of an [`Output::AddVip`]: `error` is what the kernel
    /// said when it refused the address. A refusal is retried while the
    /// instance is Master (`node/vip_retry.rs`).
    VipResult {
        /// The instance the address belongs to.
        instance: String,
        /// The address.
        address: IpAddr,
        /// Why it was refused; `None` when it was added.
        error: Option<String>,
    },
    /// A tracked script ([`Output::RunTrackScript`]) finished.
    ScriptDone {
        /// The run it reports on.
        id: u64,
        /// Exit status 0.
        success: bool,
    },
}
