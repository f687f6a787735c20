//! holdfast-runtime: the production daemon's driver of `holdfast_core`
//! (docs/architecture.md, "The daemon"): raw VRRP sockets, rtnetlink for
//! addresses and links, gratuitous ARP, probes (TLS included), scripts,
//! mail, signals and the data planes (IPVS, nftables) that program the LVS
//! table. Every decision stays in core; this crate only moves inputs in and
//! outputs out.

#![warn(missing_docs)]

pub mod announce;
pub mod clock;
pub mod daemon;
pub mod dataplane;
pub mod genhash;
pub mod links;
pub mod mail;
pub mod notify;
pub mod probes;
pub mod scripts;
pub mod tls;
pub mod vrrp_socket;

pub use daemon::{host_name, run, DaemonError, Options};
