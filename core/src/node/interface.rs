//! The interfaces a director has, as the driver reports them.

use std::net::IpAddr;

/// An interface the director has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Name.
    pub name: String,
    /// Primary IPv4 address.
    pub ipv4: Option<IpAddr>,
    /// Link-local IPv6 address.
    pub ipv6: Option<IpAddr>,
    /// Link up?
    pub up: bool,
}
